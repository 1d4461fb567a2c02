/**
 * A small Run Coordinator on @arp/server for the composite executor's tests, over real HTTP. It keeps
 * node runs and an event log in memory, "runs" atomic children itself (the `test.*` node types
 * below), hands composite children (`arp.ref.*`) to a composite executor with itself as the
 * coordinator endpoint, and streams a node run's subtree as the real coordinator promises: history
 * first, then live, until that node run is terminal.
 */
import { CompositeExecutorClient } from "@arp/client";
import type * as T from "@arp/model";
import {
  BaseRunCoordinatorServer,
  conflict,
  notFound,
  notImplemented,
  type RunCoordinatorRequests,
  type RunningServer,
} from "@arp/server";

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

/** What the fake does with an atomic child: its outputs, or a throw to fail it. */
type Behaviour = (inputs: Record<string, unknown>, signal: AbortSignal) => Promise<Record<string, unknown>>;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

export const BEHAVIOURS: Record<string, Behaviour> = {
  "test.echo": async (inputs) => ({ text: inputs.text }),
  "test.upper": async (inputs) => ({ text: String(inputs.text).toUpperCase() }),
  "test.concat": async (inputs) => ({ text: `${String(inputs.text)}${String(inputs.suffix)}` }),
  "test.fail": async () => {
    throw new Error("test.fail fails");
  },
  "test.slow": async (inputs, signal) => {
    await sleep(Number(inputs.ms ?? 50), signal);
    return { text: inputs.text };
  },
  "test.hang": (_inputs, signal) => sleep(3_600_000, signal).then(() => ({})),
  "test.big": async () => ({ text: "x".repeat(Number(2_000)) }),
};

export const ref = (node_type_id: string, version = "1.0.0"): T.NodeTypeRef => ({ node_type_id, version });

export interface FakeCoordinatorOptions {
  /** Where composite children go. */
  compositeUrl?: string;
  /** false: the node-run stream answers 501. */
  streams?: boolean;
}

export class FakeCoordinator extends BaseRunCoordinatorServer {
  url = "";
  readonly nodeRuns = new Map<string, T.NodeRun>();
  readonly events: T.RunEvent[] = [];
  readonly creates: { body: T.NodeRunsCreateRequest; authorization?: string; traceparent?: string }[] = [];
  readonly evaluations: { nodeRunId: string; result: T.EvaluationResult }[] = [];
  readonly completions = new Map<string, T.NodeRunCompleteRequest>();
  readonly begins: { request: T.CompositeBeginRequest; response: T.CompositeBeginResponse }[] = [];
  readonly #keys = new Map<string, string>();
  readonly #seq = new Map<string, number>();
  readonly #aborts = new Map<string, AbortController>();
  #waiters: Array<() => void> = [];
  #counter = 0;

  constructor(readonly options: FakeCoordinatorOptions = {}) {
    super({ auth: { mode: "disabled" }, logger: { warn() {}, error() {} } });
  }

  async start(): Promise<RunningServer> {
    const running = await this.listen({ port: 0 });
    this.url = running.url;
    return running;
  }

  /** A root composite node run, begun on the composite executor as a coordinator would. */
  async beginComposite(
    nodeTypeRef: T.NodeTypeRef,
    inputs: Record<string, unknown>,
    extra: Partial<T.CompositeBeginRequest> = {},
  ): Promise<{ nodeRunId: string; response: T.CompositeBeginResponse }> {
    const runId = `run_${++this.#counter}`;
    const nodeRun = this.#add({ run_id: runId, node_type_ref: nodeTypeRef, inputs, kind: "composite" });
    const response = await this.#begin(nodeRun, extra);
    return { nodeRunId: nodeRun.node_run_id, response };
  }

  /** Resolves once `nodeRunId` is terminal. */
  async terminal(nodeRunId: string, timeoutMs = 10_000): Promise<T.NodeRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodeRun = this.nodeRuns.get(nodeRunId);
      if (nodeRun !== undefined && TERMINAL.has(nodeRun.state)) return nodeRun;
      if (Date.now() > deadline) throw new Error(`${nodeRunId} did not end within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  childrenOf(parentId: string): T.NodeRun[] {
    return [...this.nodeRuns.values()].filter((n) => n.parent_node_run_id === parentId);
  }

  /** Cancels a node run and its subtree, as canceling the run would (composites are told too). */
  async cancelSubtree(nodeRunId: string): Promise<void> {
    for (const nodeRun of [...this.nodeRuns.values()]) {
      if (this.#inSubtree(nodeRun.node_run_id, nodeRunId) && !TERMINAL.has(nodeRun.state)) {
        this.#end(nodeRun, "canceled");
      }
    }
  }

  #add(spec: {
    run_id: string;
    node_type_ref: T.NodeTypeRef;
    inputs: Record<string, unknown>;
    kind: T.NodeKind;
    parent_node_run_id?: string;
    node_run_id?: string;
  }): T.NodeRun {
    const { node_run_id, ...rest } = spec;
    const nodeRun: T.NodeRun = {
      node_run_id: node_run_id ?? `nr_${++this.#counter}`,
      ...rest,
      state: "running",
      created_at: new Date().toISOString(),
    };
    this.nodeRuns.set(nodeRun.node_run_id, nodeRun);
    this.#emit(nodeRun, "node_run_assigned");
    return nodeRun;
  }

  #emit(nodeRun: T.NodeRun, type: T.RunEventType, data?: Record<string, unknown>): void {
    const seq = this.#seq.get(nodeRun.run_id) ?? 0;
    this.#seq.set(nodeRun.run_id, seq + 1);
    this.events.push({
      run_id: nodeRun.run_id,
      node_run_id: nodeRun.node_run_id,
      seq,
      type,
      time: new Date().toISOString(),
      ...(data === undefined ? {} : { data }),
    });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #end(nodeRun: T.NodeRun, state: T.NodeRunTerminalState, outputs?: Record<string, unknown>): void {
    nodeRun.state = state;
    nodeRun.ended_at = new Date().toISOString();
    if (outputs !== undefined) nodeRun.outputs = outputs;
    this.#aborts.get(nodeRun.node_run_id)?.abort();
    this.#emit(nodeRun, nodeRun.kind === "composite" ? "node_evaluated" : "atomic_executed", { state });
  }

  #inSubtree(nodeRunId: string | undefined, rootId: string): boolean {
    let id = nodeRunId;
    while (id !== undefined) {
      if (id === rootId) return true;
      id = this.nodeRuns.get(id)?.parent_node_run_id;
    }
    return false;
  }

  async #begin(
    nodeRun: T.NodeRun,
    extra: Partial<T.CompositeBeginRequest> = {},
  ): Promise<T.CompositeBeginResponse> {
    const request: T.CompositeBeginRequest = {
      node_run_id: nodeRun.node_run_id,
      run_id: nodeRun.run_id,
      node_type_ref: nodeRun.node_type_ref,
      inputs: nodeRun.inputs ?? {},
      coordinator_endpoint: this.url,
      ...extra,
    };
    const client = new CompositeExecutorClient({
      baseUrl: this.options.compositeUrl ?? "http://127.0.0.1:1",
    });
    const response = await client.beginCompositeNodeRun(request, { retry: false });
    this.begins.push({ request, response });
    if (!response.accepted) this.#end(nodeRun, "failed");
    return response;
  }

  #run(nodeRun: T.NodeRun): void {
    if (nodeRun.kind === "composite") {
      void this.#begin(nodeRun).catch(() => this.#end(nodeRun, "failed"));
      return;
    }
    const behaviour = BEHAVIOURS[nodeRun.node_type_ref.node_type_id];
    const controller = new AbortController();
    this.#aborts.set(nodeRun.node_run_id, controller);
    void (async () => {
      try {
        if (behaviour === undefined) throw new Error("unknown node type");
        const outputs = await behaviour(nodeRun.inputs ?? {}, controller.signal);
        if (!TERMINAL.has(nodeRun.state)) this.#end(nodeRun, "succeeded", outputs);
      } catch {
        if (!TERMINAL.has(nodeRun.state)) this.#end(nodeRun, "failed");
      }
    })();
  }

  // --- the coordinator's operations -------------------------------------------------------------

  startRun(): T.Run {
    throw notImplemented("not in this fake");
  }
  getRun(): T.Run {
    throw notImplemented("not in this fake");
  }
  cancelRun(): T.Run {
    throw notImplemented("not in this fake");
  }

  createNodeRuns(req: RunCoordinatorRequests["createNodeRuns"]): T.NodeRunsCreateResponse {
    const { authorization } = req.headers;
    this.creates.push({
      body: req.body,
      ...(authorization === undefined ? {} : { authorization }),
      ...(req.traceparent === undefined ? {} : { traceparent: req.traceparent }),
    });
    if (!this.nodeRuns.has(req.body.parent_node_run_id)) {
      // A parent this fake never saw (the conformance checker's begin): adopt it.
      this.#add({
        node_run_id: req.body.parent_node_run_id,
        run_id: req.body.run_id,
        node_type_ref: ref("arp.ref.pipeline"),
        inputs: {},
        kind: "composite",
      });
    }
    const created: T.NodeRun[] = [];
    const fresh: T.NodeRun[] = [];
    for (const spec of req.body.node_runs) {
      const known = spec.idempotency_key === undefined ? undefined : this.#keys.get(spec.idempotency_key);
      if (known !== undefined) {
        created.push(this.nodeRuns.get(known)!);
        continue;
      }
      const kind = spec.node_type_ref.node_type_id.startsWith("arp.ref.") ? "composite" : "atomic";
      const nodeRun = this.#add({
        run_id: req.body.run_id,
        parent_node_run_id: req.body.parent_node_run_id,
        node_type_ref: spec.node_type_ref,
        inputs: spec.inputs,
        kind,
      });
      if (spec.idempotency_key !== undefined) this.#keys.set(spec.idempotency_key, nodeRun.node_run_id);
      created.push(nodeRun);
      fresh.push(nodeRun);
    }
    for (const nodeRun of fresh) this.#run(nodeRun);
    return { node_runs: created.map((n) => structuredClone(n)) };
  }

  getNodeRun(req: RunCoordinatorRequests["getNodeRun"]): T.NodeRun {
    const nodeRun = this.nodeRuns.get(req.params.node_run_id);
    if (nodeRun === undefined) throw notFound(`no node run ${req.params.node_run_id}`);
    return structuredClone(nodeRun);
  }

  override async *streamNodeRunEvents(
    req: RunCoordinatorRequests["streamNodeRunEvents"],
  ): AsyncIterable<T.RunEvent> {
    if (this.options.streams === false) throw notImplemented("no streams in this fake");
    const id = req.params.node_run_id;
    const root = this.nodeRuns.get(id);
    if (root === undefined) throw notFound(`no node run ${id}`);
    let next = 0;
    for (;;) {
      while (next < this.events.length) {
        const event = this.events[next++]!;
        if (event.run_id === root.run_id && this.#inSubtree(event.node_run_id, id)) yield event;
      }
      if (TERMINAL.has(root.state)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          req.signal.removeEventListener("abort", done);
          resolve();
        };
        this.#waiters.push(done);
        req.signal.addEventListener("abort", done, { once: true });
      });
      if (req.signal.aborted) return;
    }
  }

  reportNodeRunEvaluation(req: RunCoordinatorRequests["reportNodeRunEvaluation"]): void {
    const nodeRun = this.nodeRuns.get(req.params.node_run_id);
    if (nodeRun === undefined) throw notFound(`no node run ${req.params.node_run_id}`);
    nodeRun.evaluation_result = req.body.evaluation_result;
    this.evaluations.push({ nodeRunId: nodeRun.node_run_id, result: req.body.evaluation_result });
  }

  completeNodeRun(req: RunCoordinatorRequests["completeNodeRun"]): void {
    const nodeRun = this.nodeRuns.get(req.params.node_run_id);
    if (nodeRun === undefined) {
      // The conformance checker's node runs were never created here: record them anyway.
      this.completions.set(req.params.node_run_id, req.body);
      return;
    }
    if (TERMINAL.has(nodeRun.state))
      throw conflict(`node run ${nodeRun.node_run_id} is already ${nodeRun.state}`);
    this.completions.set(nodeRun.node_run_id, req.body);
    this.#end(nodeRun, req.body.state, req.body.outputs);
  }
}
