/**
 * The Run Coordinator's store: runs, node runs, each run's event log and the idempotency keys of
 * created node runs. The coordinator keeps no state of its own besides timers and notifications, so
 * several coordinator replicas can share one store (a PostgreSQL store, later) if it keeps these
 * promises:
 *
 * - **Optimistic concurrency.** Every stored record has a `version`: 1 when it is created, bumped by
 *   each write. A
 *   {@link Change} that updates a record names the version it read; if the record has moved on, the
 *   whole change is refused (`conflict`) and the caller reads again. Two replicas that both try to
 *   move the same node run (or the same run) cannot both succeed. (PostgreSQL: `UPDATE ... WHERE
 *   id = $1 AND version = $2`, in one transaction per change.)
 * - **All or nothing.** A change (a run created, records updated, node runs inserted, events
 *   appended) is applied whole or not at all.
 * - **The store numbers events.** Appended events get `seq` 0, 1, 2, ... per run, with no gap and no
 *   repeat, in the order of the changes that were applied. A `run_completed` event closes the log:
 *   a later change that appends events is refused (`closed`).
 * - **Terminal is final.** An update that would change the state of a run or node run that has
 *   ended (`succeeded`, `failed`, `canceled`) is refused (`ended`), whatever version it names: the
 *   store itself keeps a canceled run canceled, whichever replica sees a late completion.
 * - **Replicas.** Each coordinator replica {@link Store.heartbeat}s; a node run's `owner` is the
 *   replica dispatching it. {@link Store.listOrphans} finds live node runs whose owner stopped
 *   beating, for another replica to take over.
 * - **Notifications.** {@link Store.waitForEvents} resolves when a run's log has grown past a `seq`
 *   (PostgreSQL: `LISTEN`/`NOTIFY`, sent on commit). It is the only part of a store that may be
 *   in-process.
 * - **Copies.** Records and events handed out are the caller's: changing them changes nothing
 *   stored.
 *
 * Every field of a record is JSON (no `Date`, no `undefined` values on purpose), so a store may keep
 * it as JSON.
 */
import type * as T from "@arp/model";

/** A run as the coordinator keeps it: the wire `Run` and what the coordinator needs besides. */
export interface RunRecord {
  /** What `GET /v1/runs/{run_id}` answers. */
  run: T.Run;
  /** The run's own constraints, as `startRun` received them. */
  constraints?: T.ConstraintEnvelope;
  /** How many node runs the run has (the root included); also numbers new node run ids. */
  node_count: number;
  /** When the run's `budgets.max_wall_time_ms` runs out (epoch ms), while it is running. */
  deadline_ms?: number;
  /** The `traceparent` of the `startRun` request, passed on by calls no request is being served for. */
  traceparent?: string;
}

/** How a node run's deadline is kept (see the README: "Deadlines"). */
export interface NodeRunTimeout {
  /** The time the node run's executor has, ms. */
  ms: number;
  /** `max_wall_time_ms`: the node run's own budget; `default`: the coordinator's executor timeout. */
  source: "max_wall_time_ms" | "default";
  /**
   * Idle deadline (a composite node run without a budget of its own): pushed back by its executor's
   * calls and by its children, and never reached while a child of it is still going.
   */
  idle: boolean;
}

/** A node run as the coordinator keeps it: the wire `NodeRun` and what the coordinator needs besides. */
export interface NodeRunRecord {
  /** What `GET /v1/node-runs/{node_run_id}` answers. */
  node_run: T.NodeRun;
  /** 0 for the root, its parent's depth + 1 for a child. */
  depth: number;
  /** The constraints in effect for the node run: the run's, its ancestors', its node type's, its own. */
  constraints?: T.ConstraintEnvelope;
  /** Why the node run failed (the wire `NodeRun` has no error field; it is in its end event). */
  error?: T.ErrorDetail;
  /** Children created under it so far. */
  children: number;
  /** Decomposition rounds (batches of children) so far. */
  rounds: number;
  /** Evaluation reports recorded so far. */
  evaluations: number;
  /** The `idempotency_key` it was created with: unique per (run, parent node run). */
  idempotency_key?: string;
  /** A digest of the create spec, to tell a retry (same spec) from a conflict (another spec). */
  fingerprint?: string;
  /** When the node run times out (epoch ms), while it is not terminal. */
  deadline_ms?: number;
  /** How {@link deadline_ms} is kept. */
  timeout: NodeRunTimeout;
  /**
   * The coordinator replica that dispatches it and waits for its executor's answer (see the
   * README: "Running on PostgreSQL"). Absent once no replica's memory matters to it.
   */
  owner?: string;
  /**
   * The id of the coordinator's change that last wrote it: after a change whose answer was lost (a
   * connection cut at the commit), reading it back tells whether that change was applied.
   */
  change?: string;
}

/** A record as read from the store: with the version a {@link Change} must name to update it. */
export type Stored<R> = R & { readonly version: number };
export type StoredRun = Stored<RunRecord>;
export type StoredNodeRun = Stored<NodeRunRecord>;

/** An event to append: the store adds `run_id` (the change's) and `seq`. */
export type EventDraft = Omit<T.RunEvent, "run_id" | "seq">;

/**
 * One atomic change to one run. Updates replace a whole record, provided its stored version is
 * still the one given.
 */
export interface Change {
  run_id: string;
  /** A new run (its `run.run_id` is `run_id`); refused with `exists` when the id is taken. */
  create_run?: RunRecord;
  /** The run's new record, if the stored run is still at `version`. */
  update_run?: { version: number; record: RunRecord };
  /**
   * New node runs of this run; refused with `exists` when a `node_run_id` is taken, or when an
   * `idempotency_key` is already used under the same parent in this run.
   */
  insert_node_runs?: NodeRunRecord[];
  /** Node runs' new records, each if its stored version is still the one given. */
  update_node_runs?: { version: number; record: NodeRunRecord }[];
  /** Events to append, in order; `run_completed`, if present, must be the last. */
  events?: EventDraft[];
}

export type CommitResult =
  | { ok: true; events: T.RunEvent[] }
  | {
      ok: false;
      /**
       * `not_found`: no such run (or a node run to update is not there); `conflict`: a record has
       * moved past the version given; `exists`: an id or idempotency key is taken; `closed`: the
       * run's log already ends with `run_completed`; `ended`: an update would change the state of a
       * run or node run that has ended.
       */
      reason: "not_found" | "conflict" | "exists" | "closed" | "ended";
    };

/** What is past its deadline: running runs and non-terminal node runs, by id. */
export interface Overdue {
  runs: string[];
  node_runs: string[];
}

export interface Store {
  getRun(runId: string): Promise<StoredRun | undefined>;
  getNodeRun(nodeRunId: string): Promise<StoredNodeRun | undefined>;
  /** Every node run of a run, in creation order (bounded by the run's node limit). */
  listNodeRuns(runId: string): Promise<StoredNodeRun[]>;
  /** The run and its node runs (in creation order) as of one moment: what ending a node run plans from. */
  getRunTree(runId: string): Promise<{ run: StoredRun; nodeRuns: StoredNodeRun[] } | undefined>;
  /**
   * What creating children under `parentNodeRunId` reads, as of one moment: the run, the parent,
   * and the node runs created earlier under that parent with any of `keys` (by key).
   */
  getCreateContext(
    runId: string,
    parentNodeRunId: string,
    keys: readonly string[],
  ): Promise<{ run?: StoredRun; parent?: StoredNodeRun; byKey: Map<string, StoredNodeRun> }>;
  /** The node run created with `key` under `parentNodeRunId` in `runId`, if any. */
  findNodeRunByKey(runId: string, parentNodeRunId: string, key: string): Promise<StoredNodeRun | undefined>;

  /**
   * Applies `change` whole, or refuses it whole. Throws (a programming error, not a refusal) when a
   * `run_completed` event is not the change's last event.
   */
  commit(change: Change): Promise<CommitResult>;

  /**
   * Up to `limit` events of a run from `fromSeq` on, in `seq` order; `[]` for an unknown run. What
   * another replica appended may show only once its notification is in (a replica's streams wait for
   * it anyway); nothing is ever skipped or out of order.
   */
  readEvents(runId: string, fromSeq: number, limit: number): Promise<T.RunEvent[]>;
  /**
   * Resolves once the run's log has an event past `afterSeq` (at once if it has one already), or when
   * the run is not (or no longer) there; rejects with `signal`'s reason when it aborts, releasing the
   * wait.
   */
  waitForEvents(runId: string, afterSeq: number, signal: AbortSignal): Promise<void>;

  /** Up to `limit` running runs and non-terminal node runs whose deadline is at or before `nowMs`. */
  listOverdue(nowMs: number, limit: number): Promise<Overdue>;

  /** Replica `replicaId` is alive until `aliveUntilMs` (epoch ms); each call moves that on. */
  heartbeat(replicaId: string, aliveUntilMs: number): Promise<void>;
  /**
   * Up to `limit` ids of non-terminal node runs whose `owner` is not alive at `nowMs` (its last
   * heartbeat ran out, or it never beat), and, with `queuedBeforeMs`, of node runs still queued that
   * were created before it, whoever owns them: a dispatch that never happened (the answer of the
   * change that created it was lost, and with it the dispatch).
   */
  listOrphans(nowMs: number, limit: number, queuedBeforeMs?: number): Promise<string[]>;

  /** Releases what the store holds (connections, waits); the store is not used afterwards. */
  close(): Promise<void>;
}
