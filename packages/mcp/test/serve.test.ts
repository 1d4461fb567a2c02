/**
 * `createArpMcpServer` + `serveHttp`, driven by the MCP SDK's own `Client` over real Streamable HTTP,
 * against a real (tiny) ARP stack on loopback (test/support/serve-stack.ts).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import {
  type ArpMcpServer,
  type ArpMcpServerOptions,
  createArpMcpServer,
  NODE_TYPE_META_KEY,
  RUN_META_KEY,
  type RunningHttpServer,
  serveHttp,
} from "../src/index.js";
import { startTestStack, type TestStack } from "./support/serve-stack.js";

const WAIT = { timeout: 10_000, interval: 20 };
const warnings: string[] = [];
const logger = { warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) };

let stack: TestStack;
let arp: ArpMcpServer;
let http: RunningHttpServer;
const clients: Client[] = [];

async function connect(url = http.url): Promise<Client> {
  const client = new Client({ name: "serve-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(client);
  return client;
}

/** An ArpMcpServer on the test stack with `options`, served over HTTP for one test and closed after it. */
async function serveWith(
  options: Partial<ArpMcpServerOptions> = {},
): Promise<{ arp: ArpMcpServer; url: string }> {
  const server = createArpMcpServer({
    gatewayUrl: stack.gatewayUrl,
    registryUrl: stack.registryUrl,
    logger,
    ...options,
  });
  const http = await serveHttp(server, { port: 0 });
  onTestFinished(async () => {
    await http.close();
    await server.close();
  });
  return { arp: server, url: http.url };
}

beforeAll(async () => {
  stack = await startTestStack();
  arp = createArpMcpServer({
    gatewayUrl: stack.gatewayUrl,
    registryUrl: stack.registryUrl,
    gatewayToken: "gateway-secret",
    registryToken: "registry-secret",
    progressIntervalMs: 0,
    toolsRefreshMs: 0,
    logger,
  });
  http = await serveHttp(arp, { port: 0 });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await http?.close();
  await arp?.close();
  await stack?.close();
});

describe("tools/list", () => {
  it("lists one tool per node type id, its latest version, with MCP-shaped schemas", async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "test.big",
      "test.echo",
      "test.fail",
      "test.quiet",
      "test.slow",
      "test.steps",
    ]);
    const echo = tools.find((t) => t.name === "test.echo")!;
    expect(echo.inputSchema).toEqual({
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    });
    expect(echo.outputSchema).toMatchObject({ type: "object", required: ["text"] });
    expect(echo.description).toBe("Echo: outputs its inputs. (ARP atomic node type test.echo@1.0.0)");
    expect(echo._meta?.[NODE_TYPE_META_KEY]).toEqual({
      node_type_id: "test.echo",
      version: "1.0.0",
      kind: "atomic",
    });
    // No input_schema: any object.
    expect(tools.find((t) => t.name === "test.fail")!.inputSchema).toEqual({ type: "object" });
    expect(tools.find((t) => t.name === "test.fail")!.outputSchema).toBeUndefined();
  });

  it("logs the node types that cannot be tools", () => {
    expect(warnings).toContain(
      "arp-mcp: node type test/bad name is not a tool: not a valid MCP tool name (1 to 128 of A-Z a-z 0-9 _ - .)",
    );
    expect(warnings.some((w) => w.startsWith("arp-mcp: node type test.string-input is not a tool"))).toBe(
      true,
    );
  });

  it("sends the registry and gateway tokens as bearer tokens", async () => {
    const client = await connect();
    await client.callTool({ name: "test.echo", arguments: { text: "t" } });
    expect(stack.registry.authorizations).toContain("Bearer registry-secret");
    expect(stack.gateway.authorizations.at(-1)).toBe("Bearer gateway-secret");
  });
});

describe("tools/call", () => {
  it("runs the node type to completion: outputs as structuredContent and JSON text, with progress", async () => {
    const client = await connect();
    const progress: { progress: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: "test.steps", arguments: { steps: 3, interval_ms: 20 } },
      undefined,
      {
        onprogress: (p) => void progress.push(p),
      },
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ steps: 3 });
    expect(result.content).toEqual([{ type: "text", text: '{"steps":3}' }]);
    const run = (result._meta as Record<string, { run_id: string; state: string }>)[RUN_META_KEY]!;
    expect(run.state).toBe("succeeded");
    expect(stack.gateway.runs.get(run.run_id)?.run.state).toBe("succeeded");
    // Every event of the run (interval 0: none folded): run_started, assigned, 3 evaluations, end, run_completed.
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(progress[0]!.message).toBe("run_started test.steps running");
    expect(progress[2]!.message).toBe("node_evaluated test.steps pass");
    expect(progress.at(-1)!.message).toBe("run_completed succeeded");
    // Each notification names the run it is about.
    for (const p of progress)
      expect((p as { _meta?: Record<string, unknown> })._meta?.[RUN_META_KEY]).toEqual({
        run_id: run.run_id,
      });
  });

  it("passes the arguments as the run's input, with the tool's node type version", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "test.echo", arguments: { text: "héllo" } });
    expect(result.structuredContent).toEqual({ text: "héllo" });
    const runId = (result._meta as Record<string, { run_id: string }>)[RUN_META_KEY]!.run_id;
    expect(runId).toMatch(/^mcp-[0-9a-f-]{36}$/);
    expect(stack.gateway.runs.get(runId)!.events[0]!.data).toMatchObject({
      node_type_ref: { node_type_id: "test.echo", version: "1.0.0" },
      inputs: { text: "héllo" },
    });
  });

  it("reads the outputs from the root node run's end event when run_completed has none", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "test.quiet", arguments: { a: [1, 2] } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ a: [1, 2] });
  });

  it("answers a failed run with isError and the ARP error", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "test.fail", arguments: { message: "no luck" } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const text = (result.content as { text: string }[])[0]!.text;
    expect(text).toMatch(/^deliberate_failure: ARP run mcp-[0-9a-f-]+ failed: no luck$/);
    expect((result._meta as Record<string, unknown>)[RUN_META_KEY]).toMatchObject({
      state: "failed",
      error: { code: "deliberate_failure", message: "no luck" },
    });
  });

  it("refuses arguments that do not match the input schema, without starting a run", async () => {
    const client = await connect();
    const before = stack.gateway.runs.size;
    const result = await client.callTool({ name: "test.echo", arguments: { text: 42 } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]!.text).toBe(
      "invalid_arguments: the arguments do not match test.echo's input schema: /text must be string",
    );
    const missing = await client.callTool({ name: "test.steps", arguments: {} });
    expect((missing.content as { text: string }[])[0]!.text).toContain(
      "/ must have required property 'steps'",
    );
    expect(stack.gateway.runs.size).toBe(before);
  });

  it("answers an unknown tool with a JSON-RPC invalid-params error", async () => {
    const client = await connect();
    await expect(client.callTool({ name: "test.nope", arguments: {} })).rejects.toThrow(
      /Unknown tool: test.nope/,
    );
  });

  it("says so when the run's outputs were left out of its events and no coordinator is given", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "test.big", arguments: {} });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]!.text).toMatch(
      /^outputs_unavailable: ARP run .* succeeded, but its outputs are not in its events \(left out for their size\)/,
    );
  });

  it("cancels the ARP run when the MCP client cancels the call", async () => {
    const client = await connect();
    const controller = new AbortController();
    const call = client.callTool({ name: "test.slow", arguments: { ms: 30_000 } }, undefined, {
      signal: controller.signal,
    });
    // Wait until the run is running at the gateway, then cancel the call.
    await vi.waitFor(() => {
      expect(
        [...stack.gateway.runs.values()].some((r) => r.run.state === "running" && r.events.length >= 2),
      ).toBe(true);
    }, WAIT);
    const running = [...stack.gateway.runs.values()].find((r) => r.run.state === "running")!;
    controller.abort("enough");
    await expect(call).rejects.toBeDefined();
    await vi.waitFor(() => {
      expect(stack.gateway.cancels).toContain(running.run.run_id);
      expect(running.run.state).toBe("canceled");
    }, WAIT);
  });

  it("a call that fails after its run started cancels the run (the client may call again)", async () => {
    const client = await connect();
    stack.gateway.brokenStreams = true;
    try {
      const result = await client.callTool({ name: "test.slow", arguments: { ms: 30_000 } });
      expect(result.isError).toBe(true);
      expect((result.content as { text: string }[])[0]!.text).toMatch(
        /^stream_refused: .*; ARP run mcp-\S+ was canceled$/,
      );
      const runId = (result._meta as Record<string, { run_id: string }>)[RUN_META_KEY]!.run_id;
      expect(stack.gateway.cancels).toContain(runId);
      expect(stack.gateway.runs.get(runId)!.run.state).toBe("canceled");
    } finally {
      stack.gateway.brokenStreams = false;
    }
  });

  it("cancels the ARP run when the call's deadline passes, and answers isError", async () => {
    const { url } = await serveWith({ callTimeoutMs: 300 });
    const client = await connect(url);
    const result = await client.callTool({ name: "test.slow", arguments: { ms: 30_000 } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]!.text).toMatch(
      /^deadline_exceeded: no result within 300 ms; ARP run mcp-\S+ was canceled$/,
    );
    const runId = (result._meta as Record<string, { run_id: string }>)[RUN_META_KEY]!.run_id;
    expect(stack.gateway.cancels).toContain(runId);
    expect(stack.gateway.runs.get(runId)!.run.state).toBe("canceled");
  });
});

describe("cancelTimeoutMs", () => {
  it("bounds a cancel the gateway is slow to answer: the call still answers, and the failure is logged", async () => {
    const { url } = await serveWith({
      callTimeoutMs: 200,
      cancelTimeoutMs: 300,
    });
    stack.gateway.cancelDelayMs = 10_000;
    try {
      const client = await connect(url);
      const started = Date.now();
      const result = await client.callTool({ name: "test.slow", arguments: { ms: 30_000 } });
      expect((result.content as { text: string }[])[0]!.text).toMatch(/^deadline_exceeded: /);
      expect(Date.now() - started).toBeLessThan(8_000); // not the gateway's 10 s
      const runId = (result._meta as Record<string, { run_id: string }>)[RUN_META_KEY]!.run_id;
      expect(warnings).toContain(`arp-mcp: canceling ARP run ${runId} failed`);
      expect((result.content as { text: string }[])[0]!.text).toMatch(
        /could not be canceled \(see the server's log\)$/,
      );
    } finally {
      stack.gateway.cancelDelayMs = 0;
    }
  });
});

describe("progress", () => {
  it("sends at most one notification per progressIntervalMs, and always the last event", async () => {
    const { url } = await serveWith({ progressIntervalMs: 60_000 });
    const client = await connect(url);
    const progress: number[] = [];
    const result = await client.callTool(
      { name: "test.steps", arguments: { steps: 20, interval_ms: 1 } },
      undefined,
      {
        onprogress: (p) => void progress.push(p.progress),
      },
    );
    expect(result.structuredContent).toEqual({ steps: 20 });
    // The first event, then nothing for a minute, but the last: 24 events in all.
    expect(progress).toEqual([1, 24]);
  });

  it("sends none when the caller gave no progress token", async () => {
    const client = await connect();
    const seen: unknown[] = [];
    client.fallbackNotificationHandler = async (n) => void seen.push(n);
    const result = await client.callTool({ name: "test.steps", arguments: { steps: 2 } });
    expect(result.structuredContent).toEqual({ steps: 2 });
    expect(seen).toEqual([]);
  });
});

describe("tools/list_changed", () => {
  it("is sent when the registry gains a node type, and the new tool can be called", async () => {
    const client = await connect();
    const changed = vi.fn();
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => changed());
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("test.new");
    stack.registry.nodeTypes.push({ node_type_id: "test.new", version: "1.0.0", kind: "atomic" });
    try {
      await arp.refreshTools();
      await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(1), WAIT);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("test.new");
      const result = await client.callTool({ name: "test.new", arguments: { a: 1 } });
      expect(result.structuredContent).toEqual({ a: 1 });
      // A listing that changes nothing sends nothing.
      await arp.refreshTools();
      await new Promise((r) => setTimeout(r, 200));
      expect(changed).toHaveBeenCalledTimes(1);
    } finally {
      stack.registry.nodeTypes.pop();
      await arp.refreshTools();
    }
  });

  it("follows the registry on its own every toolsRefreshMs", async () => {
    const { url } = await serveWith({ toolsRefreshMs: 100 });
    try {
      const client = await connect(url);
      const changed = vi.fn();
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => changed());
      await client.listTools();
      stack.registry.nodeTypes.push({ node_type_id: "test.later", version: "1.0.0", kind: "atomic" });
      await vi.waitFor(() => expect(changed).toHaveBeenCalled(), WAIT);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("test.later");
    } finally {
      stack.registry.nodeTypes.pop();
    }
  });
});

describe("when the ARP side is not all there", () => {
  it("keeps the last tool list while the registry fails, and says so when it never answered", async () => {
    const client = await connect();
    const before = (await client.listTools()).tools.map((t) => t.name);
    stack.registry.failing = true;
    try {
      await expect(arp.refreshTools()).rejects.toThrow(/down for the test/);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(before);
      expect(warnings).toContain("arp-mcp: listing the node registry failed; keeping the last tool list");
      // A fresh server, whose registry never answered: a JSON-RPC internal error.
      const { url } = await serveWith();
      const other = await connect(url);
      await expect(other.listTools()).rejects.toThrow(/-32603.*the node registry did not list node types/);
      await expect(other.callTool({ name: "test.echo", arguments: { text: "x" } })).rejects.toThrow(/-32603/);
    } finally {
      stack.registry.failing = false;
    }
  });

  it("bounds a listing by registryTimeoutMs, and does not wait on a failing registry again before toolsRefreshMs", async () => {
    const { arp: bounded, url } = await serveWith({
      registryTimeoutMs: 300,
      toolsRefreshMs: 60_000,
    });
    stack.registry.listDelayMs = 20_000;
    try {
      const client = await connect(url);
      const started = Date.now();
      await expect(client.listTools()).rejects.toThrow(/-32603.*the node registry did not list node types/);
      expect(Date.now() - started).toBeLessThan(10_000); // not the registry's 20 s
      stack.registry.listDelayMs = 0;
      expect((await client.listTools()).tools.length).toBe(6); // never listed: tried again at once
      stack.registry.listDelayMs = 20_000;
      await expect(bounded.refreshTools()).rejects.toThrow();
      const again = Date.now();
      expect((await client.listTools()).tools.length).toBe(6); // the last list, without waiting
      expect(Date.now() - again).toBeLessThan(10_000); // not the registry's 20 s
    } finally {
      stack.registry.listDelayMs = 0;
    }
  });

  it("polls getRun when the gateway has no event stream (501), without progress", async () => {
    const { url } = await serveWith({ pollIntervalMs: 20 });
    stack.gateway.streams = false;
    try {
      const client = await connect(url);
      const progress: unknown[] = [];
      const ok = await client.callTool({ name: "test.slow", arguments: { ms: 100 } }, undefined, {
        onprogress: (p) => void progress.push(p),
      });
      // The run ended succeeded, but no event carried its outputs: without a coordinator, a tool error.
      expect(ok.isError).toBe(true);
      expect((ok.content as { text: string }[])[0]!.text).toMatch(
        /^outputs_unavailable: .*\(the gateway has no event stream\)/,
      );
      expect(progress).toEqual([]);
      const failed = await client.callTool({ name: "test.fail", arguments: {} });
      expect((failed.content as { text: string }[])[0]!.text).toMatch(
        /^run_failed: ARP run \S+ failed: the ARP run ended failed$/,
      );
    } finally {
      stack.gateway.streams = true;
    }
  });

  it("answers too_many_calls past maxConcurrentCalls", async () => {
    const { url } = await serveWith({ maxConcurrentCalls: 1 });
    const client = await connect(url);
    const controller = new AbortController();
    const slow = client.callTool({ name: "test.slow", arguments: { ms: 30_000 } }, undefined, {
      signal: controller.signal,
    });
    slow.catch(() => undefined);
    const before = stack.gateway.runs.size;
    await vi.waitFor(() => expect(stack.gateway.runs.size).toBeGreaterThan(0), WAIT);
    const refused = await client.callTool({ name: "test.echo", arguments: { text: "x" } });
    expect(refused.isError).toBe(true);
    expect((refused.content as { text: string }[])[0]!.text).toBe(
      "too_many_calls: 1 tool calls are in flight (maxConcurrentCalls); try again later",
    );
    expect(stack.gateway.runs.size).toBe(before);
    controller.abort();
  });
});
