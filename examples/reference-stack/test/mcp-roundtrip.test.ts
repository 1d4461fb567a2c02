/**
 * The stack with an MCP server over Streamable HTTP (the @arp/mcp test fixture, a child process),
 * end to end: Selection proposes its tools by goal (and its side-effect gate holds back a tool that
 * did not say it only reads); a run's MCP call canceled through the gateway is cancelled at the MCP
 * server; the server killed and restarted on its port (runs fail `mcp_unavailable` meanwhile, then
 * work again); and the round trip MCP client → `arp-mcp serve` → ARP run → bridged MCP server.
 */
import { RunGatewayClient, SelectionClient } from "@arp/client";
import { createArpMcpServer, type RunningHttpServer, serveHttp } from "@arp/mcp";
import type { NodeTypeRef, Run } from "@arp/model";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The fixture MCP server and its process helpers belong to @arp/mcp's tests; shared, not copied.
import { freePort, type HttpFixture, startHttpFixture } from "../../../packages/mcp/test/support/fixture.js";
import { type RunningStack, startStack } from "../src/stack.js";
import { ANY_PORT, QUIET, readRunLog } from "./run-log.js";

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const WAIT = { timeout: 30_000, interval: 50 };

let port: number;
let fixture: HttpFixture;
let stack: RunningStack;
let gateway: RunGatewayClient;

beforeAll(async () => {
  port = await freePort();
  fixture = await startHttpFixture(port);
  stack = await startStack({
    ports: ANY_PORT,
    logger: QUIET,
    // Short waits, so that the restart below is noticed and reconnected within the test's deadlines.
    mcp: [{ name: "web", transport: "http", url: fixture.url }],
    mcpLimits: {
      pingIntervalMs: 500,
      pingTimeoutMs: 10_000, // a killed server refuses at once; a slow answer is no lost server
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 500,
    },
  });
  gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await fixture?.kill();
});

function ref(tool: string): NodeTypeRef {
  const type = stack.mcp?.nodeTypes().find((t) => t.node_type_id === `mcp.web.${tool}`);
  if (type === undefined) throw new Error(`the bridge has no mcp.web.${tool}`);
  return { node_type_id: type.node_type_id, version: type.version };
}

async function finished(run: Run): Promise<Run> {
  await expect.poll(async () => TERMINAL.has((await gateway.getRun(run.run_id)).state), WAIT).toBe(true);
  return gateway.getRun(run.run_id);
}

/** What the fixture saw, by running its `stats` tool through the stack. */
async function stats(): Promise<{ calls: Record<string, number>; cancelled: number }> {
  const run = await finished(await gateway.startRun({ root_node_type_ref: ref("stats"), input: {} }));
  const events = await readRunLog(stack.urls["run-gateway"], run.run_id, AbortSignal.timeout(30_000));
  const executed = events.find((e) => e.type === "atomic_executed");
  if (executed === undefined) throw new Error(`run ${run.run_id} has no atomic_executed event`);
  return (executed.data as { outputs: { calls: Record<string, number>; cancelled: number } }).outputs;
}

describe("the stack with an MCP server over HTTP", () => {
  it("Selection proposes MCP tools by goal; its side-effect gate holds back the unannotated ones", async () => {
    const selection = new SelectionClient({ baseUrl: stack.urls.selection });
    const goal = "adds two numbers structuredContent";
    const open = await selection.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal } });
    expect(open.candidates[0]?.node_type_ref).toEqual(ref("structured"));
    // The fixture's tools carry no annotations: irreversible by MCP's defaults, above `read`.
    const readOnly = await selection.generateCandidateSet({
      subtask_spec: { subtask_id: "s", goal },
      constraints: { gates: { side_effect_class: "read" } },
    });
    expect(readOnly.candidates.map((c) => c.node_type_ref.node_type_id)).not.toContain("mcp.web.structured");
  });

  it("a run canceled through the gateway mid-call cancels the MCP request at the server", async () => {
    const before = (await stats()).cancelled;
    const run = await gateway.startRun({ root_node_type_ref: ref("slow"), input: { ms: 120_000 } });
    await expect.poll(async () => (await stats()).calls.slow ?? 0, WAIT).toBeGreaterThan(0);
    await gateway.cancelRun(run.run_id);
    expect((await finished(run)).state).toBe("canceled");
    await expect.poll(async () => (await stats()).cancelled, WAIT).toBe(before + 1);
  });

  it("the server killed: runs fail mcp_unavailable (retryable); restarted on its port: they succeed again", async () => {
    const add = { root_node_type_ref: ref("structured"), input: { a: 1, b: 2 } };
    await fixture.kill();
    await expect.poll(() => stack.mcp?.status()[0]?.state, WAIT).not.toBe("connected");
    const down = await finished(await gateway.startRun(add));
    expect(down.state).toBe("failed");
    const events = await readRunLog(stack.urls["run-gateway"], down.run_id, AbortSignal.timeout(30_000));
    expect(events.find((e) => e.type === "atomic_executed")?.data).toMatchObject({
      error: { code: "mcp_unavailable", retryable: true },
    });

    fixture = await startHttpFixture(port);
    await expect.poll(() => stack.mcp?.status()[0]?.state, WAIT).toBe("connected");
    expect((await finished(await gateway.startRun(add))).state).toBe("succeeded");
  }, 90_000);

  it("round trip: an MCP client calls a bridged MCP tool through arp-mcp serve and an ARP run", async () => {
    const arp = createArpMcpServer({
      gatewayUrl: stack.urls["run-gateway"],
      registryUrl: stack.urls["node-registry"],
      coordinatorUrl: stack.urls["run-coordinator"],
      logger: QUIET,
    });
    let http: RunningHttpServer | undefined;
    const client = new Client({ name: "round-trip", version: "1.0.0" });
    try {
      http = await serveHttp(arp, { port: 0 });
      await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
      const { tools } = await client.listTools();
      const tool = tools.find((t) => t.name === "mcp.web.structured");
      // The bridged tool's own schemas, through the registry, back out as an MCP tool.
      expect(tool?.inputSchema).toMatchObject({ type: "object", required: ["a", "b"] });
      expect(tool?.outputSchema).toMatchObject({ properties: { sum: { type: "number" } } });
      const progress: number[] = [];
      const result = await client.callTool(
        { name: "mcp.web.structured", arguments: { a: 20, b: 22 } },
        undefined,
        {
          onprogress: (p) => progress.push(p.progress),
        },
      );
      expect(result.isError).not.toBe(true);
      expect(result.structuredContent).toEqual({ sum: 42 });
      expect(progress.length).toBeGreaterThan(0);
      const failed = await client.callTool({ name: "mcp.web.fail", arguments: {} });
      expect(failed.isError).toBe(true);
      expect(JSON.stringify(failed.content)).toContain("mcp_tool_error");
    } finally {
      await client.close();
      await http?.close();
      await arp.close();
    }
  }, 60_000);
});
