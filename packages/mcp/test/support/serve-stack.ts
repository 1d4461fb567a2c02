/**
 * A tiny ARP stack for the `arp-mcp serve` tests: a Node Registry and a Run Gateway on
 * `@arp/server`'s base classes, on loopback port 0. (The reference stack depends on @arp/mcp, so it
 * cannot be used here.) The gateway runs its node types itself, in memory, and streams each run's
 * events as NDJSON from seq 0, live, until `run_completed`:
 *
 * - `test.echo`: succeeds with its inputs as outputs;
 * - `test.fail`: fails with `deliberate_failure` and the message it is given;
 * - `test.steps`: `{ steps, interval_ms }`, emits `steps` evaluation events, then succeeds with `{ steps }`;
 * - `test.slow`: `{ ms }`, runs until `ms` pass or it is canceled;
 * - `test.big`: succeeds, but its events carry outputs left out for their size;
 * - `test.quiet`: echoes, but only the root node run's end event carries the outputs, not `run_completed`.
 *
 * Each service records the `authorization` headers it was sent; the gateway records its cancels.
 */
import type * as T from "@arp/model";
import {
  ArpServerError,
  BaseRunGatewayServer,
  badRequest,
  notFound,
  notImplemented,
  type RunGatewayRequests,
  type RunningServer,
} from "@arp/server";
import { TestRegistry } from "./registry.js";

const OBJECT = { type: "object" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const NODE_TYPES: readonly T.NodeType[] = [
  {
    node_type_id: "test.echo",
    version: "1.0.0",
    kind: "atomic",
    description: "Echo: outputs its inputs.",
    input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    output_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  },
  // An older version: the tool is the latest one.
  { node_type_id: "test.echo", version: "0.9.0", kind: "atomic", input_schema: OBJECT },
  { node_type_id: "test.fail", version: "1.0.0", kind: "atomic", description: "Always fails." },
  {
    node_type_id: "test.steps",
    version: "2.0.0",
    kind: "composite",
    input_schema: {
      type: "object",
      properties: { steps: { type: "integer", minimum: 1 }, interval_ms: { type: "integer", minimum: 0 } },
      required: ["steps"],
    },
  },
  { node_type_id: "test.slow", version: "1.0.0", kind: "atomic", input_schema: OBJECT },
  { node_type_id: "test.big", version: "1.0.0", kind: "atomic", input_schema: OBJECT },
  { node_type_id: "test.quiet", version: "1.0.0", kind: "atomic", input_schema: OBJECT },
  // Not tools: a name MCP does not allow, and an input schema no ARP input (an object) matches.
  { node_type_id: "test/bad name", version: "1.0.0", kind: "atomic" },
  { node_type_id: "test.string-input", version: "1.0.0", kind: "atomic", input_schema: { type: "string" } },
];

interface TestRun {
  run: T.Run;
  events: T.RunEvent[];
  /** Wakes the streams waiting for the next event. */
  wake: Set<() => void>;
  canceled: boolean;
  onCancel: (() => void) | undefined;
}

export class TestGateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, TestRun>();
  readonly cancels: string[] = [];
  readonly authorizations: (string | undefined)[] = [];
  readonly #registry: TestRegistry;

  constructor(registry: TestRegistry) {
    super({ auth: { mode: "disabled" } });
    this.#registry = registry;
  }

  startRun(req: RunGatewayRequests["startRun"]): T.Run {
    this.authorizations.push(req.headers.authorization);
    const { root_node_type_ref: ref, input } = req.body;
    if (
      !this.#registry.nodeTypes.some((n) => n.node_type_id === ref.node_type_id && n.version === ref.version)
    )
      throw badRequest(`unknown node type ${ref.node_type_id}@${ref.version}`);
    const runId = req.body.run_id ?? `run-${this.runs.size + 1}`;
    const run: TestRun = {
      run: { run_id: runId, state: "running", root_node_run_id: `${runId}.root` },
      events: [],
      wake: new Set(),
      canceled: false,
      onCancel: undefined,
    };
    this.runs.set(runId, run);
    this.#emit(run, "run_started", undefined, {
      state: "running",
      root_node_run_id: run.run.root_node_run_id,
      node_type_ref: ref,
      inputs: input,
    });
    void this.#execute(run, ref.node_type_id, input);
    return { ...run.run };
  }

  getRun(req: RunGatewayRequests["getRun"]): T.Run {
    return { ...this.#find(req.params.run_id).run };
  }

  /** How long a cancel takes to answer (a slow gateway). */
  cancelDelayMs = 0;

  async cancelRun(req: RunGatewayRequests["cancelRun"]): Promise<T.Run> {
    if (this.cancelDelayMs > 0) await sleep(this.cancelDelayMs);
    const run = this.#find(req.params.run_id);
    this.cancels.push(run.run.run_id);
    run.canceled = true;
    run.onCancel?.();
    return { ...run.run };
  }

  /** False: the stream answers 501, as a gateway without the optional endpoint does. */
  streams = true;
  /** True: every stream request is refused (400), after its run was started. */
  brokenStreams = false;

  override async streamRunEvents(
    req: RunGatewayRequests["streamRunEvents"],
  ): Promise<AsyncIterable<T.RunEvent>> {
    if (!this.streams) throw notImplemented("no event streams here");
    const run = this.#find(req.params.run_id);
    if (this.brokenStreams)
      throw new ArpServerError({ status: 400, code: "stream_refused", message: "no stream for the test" });
    const signal = req.signal;
    return (async function* () {
      let next = 0;
      while (!signal.aborted) {
        while (next < run.events.length) {
          const event = run.events[next++]!;
          yield event;
          if (event.type === "run_completed") return;
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            run.wake.delete(done);
            signal.removeEventListener("abort", done);
            resolve();
          };
          run.wake.add(done);
          signal.addEventListener("abort", done, { once: true });
        });
      }
    })();
  }

  #find(runId: string): TestRun {
    const run = this.runs.get(runId);
    if (run === undefined) throw notFound(`no run ${runId}`);
    return run;
  }

  #emit(
    run: TestRun,
    type: T.RunEventType,
    nodeRunId: string | undefined,
    data: Record<string, unknown>,
  ): void {
    run.events.push({
      run_id: run.run.run_id,
      seq: run.events.length,
      type,
      time: new Date().toISOString(),
      ...(nodeRunId === undefined ? {} : { node_run_id: nodeRunId }),
      data,
    });
    for (const wake of [...run.wake]) wake();
  }

  async #execute(run: TestRun, nodeTypeId: string, input: Record<string, unknown>): Promise<void> {
    const root = run.run.root_node_run_id;
    this.#emit(run, "node_run_assigned", root, { state: "running", executor: "test" });
    let end: { state: T.RunState; outputs?: Record<string, unknown>; error?: Record<string, unknown> };
    switch (nodeTypeId) {
      case "test.fail":
        end = {
          state: "failed",
          error: { code: "deliberate_failure", message: String(input.message ?? "failed on purpose") },
        };
        break;
      case "test.steps": {
        const steps = Number(input.steps);
        for (let i = 1; i <= steps; i++) {
          await sleep(Number(input.interval_ms ?? 0));
          this.#emit(run, "node_evaluated", root, { status: "pass", message: `step ${i}` });
        }
        end = { state: "succeeded", outputs: { steps } };
        break;
      }
      case "test.slow": {
        const canceled = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), Number(input.ms ?? 60_000));
          run.onCancel = () => {
            clearTimeout(timer);
            resolve(true);
          };
          if (run.canceled) run.onCancel();
        });
        end = canceled ? { state: "canceled" } : { state: "succeeded", outputs: { slept: true } };
        break;
      }
      case "test.big":
        end = { state: "succeeded", outputs: { truncated: true, bytes: 123_456 } };
        break;
      default:
        end = { state: "succeeded", outputs: input };
    }
    run.run = { ...run.run, state: end.state };
    this.#emit(run, "atomic_executed", root, { ...end });
    // `test.quiet`: only the root's end event carries the outputs and error, not `run_completed`.
    this.#emit(
      run,
      "run_completed",
      undefined,
      nodeTypeId === "test.quiet" ? { state: end.state } : { ...end },
    );
  }
}

export interface TestStack {
  registry: TestRegistry;
  gateway: TestGateway;
  registryUrl: string;
  gatewayUrl: string;
  close(): Promise<void>;
}

export async function startTestStack(): Promise<TestStack> {
  const registry = new TestRegistry(NODE_TYPES);
  const gateway = new TestGateway(registry);
  const servers: RunningServer[] = [await registry.listen({ port: 0 }), await gateway.listen({ port: 0 })];
  return {
    registry,
    gateway,
    registryUrl: servers[0]!.url,
    gatewayUrl: servers[1]!.url,
    close: async () => {
      await Promise.all(servers.map((s) => s.close({ timeoutMs: 1_000 })));
    },
  };
}
