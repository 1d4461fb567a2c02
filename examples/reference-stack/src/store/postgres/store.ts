/**
 * The PostgreSQL {@link Store}: state and event logs in one database, shared by every coordinator
 * replica that opens it. How it keeps the interface's promises:
 *
 * - a change is one call of the `arp_commit` SQL function (migrations/0001_init.sql): one statement,
 *   one round trip, all or nothing; it locks the run's row first, so one run's changes are applied
 *   one at a time and their events get gap-free seqs, whichever replica sends them;
 * - versions, terminal states and idempotency keys are checked in that function and by the
 *   table's constraints, not in this process;
 * - `waitForEvents`: `LISTEN arp_run_events` on one connection per store wakes the waits at once
 *   (the function notifies on commit, with the events it appended when they fit); the table is the truth: a wait registers before it reads the
 *   log's end, a reconnected listener wakes every wait, and a slow poll of the waited runs backs it up.
 *   The last seq each run's notifications told (of the {@link NOTIFIED_RUNS} most recent runs, and only
 *   while the listener stays connected) spares that read: a commit after it will notify too.
 * - Identical `readEvents` in flight at once (a run's followers woken by one commit) share one query,
 *   and the events this store committed itself, or that another replica's notification carried
 *   (migrations/0002_notify_events.sql: when they fit in its payload), are read from memory while
 *   nothing newer is known (tail.ts): a replica's streams cost no round trip per event. Only while the listener is up:
 *   when it breaks the tails are forgotten, and none are kept until it is back (what it misses, a
 *   tail would hide).
 *
 * Errors that mean the database cannot be reached answer 503 `store_unavailable` (retryable).
 */

import { randomUUID } from "node:crypto";
import type * as T from "@arp/model";
import { ArpServerError } from "@arp/server";
import pg from "pg";
import { checkChange } from "../checks.js";
import type {
  Change,
  CommitResult,
  EventDraft,
  Overdue,
  Store,
  StoredNodeRun,
  StoredRun,
} from "../interface.js";
import { migrate, SCHEMA_NAME } from "./migrate.js";
import { EventTail, TAIL_IDLE_MS } from "./tail.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`; `?schema=name` picks the schema (default `arp`). */
  connectionString: string;
  /** Overrides the URL's `schema`. */
  schema?: string;
  /** Connections in the pool (besides the listener's). Default 10. */
  maxConnections?: number;
  /** How long a query may wait for a connection before it fails with 503. Default 10 s. */
  connectTimeoutMs?: number;
  /** The database cancels a statement running longer than this. Default 30 s. */
  statementTimeoutMs?: number;
  /** How often the waited runs are read again, should a notification be missed. Default 1 s. */
  recheckMs?: number;
  /**
   * The store's connections' `application_name` (what `pg_stat_activity` shows); the listening
   * connection's is this with ` listener` after it, so an operator (or a test) can tell it apart.
   * PostgreSQL keeps at most 63 bytes of it. Default `arp-reference-coordinator`.
   */
  applicationName?: string;
  /** Told of errors no caller sees (the listener's, idle connections'). */
  onError?: (error: Error) => void;
}

export const DEFAULT_SCHEMA = "arp";
export const DEFAULT_MAX_CONNECTIONS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_RECHECK_MS = 1_000;
export const DEFAULT_APPLICATION_NAME = "arp-reference-coordinator";
const CHANNEL = "arp_run_events";
/** How many runs' last notified seq are remembered (the least recently notified are forgotten). */
export const NOTIFIED_RUNS = 10_000;
/** The listener's reconnect delays: doubled from the first to the last. */
const RECONNECT_MS = { first: 100, last: 5_000 };
const LIVE_NODE_RUN = "('queued', 'assigned', 'running')";

interface Waiter {
  afterSeq: number;
  resolve: () => void;
}

/** Splits `?schema=` off a connection string (node-postgres would pass it on to the server). */
export function parseStoreUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new RangeError(`a store URL starts with postgres:// (got ${parsed.protocol}//...)`);
  }
  const schema = parsed.searchParams.get("schema") ?? DEFAULT_SCHEMA;
  parsed.searchParams.delete("schema");
  return { connectionString: parsed.toString(), schema };
}

/** Whether `error` says the database is out of reach (not that a query was wrong). */
function unreachable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  return (
    code.startsWith("08") || // connection exceptions
    code === "57P01" || // admin shutdown
    code === "57P02" ||
    code === "57P03" || // cannot connect now (starting up, shutting down)
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"].includes(code) ||
    (typeof e.message === "string" &&
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
        e.message,
      ))
  );
}

function storeUnavailable(error: unknown): ArpServerError {
  return new ArpServerError({
    status: 503,
    code: "store_unavailable",
    message: "the coordinator's database cannot be reached; try again",
    retryable: true,
    details: { reason: error instanceof Error ? error.message : String(error) },
  });
}

/**
 * Whether the database can keep `id` as text: PostgreSQL text holds no NUL, and the driver would
 * turn a lone surrogate into U+FFFD (two ids, one row). The coordinator refuses such ids with a 400
 * (coordinator/ids.ts); here they are simply never found.
 */
export function storable(id: string): boolean {
  return !id.includes("\u0000") && !LONE_SURROGATE.test(id);
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A node run's `created_at` as epoch ms (0 when it has none that parses: never "stuck"). */
function createdMs(record: { node_run: { created_at?: string } }): number {
  const ms = Date.parse(record.node_run.created_at ?? "");
  return Number.isFinite(ms) ? ms : 0;
}

/** A record as written: without the `version` a caller may have left in it. */
function bare<R extends object>(record: R): Omit<R, "version"> {
  const { version: _version, ...rest } = record as R & { version?: number };
  return rest;
}

export class PostgresStore implements Store {
  readonly schema: string;
  /**
   * Queries sent (every one a round trip) and the time they took as seen from here, in all and by
   * the store method that sent them: where the time goes (the benchmark reads it).
   */
  readonly stats = { queries: 0, ms: 0, by: new Map<string, { queries: number; ms: number }>() };
  readonly #pool: pg.Pool;
  readonly #listenerConfig: pg.ClientConfig;
  readonly #recheckMs: number;
  readonly #onError: (error: Error) => void;
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Run → the last seq its notifications told (and when), since the listener (re)connected; oldest first. */
  readonly #notified = new Map<string, { seq: number; at: number }>();
  /** This store's name in its notifications. */
  readonly #origin = randomUUID();
  /** The last events this store committed or was told of, for its streams (tail.ts). */
  readonly #tail = new EventTail();
  /** `readEvents` queries in flight, by their arguments. */
  readonly #reading = new Map<string, Promise<{ seq: number; body: EventDraft }[]>>();
  #listener: pg.Client | undefined;
  #recheck: NodeJS.Timeout | undefined;
  /** Forgets, every second, what the store remembers of runs gone quiet (see #expire). */
  readonly #housekeeping: NodeJS.Timeout;
  #closed = false;

  /** Connects, applies the migrations and starts listening: the store is ready when this resolves. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      const client = await store.#pool.connect();
      try {
        await migrate(client, store.schema);
      } finally {
        client.release();
      }
      await store.#listen();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private constructor(options: PostgresStoreOptions) {
    const parsed = parseStoreUrl(options.connectionString);
    this.schema = options.schema ?? parsed.schema;
    if (!SCHEMA_NAME.test(this.schema))
      throw new RangeError(`not a schema name the store accepts: ${this.schema}`);
    const statementTimeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const applicationName = options.applicationName ?? DEFAULT_APPLICATION_NAME;
    const config: pg.ClientConfig = {
      connectionString: parsed.connectionString,
      // Every connection's tables are the schema's; the database bounds each statement.
      options: `-c search_path=${this.schema} -c statement_timeout=${statementTimeout}`,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      application_name: applicationName,
    };
    this.#listenerConfig = { ...config, application_name: `${applicationName} listener` };
    this.#pool = new pg.Pool({ ...config, max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS });
    this.#recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    this.#onError = options.onError ?? (() => undefined);
    // An idle connection that breaks must not crash the process: the next query gets a new one.
    this.#pool.on("error", (error) => this.#onError(error));
    this.#housekeeping = setInterval(() => this.#expire(), 1_000);
    this.#housekeeping.unref();
  }

  /**
   * The runs nothing was committed to or told of for `TAIL_IDLE_MS`: their tails, seqs seen and
   * notified are forgotten (each only spares a round trip), so that memory returns to its baseline
   * after a load instead of staying at the caches' bounds.
   */
  #expire(): void {
    this.#tail.expire(TAIL_IDLE_MS);
    const cutoff = performance.now() - TAIL_IDLE_MS;
    for (const [runId, told] of this.#notified) {
      if (told.at > cutoff) break;
      this.#notified.delete(runId);
    }
  }

  async getRun(runId: string): Promise<StoredRun | undefined> {
    if (!storable(runId)) return undefined;
    const rows = await this.#query<{ record: StoredRun; version: number }>(
      "getRun",
      "SELECT record, version FROM arp_runs WHERE run_id = $1",
      [runId],
    );
    return rows[0] === undefined ? undefined : { ...rows[0].record, version: rows[0].version };
  }

  async getNodeRun(nodeRunId: string): Promise<StoredNodeRun | undefined> {
    if (!storable(nodeRunId)) return undefined;
    const rows = await this.#query<{ record: StoredNodeRun; version: number }>(
      "getNodeRun",
      "SELECT record, version FROM arp_node_runs WHERE node_run_id = $1",
      [nodeRunId],
    );
    return rows[0] === undefined ? undefined : { ...rows[0].record, version: rows[0].version };
  }

  async listNodeRuns(runId: string): Promise<StoredNodeRun[]> {
    if (!storable(runId)) return [];
    const rows = await this.#query<{ record: StoredNodeRun; version: number }>(
      "listNodeRuns",
      "SELECT record, version FROM arp_node_runs WHERE run_id = $1 ORDER BY position",
      [runId],
    );
    return rows.map((row) => ({ ...row.record, version: row.version }));
  }

  async getRunTree(runId: string): Promise<{ run: StoredRun; nodeRuns: StoredNodeRun[] } | undefined> {
    if (!storable(runId)) return undefined;
    // One statement, so one snapshot: the run and its node runs as of the same moment.
    const rows = await this.#query<{
      record: StoredRun;
      version: number;
      node_runs: { record: StoredNodeRun; version: number }[];
    }>(
      "getRunTree",
      `SELECT r.record, r.version, coalesce((
         SELECT json_agg(json_build_object('record', n.record, 'version', n.version) ORDER BY n.position)
           FROM arp_node_runs n WHERE n.run_id = r.run_id), '[]') AS node_runs
         FROM arp_runs r WHERE r.run_id = $1`,
      [runId],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      run: { ...row.record, version: row.version },
      nodeRuns: row.node_runs.map((n) => ({ ...n.record, version: n.version })),
    };
  }

  async getCreateContext(
    runId: string,
    parentNodeRunId: string,
    keys: readonly string[],
  ): Promise<{ run?: StoredRun; parent?: StoredNodeRun; byKey: Map<string, StoredNodeRun> }> {
    const byKey = new Map<string, StoredNodeRun>();
    if (!storable(runId) || !storable(parentNodeRunId)) return { byKey };
    type Versioned<R> = { record: R; version: number };
    // One statement, so one snapshot (and one round trip) for the run, the parent and the keys.
    const [row] = await this.#query<{
      run: Versioned<StoredRun> | null;
      parent: Versioned<StoredNodeRun> | null;
      keyed: (Versioned<StoredNodeRun> & { key: string })[];
    }>(
      "getCreateContext",
      `SELECT
         (SELECT json_build_object('record', record, 'version', version) FROM arp_runs WHERE run_id = $1) AS run,
         (SELECT json_build_object('record', record, 'version', version)
            FROM arp_node_runs WHERE node_run_id = $2) AS parent,
         (SELECT coalesce(json_agg(json_build_object('key', idempotency_key, 'record', record, 'version', version)), '[]')
            FROM arp_node_runs
           WHERE run_id = $1 AND parent_node_run_id = $2 AND idempotency_key = ANY($3::text[])) AS keyed`,
      [runId, parentNodeRunId, keys.filter(storable)],
    );
    for (const k of row!.keyed) byKey.set(k.key, { ...k.record, version: k.version });
    return {
      ...(row!.run === null ? {} : { run: { ...row!.run.record, version: row!.run.version } }),
      ...(row!.parent === null ? {} : { parent: { ...row!.parent.record, version: row!.parent.version } }),
      byKey,
    };
  }

  async findNodeRunByKey(
    runId: string,
    parentNodeRunId: string,
    key: string,
  ): Promise<StoredNodeRun | undefined> {
    if (![runId, parentNodeRunId, key].every(storable)) return undefined;
    const rows = await this.#query<{ record: StoredNodeRun; version: number }>(
      "findNodeRunByKey",
      `SELECT record, version FROM arp_node_runs
        WHERE run_id = $1 AND parent_node_run_id = $2 AND idempotency_key = $3`,
      [runId, parentNodeRunId, key],
    );
    return rows[0] === undefined ? undefined : { ...rows[0].record, version: rows[0].version };
  }

  async commit(change: Change): Promise<CommitResult> {
    checkChange(change);
    const events = change.events ?? [];
    const runId = change.run_id;
    for (const id of [
      runId,
      ...(change.insert_node_runs ?? []).flatMap((r) => [r.node_run.node_run_id, r.idempotency_key, r.owner]),
      ...(change.update_node_runs ?? []).flatMap((u) => [u.record.node_run.node_run_id, u.record.owner]),
    ]) {
      if (id !== undefined && !storable(id))
        throw new RangeError(`an id the store cannot keep: ${JSON.stringify(id)}`);
    }
    // What the function reads, apart from the records' and events' text (see arp_commit).
    const runRecord = change.create_run ?? change.update_run?.record;
    const inserts = change.insert_node_runs ?? [];
    const updates = change.update_node_runs ?? [];
    const meta = {
      run_id: runId,
      origin: this.#origin,
      ...(change.create_run === undefined
        ? {}
        : { create_run: { state: change.create_run.run.state, deadline_ms: change.create_run.deadline_ms } }),
      ...(change.update_run === undefined
        ? {}
        : {
            update_run: {
              version: change.update_run.version,
              state: change.update_run.record.run.state,
              deadline_ms: change.update_run.record.deadline_ms,
            },
          }),
      insert_node_runs: inserts.map((r) => ({
        node_run_id: r.node_run.node_run_id,
        parent_node_run_id: r.node_run.parent_node_run_id ?? "",
        idempotency_key: r.idempotency_key,
        state: r.node_run.state,
        deadline_ms: r.deadline_ms,
        owner: r.owner,
        created_ms: createdMs(r),
      })),
      update_node_runs: updates.map((u) => ({
        node_run_id: u.record.node_run.node_run_id,
        version: u.version,
        state: u.record.node_run.state,
        deadline_ms: u.record.deadline_ms,
        owner: u.record.owner,
      })),
      event_types: events.map((e) => e.type),
    };
    const bodies = events.map((e) => JSON.stringify(e));
    const [row] = await this.#query<{ result: { ok: boolean; first_seq?: number; reason?: string } }>(
      "commit",
      "SELECT arp_commit($1::json, $2, $3::text[], $4::text[]) AS result",
      [
        JSON.stringify(meta),
        runRecord === undefined ? null : JSON.stringify(bare(runRecord)),
        [
          ...inserts.map((r) => JSON.stringify(bare(r))),
          ...updates.map((u) => JSON.stringify(bare(u.record))),
        ],
        bodies,
      ],
    );
    const result = row!.result;
    if (!result.ok)
      return { ok: false, reason: result.reason as Exclude<CommitResult, { ok: true }>["reason"] };
    const first = result.first_seq!;
    const appended = events.map((draft, i) => this.#event(structuredClone(draft), runId, first + i));
    if (appended.length > 0) {
      const last = appended.at(-1)!.seq;
      // Kept for its streams only while the listener is up: without it, another replica's later
      // commits would go unnoticed and the tail would pass for the log's end (see #listen).
      if (this.#listener !== undefined) {
        this.#tail.committed(
          runId,
          appended,
          bodies.map((b) => b.length),
        );
        this.#remember(runId, last);
      }
      // Its own notification is ignored (see #listen): this store wakes its followers here.
      this.#wake(runId, last);
    }
    return { ok: true, events: appended };
  }

  async readEvents(runId: string, fromSeq: number, limit: number): Promise<T.RunEvent[]> {
    if (!storable(runId)) return [];
    const from = Math.max(0, Math.floor(fromSeq));
    const count = Math.max(0, Math.floor(limit));
    const held = this.#tail.read(runId, from, count);
    if (held !== undefined) return held;
    const key = `${from} ${count} ${runId}`;
    let rows = this.#reading.get(key);
    if (rows === undefined) {
      rows = this.#query<{ seq: number; body: EventDraft }>(
        "readEvents",
        "SELECT seq, body FROM arp_events WHERE run_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        [runId, from, count],
      );
      const reading = rows;
      this.#reading.set(key, reading);
      void reading.then(
        () => this.#reading.delete(key),
        () => this.#reading.delete(key),
      );
    }
    const read = await rows;
    if (read.length > 0) this.#tail.seen(runId, read.at(-1)!.seq);
    // Shared rows: each caller gets its own copies.
    return read.map((row) => this.#event(structuredClone(row.body), runId, row.seq));
  }

  waitForEvents(runId: string, afterSeq: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!storable(runId)) return Promise.resolve(); // no such run
    return new Promise<void>((resolve, reject) => {
      // Registered before the log's end is read: a commit in between still wakes it.
      const set = this.#waiters.get(runId) ?? new Set<Waiter>();
      this.#waiters.set(runId, set);
      const release = () => {
        set.delete(waiter);
        if (set.size === 0 && this.#waiters.get(runId) === set) this.#waiters.delete(runId);
        signal.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        afterSeq,
        resolve: () => {
          release();
          resolve();
        },
      };
      const onAbort = () => {
        release();
        reject(signal.reason);
      };
      set.add(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#armRecheck();
      const notified = this.#notified.get(runId);
      if (notified !== undefined) {
        // Told by a notification while the listener has stayed up: later commits will tell too.
        if (notified.seq > afterSeq) waiter.resolve();
        return;
      }
      this.#lastSeqs([runId]).then(
        (last) => {
          const seq = last.get(runId);
          if (seq === undefined || seq > afterSeq) waiter.resolve();
        },
        (error: unknown) => {
          release();
          reject(error);
        },
      );
    });
  }

  async listOverdue(nowMs: number, limit: number): Promise<Overdue> {
    const [runs, nodeRuns] = await Promise.all([
      this.#query<{ run_id: string }>(
        "listOverdue",
        `SELECT run_id FROM arp_runs
          WHERE deadline_ms IS NOT NULL AND deadline_ms <= $1 AND state IN ('queued', 'running') LIMIT $2`,
        [nowMs, limit],
      ),
      this.#query<{ node_run_id: string }>(
        "listOverdue",
        `SELECT node_run_id FROM arp_node_runs
          WHERE deadline_ms IS NOT NULL AND deadline_ms <= $1 AND state IN ${LIVE_NODE_RUN} LIMIT $2`,
        [nowMs, limit],
      ),
    ]);
    return { runs: runs.map((r) => r.run_id), node_runs: nodeRuns.map((r) => r.node_run_id) };
  }

  async heartbeat(replicaId: string, aliveUntilMs: number): Promise<void> {
    await this.#query(
      "heartbeat",
      `INSERT INTO arp_replicas (replica_id, alive_until_ms) VALUES ($1, $2)
       ON CONFLICT (replica_id) DO UPDATE SET alive_until_ms = EXCLUDED.alive_until_ms`,
      [replicaId, aliveUntilMs],
    );
  }

  async listOrphans(nowMs: number, limit: number, queuedBeforeMs?: number): Promise<string[]> {
    const rows = await this.#query<{ node_run_id: string }>(
      "listOrphans",
      `(SELECT n.node_run_id FROM arp_node_runs n
          LEFT JOIN arp_replicas r ON r.replica_id = n.owner
         WHERE n.owner IS NOT NULL AND n.state IN ${LIVE_NODE_RUN}
           AND (r.alive_until_ms IS NULL OR r.alive_until_ms < $1))
       UNION
       (SELECT node_run_id FROM arp_node_runs WHERE state = 'queued' AND created_ms < $3)
       LIMIT $2`,
      [nowMs, limit, queuedBeforeMs ?? Number.MIN_SAFE_INTEGER],
    );
    return rows.map((r) => r.node_run_id);
  }

  /** Stops listening, ends every wait (their streams read the log once more and see it as it is) and the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#recheck);
    clearInterval(this.#housekeeping);
    this.#wakeAll();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------

  async #query<R extends pg.QueryResultRow>(name: string, text: string, values?: unknown[]): Promise<R[]> {
    const started = performance.now();
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (error) {
      throw unreachable(error) ? storeUnavailable(error) : error;
    } finally {
      const ms = performance.now() - started;
      const by = this.stats.by.get(name) ?? { queries: 0, ms: 0 };
      by.queries += 1;
      by.ms += ms;
      this.stats.by.set(name, by);
      this.stats.queries += 1;
      this.stats.ms += ms;
    }
  }

  #event(body: EventDraft, runId: string, seq: number): T.RunEvent {
    return { ...body, run_id: runId, seq } as T.RunEvent;
  }

  /** The last seq of each run that is there (runs that are not are left out). */
  async #lastSeqs(runIds: string[]): Promise<Map<string, number>> {
    const rows = await this.#query<{ run_id: string; next_seq: number }>(
      "waitForEvents",
      "SELECT run_id, next_seq FROM arp_runs WHERE run_id = ANY($1::text[])",
      [runIds],
    );
    for (const r of rows) if (r.next_seq > 0) this.#tail.seen(r.run_id, r.next_seq - 1);
    return new Map(rows.map((r) => [r.run_id, r.next_seq - 1]));
  }

  /** The last seq a run's log is known to have reached, while the listener is up (see waitForEvents). */
  #remember(runId: string, lastSeq: number): void {
    const last = Math.max(lastSeq, this.#notified.get(runId)?.seq ?? -1);
    this.#notified.delete(runId); // re-inserted: the most recently told are kept longest
    this.#notified.set(runId, { seq: last, at: performance.now() });
    if (this.#notified.size > NOTIFIED_RUNS) this.#notified.delete(this.#notified.keys().next().value!);
  }

  #wake(runId: string, lastSeq: number): void {
    for (const waiter of [...(this.#waiters.get(runId) ?? [])])
      if (lastSeq > waiter.afterSeq) waiter.resolve();
  }

  #wakeAll(): void {
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.resolve();
  }

  /** The backstop: while anyone waits, the waited runs are read every `recheckMs`. */
  #armRecheck(): void {
    if (this.#recheck !== undefined || this.#closed) return;
    this.#recheck = setInterval(() => {
      if (this.#waiters.size === 0) {
        clearInterval(this.#recheck);
        this.#recheck = undefined;
        return;
      }
      const runIds = [...this.#waiters.keys()];
      this.#lastSeqs(runIds).then(
        (last) => {
          for (const runId of runIds) {
            const seq = last.get(runId);
            if (seq === undefined)
              for (const waiter of [...(this.#waiters.get(runId) ?? [])]) waiter.resolve();
            else this.#wake(runId, seq);
          }
        },
        (error: unknown) => this.#onError(error as Error),
      );
    }, this.#recheckMs);
    this.#recheck.unref();
  }

  /** Connects the listener; when it breaks, it connects again with backoff and wakes every wait. */
  async #listen(): Promise<void> {
    const client = new pg.Client(this.#listenerConfig);
    client.on("notification", (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      // {schema, seq, origin, run_id?, events?} (migrations/0002_notify_events.sql).
      let told: { schema?: unknown; seq?: unknown; origin?: unknown; run_id?: unknown; events?: unknown };
      try {
        told = JSON.parse(message.payload);
      } catch {
        return; // not one of ours
      }
      if (told.schema !== this.schema || told.origin === this.#origin || !Number.isInteger(told.seq)) return;
      if (typeof told.run_id !== "string") {
        // A run id too long for a notification: every follower of the schema looks.
        this.#notified.clear();
        this.#wakeAll();
        return;
      }
      const runId = told.run_id;
      const last = told.seq as number;
      this.#remember(runId, last);
      if (Array.isArray(told.events) && told.events.length > 0) {
        // The events the commit appended, as the table holds them (seqs last - n + 1 .. last): kept
        // for this store's streams as its own commits are. The tail serves them only as part of a
        // gap-free window that reaches the last seq known (tail.ts); else the table is read.
        const bodies = told.events as EventDraft[];
        const first = last - bodies.length + 1;
        const size = Math.ceil(message.payload.length / bodies.length); // near enough, for the bound
        this.#tail.committed(
          runId,
          bodies.map((body, i) => this.#event(body, runId, first + i)),
          bodies.map(() => size),
        );
      } else {
        this.#tail.seen(runId, last);
      }
      this.#wake(runId, last);
    });
    let live = false; // breaks before it is up are the connect's own failure, not a break
    const onBreak = (error?: Error) => {
      if (!live) return;
      live = false;
      // What is missed from here on, nothing remembered may stand for: neither the seqs told nor
      // the tails (they would pass for the logs' ends).
      this.#notified.clear();
      this.#tail.clear();
      if (error) this.#onError(error);
      if (this.#listener === client) this.#listener = undefined;
      client.end().catch(() => undefined);
      if (!this.#closed) void this.#reconnect(RECONNECT_MS.first);
    };
    client.on("error", onBreak);
    client.on("end", () => onBreak());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    live = true;
    this.#listener = client;
  }

  async #reconnect(delayMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    if (this.#closed) return;
    try {
      await this.#listen();
      this.#wakeAll(); // whatever was committed while no one listened is in the table
    } catch (error) {
      this.#onError(error as Error);
      void this.#reconnect(Math.min(RECONNECT_MS.last, delayMs * 2));
    }
  }
}
