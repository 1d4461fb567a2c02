/**
 * `serveHttp`'s own limits and refusals, over real HTTP: the session bound, idle sessions closed,
 * unknown sessions, the endpoint's path, Host/Origin checks (DNS rebinding), the body limit, and a
 * close that cancels the runs of calls in flight.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type ArpMcpServer,
  createArpMcpServer,
  type HttpOptions,
  type RunningHttpServer,
  serveHttp,
} from "../src/index.js";
import { startTestStack, type TestStack } from "./support/serve-stack.js";

const WAIT = { timeout: 10_000, interval: 20 };
const QUIET = { warn: () => undefined, error: () => undefined };
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

let stack: TestStack;
let arp: ArpMcpServer;

beforeAll(async () => {
  stack = await startTestStack();
  arp = createArpMcpServer({ gatewayUrl: stack.gatewayUrl, registryUrl: stack.registryUrl, logger: QUIET });
});

afterAll(async () => {
  await arp?.close();
  await stack?.close();
});

async function withServer(options: HttpOptions, body: (server: RunningHttpServer) => Promise<void>) {
  const server = await serveHttp(arp, { port: 0, ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function connect(url: string): Promise<Client> {
  return (await open(url)).client;
}

async function open(url: string) {
  const client = new Client({ name: "serve-http-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

describe("sessions", () => {
  it("opens one per initialize, at most maxSessions (then 503), and frees one on close", async () => {
    await withServer({ maxSessions: 2 }, async (server) => {
      const a = await open(server.url);
      const b = await open(server.url);
      expect(server.sessions).toBe(2);
      await expect(connect(server.url)).rejects.toThrow(/503|Too many sessions/);
      const refused = await fetch(server.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({
        error: { message: "Too many sessions (maxSessions: 2); try again later" },
      });
      await a.transport.terminateSession(); // a DELETE ends the session
      await vi.waitFor(() => expect(server.sessions).toBe(1), WAIT);
      await a.client.close();
      await b.transport.terminateSession();
      await b.client.close();
      await vi.waitFor(() => expect(server.sessions).toBe(0), WAIT);
      const c = await connect(server.url);
      expect((await c.listTools()).tools.length).toBeGreaterThan(0);
      await c.close();
    });
  });

  it("closes a session without an open request for sessionIdleMs", async () => {
    // Long enough that the session is surely still open right after its answer, on a loaded machine.
    await withServer({ sessionIdleMs: 3_000 }, async (server) => {
      const response = await fetch(server.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(response.status).toBe(200);
      const id = response.headers.get("mcp-session-id")!;
      await response.text();
      expect(server.sessions).toBe(1);
      await vi.waitFor(() => expect(server.sessions).toBe(0), WAIT);
      const late = await fetch(server.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      });
      expect(late.status).toBe(404);
      expect(await late.json()).toMatchObject({ error: { code: -32001, message: "Session not found" } });
    });
  });

  it("opens nothing for a request that is not initialize", async () => {
    await withServer({}, async (server) => {
      const response = await fetch(server.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(response.status).toBe(400);
      expect(server.sessions).toBe(0);
      const get = await fetch(server.url, { headers: { accept: "text/event-stream" } });
      expect(get.status).toBe(400);
    });
  });

  it("close() cancels the runs of the calls in flight", async () => {
    const server = await serveHttp(arp, { port: 0 });
    const client = await connect(server.url);
    const call = client.callTool({ name: "test.slow", arguments: { ms: 30_000 } });
    call.catch(() => undefined);
    await vi.waitFor(() => {
      expect(
        [...stack.gateway.runs.values()].some((r) => r.run.state === "running" && r.events.length >= 2),
      ).toBe(true);
    }, WAIT);
    const running = [...stack.gateway.runs.values()].find((r) => r.run.state === "running")!;
    await server.close();
    await arp.close(); // waits for the aborted calls' cancels
    expect(stack.gateway.cancels).toContain(running.run.run_id);
    expect(running.run.state).toBe("canceled");
    await client.close().catch(() => undefined);
  });
});

describe("refusals", () => {
  it("answers 404 off the endpoint's path", async () => {
    await withServer({ path: "/arp" }, async (server) => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/arp$/);
      const response = await fetch(new URL("/mcp", server.url), {
        method: "POST",
        headers: MCP_HEADERS,
        body: "{}",
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        error: { message: "Not found: the MCP endpoint is /arp" },
      });
    });
  });

  it("refuses a Host or Origin it does not know (DNS rebinding), on loopback by default", async () => {
    await withServer({}, async (server) => {
      const port = new URL(server.url).port;
      const post = (headers: Record<string, string>) =>
        fetch(server.url, {
          method: "POST",
          headers: { ...MCP_HEADERS, ...headers },
          body: JSON.stringify(INITIALIZE),
        });
      const evil = await post({ origin: "http://evil.example" });
      expect(evil.status).toBe(403);
      const local = await post({ origin: `http://localhost:${port}` });
      expect(local.status).toBe(200);
      await local.text();
    });
    await withServer({ allowedHosts: ["mcp.example:443"] }, async (server) => {
      const response = await fetch(server.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(response.status).toBe(403); // Host is 127.0.0.1:<port>, not in the list
    });
  });

  it("answers 413 for a body over maxBodyBytes", async () => {
    await withServer({ maxBodyBytes: 1_000 }, async (server) => {
      const big = { ...INITIALIZE, params: { ...INITIALIZE.params, padding: "x".repeat(2_000) } };
      const response = await fetch(server.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify(big),
      });
      expect(response.status).toBe(413);
      expect(server.sessions).toBe(0);
    });
  });

  it("rejects limits that are not positive numbers", async () => {
    await expect(serveHttp(arp, { maxSessions: 0 })).rejects.toThrow(RangeError);
    await expect(serveHttp(arp, { sessionIdleMs: -1 })).rejects.toThrow(
      "sessionIdleMs must be a number > 0 (got -1)",
    );
    expect(() =>
      createArpMcpServer({ gatewayUrl: "http://x", registryUrl: "http://x", callTimeoutMs: Number.NaN }),
    ).toThrow(RangeError);
  });
});
