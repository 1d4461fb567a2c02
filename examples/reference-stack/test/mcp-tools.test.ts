/**
 * `startStack({ mcp })`: the tools of a real MCP server (the @arp/mcp test fixture, over stdio) are
 * node types of the stack's atomic executor, published to its registry, and runs use them: as the
 * root of a run and as a step of a pipeline.
 */
import { execFile } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  AtomicExecutorClient,
  NodeRegistryClient,
  RunCoordinatorClient,
  RunGatewayClient,
} from "@arp/client";
import { McpBridge } from "@arp/mcp";
import type { Run } from "@arp/model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReferenceAtomicExecutor } from "../src/services/atomic-executor.js";
import { type RunningStack, startStack } from "../src/stack.js";
import { SERVICE_KEYS } from "../src/urls.js";
import { ANY_PORT, QUIET, readRunLog } from "./run-log.js";

const FIXTURE = fileURLToPath(new URL("../../../packages/mcp/test/fixtures/mcp-server.mjs", import.meta.url));
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

describe("the stack with MCP tools", () => {
  let stack: RunningStack;
  let gateway: RunGatewayClient;
  let coordinator: RunCoordinatorClient;
  let versions: Map<string, string>;

  beforeAll(async () => {
    stack = await startStack({
      ports: ANY_PORT,
      logger: QUIET,
      mcp: [{ name: "fx", transport: "stdio", command: process.execPath, args: [FIXTURE, "--stdio"] }],
    });
    gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
    coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
    versions = new Map((stack.mcp?.nodeTypes() ?? []).map((t) => [t.node_type_id, t.version]));
  }, 60_000);
  afterAll(() => stack.close());

  async function finished(run: Run): Promise<Run> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await gateway.getRun(run.run_id);
      if (TERMINAL.has(now.state)) return now;
      if (Date.now() > deadline) throw new Error(`run ${run.run_id} is still ${now.state}`);
      await delay(50);
    }
  }

  const ref = (tool: string) => ({
    node_type_id: `mcp.fx.${tool}`,
    version: versions.get(`mcp.fx.${tool}`) as string,
  });

  it("publishes the tools to the stack's registry before startStack resolves", async () => {
    expect(stack.mcp?.status()).toEqual([
      { name: "fx", transport: "stdio", state: "connected", serverVersion: "1.2.0", nodeTypes: 9 },
    ]);
    const registry = new NodeRegistryClient({ baseUrl: stack.urls["node-registry"] });
    const mcp = await registry.listNodeTypes({ q: "mcp.fx." });
    expect(mcp.map((t) => t.node_type_id).sort()).toEqual([...versions.keys()].sort());
    expect(
      await registry.getNodeType("mcp.fx.structured", { version: ref("structured").version }),
    ).toMatchObject({
      kind: "atomic",
      output_schema: { properties: { sum: { type: "number" } } },
    });
  });

  it("runs an MCP tool as the root of a run", async () => {
    const run = await finished(
      await gateway.startRun({ root_node_type_ref: ref("structured"), input: { a: 2, b: 40 } }),
    );
    expect(run.state).toBe("succeeded");
    expect((await coordinator.getNodeRun(run.root_node_run_id)).outputs).toEqual({ sum: 42 });
  });

  it("runs an MCP tool as a step of arp.ref.pipeline, fed the step before", async () => {
    const run = await finished(
      await gateway.startRun({
        root_node_type_ref: { node_type_id: "arp.ref.pipeline", version: "1.0.0" },
        input: {
          steps: [
            {
              node_type: { node_type_id: "arp.ref.text.upper", version: "1.0.0" },
              inputs: { text: "piped" },
            },
            { node_type: ref("text") },
          ],
        },
      }),
    );
    expect(run.state).toBe("succeeded");
    expect((await coordinator.getNodeRun(run.root_node_run_id)).outputs).toEqual({
      content: [{ type: "text", text: "PIPED" }],
    });
  });

  it("a failing tool fails its run with mcp_tool_error", async () => {
    const run = await finished(await gateway.startRun({ root_node_type_ref: ref("fail"), input: {} }));
    expect(run.state).toBe("failed");
    const events = await readRunLog(stack.urls["run-gateway"], run.run_id, AbortSignal.timeout(30_000));
    const executed = events.find((e) => e.type === "atomic_executed");
    expect(executed?.data).toMatchObject({
      state: "failed",
      error: { code: "mcp_tool_error", message: expect.stringContaining("the tool failed on purpose") },
    });
  });

  it("refuses mcp with processes or an external atomic executor", async () => {
    await expect(startStack({ ports: ANY_PORT, processes: true, mcp: ["a=x"] })).rejects.toThrow(/processes/);
    await expect(
      startStack({ ports: ANY_PORT, external: { "atomic-executor": "http://127.0.0.1:1" }, mcp: ["a=x"] }),
    ).rejects.toThrow(/external atomic-executor/);
  });
});

describe("npm start -- --mcp", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  const anyPort = [...SERVICE_KEYS.flatMap((key) => [`--${key}-port`, "0"]), "--viewer-port", "0"];
  const spec = `fx=${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE)} --stdio`;

  it("--once --mcp NAME=COMMAND: prints the MCP server and its node types; the demo still succeeds", async () => {
    const { stdout } = await promisify(execFile)(tsx, ["src/main.ts", "--once", "--mcp", spec, ...anyPort], {
      cwd: root,
      timeout: 90_000,
    });
    expect(stdout).toMatch(/^ {2}mcp fx +connected, 9 node types \(mcp\.fx\.\*\)$/m);
    expect(stdout).toMatch(/^run run-[\w-]+: succeeded$/m);
  }, 120_000);

  it("a bad --mcp is exit 2, before anything starts", async () => {
    const failed = await promisify(execFile)(tsx, ["src/main.ts", "--once", "--mcp", "no.good=x"], {
      cwd: root,
      timeout: 60_000,
    }).catch((err: { code?: number; stderr?: string }) => err);
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--mcp: server name 'no.good'"),
    });
  }, 90_000);
});

describe("ReferenceAtomicExecutor({ mcp })", () => {
  it("routes mcp.* node types to the bridge, next to its own; cancel by id cancels the MCP call", async () => {
    const bridge = await new McpBridge({
      servers: [{ name: "fx", transport: "stdio", command: process.execPath, args: [FIXTURE, "--stdio"] }],
      logger: QUIET,
      stderr: "ignore",
    }).start();
    const running = await new ReferenceAtomicExecutor({
      mcp: bridge,
      server: { auth: { mode: "disabled" }, logger: QUIET },
    }).listen({ port: 0 });
    try {
      const client = new AtomicExecutorClient({ baseUrl: running.url });
      const version = (tool: string) =>
        bridge.nodeTypes().find((t) => t.node_type_id === `mcp.fx.${tool}`)?.version as string;
      const body = (
        node_run_id: string,
        node_type_id: string,
        v: string,
        inputs: Record<string, unknown>,
      ) => ({
        node_run_id,
        run_id: "r",
        node_type_ref: { node_type_id, version: v },
        inputs,
      });
      expect(
        (await client.executeAtomicNodeRun(body("e1", "arp.ref.echo", "1.0.0", { x: 1 }))).outputs,
      ).toEqual({ x: 1 });
      expect(
        (
          await client.executeAtomicNodeRun(
            body("m1", "mcp.fx.structured", version("structured"), { a: 1, b: 1 }),
          )
        ).outputs,
      ).toEqual({ sum: 2 });
      expect((await client.executeAtomicNodeRun(body("m2", "mcp.fx.nope", "1", {}))).error?.code).toBe(
        "unknown_node_type",
      );
      const slow = client.executeAtomicNodeRun(body("m3", "mcp.fx.slow", version("slow"), { ms: 60_000 }));
      type Stats = { calls: Record<string, number>; cancelled: number };
      let n = 0;
      const stats = async () =>
        (await client.executeAtomicNodeRun(body(`s${++n}`, "mcp.fx.stats", version("stats"), {})))
          .outputs as Stats;
      // Canceled once the MCP server is running the call, so that it sees the cancellation.
      await expect.poll(async () => (await stats()).calls.slow ?? 0, { timeout: 20_000 }).toBe(1);
      await client.cancelAtomicNodeRun("m3");
      expect((await slow).state).toBe("canceled");
      await client.cancelAtomicNodeRun("m3"); // executed here: 204 again
      await expect.poll(async () => (await stats()).cancelled, { timeout: 20_000 }).toBe(1);
    } finally {
      await running.close();
      await bridge.close();
    }
  });
});
