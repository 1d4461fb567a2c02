/**
 * The Run Coordinator: the run authority. It owns runs, node runs and each run's event log (in a
 * {@link Store}), dispatches node runs to the executors by kind, takes the composite executors'
 * calls back (children, evaluations, completions), enforces the runs' constraints and ends every
 * node run, one way or another. It reaches its peers only through `@arp/client` and the URLs it is
 * given. See the README's "Run Coordinator" section for the rules in one place.
 */
import { randomUUID } from "node:crypto";
import { ArpApiError } from "@arp/client";
import type * as T from "@arp/model";
import {
  ArpServerError,
  BaseRunCoordinatorServer,
  badRequest,
  conflict,
  type ListenOptions,
  type Logger,
  notFound,
  type RunCoordinatorRequests,
  type RunningServer,
  type ServerOptions,
} from "@arp/server";
import {
  type CoordinatorLimits,
  candidateViolation,
  DEFAULT_LIMITS,
  mergeConstraints,
  structuralLimit,
} from "../coordinator/constraints.js";
import { type Ending, type EndPlan, planEnding } from "../coordinator/ending.js";
import {
  busy,
  describe,
  limitViolation,
  nodeRunEnded,
  peerError,
  peerUnavailable,
  policyError,
  runEnded,
  violation,
} from "../coordinator/errors.js";
import {
  childrenOf,
  compact,
  compositeDecomposed,
  endsNodeRun,
  nodeEvaluated,
  nodeRunAssigned,
  policyDecided,
  runStarted,
  subtaskMapped,
} from "../coordinator/events.js";
import { fingerprint, idProblem, nodeRunId } from "../coordinator/ids.js";
import { canMoveNodeRun, isTerminalNodeRun, isTerminalRun } from "../coordinator/states.js";
import { type Peers, traced } from "../peers.js";
import type {
  EventDraft,
  NodeRunRecord,
  NodeRunTimeout,
  RunRecord,
  Store,
  StoredNodeRun,
  StoredRun,
} from "../store/interface.js";
import { MemoryStore } from "../store/memory.js";
import { peerUrl } from "../urls.js";

export type * from "../store/interface.js";
export { type CoordinatorLimits, DEFAULT_LIMITS, MemoryStore };

/** How long an atomic executor has to answer when the node run has no `max_wall_time_ms` of its own. */
export const DEFAULT_EXECUTOR_TIMEOUT_MS = 60_000;
/**
 * How long a composite node run without a `max_wall_time_ms` may go without a sign of its executor
 * (its creation, a call about it, a child's end) before it fails. Longer than an atomic executor's:
 * under a burst (1,000 runs at once on PostgreSQL) a healthy composite executor waited over 60 s
 * for a busy coordinator between two steps, and its run failed.
 */
export const DEFAULT_COMPOSITE_IDLE_TIMEOUT_MS = 300_000;
/** Deadline of each call to the registry, the PDP, a composite's begin and the executors' cancels. */
export const DEFAULT_PEER_TIMEOUT_MS = 10_000;
/** How often the store is asked for overdue runs and node runs (ones no timer here watches). */
export const DEFAULT_SWEEP_INTERVAL_MS = 5_000;
/**
 * How long a replica's heartbeat lasts (it beats every third of that): a replica silent for longer
 * is taken for dead, and the node runs it dispatched are taken over by the others' sweeps.
 */
export const DEFAULT_LEASE_MS = 10_000;
/**
 * How long background work (an executor's answer to record, a deadline, a takeover) waits for a
 * store that cannot be reached (503 `store_unavailable`: a database restarting) before it gives up.
 * Requests do not wait: they answer the 503 at once.
 */
export const DEFAULT_STORE_OUTAGE_MS = 30_000;
/** Tries of one change that keeps meeting concurrent changes (then 503, retryable). */
export const MAX_COMMIT_ATTEMPTS = 16;
/** Events read from the store at a time by one stream: what a stream holds in memory at most. */
export const STREAM_PAGE_SIZE = 256;
/**
 * A node run queued this long was never dispatched (the answer of the change that created it was
 * lost, a database outage, say): a sweep dispatches it, once (see #takeOver).
 */
export const STUCK_QUEUED_MS = 10_000;
/** Overdue records handled per sweep. */
const SWEEP_BATCH = 100;
/** setTimeout's largest delay; a later deadline is re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ReferenceRunCoordinatorOptions {
  peers: Peers;
  /** Default `{ auth: { mode: "disabled" } }`. Its `logger` also gets the coordinator's own reports. */
  server?: ServerOptions;
  /** Default a new {@link MemoryStore}. */
  store?: Store;
  /** See {@link DEFAULT_EXECUTOR_TIMEOUT_MS}. */
  executorTimeoutMs?: number;
  /** See {@link DEFAULT_COMPOSITE_IDLE_TIMEOUT_MS}. */
  compositeIdleTimeoutMs?: number;
  /** See {@link DEFAULT_PEER_TIMEOUT_MS}. */
  peerTimeoutMs?: number;
  /** See {@link DEFAULT_SWEEP_INTERVAL_MS}; 0: no sweeps (one process with its own timers). */
  sweepIntervalMs?: number;
  /** The coordinator's ceilings (see {@link DEFAULT_LIMITS}); the constraints can only lower them. */
  limits?: Partial<CoordinatorLimits>;
  /** The clock of every timestamp and deadline. Default `() => new Date()`. */
  now?: () => Date;
  /** This replica's name in the store (node runs' `owner`). Default `coordinator-<random>`. */
  replicaId?: string;
  /** See {@link DEFAULT_LEASE_MS}. */
  leaseMs?: number;
  /** See {@link DEFAULT_STORE_OUTAGE_MS}. */
  storeOutageMs?: number;
}

type Trace = { traceparent?: string | undefined };

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min)
    throw new RangeError(`${name} must be a whole number >= ${min} (got ${v})`);
  return v;
}

/**
 * A pause before trying a change again after losing a race for the same record: random, up to
 * 2^attempt ms (at most 256), so that writers of one hot record (replicas reporting at once) spread
 * out instead of colliding again in step.
 */
function contended(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(256, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A record without its version, ready to be written back. */
function unversioned<R extends { version: number }>(stored: R): Omit<R, "version"> {
  const { version: _version, ...record } = stored;
  return record;
}

export class ReferenceRunCoordinator extends BaseRunCoordinatorServer {
  readonly store: Store;
  readonly #peers: Peers;
  readonly #now: () => Date;
  readonly #executorTimeoutMs: number;
  readonly #compositeIdleTimeoutMs: number;
  readonly #peerTimeoutMs: number;
  readonly #limits: CoordinatorLimits;
  readonly #logger: Logger | undefined;
  /** Deadline timers: `run:<id>`, `node:<id>`. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Node runs this process is dispatching (from #dispatch until its work ends). */
  readonly #dispatching = new Set<string>();
  /** This process's calls to executors, by node run, so that ending a node run can abort its call. */
  readonly #calls = new Map<string, AbortController>();
  /** Work going on in the background (dispatches, deadline checks, cancels), for {@link settled}. */
  readonly #background = new Set<Promise<unknown>>();
  readonly #sweeper: NodeJS.Timeout | undefined;
  readonly #replicaId: string;
  readonly #leaseMs: number;
  readonly #storeOutageMs: number;
  readonly #heart: NodeJS.Timeout;
  #stopped = false;

  constructor(options: ReferenceRunCoordinatorOptions) {
    const server = options.server ?? { auth: { mode: "disabled" } };
    super(server);
    this.#peers = options.peers;
    this.store = options.store ?? new MemoryStore();
    this.#now = options.now ?? (() => new Date());
    this.#executorTimeoutMs = positive(
      "executorTimeoutMs",
      options.executorTimeoutMs,
      DEFAULT_EXECUTOR_TIMEOUT_MS,
    );
    this.#compositeIdleTimeoutMs = positive(
      "compositeIdleTimeoutMs",
      options.compositeIdleTimeoutMs,
      DEFAULT_COMPOSITE_IDLE_TIMEOUT_MS,
    );
    this.#peerTimeoutMs = positive("peerTimeoutMs", options.peerTimeoutMs, DEFAULT_PEER_TIMEOUT_MS);
    this.#limits = { ...DEFAULT_LIMITS, ...compact({ ...options.limits }) };
    for (const [name, value] of Object.entries(this.#limits)) positive(`limits.${name}`, value, 0, 0);
    this.#logger = server.logger;
    this.#replicaId = options.replicaId ?? `coordinator-${randomUUID().slice(0, 8)}`;
    this.#leaseMs = positive("leaseMs", options.leaseMs, DEFAULT_LEASE_MS, 3);
    this.#storeOutageMs = positive("storeOutageMs", options.storeOutageMs, DEFAULT_STORE_OUTAGE_MS, 0);
    // Beats from the start: node runs it creates name it as their owner.
    this.#spawn("heartbeat", this.#beat());
    this.#heart = setInterval(() => this.#spawn("heartbeat", this.#beat()), Math.floor(this.#leaseMs / 3));
    this.#heart.unref();
    const sweep = positive("sweepIntervalMs", options.sweepIntervalMs, DEFAULT_SWEEP_INTERVAL_MS, 0);
    if (sweep > 0) {
      this.#sweeper = setInterval(() => this.#spawn("sweep", this.sweep()), sweep);
      this.#sweeper.unref();
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Runs

  /** This replica's name in the store. */
  get replicaId(): string {
    return this.#replicaId;
  }

  async startRun(req: RunCoordinatorRequests["startRun"]): Promise<T.Run> {
    const body = req.body;
    const runId = body.run_id ?? `run-${randomUUID()}`;
    const problem = idProblem(runId);
    if (problem !== undefined) {
      throw badRequest(`run_id ${problem}`, { details: { pointer: "/run_id", run_id: runId.slice(0, 300) } });
    }
    if ((await this.store.getRun(runId)) !== undefined) {
      throw conflict(`run ${runId} already exists`, { details: { run_id: runId } });
    }
    const nodeType = await this.#nodeType(body.root_node_type_ref, req, "/root_node_type_ref");
    const constraints = mergeConstraints(body.constraints, nodeType.constraints);
    const decision = await this.#decide(req, {
      action: "run.start",
      run_id: runId,
      node_type_ref: body.root_node_type_ref,
      run_context: body.run_context,
      constraints: body.constraints,
    });
    if (decision.decision !== "allow") {
      // Nothing is created: a run the policy refuses never starts.
      const error = policyError("run.start", decision);
      throw new ArpServerError({
        status: 403,
        code: error.code,
        message: error.message,
        details: error.details,
      });
    }

    const now = this.#now();
    const time = now.toISOString();
    const root = this.#newNodeRun({
      runId,
      id: nodeRunId(runId, 0),
      ref: body.root_node_type_ref,
      nodeType,
      inputs: body.input,
      constraints,
      own: nodeType.constraints,
      depth: 0,
      nowMs: now.getTime(),
    });
    const run: T.Run = compact({
      run_id: runId,
      state: "running" as const,
      root_node_run_id: root.node_run.node_run_id,
      run_context: body.run_context,
      started_at: time,
    });
    const budget = body.constraints?.budgets?.max_wall_time_ms;
    const record: RunRecord = compact({
      run,
      constraints: body.constraints,
      node_count: 1,
      deadline_ms: budget === undefined ? undefined : now.getTime() + budget,
      traceparent: req.traceparent,
    });
    const committed = await this.store.commit({
      run_id: runId,
      create_run: record,
      insert_node_runs: [root],
      // The log starts with run_started; the decision that let it start comes right after.
      events: [runStarted(time, run, root.node_run), policyDecided(time, undefined, "run.start", decision)],
    });
    if (!committed.ok) throw conflict(`run ${runId} already exists`, { details: { run_id: runId } });
    if (record.deadline_ms !== undefined) {
      this.#arm(`run:${runId}`, record.deadline_ms, () => this.#checkRun(runId));
    }
    this.#dispatch({ ...root, version: 1 }, req, record);
    return run;
  }

  async getRun(req: RunCoordinatorRequests["getRun"]): Promise<T.Run> {
    return (await this.#run(req.params.run_id)).run;
  }

  async cancelRun(req: RunCoordinatorRequests["cancelRun"]): Promise<T.Run> {
    const run = await this.#run(req.params.run_id);
    if (isTerminalRun(run.run.state)) return run.run;
    await this.#end(
      run.run.root_node_run_id,
      { state: "canceled" },
      { stopTarget: true, trace: req, runId: run.run.run_id },
    );
    return (await this.#run(req.params.run_id)).run;
  }

  /**
   * Not a generator: the run is looked up before the stream is handed over, so an unknown one is a
   * 404 however long the store takes (the server sends a stream's 200 once its first event is late).
   */
  override async streamRunEvents(
    req: RunCoordinatorRequests["streamRunEvents"],
  ): Promise<AsyncIterable<T.RunEvent>> {
    const runId = req.params.run_id;
    await this.#run(runId);
    return this.#follow(runId, req.signal, (event) => (event.type === "run_completed" ? "last" : "yield"));
  }

  // -------------------------------------------------------------------------------------------------
  // Node runs

  async createNodeRuns(req: RunCoordinatorRequests["createNodeRuns"]): Promise<T.NodeRunsCreateResponse> {
    const { run_id: runId, parent_node_run_id: parentId, node_runs: specs } = req.body;
    for (const [i, spec] of specs.entries()) {
      const problem = spec.idempotency_key === undefined ? undefined : idProblem(spec.idempotency_key);
      if (problem !== undefined) {
        throw badRequest(`idempotency_key ${problem}`, {
          details: { pointer: `/node_runs/${i}/idempotency_key`, index: i },
        });
      }
    }
    const nodeTypes = new Map<string, T.NodeType>(); // fetched once per request, even across retries
    const keys = specs.flatMap((spec) => (spec.idempotency_key === undefined ? [] : [spec.idempotency_key]));
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      // The parent, the run and the keys' node runs, in one read.
      const { parent, run, byKey } = await this.store.getCreateContext(runId, parentId, keys);
      if (parent === undefined)
        throw notFound(`no node run ${parentId}`, { details: { node_run_id: parentId } });
      if (parent.node_run.run_id !== runId || run === undefined) {
        throw notFound(`node run ${parentId} is not in run ${runId}`, {
          details: { run_id: runId, parent_node_run_id: parentId },
        });
      }

      // Retries first: a key seen before answers the node run it made, if the spec is the same.
      const fingerprints = specs.map(fingerprint);
      const answers: (T.NodeRun | number)[] = []; // a node run, or the index of a new spec
      const fresh: number[] = [];
      const keysHere = new Map<string, number>();
      for (const [i, spec] of specs.entries()) {
        const key = spec.idempotency_key;
        if (key !== undefined) {
          const same = keysHere.get(key);
          const existing = same === undefined ? byKey.get(key) : undefined;
          const seen = same === undefined ? existing?.fingerprint : fingerprints[same];
          if (seen !== undefined && seen !== fingerprints[i]) {
            throw new ArpServerError({
              status: 409,
              code: "idempotency_conflict",
              message: `idempotency_key ${JSON.stringify(key)} was used under ${parentId} for another node run spec`,
              details: compact({
                idempotency_key: key,
                index: i,
                node_run_id: existing?.node_run.node_run_id,
              }),
            });
          }
          if (existing !== undefined) {
            answers.push(existing.node_run);
            continue;
          }
          if (same !== undefined) {
            answers.push(answers[same]!);
            continue;
          }
          keysHere.set(key, i);
        }
        answers.push(i);
        fresh.push(i);
      }
      if (fresh.length === 0) return { node_runs: answers as T.NodeRun[] };

      if (isTerminalRun(run.run.state)) throw runEnded(runId);
      if (parent.node_run.kind !== "composite") {
        throw new ArpServerError({
          status: 409,
          code: "not_composite",
          message: `node run ${parentId} is atomic: only a composite node run has children`,
          details: { parent_node_run_id: parentId, kind: parent.node_run.kind },
        });
      }
      if (isTerminalNodeRun(parent.node_run.state)) {
        const { state } = parent.node_run;
        throw nodeRunEnded(parentId, state, `node run ${parentId} has ended (${state})`);
      }
      this.#checkStructure(parent, run, fresh.length);
      for (const i of fresh) {
        const id = specs[i]!.node_type_ref.node_type_id;
        const denied = candidateViolation(parent.constraints, id);
        if (denied !== undefined) {
          throw violation(denied.message, {
            constraint: `candidates.${denied.constraint}`,
            node_type_id: id,
            index: i,
          });
        }
      }
      for (const i of fresh) {
        const ref = specs[i]!.node_type_ref;
        const key = `${ref.node_type_id}@${ref.version}`;
        if (!nodeTypes.has(key))
          nodeTypes.set(key, await this.#nodeType(ref, req, `/node_runs/${i}/node_type_ref`));
      }

      const now = this.#now();
      const time = now.toISOString();
      const children = fresh.map((i, n) => {
        const spec = specs[i]!;
        const nodeType = nodeTypes.get(`${spec.node_type_ref.node_type_id}@${spec.node_type_ref.version}`)!;
        const own = mergeConstraints(nodeType.constraints, spec.constraints);
        return this.#newNodeRun({
          runId,
          id: nodeRunId(runId, run.node_count + n),
          ref: spec.node_type_ref,
          nodeType,
          inputs: spec.inputs,
          constraints: mergeConstraints(parent.constraints, own),
          own,
          depth: parent.depth + 1,
          nowMs: now.getTime(),
          parentId,
          key: spec.idempotency_key,
          fingerprint: fingerprints[i]!,
        });
      });
      const round = parent.rounds + 1;
      const parentRecord: NodeRunRecord = {
        ...unversioned(parent),
        children: parent.children + children.length,
        rounds: round,
        ...this.#renewed(parent, now.getTime()),
      };
      const result = await this.store.commit({
        run_id: runId,
        update_run: {
          version: run.version,
          record: { ...unversioned(run), node_count: run.node_count + children.length },
        },
        update_node_runs: [{ version: parent.version, record: parentRecord }],
        insert_node_runs: children,
        events: [
          compositeDecomposed(
            time,
            parentId,
            children.map((c) => c.node_run.node_run_id),
            round,
          ),
          ...children.map((c, n) => subtaskMapped(time, c.node_run, specs[fresh[n]!]!)),
        ],
      });
      if (result.ok) {
        for (const child of children) this.#dispatch({ ...child, version: 1 }, req, run);
        fresh.forEach((i, n) => {
          answers[i] = children[n]!.node_run;
        });
        return { node_runs: answers.map((a) => (typeof a === "number" ? answers[a] : a) as T.NodeRun) };
      }
      if (result.reason === "closed") throw runEnded(runId);
      // conflict (a concurrent change to the run or the parent) or exists (a concurrent retry): again
      await contended(attempt);
    }
    throw busy(MAX_COMMIT_ATTEMPTS);
  }

  async getNodeRun(req: RunCoordinatorRequests["getNodeRun"]): Promise<T.NodeRun> {
    return (await this.#nodeRun(req.params.node_run_id)).node_run;
  }

  /** As {@link streamRunEvents}: the node run is looked up (404) before the stream is handed over. */
  override async streamNodeRunEvents(
    req: RunCoordinatorRequests["streamNodeRunEvents"],
  ): Promise<AsyncIterable<T.RunEvent>> {
    const id = req.params.node_run_id;
    const target = await this.#nodeRun(id);
    // The subtree, as the log reveals it: a batch event names its children before any of their events.
    const subtree = new Set([id]);
    return this.#follow(target.node_run.run_id, req.signal, (event) => {
      if (event.type === "run_completed") return "stop";
      if (event.node_run_id === undefined || !subtree.has(event.node_run_id)) return "skip";
      for (const child of childrenOf(event)) subtree.add(child);
      return endsNodeRun(event, id) ? "last" : "yield";
    });
  }

  async reportNodeRunEvaluation(req: RunCoordinatorRequests["reportNodeRunEvaluation"]): Promise<void> {
    const id = req.params.node_run_id;
    const found = await this.#nodeRun(id);
    const runId = found.node_run.run_id;
    // An ended run's log is closed: the change is refused, and that is the 409 below.
    const max = this.#limits.maxEvaluationsPerNodeRun;
    const done = await this.#update(
      id,
      (record) => {
        if (record.evaluations >= max) {
          throw violation(`node run ${id} already has ${max} evaluations, the most the coordinator keeps`, {
            limit: max,
            node_run_id: id,
          });
        }
        const node_run: T.NodeRun = {
          ...record.node_run,
          evaluation_result: req.body.evaluation_result,
          ...(req.body.recovery_action === undefined
            ? {}
            : { recovery_actions: [...(record.node_run.recovery_actions ?? []), req.body.recovery_action] }),
        };
        const nowMs = this.#now().getTime();
        return {
          record: {
            ...unversioned(record),
            node_run,
            evaluations: record.evaluations + 1,
            ...this.#renewed(record, nowMs),
          },
          events: [nodeEvaluated(new Date(nowMs).toISOString(), id, req.body)],
        };
      },
      found,
    );
    if (done === undefined) throw runEnded(runId);
  }

  async completeNodeRun(req: RunCoordinatorRequests["completeNodeRun"]): Promise<void> {
    const id = req.params.node_run_id;
    const { state, outputs, output_artifacts, error } = req.body;
    for (let attempt = 0; attempt < 2; attempt++) {
      const record = await this.#nodeRun(id);
      if (isTerminalNodeRun(record.node_run.state)) {
        if (record.node_run.state === state) return; // a retried completion: already done
        const now = record.node_run.state;
        throw nodeRunEnded(id, now, `node run ${id} has already ended ${now}; it cannot become ${state}`);
      }
      // A composite's completion is its executor's own answer; an atomic node run completed here
      // overrides its executor, which is then stopped.
      const ending: Ending = compact({ state, outputs, output_artifacts, error });
      const stopTarget = record.node_run.kind === "atomic";
      if (await this.#end(id, ending, { stopTarget, trace: req, runId: record.node_run.run_id })) return;
      // It ended meanwhile: the second pass answers as for a completion that came second.
    }
    throw busy(MAX_COMMIT_ATTEMPTS);
  }

  // -------------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * `listen()`, whose `close()` also {@link stop}s the coordinator (its timers and executor calls).
   */
  override async listen(options?: ListenOptions): Promise<RunningServer> {
    const running = await super.listen(options);
    return {
      ...running,
      close: async (closeOptions) => {
        await running.close(closeOptions);
        await this.stop();
      },
    };
  }

  /**
   * Stops the timers and the sweeps, aborts this process's executor calls and waits for the
   * background work. The stored runs stay as they are (another replica's sweep takes them over).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweeper);
    clearInterval(this.#heart);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const call of this.#calls.values()) call.abort(new Error("the coordinator stopped"));
    await this.settled();
    // Gone: what it dispatched is the other replicas' to take over at their next sweep.
    await this.store.heartbeat(this.#replicaId, 0).catch(() => undefined);
  }

  /** Resolves when the background work started so far (and what it started) has finished. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /**
   * Ends what is overdue in the store (runs past their budget, node runs past their deadline) and
   * takes over the node runs of replicas that stopped beating.
   */
  async sweep(): Promise<void> {
    const nowMs = this.#now().getTime();
    const overdue = await this.store.listOverdue(nowMs, SWEEP_BATCH);
    for (const id of overdue.runs) await this.#checkRun(id);
    for (const id of overdue.node_runs) await this.#checkNode(id);
    for (const id of await this.store.listOrphans(nowMs, SWEEP_BATCH, nowMs - STUCK_QUEUED_MS))
      await this.#takeOver(id);
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    await this.store.heartbeat(this.#replicaId, this.#now().getTime() + this.#leaseMs);
  }

  /**
   * A node run whose replica died (see the README: "Running on PostgreSQL"). Queued: claimed and
   * dispatched here. An atomic one its executor was working on: the answer would go to the dead
   * replica and cannot be had again, so it fails (`replica_lost`) and its executor is told to stop.
   * A composite one: its executor calls any replica back, so nothing was lost but the owner.
   */
  async #takeOver(id: string): Promise<void> {
    const found = await this.store.getNodeRun(id);
    if (found === undefined || isTerminalNodeRun(found.node_run.state)) return;
    // Its own: only a queued one that no dispatch of this process is working on.
    if (found.owner === this.#replicaId && (found.node_run.state !== "queued" || this.#dispatching.has(id)))
      return;
    const lost = found.owner;
    // Claimed by a compare-and-set on the version read: a dispatch begun elsewhere meanwhile wins or
    // loses whole (its own change names the same version).
    const mine = (r: StoredNodeRun) =>
      !isTerminalNodeRun(r.node_run.state) && r.owner === lost && r.version === found.version;
    if (found.node_run.state === "queued") {
      const claimed = await this.#update(
        id,
        (r) =>
          mine(r) && r.node_run.state === "queued"
            ? { record: { ...unversioned(r), owner: this.#replicaId } }
            : undefined,
        undefined,
        true,
      );
      if (claimed === undefined) return;
      const run = await this.store.getRun(found.node_run.run_id);
      this.#dispatch(id, { traceparent: run?.traceparent });
      return;
    }
    if (found.node_run.kind === "composite") {
      await this.#update(
        id,
        (r) => (mine(r) ? { record: compact({ ...unversioned(r), owner: undefined }) } : undefined),
        undefined,
        true,
      );
      return;
    }
    const error: T.ErrorDetail = {
      code: "replica_lost",
      message: `the coordinator replica ${lost} that sent node run ${id} to its executor stopped before the executor answered; the answer cannot be had again`,
      details: { node_run_id: id, replica_id: lost },
    };
    await this.#end(id, { state: "failed", error }, { stopTarget: true, patient: true });
  }

  // -------------------------------------------------------------------------------------------------
  // Dispatch

  /**
   * Sends a queued node run to its executor, in the background: `nodeRun` by id (it is read), or as
   * just created (version 1); `run`: its run, when at hand.
   */
  #dispatch(nodeRun: string | StoredNodeRun, trace: Trace, run?: RunRecord): void {
    const id = typeof nodeRun === "string" ? nodeRun : nodeRun.node_run.node_run_id;
    this.#dispatching.add(id);
    const work = this.#execute(nodeRun, { traceparent: trace.traceparent }, run).catch(
      async (err: unknown) => {
        this.#logger?.error("run-coordinator: dispatch failed", {
          node_run_id: id,
          error: describe(err).message,
        });
        const error = { code: "internal_error", message: "the coordinator could not dispatch this node run" };
        await this.#end(id, { state: "failed", error }, { stopTarget: true, trace, patient: true });
      },
    );
    this.#spawn(
      "dispatch",
      work.finally(() => this.#dispatching.delete(id)),
    );
  }

  async #execute(nodeRun: string | StoredNodeRun, trace: Trace, known?: RunRecord): Promise<void> {
    // A node run just created is as it was written (if not, its first change meets a conflict and reads).
    const record =
      typeof nodeRun === "string" ? await this.#outlasting(() => this.store.getNodeRun(nodeRun)) : nodeRun;
    if (record === undefined || record.node_run.state !== "queued") return;
    this.#armNode(record);
    // What is read of the run (its context) never changes: the one at hand will do.
    const run = known ?? (await this.#outlasting(() => this.store.getRun(record.node_run.run_id)));
    if (run === undefined) return;
    if (record.node_run.kind === "atomic") await this.#executeAtomic(record, run, trace);
    else await this.#beginComposite(record, run, trace);
  }

  async #executeAtomic(record: StoredNodeRun, run: RunRecord, trace: Trace): Promise<void> {
    const nodeRun = record.node_run;
    const id = nodeRun.node_run_id;
    let decision: T.PolicyDecision;
    try {
      decision = await this.#peers.client("pdp").decidePolicy(
        compact({
          action: "node.run.execute",
          run_id: nodeRun.run_id,
          node_run_id: id,
          node_type_ref: nodeRun.node_type_ref,
          run_context: run.run.run_context,
          constraints: record.constraints,
        }),
        { timeoutMs: this.#peerTimeoutMs, ...traced(trace) },
      );
    } catch (err) {
      // No decision, no execution.
      await this.#end(
        id,
        { state: "failed", error: peerError("pdp", err, "policy_unavailable") },
        { stopTarget: false, runId: nodeRun.run_id, patient: true },
      );
      return;
    }
    const decided = (time: string) => [policyDecided(time, id, "node.run.execute", decision)];
    if (decision.decision !== "allow") {
      const error = policyError("node.run.execute", decision);
      await this.#end(
        id,
        { state: "failed", error },
        { stopTarget: false, before: decided, runId: nodeRun.run_id, patient: true },
      );
      return;
    }

    const call = this.#startCall(id);
    try {
      const binding = this.#binding("atomic-executor");
      // Assigned and running in one change: nothing happens between the two for an atomic node run.
      const running = await this.#update(
        id,
        (r) => {
          if (r.node_run.state !== "queued" || (r.owner !== undefined && r.owner !== this.#replicaId))
            return undefined;
          const time = this.#now().toISOString();
          const assigned: T.NodeRun = { ...r.node_run, executor_binding: binding, state: "assigned" };
          const node_run: T.NodeRun = { ...assigned, started_at: time, state: "running" };
          return {
            record: { ...unversioned(r), node_run, owner: this.#replicaId },
            events: [
              ...decided(time),
              nodeRunAssigned(time, assigned, "atomic-executor"),
              nodeRunAssigned(time, node_run),
            ],
          };
        },
        record,
        true,
      );
      if (!running) return;
      let result: T.AtomicExecuteResult;
      try {
        result = await this.#peers.client("atomic-executor").executeAtomicNodeRun(
          compact({
            node_run_id: id,
            run_id: nodeRun.run_id,
            node_type_ref: nodeRun.node_type_ref,
            inputs: nodeRun.inputs ?? {},
            run_context: run.run.run_context,
            constraints: record.constraints,
          }),
          // No timeout of the call's own: the node run's deadline aborts it.
          { signal: call.signal, ...traced(trace) },
        );
      } catch (err) {
        if (call.signal.aborted) return; // ended by someone else, who has recorded why
        const error = peerError("atomic-executor", err, "executor_error");
        await this.#end(
          id,
          { state: "failed", error },
          { stopTarget: false, runId: nodeRun.run_id, patient: true },
        );
        return;
      }
      if (result.node_run_id !== id || !isTerminalNodeRun(result.state)) {
        const error = {
          code: "executor_protocol_error",
          message: `the atomic executor answered ${result.node_run_id} in state ${result.state}; expected ${id} in a terminal state`,
        };
        await this.#end(
          id,
          { state: "failed", error },
          { stopTarget: false, runId: nodeRun.run_id, patient: true },
        );
        return;
      }
      const { state, outputs, output_artifacts, error } = result;
      await this.#end(id, compact({ state, outputs, output_artifacts, error }), {
        stopTarget: false,
        runId: nodeRun.run_id,
        patient: true,
      });
    } finally {
      this.#endCall(id, call);
    }
  }

  async #beginComposite(record: StoredNodeRun, run: RunRecord, trace: Trace): Promise<void> {
    const nodeRun = record.node_run;
    const id = nodeRun.node_run_id;
    let coordinatorEndpoint: string;
    try {
      coordinatorEndpoint = peerUrl(this.#peers.options.urls, "run-coordinator");
    } catch (err) {
      const error = { code: "configuration_error", message: describe(err).message };
      await this.#end(
        id,
        { state: "failed", error },
        { stopTarget: false, runId: nodeRun.run_id, patient: true },
      );
      return;
    }
    const call = this.#startCall(id);
    try {
      const binding = this.#binding("composite-executor");
      const assigned = await this.#move(
        id,
        "queued",
        "assigned",
        (n) => ({ ...n, executor_binding: binding }),
        (time, n) => [nodeRunAssigned(time, n, "composite-executor")],
        this.#replicaId,
      );
      if (!assigned) return;
      let answer: T.CompositeBeginResponse;
      try {
        answer = await this.#peers.client("composite-executor").beginCompositeNodeRun(
          compact({
            node_run_id: id,
            run_id: nodeRun.run_id,
            node_type_ref: nodeRun.node_type_ref,
            inputs: nodeRun.inputs ?? {},
            run_context: run.run.run_context,
            constraints: record.constraints,
            coordinator_endpoint: coordinatorEndpoint,
          }),
          { signal: call.signal, timeoutMs: this.#peerTimeoutMs, ...traced(trace) },
        );
      } catch (err) {
        if (call.signal.aborted) return;
        const error = peerError("composite-executor", err, "executor_error");
        await this.#end(
          id,
          { state: "failed", error },
          { stopTarget: false, runId: nodeRun.run_id, patient: true },
        );
        return;
      }
      if (!answer.accepted) {
        const error = compact({
          code: "executor_declined",
          message: `the composite executor declined ${id}${answer.message === undefined ? "" : `: ${answer.message}`}`,
        });
        await this.#end(
          id,
          { state: "failed", error },
          { stopTarget: false, runId: nodeRun.run_id, patient: true },
        );
        return;
      }
      // Accepted: running, unless its executor has already called back and completed it. From here
      // its executor calls any replica back: no replica's memory matters to it any more.
      await this.#move(
        id,
        "assigned",
        "running",
        (n, time) => ({ ...n, started_at: time }),
        (time, n) => [nodeRunAssigned(time, n)],
        null,
      );
    } finally {
      this.#endCall(id, call);
    }
  }

  #binding(executor: "atomic-executor" | "composite-executor"): T.ExecutorBinding {
    return { executor_instance_id: executor, endpoint: peerUrl(this.#peers.options.urls, executor) };
  }

  #startCall(id: string): AbortController {
    const call = new AbortController();
    this.#calls.set(id, call);
    return call;
  }

  #endCall(id: string, call: AbortController): void {
    if (this.#calls.get(id) === call) this.#calls.delete(id);
  }

  // -------------------------------------------------------------------------------------------------
  // State changes

  /**
   * Moves node run `id` from `from` to `to` (a guarded transition), with the events it makes.
   * `owner`: the record's new owner (null: none; undefined: as it is). A node run another replica
   * owns is not moved.
   */
  #move(
    id: string,
    from: T.NodeRunState,
    to: T.NodeRunState,
    patch: (nodeRun: T.NodeRun, time: string) => T.NodeRun,
    events: (time: string, nodeRun: T.NodeRun) => EventDraft[],
    owner?: string | null,
  ): Promise<NodeRunRecord | undefined> {
    return this.#update(
      id,
      (record) => {
        if (record.node_run.state !== from || !canMoveNodeRun(from, to)) return undefined;
        if (record.owner !== undefined && record.owner !== this.#replicaId) return undefined;
        const time = this.#now().toISOString();
        const node_run = { ...patch(record.node_run, time), state: to };
        const { owner: _owner, ...rest } = unversioned(record);
        const next: NodeRunRecord =
          owner === null
            ? { ...rest, node_run }
            : {
                ...rest,
                node_run,
                ...((owner ?? record.owner) === undefined ? {} : { owner: owner ?? record.owner! }),
              };
        return { record: next, events: events(time, node_run) };
      },
      undefined,
      true,
    ); // only background work moves node runs so
  }

  /**
   * Reads node run `id`, lets `next` say what it becomes, and commits that against the version read;
   * on a conflict, again from a fresh read. Undefined when `next` declines, or the record or its
   * run's log is gone or closed.
   */
  async #update(
    id: string,
    next: (record: StoredNodeRun) => { record: NodeRunRecord; events?: EventDraft[] } | undefined,
    /** The record as just read, if at hand: the first try starts from it. */
    known?: StoredNodeRun,
    /** Background work: waits out a store outage (see {@link DEFAULT_STORE_OUTAGE_MS}). */
    patient = false,
  ): Promise<NodeRunRecord | undefined> {
    const stored = <R>(call: () => Promise<R>) => (patient ? this.#outlasting(call) : call());
    let sent: NodeRunRecord | undefined; // the last change tried, named by its `change` id
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const current =
        attempt === 0 && known !== undefined ? known : await stored(() => this.store.getNodeRun(id));
      if (current === undefined) return undefined;
      // Tried again after its answer was lost (the store came back): it had been applied.
      if (sent !== undefined && current.change === sent.change) return sent;
      const step = next(current);
      if (step === undefined) return undefined;
      const record: NodeRunRecord = { ...step.record, change: randomUUID() };
      sent = record;
      const result = await stored(() =>
        this.store.commit({
          run_id: current.node_run.run_id,
          update_node_runs: [{ version: current.version, record }],
          ...(step.events === undefined ? {} : { events: step.events }),
        }),
      );
      if (result.ok) return record;
      if (result.reason !== "conflict") return undefined;
      await contended(attempt);
    }
    throw busy(MAX_COMMIT_ATTEMPTS);
  }

  /**
   * Ends node run `id` (see ending.ts: descendants canceled first; the run ends with its root).
   * `before`: events that come first in the same change (the decision that ended it). False when it
   * had already ended.
   */
  async #end(
    id: string,
    ending: Ending,
    how: {
      stopTarget: boolean;
      before?: (time: string) => EventDraft[];
      trace?: Trace;
      runId?: string;
      /** Background work: waits out a store outage (see {@link DEFAULT_STORE_OUTAGE_MS}). */
      patient?: boolean;
    },
  ): Promise<boolean> {
    const stored = <R>(call: () => Promise<R>) => (how.patient ? this.#outlasting(call) : call());
    let runId = how.runId; // at hand, or read from the node run
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (runId === undefined) {
        const target = await stored(() => this.store.getNodeRun(id));
        if (target === undefined) return false;
        runId = target.node_run.run_id;
      }
      const known = runId;
      const tree = await stored(() => this.store.getRunTree(known));
      if (tree === undefined) return false;
      const { run, nodeRuns } = tree;
      const time = this.#now().toISOString();
      const plan = planEnding({ run, nodeRuns, targetId: id, ending, time, stopTarget: how.stopTarget });
      if (plan === undefined) return false;
      if (how.before !== undefined) plan.change.events = [...how.before(time), ...(plan.change.events ?? [])];
      const result = await stored(() => this.store.commit(plan.change));
      if (result.ok) {
        this.#afterEnding(plan, run, how.trace);
        return true;
      }
      if (result.reason !== "conflict") return false;
      await contended(attempt);
    }
    throw busy(MAX_COMMIT_ATTEMPTS);
  }

  /** What follows an ending, once it is recorded: timers off, executors told. */
  #afterEnding(plan: EndPlan, run: StoredRun, trace: Trace | undefined): void {
    for (const id of plan.ended) this.#disarm(`node:${id}`);
    if (plan.change.update_run !== undefined) this.#disarm(`run:${run.run.run_id}`);
    const via = { traceparent: trace?.traceparent ?? run.traceparent };
    for (const stopped of plan.stopped) {
      const id = stopped.node_run.node_run_id;
      this.#calls.get(id)?.abort(new Error(`node run ${id} was ended by the coordinator`));
      const options = { timeoutMs: this.#peerTimeoutMs, ...traced(via) };
      // The executors' cancels are optional: a 501, a 404 or no answer at all changes nothing here.
      const told = (async () => {
        if (stopped.node_run.kind === "atomic")
          await this.#peers.client("atomic-executor").cancelAtomicNodeRun(id, options);
        else await this.#peers.client("composite-executor").cancelCompositeNodeRun(id, options);
      })().catch(() => undefined);
      this.#spawn("cancel", told);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Deadlines

  #newNodeRun(o: {
    runId: string;
    id: string;
    ref: T.NodeTypeRef;
    nodeType: T.NodeType;
    inputs: Record<string, unknown>;
    constraints: T.ConstraintEnvelope | undefined;
    /** The node run's own constraints (node type and spec), whose budget is its deadline. */
    own: T.ConstraintEnvelope | undefined;
    depth: number;
    nowMs: number;
    parentId?: string;
    key?: string | undefined;
    fingerprint?: string;
  }): NodeRunRecord {
    const budget = o.own?.budgets?.max_wall_time_ms;
    const timeout: NodeRunTimeout =
      budget === undefined
        ? o.nodeType.kind === "composite"
          ? { ms: this.#compositeIdleTimeoutMs, source: "default", idle: true }
          : { ms: this.#executorTimeoutMs, source: "default", idle: false }
        : { ms: budget, source: "max_wall_time_ms", idle: false };
    return compact({
      node_run: compact({
        node_run_id: o.id,
        run_id: o.runId,
        node_type_ref: o.ref,
        kind: o.nodeType.kind,
        parent_node_run_id: o.parentId,
        state: "queued" as const,
        created_at: new Date(o.nowMs).toISOString(),
        inputs: o.inputs,
      }),
      depth: o.depth,
      constraints: o.constraints,
      children: 0,
      rounds: 0,
      evaluations: 0,
      idempotency_key: o.key,
      fingerprint: o.key === undefined ? undefined : o.fingerprint,
      deadline_ms: o.nowMs + timeout.ms,
      timeout,
      // This replica dispatches it (another takes it over should this one die first).
      owner: this.#replicaId,
    });
  }

  /** An idle deadline pushed back by a call of the node run's executor. */
  #renewed(record: NodeRunRecord, nowMs: number): { deadline_ms?: number } {
    if (!record.timeout.idle || isTerminalNodeRun(record.node_run.state)) return {};
    return { deadline_ms: Math.max(record.deadline_ms ?? 0, nowMs + record.timeout.ms) };
  }

  #armNode(record: NodeRunRecord): void {
    const id = record.node_run.node_run_id;
    if (record.deadline_ms === undefined || isTerminalNodeRun(record.node_run.state)) return;
    this.#arm(`node:${id}`, record.deadline_ms, () => this.#checkNode(id));
  }

  #arm(key: string, atMs: number, check: () => Promise<void>): void {
    clearTimeout(this.#timers.get(key));
    if (this.#stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, atMs - this.#now().getTime()));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#spawn("deadline", check());
    }, delay);
    timer.unref();
    this.#timers.set(key, timer);
  }

  #disarm(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  /** A node run's deadline came: fail it, or, for an idle deadline that moved on, wait again. */
  async #checkNode(id: string): Promise<void> {
    const record = await this.store.getNodeRun(id);
    if (record === undefined || record.deadline_ms === undefined || isTerminalNodeRun(record.node_run.state))
      return;
    const nowMs = this.#now().getTime();
    let due = record.deadline_ms;
    if (record.timeout.idle) {
      // Never idle while a child is going; otherwise idle since its last child ended, at the latest.
      const children = (await this.store.listNodeRuns(record.node_run.run_id)).filter(
        (n) => n.node_run.parent_node_run_id === id,
      );
      for (const child of children) {
        const ended = child.node_run.ended_at;
        if (!isTerminalNodeRun(child.node_run.state)) due = Math.max(due, nowMs + record.timeout.ms);
        else if (ended !== undefined) due = Math.max(due, Date.parse(ended) + record.timeout.ms);
      }
    }
    if (due > nowMs) {
      if (due !== record.deadline_ms) {
        await this.#update(
          id,
          (r) =>
            isTerminalNodeRun(r.node_run.state)
              ? undefined
              : { record: { ...unversioned(r), deadline_ms: Math.max(r.deadline_ms ?? 0, due) } },
          undefined,
          true,
        );
      }
      this.#arm(`node:${id}`, due, () => this.#checkNode(id));
      return;
    }
    const { ms, source } = record.timeout;
    const error: T.ErrorDetail = {
      code: "executor_timeout",
      message:
        source === "default"
          ? `no answer from the ${record.node_run.kind} executor within ${ms} ms (the coordinator's executor timeout)`
          : `no answer from the ${record.node_run.kind} executor within the node run's max_wall_time_ms ${ms}`,
      details: { timeout_ms: ms, source, node_run_id: id },
    };
    await this.#end(id, { state: "failed", error }, { stopTarget: true, patient: true });
  }

  /** A run's wall-time budget ran out: its root fails, and with it the run. */
  async #checkRun(runId: string): Promise<void> {
    const run = await this.store.getRun(runId);
    if (run === undefined || run.deadline_ms === undefined || isTerminalRun(run.run.state)) return;
    if (run.deadline_ms > this.#now().getTime()) {
      this.#arm(`run:${runId}`, run.deadline_ms, () => this.#checkRun(runId));
      return;
    }
    const budget = run.constraints?.budgets?.max_wall_time_ms;
    const error: T.ErrorDetail = {
      code: "wall_time_exceeded",
      message: `run ${runId} exceeded its max_wall_time_ms ${budget}`,
      details: compact({ max_wall_time_ms: budget, run_id: runId }),
    };
    await this.#end(
      run.run.root_node_run_id,
      { state: "failed", error },
      { stopTarget: true, runId, patient: true },
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Helpers

  async #run(runId: string): Promise<StoredRun> {
    const run = await this.store.getRun(runId);
    if (run === undefined) throw notFound(`no run ${runId}`, { details: { run_id: runId } });
    return run;
  }

  async #nodeRun(nodeRunId: string): Promise<StoredNodeRun> {
    const nodeRun = await this.store.getNodeRun(nodeRunId);
    if (nodeRun === undefined)
      throw notFound(`no node run ${nodeRunId}`, { details: { node_run_id: nodeRunId } });
    return nodeRun;
  }

  async #nodeType(ref: T.NodeTypeRef, trace: Trace, pointer: string): Promise<T.NodeType> {
    try {
      return await this.#peers.client("node-registry").getNodeType(ref.node_type_id, {
        version: ref.version,
        timeoutMs: this.#peerTimeoutMs,
        ...traced(trace),
      });
    } catch (err) {
      if (err instanceof ArpApiError && err.status === 404) {
        throw new ArpServerError({
          status: 400,
          code: "unknown_node_type",
          message: `the Node Registry has no node type ${ref.node_type_id}@${ref.version}`,
          details: { node_type_ref: ref, pointer },
        });
      }
      throw peerUnavailable("node-registry", err);
    }
  }

  async #decide(trace: Trace, request: T.PolicyDecisionRequest): Promise<T.PolicyDecision> {
    try {
      return await this.#peers.client("pdp").decidePolicy(compact({ ...request }), {
        timeoutMs: this.#peerTimeoutMs,
        ...traced(trace),
      });
    } catch (err) {
      throw peerUnavailable("pdp", err); // no decision, no run
    }
  }

  /** The structural limits a batch of `count` new children under `parent` must keep. */
  #checkStructure(parent: StoredNodeRun, run: StoredRun, count: number): void {
    const c = parent.constraints;
    const depth = structuralLimit("max_depth", c, this.#limits);
    if (parent.depth + 1 > depth.value)
      throw limitViolation(depth, parent.depth + 1, `children at depth ${parent.depth + 1}`);
    const children = structuralLimit("max_children_per_composite", c, this.#limits);
    if (parent.children + count > children.value) {
      throw limitViolation(
        children,
        parent.children + count,
        `${count} more children under ${parent.node_run.node_run_id}`,
      );
    }
    const rounds = structuralLimit("max_decomposition_rounds_per_node", c, this.#limits);
    if (parent.rounds + 1 > rounds.value) {
      throw limitViolation(
        rounds,
        parent.rounds + 1,
        `decomposition round ${parent.rounds + 1} of ${parent.node_run.node_run_id}`,
      );
    }
    const total = structuralLimit("max_total_nodes_per_run", c, this.#limits);
    if (run.node_count + count > total.value) {
      throw limitViolation(total, run.node_count + count, `${count} more node runs in run ${run.run.run_id}`);
    }
  }

  /**
   * A run's events from seq 0, live, page by page: `judge` says of each whether to skip it, yield
   * it, yield it and end ("last"), or end before it ("stop"). Ends too when the client goes away
   * (`signal`) or the run is forgotten by the store.
   */
  async *#follow(
    runId: string,
    signal: AbortSignal,
    judge: (event: T.RunEvent) => "skip" | "yield" | "last" | "stop",
  ): AsyncIterable<T.RunEvent> {
    let next = 0;
    try {
      for (;;) {
        // A stream that has begun waits a store outage out (up to storeOutageMs) rather than break.
        const from = next;
        const page = await this.#outlasting(() => this.store.readEvents(runId, from, STREAM_PAGE_SIZE));
        for (const event of page) {
          next = event.seq + 1;
          const verdict = judge(event);
          if (verdict === "stop") return;
          if (verdict !== "skip") yield event;
          if (verdict === "last") return;
        }
        if (page.length < STREAM_PAGE_SIZE) {
          if (page.length === 0 && (await this.#outlasting(() => this.store.getRun(runId))) === undefined)
            return;
          const after = next - 1;
          await this.#outlasting(() => this.store.waitForEvents(runId, after, signal));
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err; // the client left: that ends the stream, nothing failed
    }
  }

  /**
   * `call`, again after a pause while the store cannot be reached (503 `store_unavailable`), for up
   * to `storeOutageMs` in all (backoff 100 ms doubling to 2 s); then, or for any other error, it
   * throws. Stops waiting when the coordinator stops.
   */
  async #outlasting<R>(call: () => Promise<R>): Promise<R> {
    let waited = 0;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await call();
      } catch (error) {
        const unavailable = error instanceof ArpServerError && error.code === "store_unavailable";
        if (!unavailable || this.#stopped || waited >= this.#storeOutageMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        waited += delay;
      }
    }
  }

  /** Keeps track of background work; its failures go to the logger, never unhandled. */
  #spawn(what: string, work: Promise<unknown>): void {
    const tracked = work.catch((err: unknown) => {
      this.#logger?.error(`run-coordinator: ${what} failed`, { error: describe(err).message });
    });
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }
}
