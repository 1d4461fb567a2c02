/**
 * The bridge over Streamable HTTP: calls, list_changed (over the session's SSE stream), and a server
 * killed and restarted on the same port: mcp_unavailable while it is down, then calls work again.
 */
import type { NodeType } from "@arp/model";
import { afterAll, describe, expect, it } from "vitest";
import { McpBridge } from "../src/index.js";
import {
  eventually,
  freePort,
  type HttpFixture,
  recordingLogger,
  startHttpFixture,
} from "./support/fixture.js";

let seq = 0;
const request = (type: NodeType, inputs: Record<string, unknown>) => ({
  node_run_id: `nr_http_${++seq}`,
  run_id: "run_http",
  node_type_ref: { node_type_id: type.node_type_id, version: type.version },
  inputs,
});

function typeOf(bridge: McpBridge, id: string): NodeType | undefined {
  return bridge.nodeTypes().find((t) => t.node_type_id === id);
}

describe("McpBridge over Streamable HTTP", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it("lists, calls, follows list_changed, and reconnects after the server is killed and restarted", async () => {
    const port = await freePort();
    let server: HttpFixture = await startHttpFixture(port, "--version", "3.0.1");
    cleanup.push(() => server.kill());
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [`web=${server.url}`],
      logger,
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 400,
      pingIntervalMs: 200,
      // A killed server refuses connections at once: a long timeout only keeps a slow answer from
      // counting as a lost server on a loaded machine.
      pingTimeoutMs: 10_000,
    }).start();
    cleanup.push(() => bridge.close());

    expect(bridge.status()).toEqual([
      { name: "web", transport: "http", state: "connected", serverVersion: "3.0.1", nodeTypes: 9 },
    ]);
    const structured = typeOf(bridge, "mcp.web.structured") as NodeType;
    expect(structured.version).toMatch(/^3\.0\.1\+[0-9a-f]{12}$/);
    expect(await bridge.execute(request(structured, { a: 1, b: 2 }))).toMatchObject({
      state: "succeeded",
      outputs: { sum: 3 },
    });
    const add = typeOf(bridge, "mcp.web.add_tool") as NodeType;
    expect((await bridge.execute(request(add, { name: "web" }))).state).toBe("succeeded");
    await eventually("mcp.web.extra_web", () => typeOf(bridge, "mcp.web.extra_web"));

    // Killed: the ping notices while idle, calls are mcp_unavailable (retryable), nothing hangs.
    await server.kill();
    await eventually("the bridge to notice", () =>
      bridge.status()[0]?.state !== "connected" ? true : undefined,
    );
    const down = await bridge.execute(request(structured, { a: 1, b: 2 }));
    expect(down.error).toMatchObject({ code: "mcp_unavailable", retryable: true });
    // The tools it knew are still its node types (a coordinator gets a retryable error, not unknown).
    expect(typeOf(bridge, "mcp.web.structured")).toBeDefined();

    // Restarted on the same port (a new process: its added tool is gone): reconnected, a new session.
    server = await startHttpFixture(port, "--version", "3.0.1");
    await eventually("the reconnect", () => (bridge.status()[0]?.state === "connected" ? true : undefined));
    expect(await bridge.execute(request(structured, { a: 20, b: 22 }))).toMatchObject({
      state: "succeeded",
      outputs: { sum: 42 },
    });
    await eventually("the extra tool to go", () =>
      typeOf(bridge, "mcp.web.extra_web") === undefined ? true : undefined,
    );
    const removed = await bridge.execute({
      ...request(structured, {}),
      node_type_ref: { node_type_id: "mcp.web.extra_web", version: structured.version },
    });
    expect(removed.error?.code).toBe("unknown_node_type");
    expect(logger.lines.some((l) => l.includes("ping failed") || l.includes("connection lost"))).toBe(true);
  });

  it("a call on a connection that broke is mcp_unavailable and starts the reconnect (no ping)", async () => {
    const port = await freePort();
    let server = await startHttpFixture(port);
    cleanup.push(() => server.kill());
    const bridge = await new McpBridge({
      servers: [{ name: "noping", transport: "http", url: server.url }],
      logger: recordingLogger(),
      pingIntervalMs: 0,
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 200,
    }).start();
    cleanup.push(() => bridge.close());
    const text = typeOf(bridge, "mcp.noping.text") as NodeType;
    await server.kill();
    const failed = await bridge.execute(request(text, { text: "x" }));
    expect(failed.error).toMatchObject({ code: "mcp_unavailable", retryable: true });
    server = await startHttpFixture(port);
    await eventually("the reconnect", async () => {
      const r = await bridge.execute(request(text, { text: "again" }));
      return r.state === "succeeded" ? r : undefined;
    });
  });

  it("sends a target's headers; closing ends the session (DELETE), bounded by closeTimeoutMs", async () => {
    const server = await startHttpFixture(0, "--require-header", "x-key=secret");
    cleanup.push(() => server.kill());
    const quiet = {
      logger: recordingLogger(),
      ...{ reconnectInitialDelayMs: 60_000, reconnectMaxDelayMs: 60_000 },
    };
    const refused = await new McpBridge({ servers: [`k=${server.url}`], ...quiet }).start();
    expect(refused.status()[0]?.state).toBe("down");
    await refused.close();
    const target = { name: "k", transport: "http" as const, url: server.url, headers: { "x-key": "secret" } };
    const a = await new McpBridge({ servers: [target], ...quiet }).start();
    const b = await new McpBridge({ servers: [target], ...quiet }).start();
    cleanup.push(() => b.close());
    const sessions = async () => {
      const stats = typeOf(b, "mcp.k.stats") as NodeType;
      return ((await b.execute(request(stats, {}))).outputs as { sessions: number }).sessions;
    };
    expect(await sessions()).toBe(2);
    await a.close();
    expect(await sessions()).toBe(1);

    const deaf = await startHttpFixture(0, "--hang-delete");
    cleanup.push(() => deaf.kill());
    const c = await new McpBridge({ servers: [`d=${deaf.url}`], ...quiet, closeTimeoutMs: 300 }).start();
    expect(c.status()[0]?.state).toBe("connected");
    const started = Date.now();
    await c.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
