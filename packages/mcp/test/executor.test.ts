/** McpAtomicExecutor over real HTTP (AtomicExecutorClient), with the fixture over stdio behind it. */
import { ArpApiError, AtomicExecutorClient } from "@arp/client";
import type { NodeType } from "@arp/model";
import type { RunningServer } from "@arp/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpAtomicExecutor, McpBridge } from "../src/index.js";
import { eventually, recordingLogger, stdioTarget } from "./support/fixture.js";

const quiet = { auth: { mode: "disabled" as const }, logger: { warn: () => {}, error: () => {} } };

async function apiError(p: Promise<unknown>): Promise<ArpApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ArpApiError) return err;
    throw err;
  }
  throw new Error("expected an ArpApiError");
}

describe("McpAtomicExecutor", () => {
  let bridge: McpBridge;
  let running: RunningServer;
  let client: AtomicExecutorClient;
  let seq = 0;
  const typeOf = (id: string) => bridge.nodeTypes().find((t) => t.node_type_id === id) as NodeType;
  const body = (id: string, inputs: Record<string, unknown>, node_run_id = `nr_x_${++seq}`) => {
    const t = typeOf(id);
    return {
      node_run_id,
      run_id: "run_x",
      node_type_ref: { node_type_id: t.node_type_id, version: t.version },
      inputs,
    };
  };
  const stats = async () =>
    (await client.executeAtomicNodeRun(body("mcp.fx.stats", {}))).outputs as {
      calls: Record<string, number>;
      cancelled: number;
    };

  beforeAll(async () => {
    bridge = await new McpBridge({
      servers: [stdioTarget("fx")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    running = await new McpAtomicExecutor({
      bridge,
      server: quiet,
      maxConcurrentNodeRuns: 2,
      maxRememberedNodeRuns: 2,
    }).listen({ port: 0 });
    client = new AtomicExecutorClient({ baseUrl: running.url });
  });
  afterAll(async () => {
    await running.close();
    await bridge.close();
  });

  it("executes MCP tools as node runs", async () => {
    expect(
      await client.executeAtomicNodeRun(body("mcp.fx.structured", { a: 4, b: 5 }, "nr_sum")),
    ).toMatchObject({
      node_run_id: "nr_sum",
      state: "succeeded",
      outputs: { sum: 9 },
    });
    expect((await client.executeAtomicNodeRun(body("mcp.fx.fail", {}))).error?.code).toBe("mcp_tool_error");
    expect((await client.version()).service_name).toBe("arp-mcp");
  });

  it("cancel by node_run_id: 204 while executing (canceled, cancelled at the server), 204 after, 404 unknown", async () => {
    const before = (await stats()).cancelled;
    const pending = client.executeAtomicNodeRun(body("mcp.fx.slow", { ms: 60_000 }, "nr_slow"));
    await eventually(
      "the call to reach the server",
      async () => ((await stats()).calls.slow ?? 0) >= 1 || undefined,
    );
    // The same id while it executes is a 409.
    expect(
      (await apiError(client.executeAtomicNodeRun(body("mcp.fx.slow", { ms: 1 }, "nr_slow")))).status,
    ).toBe(409);
    await client.cancelAtomicNodeRun("nr_slow");
    expect((await pending).state).toBe("canceled");
    await eventually(
      "the server's record of it",
      async () => (await stats()).cancelled === before + 1 || undefined,
    );
    await client.cancelAtomicNodeRun("nr_slow"); // executed here: 204 again
    expect((await apiError(client.cancelAtomicNodeRun("nr_never"))).status).toBe(404);
  });

  it("maxConcurrentNodeRuns: one more is 503 (retryable); maxRememberedNodeRuns forgets the oldest", async () => {
    const a = client.executeAtomicNodeRun(body("mcp.fx.slow", { ms: 60_000 }, "nr_a"));
    const b = client.executeAtomicNodeRun(body("mcp.fx.slow", { ms: 60_000 }, "nr_b"));
    await eventually("both executing", async () => {
      const err = await apiError(client.executeAtomicNodeRun(body("mcp.fx.text", { text: "x" }))).catch(
        () => undefined,
      );
      return err?.status === 503 ? err : undefined;
    }).then((err) => expect(err.retryable).toBe(true));
    await client.cancelAtomicNodeRun("nr_a");
    await client.cancelAtomicNodeRun("nr_b");
    expect((await a).state).toBe("canceled");
    expect((await b).state).toBe("canceled");
    // Remembered: nr_a, nr_b (2); the ones before are forgotten.
    await client.cancelAtomicNodeRun("nr_a");
    expect((await apiError(client.cancelAtomicNodeRun("nr_sum"))).status).toBe(404);
  });

  it("rejects bad options", () => {
    expect(() => new McpAtomicExecutor({ bridge, server: quiet, maxConcurrentNodeRuns: 0 })).toThrow(
      RangeError,
    );
    expect(() => new McpAtomicExecutor({ bridge, server: quiet, maxRememberedNodeRuns: 1.5 })).toThrow(
      RangeError,
    );
  });
});
