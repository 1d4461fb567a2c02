/**
 * The in-memory {@link Store}: one process, nothing kept across restarts. Each `commit` runs without
 * an `await` between its checks and its writes, which is what makes it atomic here; records are
 * copied in and out, events frozen, so nothing outside can change what is stored.
 *
 * Memory is bounded by `maxFinishedRuns`: once more runs than that have ended, the oldest ended
 * ones are forgotten whole (run, node runs, log, keys). Runs that are still going are never
 * forgotten; their size is bounded by the coordinator's limits (node runs per run, evaluations per
 * node run).
 */
import type * as T from "@arp/model";
import { checkChange } from "./checks.js";
import type {
  Change,
  CommitResult,
  EventDraft,
  NodeRunRecord,
  Overdue,
  RunRecord,
  Store,
  StoredNodeRun,
  StoredRun,
} from "./interface.js";

export interface MemoryStoreOptions {
  /** How many ended runs are kept before the oldest are forgotten. Default 1000. */
  maxFinishedRuns?: number;
}

export const DEFAULT_MAX_FINISHED_RUNS = 1000;

const TERMINAL_NODE_RUN_STATES: ReadonlySet<string> = new Set(["succeeded", "failed", "canceled"]);
const TERMINAL_RUN_STATES = TERMINAL_NODE_RUN_STATES;

interface RunEntry {
  record: StoredRun;
  nodeRunIds: string[];
  events: T.RunEvent[];
  closed: boolean;
  waiters: Set<Waiter>;
}

interface Waiter {
  afterSeq: number;
  resolve: () => void;
}

function copy<V>(value: V): V {
  return structuredClone(value);
}

function deepFreeze<V>(value: V): V {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function keyOf(runId: string, parentNodeRunId: string, key: string): string {
  return JSON.stringify([runId, parentNodeRunId, key]);
}

export class MemoryStore implements Store {
  readonly #maxFinishedRuns: number;
  readonly #runs = new Map<string, RunEntry>();
  readonly #nodeRuns = new Map<string, StoredNodeRun>();
  /** (run, parent, idempotency_key) → node_run_id. */
  readonly #keys = new Map<string, string>();
  /** Ended runs, oldest first: the eviction order. */
  readonly #finished: string[] = [];
  /** What may become overdue: running runs and non-terminal node runs that have a deadline. */
  readonly #timed = { runs: new Set<string>(), nodeRuns: new Set<string>() };
  /** Non-terminal node runs that have an owner. */
  readonly #owned = new Set<string>();
  /** Node runs still queued. */
  readonly #queued = new Set<string>();
  /** Replica → alive until (epoch ms). */
  readonly #replicas = new Map<string, number>();

  constructor(options: MemoryStoreOptions = {}) {
    const max = options.maxFinishedRuns ?? DEFAULT_MAX_FINISHED_RUNS;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxFinishedRuns must be a whole number >= 0 (got ${max})`);
    }
    this.#maxFinishedRuns = max;
  }

  /** How many runs are kept (for tests and metrics). */
  get size(): number {
    return this.#runs.size;
  }

  /** How many stream waits are pending (for tests: aborted waits must be released). */
  get waiting(): number {
    let n = 0;
    for (const entry of this.#runs.values()) n += entry.waiters.size;
    return n;
  }

  async getRun(runId: string): Promise<StoredRun | undefined> {
    const entry = this.#runs.get(runId);
    return entry === undefined ? undefined : copy(entry.record);
  }

  async getNodeRun(nodeRunId: string): Promise<StoredNodeRun | undefined> {
    const record = this.#nodeRuns.get(nodeRunId);
    return record === undefined ? undefined : copy(record);
  }

  async listNodeRuns(runId: string): Promise<StoredNodeRun[]> {
    const entry = this.#runs.get(runId);
    if (entry === undefined) return [];
    return entry.nodeRunIds.map((id) => copy(this.#nodeRuns.get(id)!));
  }

  async getRunTree(runId: string): Promise<{ run: StoredRun; nodeRuns: StoredNodeRun[] } | undefined> {
    const entry = this.#runs.get(runId);
    if (entry === undefined) return undefined;
    return { run: copy(entry.record), nodeRuns: entry.nodeRunIds.map((id) => copy(this.#nodeRuns.get(id)!)) };
  }

  async getCreateContext(
    runId: string,
    parentNodeRunId: string,
    keys: readonly string[],
  ): Promise<{ run?: StoredRun; parent?: StoredNodeRun; byKey: Map<string, StoredNodeRun> }> {
    const run = this.#runs.get(runId);
    const parent = this.#nodeRuns.get(parentNodeRunId);
    const byKey = new Map<string, StoredNodeRun>();
    for (const key of keys) {
      const id = this.#keys.get(keyOf(runId, parentNodeRunId, key));
      if (id !== undefined) byKey.set(key, copy(this.#nodeRuns.get(id)!));
    }
    return {
      ...(run === undefined ? {} : { run: copy(run.record) }),
      ...(parent === undefined ? {} : { parent: copy(parent) }),
      byKey,
    };
  }

  async findNodeRunByKey(
    runId: string,
    parentNodeRunId: string,
    key: string,
  ): Promise<StoredNodeRun | undefined> {
    const id = this.#keys.get(keyOf(runId, parentNodeRunId, key));
    return id === undefined ? undefined : this.getNodeRun(id);
  }

  async commit(change: Change): Promise<CommitResult> {
    checkChange(change);
    const events = change.events ?? [];
    const completes = events.findIndex((e) => e.type === "run_completed");
    const runId = change.run_id;

    // Every check first, nothing written until all pass.
    let entry = this.#runs.get(runId);
    if (change.create_run !== undefined) {
      if (entry !== undefined) return { ok: false, reason: "exists" };
    } else if (entry === undefined) {
      return { ok: false, reason: "not_found" };
    }
    if (entry?.closed && events.length > 0) return { ok: false, reason: "closed" };
    if (change.update_run !== undefined) {
      if (entry === undefined) return { ok: false, reason: "not_found" };
      const stored = entry.record.run.state;
      if (TERMINAL_RUN_STATES.has(stored) && change.update_run.record.run.state !== stored)
        return { ok: false, reason: "ended" };
      if (entry.record.version !== change.update_run.version) return { ok: false, reason: "conflict" };
    }
    const inserts = change.insert_node_runs ?? [];
    const newIds = new Set<string>();
    const newKeys = new Set<string>();
    for (const record of inserts) {
      const id = record.node_run.node_run_id;
      if (this.#nodeRuns.has(id) || newIds.has(id)) return { ok: false, reason: "exists" };
      newIds.add(id);
      if (record.idempotency_key !== undefined) {
        const key = keyOf(runId, record.node_run.parent_node_run_id ?? "", record.idempotency_key);
        if (this.#keys.has(key) || newKeys.has(key)) return { ok: false, reason: "exists" };
        newKeys.add(key);
      }
    }
    for (const { version, record } of change.update_node_runs ?? []) {
      const stored = this.#nodeRuns.get(record.node_run.node_run_id);
      if (stored === undefined || stored.node_run.run_id !== runId) return { ok: false, reason: "not_found" };
      const state = stored.node_run.state;
      if (TERMINAL_NODE_RUN_STATES.has(state) && record.node_run.state !== state)
        return { ok: false, reason: "ended" };
      if (stored.version !== version) return { ok: false, reason: "conflict" };
    }

    // Apply.
    if (change.create_run !== undefined) {
      entry = {
        record: { ...copy(change.create_run), version: 1 },
        nodeRunIds: [],
        events: [],
        closed: false,
        waiters: new Set(),
      };
      this.#runs.set(runId, entry);
    }
    const run = entry!;
    if (change.update_run !== undefined) {
      run.record = { ...copy(change.update_run.record), version: run.record.version + 1 };
    }
    for (const record of inserts) {
      const id = record.node_run.node_run_id;
      this.#nodeRuns.set(id, { ...copy(record), version: 1 });
      run.nodeRunIds.push(id);
      if (record.idempotency_key !== undefined) {
        this.#keys.set(keyOf(runId, record.node_run.parent_node_run_id ?? "", record.idempotency_key), id);
      }
    }
    for (const { record } of change.update_node_runs ?? []) {
      const id = record.node_run.node_run_id;
      const stored = this.#nodeRuns.get(id)!;
      this.#nodeRuns.set(id, { ...copy(record), version: stored.version + 1 });
    }
    for (const id of [...inserts, ...(change.update_node_runs ?? []).map((u) => u.record)].map(
      (r) => r.node_run.node_run_id,
    )) {
      this.#track("nodeRuns", id, this.#nodeRuns.get(id)!);
    }
    this.#track("runs", runId, run.record);

    const appended = events.map((draft) => this.#append(run, runId, draft));
    if (appended.length > 0) {
      const last = appended[appended.length - 1]!.seq;
      for (const waiter of run.waiters) if (last > waiter.afterSeq) waiter.resolve();
    }
    if (run.closed && completes !== -1) this.#finish(runId);
    return { ok: true, events: appended };
  }

  async readEvents(runId: string, fromSeq: number, limit: number): Promise<T.RunEvent[]> {
    const events = this.#runs.get(runId)?.events ?? [];
    // Frozen, so handing out the stored objects is safe.
    return events.slice(Math.max(0, fromSeq), Math.max(0, fromSeq) + Math.max(0, limit));
  }

  waitForEvents(runId: string, afterSeq: number, signal: AbortSignal): Promise<void> {
    const entry = this.#runs.get(runId);
    if (signal.aborted) return Promise.reject(signal.reason);
    if (entry === undefined || entry.events.length - 1 > afterSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        afterSeq,
        resolve: () => {
          entry.waiters.delete(waiter);
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        entry.waiters.delete(waiter);
        reject(signal.reason);
      };
      entry.waiters.add(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async listOverdue(nowMs: number, limit: number): Promise<Overdue> {
    const overdue: Overdue = { runs: [], node_runs: [] };
    for (const id of this.#timed.runs) {
      if (overdue.runs.length >= limit) break;
      const deadline = this.#runs.get(id)?.record.deadline_ms;
      if (deadline !== undefined && deadline <= nowMs) overdue.runs.push(id);
    }
    for (const id of this.#timed.nodeRuns) {
      if (overdue.node_runs.length >= limit) break;
      const deadline = this.#nodeRuns.get(id)?.deadline_ms;
      if (deadline !== undefined && deadline <= nowMs) overdue.node_runs.push(id);
    }
    return overdue;
  }

  async heartbeat(replicaId: string, aliveUntilMs: number): Promise<void> {
    this.#replicas.set(replicaId, aliveUntilMs);
  }

  async listOrphans(nowMs: number, limit: number, queuedBeforeMs?: number): Promise<string[]> {
    const orphans: string[] = [];
    for (const id of this.#owned) {
      if (orphans.length >= limit) break;
      const owner = this.#nodeRuns.get(id)?.owner;
      if (owner !== undefined && (this.#replicas.get(owner) ?? -Infinity) < nowMs) orphans.push(id);
    }
    if (queuedBeforeMs === undefined) return orphans;
    for (const id of this.#queued) {
      if (orphans.length >= limit) break;
      const created = Date.parse(this.#nodeRuns.get(id)?.node_run.created_at ?? "");
      if (created < queuedBeforeMs && !orphans.includes(id)) orphans.push(id);
    }
    return orphans;
  }

  async close(): Promise<void> {
    for (const entry of this.#runs.values()) for (const waiter of [...entry.waiters]) waiter.resolve();
  }

  #append(run: RunEntry, runId: string, draft: EventDraft): T.RunEvent {
    const event = deepFreeze({ ...copy(draft), run_id: runId, seq: run.events.length } as T.RunEvent);
    run.events.push(event);
    if (event.type === "run_completed") run.closed = true;
    return event;
  }

  /** Keeps the deadline index in step with a record just written. */
  #track(kind: "runs", id: string, record: RunRecord): void;
  #track(kind: "nodeRuns", id: string, record: NodeRunRecord): void;
  #track(kind: "runs" | "nodeRuns", id: string, record: RunRecord | NodeRunRecord): void {
    const live =
      "node_run" in record
        ? !TERMINAL_NODE_RUN_STATES.has(record.node_run.state)
        : record.run.state === "running" || record.run.state === "queued";
    if (live && record.deadline_ms !== undefined) this.#timed[kind].add(id);
    else this.#timed[kind].delete(id);
    if (kind === "nodeRuns") {
      if (live && (record as NodeRunRecord).owner !== undefined) this.#owned.add(id);
      else this.#owned.delete(id);
      if ((record as NodeRunRecord).node_run.state === "queued") this.#queued.add(id);
      else this.#queued.delete(id);
    }
  }

  /** A run's log is closed: remember it as ended, and forget the oldest ended runs past the bound. */
  #finish(runId: string): void {
    this.#finished.push(runId);
    while (this.#finished.length > this.#maxFinishedRuns) this.#forget(this.#finished.shift()!);
  }

  #forget(runId: string): void {
    const entry = this.#runs.get(runId);
    if (entry === undefined) return;
    for (const id of entry.nodeRunIds) {
      const record = this.#nodeRuns.get(id);
      if (record?.idempotency_key !== undefined) {
        this.#keys.delete(keyOf(runId, record.node_run.parent_node_run_id ?? "", record.idempotency_key));
      }
      this.#nodeRuns.delete(id);
      this.#timed.nodeRuns.delete(id);
      this.#owned.delete(id);
      this.#queued.delete(id);
    }
    this.#timed.runs.delete(runId);
    this.#runs.delete(runId);
    // Anyone still waiting on this log learns it is gone (see waitForEvents).
    for (const waiter of [...entry.waiters]) waiter.resolve();
  }
}
