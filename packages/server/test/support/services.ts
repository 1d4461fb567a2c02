/**
 * Small, in-memory implementations of the seven ARP v1 services, built on the generated base
 * classes the way a user would build them. Payloads are shaped like the spec's golden vectors (and
 * seeded from them). Each service with optional operations comes in two layers: `Required*` (only
 * the required operations: its optional ones answer 501) and `Test*` (every operation).
 *
 * Auth is `disabled` unless the caller passes its own `auth` option.
 */
import type * as T from "@arp/model";
import { SCHEMAS, type SchemaName, type SchemaTypes } from "@arp/model";
import { goldenVector } from "@arp/testkit";
import {
  type ArpRequest,
  BaseAtomicExecutorServer,
  BaseCompositeExecutorServer,
  BaseNodeRegistryServer,
  BasePdpServer,
  BaseRunCoordinatorServer,
  BaseRunGatewayServer,
  BaseSelectionServer,
  conflict,
  notFound,
  type ServerOptions,
} from "../../src/index.js";

/** A golden vector of the spec: `json_vectors/<schema file without .schema.json>/<variant>.json`. */
export function vector<N extends SchemaName>(
  name: N,
  variant: "minimal" | "full" = "minimal",
): SchemaTypes[N] {
  return goldenVector(SCHEMAS[name].file, variant) as SchemaTypes[N];
}

/** Auth off unless the test says otherwise. */
export const withDefaults = (options: ServerOptions = {}): ServerOptions => ({
  auth: { mode: "disabled" },
  ...options,
});

/** Deterministic timestamps: one second apart from the vectors' epoch. */
function clock(): () => string {
  let tick = 0;
  return () => new Date(Date.UTC(2026, 0, 15, 9, 30, tick++)).toISOString();
}

const sequence = (prefix: string) => {
  let n = 0;
  return () => `${prefix}_${String(++n).padStart(4, "0")}`;
};

/** Resolves when `signal` aborts (never rejects). */
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });

/** A Run's event log: appended to by the service, followed (live) by event streams. */
export class EventLog {
  readonly events: T.RunEvent[] = [];
  #wake: (() => void) | undefined;
  readonly #now: () => string;

  constructor(
    readonly runId: string,
    now: () => string,
  ) {
    this.#now = now;
  }

  append(
    type: T.RunEventType,
    extra: { node_run_id?: string; data?: Record<string, unknown> } = {},
  ): T.RunEvent {
    const event: T.RunEvent = {
      run_id: this.runId,
      seq: this.events.length,
      type,
      time: this.#now(),
      ...extra,
    };
    this.events.push(event);
    this.#wake?.();
    return event;
  }

  get completed(): boolean {
    return this.events.some((e) => e.type === "run_completed");
  }

  /** Every event so far, then new ones as they are appended, until `run_completed` or `signal` aborts. */
  async *follow(
    signal: AbortSignal,
    keep: (e: T.RunEvent) => boolean = () => true,
  ): AsyncGenerator<T.RunEvent> {
    let next = 0;
    while (!signal.aborted) {
      while (next < this.events.length) {
        const event = this.events[next++]!;
        if (keep(event)) yield event;
        if (event.type === "run_completed") return;
      }
      const appended = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      await Promise.race([appended, aborted(signal)]);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Run Gateway

/** Runs held in memory; a started run stays `running` until canceled or `finish()`ed. */
export class RequiredRunGateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, T.Run>();
  readonly logs = new Map<string, EventLog>();
  protected readonly now = clock();
  readonly #runId = sequence("run");

  constructor(options?: ServerOptions) {
    super(withDefaults(options));
  }

  startRun(req: ArpRequest<T.RunStartRequest>): T.Run | Promise<T.Run> {
    const runId = req.body.run_id ?? this.#runId();
    if (this.runs.has(runId)) throw conflict(`run ${runId} already exists`, { details: { run_id: runId } });
    const log = new EventLog(runId, this.now);
    const run: T.Run = {
      run_id: runId,
      state: "running",
      root_node_run_id: `node_run_${runId}_root`,
      ...(req.body.run_context ? { run_context: req.body.run_context } : {}),
      started_at: log.append("run_started").time,
      ...(req.body.extensions ? { extensions: req.body.extensions } : {}),
    };
    this.runs.set(runId, run);
    this.logs.set(runId, log);
    return run;
  }

  /** The run, or a 404. */
  protected run(runId: string): T.Run {
    const run = this.runs.get(runId);
    if (!run) throw notFound(`no run ${runId}`, { details: { run_id: runId } });
    return run;
  }

  getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    return this.run(req.params.run_id);
  }

  cancelRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    const run = this.run(req.params.run_id);
    if (run.state === "running" || run.state === "queued") this.finish(run.run_id, "canceled");
    return run;
  }

  /** Ends a run (as its executors would): records the terminal state and `run_completed`. */
  finish(runId: string, state: "succeeded" | "failed" | "canceled", outputs?: Record<string, unknown>): void {
    const run = this.runs.get(runId)!;
    const log = this.logs.get(runId)!;
    log.append("node_run_assigned", { node_run_id: run.root_node_run_id, data: { executor: "atomic-1" } });
    run.state = state;
    run.ended_at = log.append("run_completed", { data: { state, ...(outputs ? { outputs } : {}) } }).time;
  }
}

export class TestRunGateway extends RequiredRunGateway {
  /** Not a generator itself: an unknown run is answered 404 before the stream (and its 200) starts. */
  override streamRunEvents(
    req: ArpRequest<undefined, { run_id: string }>,
  ): AsyncIterable<T.RunEvent> | Promise<AsyncIterable<T.RunEvent>> {
    const log = this.logs.get(req.params.run_id);
    if (!log) throw notFound(`no run ${req.params.run_id}`);
    return log.follow(req.signal);
  }
}

// ---------------------------------------------------------------------------------------------------
// Run Coordinator

export class RequiredRunCoordinator extends BaseRunCoordinatorServer {
  readonly runs = new Map<string, T.Run>();
  readonly nodeRuns = new Map<string, T.NodeRun>();
  readonly logs = new Map<string, EventLog>();
  /** idempotency_key → node_run_id */
  readonly #idempotency = new Map<string, string>();
  protected readonly now = clock();
  readonly #runId = sequence("run");
  readonly #nodeRunId = sequence("node_run");

  constructor(options?: ServerOptions) {
    super(withDefaults(options));
  }

  startRun(req: ArpRequest<T.RunStartRequest>): T.Run | Promise<T.Run> {
    const runId = req.body.run_id ?? this.#runId();
    if (this.runs.has(runId)) throw conflict(`run ${runId} already exists`);
    const log = new EventLog(runId, this.now);
    const root: T.NodeRun = {
      node_run_id: this.#nodeRunId(),
      run_id: runId,
      node_type_ref: req.body.root_node_type_ref,
      kind: "composite",
      state: "assigned",
      created_at: this.now(),
      inputs: req.body.input,
    };
    this.nodeRuns.set(root.node_run_id, root);
    const run: T.Run = {
      run_id: runId,
      state: "running",
      root_node_run_id: root.node_run_id,
      ...(req.body.run_context ? { run_context: req.body.run_context } : {}),
      started_at: log.append("run_started").time,
    };
    log.append("node_run_assigned", { node_run_id: root.node_run_id });
    this.runs.set(runId, run);
    this.logs.set(runId, log);
    return run;
  }

  protected run(runId: string): T.Run {
    const run = this.runs.get(runId);
    if (!run) throw notFound(`no run ${runId}`);
    return run;
  }

  protected nodeRun(nodeRunId: string): T.NodeRun {
    const nodeRun = this.nodeRuns.get(nodeRunId);
    if (!nodeRun) throw notFound(`no node run ${nodeRunId}`);
    return nodeRun;
  }

  getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    return this.run(req.params.run_id);
  }

  cancelRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    const run = this.run(req.params.run_id);
    if (run.state === "running" || run.state === "queued") {
      run.state = "canceled";
      run.ended_at = this.logs.get(run.run_id)!.append("run_completed", { data: { state: "canceled" } }).time;
    }
    return run;
  }

  createNodeRuns(
    req: ArpRequest<T.NodeRunsCreateRequest>,
  ): T.NodeRunsCreateResponse | Promise<T.NodeRunsCreateResponse> {
    const { run_id, parent_node_run_id } = req.body;
    const log = this.logs.get(run_id);
    if (!log) throw notFound(`no run ${run_id}`);
    if (this.nodeRuns.get(parent_node_run_id)?.run_id !== run_id)
      throw notFound(`no node run ${parent_node_run_id} in run ${run_id}`);
    const created = req.body.node_runs.map((spec): T.NodeRun => {
      const existing = spec.idempotency_key && this.#idempotency.get(spec.idempotency_key);
      if (existing) return this.nodeRuns.get(existing)!;
      const nodeRun: T.NodeRun = {
        node_run_id: this.#nodeRunId(),
        run_id,
        node_type_ref: spec.node_type_ref,
        parent_node_run_id,
        state: "queued",
        created_at: this.now(),
        inputs: spec.inputs,
      };
      this.nodeRuns.set(nodeRun.node_run_id, nodeRun);
      if (spec.idempotency_key) this.#idempotency.set(spec.idempotency_key, nodeRun.node_run_id);
      return nodeRun;
    });
    log.append("composite_decomposed", {
      node_run_id: parent_node_run_id,
      data: { children: created.map((n) => n.node_run_id) },
    });
    return { node_runs: created };
  }

  getNodeRun(req: ArpRequest<undefined, { node_run_id: string }>): T.NodeRun | Promise<T.NodeRun> {
    return this.nodeRun(req.params.node_run_id);
  }

  reportNodeRunEvaluation(
    req: ArpRequest<T.NodeRunEvaluationReportRequest, { node_run_id: string }>,
  ): void | Promise<void> {
    const nodeRun = this.nodeRun(req.params.node_run_id);
    nodeRun.evaluation_result = req.body.evaluation_result;
    if (req.body.recovery_action) nodeRun.recovery_actions = [req.body.recovery_action];
    this.logs.get(nodeRun.run_id)!.append("node_evaluated", {
      node_run_id: nodeRun.node_run_id,
      data: { status: req.body.evaluation_result.status },
    });
  }

  completeNodeRun(req: ArpRequest<T.NodeRunCompleteRequest, { node_run_id: string }>): void | Promise<void> {
    const nodeRun = this.nodeRun(req.params.node_run_id);
    const { state, outputs, output_artifacts } = req.body;
    Object.assign(nodeRun, { state, ended_at: this.now() });
    if (outputs) nodeRun.outputs = outputs;
    if (output_artifacts) nodeRun.output_artifacts = output_artifacts;
    const log = this.logs.get(nodeRun.run_id)!;
    log.append("atomic_executed", { node_run_id: nodeRun.node_run_id, data: { state } });
    const run = this.runs.get(nodeRun.run_id)!;
    if (run.root_node_run_id === nodeRun.node_run_id && run.state === "running") {
      run.state = state;
      run.ended_at = log.append("run_completed", { data: { state } }).time;
    }
  }

  /** `nodeRunId` and all its descendants. */
  subtree(nodeRunId: string): Set<string> {
    const ids = new Set([nodeRunId]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const n of this.nodeRuns.values()) {
        if (n.parent_node_run_id && ids.has(n.parent_node_run_id) && !ids.has(n.node_run_id)) {
          ids.add(n.node_run_id);
          grew = true;
        }
      }
    }
    return ids;
  }
}

export class TestRunCoordinator extends RequiredRunCoordinator {
  override streamRunEvents(
    req: ArpRequest<undefined, { run_id: string }>,
  ): AsyncIterable<T.RunEvent> | Promise<AsyncIterable<T.RunEvent>> {
    const log = this.logs.get(req.params.run_id);
    if (!log) throw notFound(`no run ${req.params.run_id}`);
    return log.follow(req.signal);
  }

  /** A snapshot: the events of the node run's subtree so far, then the stream ends. */
  override async *streamNodeRunEvents(
    req: ArpRequest<undefined, { node_run_id: string }>,
  ): AsyncIterable<T.RunEvent> {
    const nodeRun = this.nodeRuns.get(req.params.node_run_id);
    // Thrown before the first yield: answered as a 404 envelope (the first-event grace period).
    if (!nodeRun) throw notFound(`no node run ${req.params.node_run_id}`);
    const ids = this.subtree(nodeRun.node_run_id);
    for (const event of this.logs.get(nodeRun.run_id)!.events) {
      if (event.node_run_id && ids.has(event.node_run_id)) yield event;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Atomic Executor

export class RequiredAtomicExecutor extends BaseAtomicExecutorServer {
  readonly executed: T.AtomicExecuteRequest[] = [];
  protected readonly now = clock();

  constructor(options?: ServerOptions) {
    super(withDefaults(options));
  }

  executeAtomicNodeRun(req: ArpRequest<T.AtomicExecuteRequest>): T.AtomicExecuteResult {
    const { node_run_id, node_type_ref, inputs } = req.body;
    this.executed.push(req.body);
    const started_at = this.now();
    if (node_type_ref.node_type_id !== "com.example.summarize") {
      return {
        node_run_id,
        state: "failed",
        started_at,
        ended_at: this.now(),
        error: { code: "unknown_node_type", message: `cannot execute ${node_type_ref.node_type_id}` },
      };
    }
    const text = String(inputs.text ?? "");
    const bullets = text
      .split(/[.;]\s*/)
      .filter(Boolean)
      .slice(0, Number(inputs.max_bullets ?? 3));
    return {
      node_run_id,
      state: "succeeded",
      outputs: { summary: bullets.map((b) => `- ${b}.`).join("\n") },
      started_at,
      ended_at: this.now(),
    };
  }
}

export class TestAtomicExecutor extends RequiredAtomicExecutor {
  readonly canceled: string[] = [];

  override cancelAtomicNodeRun(req: ArpRequest<undefined, { node_run_id: string }>): void {
    if (!this.executed.some((r) => r.node_run_id === req.params.node_run_id))
      throw notFound(`no node run ${req.params.node_run_id}`);
    this.canceled.push(req.params.node_run_id);
  }
}

// ---------------------------------------------------------------------------------------------------
// Composite Executor

export class RequiredCompositeExecutor extends BaseCompositeExecutorServer {
  readonly assignments = new Map<string, T.CompositeBeginRequest>();

  constructor(options?: ServerOptions) {
    super(withDefaults(options));
  }

  beginCompositeNodeRun(req: ArpRequest<T.CompositeBeginRequest>): T.CompositeBeginResponse {
    const maxDepth = req.body.constraints?.structural?.max_depth;
    if (maxDepth === 0) {
      return { accepted: false, message: "max_depth of 0 reached; refusing to decompose further" };
    }
    this.assignments.set(req.body.node_run_id, req.body);
    return { accepted: true };
  }
}

export class TestCompositeExecutor extends RequiredCompositeExecutor {
  readonly canceled: string[] = [];

  override cancelCompositeNodeRun(req: ArpRequest<undefined, { node_run_id: string }>): void {
    if (!this.assignments.delete(req.params.node_run_id))
      throw notFound(`no assignment ${req.params.node_run_id}`);
    this.canceled.push(req.params.node_run_id);
  }
}

// ---------------------------------------------------------------------------------------------------
// Node Registry

/** `1.10.0` after `1.9.0`. */
const compareVersions = (a: string, b: string): number => {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/** The node types every test registry starts with: the golden vectors' summarizer and a composite. */
export function seedNodeTypes(): T.NodeType[] {
  return [
    vector("NodeType", "full"),
    {
      node_type_id: "com.example.research_report",
      version: "3.1.0",
      kind: "composite",
      description: "Researches a topic and writes a report.",
    },
    {
      node_type_id: "com.example.web_search",
      version: "0.9.3",
      kind: "atomic",
      description: "Searches the web.",
    },
  ];
}

export class TestNodeRegistry extends BaseNodeRegistryServer {
  /** `id@version` → node type */
  readonly types = new Map<string, T.NodeType>();

  constructor(options?: ServerOptions, seed: T.NodeType[] = seedNodeTypes()) {
    super(withDefaults(options));
    for (const t of seed) this.types.set(`${t.node_type_id}@${t.version}`, t);
  }

  listNodeTypes(
    req: ArpRequest<undefined, { q?: string; kind?: T.NodeKind }>,
  ): T.NodeType[] | Promise<T.NodeType[]> {
    const q = req.params.q?.toLowerCase();
    return [...this.types.values()].filter(
      (t) =>
        (req.params.kind === undefined || t.kind === req.params.kind) &&
        (q === undefined || `${t.node_type_id} ${t.description ?? ""}`.toLowerCase().includes(q)),
    );
  }

  publishNodeType(req: ArpRequest<T.NodeTypePublishRequest>): T.NodeType {
    const type = req.body.node_type;
    const key = `${type.node_type_id}@${type.version}`;
    if (this.types.has(key)) throw conflict(`${key} is already published`);
    this.types.set(key, type);
    return type;
  }

  getNodeType(
    req: ArpRequest<undefined, { node_type_id: string; version?: string }>,
  ): T.NodeType | Promise<T.NodeType> {
    const { node_type_id, version } = req.params;
    const versions = [...this.types.values()]
      .filter((t) => t.node_type_id === node_type_id && (version === undefined || t.version === version))
      .sort((a, b) => compareVersions(b.version, a.version));
    const found = versions[0];
    if (!found) throw notFound(`no node type ${node_type_id}${version ? `@${version}` : ""}`);
    return found;
  }
}

// ---------------------------------------------------------------------------------------------------
// Selection

export class TestSelection extends BaseSelectionServer {
  readonly #candidateSetId = sequence("cset");
  readonly #now = clock();

  constructor(
    options?: ServerOptions,
    readonly catalog: T.NodeType[] = seedNodeTypes(),
  ) {
    super(withDefaults(options));
  }

  generateCandidateSet(req: ArpRequest<T.CandidateSetRequest>): T.CandidateSet {
    const spec = req.body.subtask_spec;
    const limits = { ...spec.constraints?.candidates, ...req.body.constraints?.candidates };
    const words = new Set(spec.goal.toLowerCase().split(/\W+/).filter(Boolean));
    const scored = this.catalog
      .filter((t) => !limits.allowed_node_type_ids || limits.allowed_node_type_ids.includes(t.node_type_id))
      .filter((t) => !limits.denied_node_type_ids?.includes(t.node_type_id))
      .map((t) => {
        const text = `${t.node_type_id} ${t.description ?? ""}`.toLowerCase().split(/\W+/);
        const hits = text.filter((w) => words.has(w)).length;
        return {
          node_type_ref: { node_type_id: t.node_type_id, version: t.version },
          score: hits / text.length,
        };
      })
      .sort((a, b) => b.score - a.score);
    // At least 1 (the schema's minimum), also when no node type is left.
    const topK = limits.max_candidates_per_subtask ?? Math.max(1, scored.length);
    return {
      candidate_set_id: this.#candidateSetId(),
      subtask_id: spec.subtask_id,
      candidates: scored.slice(0, topK).map((c) => ({ ...c, rationale: `score ${c.score.toFixed(2)}` })),
      top_k: topK,
      generated_at: this.#now(),
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// PDP

export class TestPdp extends BasePdpServer {
  readonly #approvalId = sequence("apr");

  constructor(
    options?: ServerOptions,
    readonly denied: readonly string[] = ["shell.exec"],
  ) {
    super(withDefaults(options));
  }

  decidePolicy(req: ArpRequest<T.PolicyDecisionRequest>): T.PolicyDecision {
    const { action, constraints, context } = req.body;
    if (this.denied.includes(action)) {
      return { decision: "deny", reason_code: "ACTION_DENIED", message: `${action} is not allowed` };
    }
    const sideEffect = constraints?.gates?.side_effect_class ?? context?.side_effect_class;
    if (constraints?.gates?.require_approval || sideEffect === "irreversible") {
      const approval_id = this.#approvalId();
      return {
        decision: "require_approval",
        reason_code: "IRREVERSIBLE_SIDE_EFFECT",
        approval_ref: { approval_id, uri: `https://approvals.example.com/v1/approvals/${approval_id}` },
      };
    }
    return { decision: "allow" };
  }
}
