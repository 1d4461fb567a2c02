import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { migrate, migrations } from "../src/store/postgres/migrate.js";
import { PostgresStore, parseStoreUrl } from "../src/store/postgres/store.js";
import { event, freshRunId, nodeRunRecord, runRecord, storeContract } from "./store-contract.js";
import {
  DATABASE_URL,
  describePostgres,
  dropSchema,
  freshSchema,
  openTestStore,
  sql,
} from "./support/postgres.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

const url = DATABASE_URL;
if (url !== undefined) storeContract("PostgresStore", () => openTestStore(url));

describe("parseStoreUrl", () => {
  it("takes the schema off the URL, default arp, and refuses what is not postgres://", () => {
    expect(parseStoreUrl("postgres://u@h:5/db?schema=prod")).toEqual({
      connectionString: "postgres://u@h:5/db",
      schema: "prod",
    });
    expect(parseStoreUrl("postgresql://h/db").schema).toBe("arp");
    expect(() => parseStoreUrl("mysql://h/db")).toThrow(/postgres:\/\//);
  });
});

describePostgres("PostgresStore", (url) => {
  it("comes up on a fresh database and on one already migrated, also when two open it at once", async () => {
    const schema = freshSchema();
    try {
      const [a, b] = await Promise.all([
        PostgresStore.open({ connectionString: url, schema }),
        PostgresStore.open({ connectionString: url, schema }),
      ]);
      await Promise.all([a.close(), b.close()]);
      const applied = await sql<{ version: number }>(url, `SELECT version FROM ${schema}.arp_migrations`);
      expect(applied.map((r) => r.version)).toEqual(migrations().map((m) => m.version));
      const again = await PostgresStore.open({ connectionString: url, schema });
      const runId = freshRunId();
      expect((await again.commit({ run_id: runId, create_run: runRecord(runId) })).ok).toBe(true);
      await again.close();
      // An up-to-date schema is left as it is: nothing applied, the data kept.
      const pg = await import("pg");
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      expect(await migrate(client, schema)).toEqual([]);
      await client.end();
      expect(await sql(url, `SELECT run_id FROM ${schema}.arp_runs`)).toEqual([{ run_id: runId }]);
    } finally {
      await dropSchema(url, schema);
    }
  });

  it("brings a schema of an older version up to date: only the migrations it has not had, in order", async () => {
    const schema = freshSchema();
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    try {
      const all = migrations();
      expect(all.map((m) => [m.version, m.name])).toEqual([
        [1, "init"],
        [2, "notify_events"],
      ]);
      expect(await migrate(client, schema, all.slice(0, 1))).toEqual([1]);
      const source = async () =>
        (
          await client.query<{ prosrc: string }>(
            "SELECT prosrc FROM pg_proc WHERE proname = 'arp_commit' AND pronamespace = $1::regnamespace",
            [schema],
          )
        ).rows.map((r) => r.prosrc.includes('"events":['));
      expect(await source()).toEqual([false]);
      expect(await migrate(client, schema)).toEqual([2]);
      expect(await source()).toEqual([true]); // replaced, not added beside the old one
      expect(await migrate(client, schema)).toEqual([]);
      const applied = await client.query(
        `SELECT version, name FROM ${schema}.arp_migrations ORDER BY version`,
      );
      expect(applied.rows).toEqual([
        { version: 1, name: "init" },
        { version: 2, name: "notify_events" },
      ]);
    } finally {
      await client.end();
      await dropSchema(url, schema);
    }
  });

  it("keeps the events another store's notification carries, byte for byte; reads the table when they do not fit", async () => {
    const opened = await openTestStore(url, { recheckMs: 60_000 });
    const other = await PostgresStore.open({
      connectionString: url,
      schema: opened.schema,
      recheckMs: 60_000,
    });
    const reads = () => opened.store.stats.by.get("readEvents")?.queries ?? 0;
    const table = async (runId: string) =>
      (
        await sql<{ seq: number; body: object }>(
          url,
          `SELECT seq, body FROM ${opened.schema}.arp_events WHERE run_id = $1 ORDER BY seq`,
          [runId],
        )
      ).map((r) => ({ ...r.body, run_id: runId, seq: r.seq }));
    try {
      const runId = freshRunId();
      await opened.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      const text = 'a\u0000b \ud800 \udfff 𝄞 \u2028 é "q" \\ \n';
      let told = opened.store.waitForEvents(runId, 0, AbortSignal.timeout(10_000));
      await other.commit({
        run_id: runId,
        events: [
          event("node_evaluated", { text, nested: { [text]: [text] } }),
          event("node_evaluated", { i: 2 }),
        ],
      });
      await told;
      let before = reads();
      const held = await opened.store.readEvents(runId, 0, 10);
      expect(reads()).toBe(before); // from memory: its own seq 0, then the notification's 1 and 2
      expect(held).toEqual(await table(runId));
      expect(held.map((e) => e.seq)).toEqual([0, 1, 2]);
      expect(held[1]!.data).toEqual({ text, nested: { [text]: [text] } });
      // An event too large for a notification (pg_notify: under 8000 bytes): told without it, read from the table.
      told = opened.store.waitForEvents(runId, 2, AbortSignal.timeout(10_000));
      await other.commit({ run_id: runId, events: [event("node_evaluated", { blob: "x".repeat(9_000) })] });
      await told;
      before = reads();
      const read = await opened.store.readEvents(runId, 2, 10);
      expect(reads()).toBe(before + 1);
      expect(read).toEqual((await table(runId)).slice(2));
    } finally {
      await other.close();
      await opened.close();
    }
  });

  it("numbers events without a gap when the appenders are different stores (replicas)", async () => {
    const first = await openTestStore(url);
    const others = await Promise.all(
      [1, 2, 3].map(() =>
        PostgresStore.open({ connectionString: url, schema: first.schema, maxConnections: 4 }),
      ),
    );
    try {
      const runId = freshRunId();
      await first.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      const stores = [first.store, ...others];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          stores[i % stores.length]!.commit({ run_id: runId, events: [event("node_evaluated", { i })] }),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      // Checked in the table itself.
      const rows = await sql<{ seq: number; i: string | null }>(
        url,
        `SELECT seq, body->'data'->>'i' AS i FROM ${first.schema}.arp_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      );
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i));
      expect(new Set(rows.slice(1).map((r) => r.i)).size).toBe(200);
    } finally {
      await Promise.all(others.map((s) => s.close()));
      await first.close();
    }
  });

  it("lets one of two stores through with the same idempotency key at the same moment", async () => {
    const first = await openTestStore(url);
    const second = await PostgresStore.open({ connectionString: url, schema: first.schema });
    try {
      const runId = freshRunId();
      await first.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        insert_node_runs: [nodeRunRecord(runId, 0)],
      });
      for (let round = 0; round < 20; round++) {
        const key = `k-${round}`;
        const child = (n: number) =>
          nodeRunRecord(runId, n, { parent: `${runId}.0`, idempotency_key: key, fingerprint: `fp-${n}` });
        const results = await Promise.all([
          first.store.commit({ run_id: runId, insert_node_runs: [child(100 + round * 2)] }),
          second.commit({ run_id: runId, insert_node_runs: [child(101 + round * 2)] }),
        ]);
        expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
        expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: "exists" });
      }
      const keys = await sql<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM ${first.schema}.arp_node_runs WHERE run_id = $1 AND idempotency_key IS NOT NULL`,
        [runId],
      );
      expect(Number(keys[0]!.n)).toBe(20);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it("wakes a wait on one store for an event committed through another, without polling delay", async () => {
    // A recheck far longer than the test: only the notification can wake the wait in time.
    const first = await openTestStore(url, { recheckMs: 60_000 });
    const second = await PostgresStore.open({
      connectionString: url,
      schema: first.schema,
      recheckMs: 60_000,
    });
    try {
      const runId = freshRunId();
      await first.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      const waiting = first.store.waitForEvents(runId, 0, new AbortController().signal);
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await second.commit({ run_id: runId, events: [event("node_evaluated")] });
      await waiting;
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it("wakes a wait for another store's commit made while its listener was down: the reconnect wakes every wait", async () => {
    // The waiting store reaches the database through a proxy that can refuse new connections, so
    // its listener stays down until the test lets it back; its recheck is far longer than the test,
    // so only the reconnect (which wakes every wait) can wake it. Only its own listener is killed
    // (by application_name): other test files' stores in the same database are left alone.
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const via = new URL(url);
    via.port = String(proxy.port);
    const name = `arp-test-${randomBytes(4).toString("hex")}`;
    const broke: Error[] = [];
    const opened = await openTestStore(via.toString(), {
      recheckMs: 60_000,
      applicationName: name,
      onError: (error) => broke.push(error),
    });
    const other = await PostgresStore.open({
      connectionString: url,
      schema: opened.schema,
      recheckMs: 60_000,
    });
    try {
      const runId = freshRunId();
      await opened.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      let woken = false;
      const waiting = opened.store.waitForEvents(runId, 1, AbortSignal.timeout(30_000)).then(() => {
        woken = true;
      });
      proxy.refuse(true);
      const killed = await sql<{ killed: boolean }>(
        url,
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1",
        [`${name} listener`],
      );
      expect(killed).toEqual([{ killed: true }]); // its listener, and nothing else
      await vi.waitFor(() => expect(broke.map((e) => e.message).join()).toMatch(/terminat/i), {
        timeout: 10_000,
      });
      // Its own commit (seq 1: its pool's open connection still works), then one made elsewhere
      // while nobody listens here (seq 2): that one's notification reaches nothing of this store.
      await opened.store.commit({ run_id: runId, events: [event("node_evaluated")] });
      await other.commit({ run_id: runId, events: [event("node_evaluated")] });
      await new Promise((r) => setTimeout(r, 300));
      expect(woken).toBe(false); // the listener cannot reconnect yet, and nothing else wakes it
      proxy.refuse(false);
      await waiting; // the reconnect (backoff at most 800 ms by now) woke it
      // Its own seq 1, in memory, does not pass for the log's end: seq 2 is read from the table.
      expect((await opened.store.readEvents(runId, 1, 10)).map((e) => e.seq)).toEqual([1, 2]);
      // And it listens again: another store's next commit wakes a wait at once.
      const next = opened.store.waitForEvents(runId, 2, AbortSignal.timeout(10_000));
      await new Promise((r) => setTimeout(r, 100));
      await other.commit({ run_id: runId, events: [event("node_evaluated")] });
      await next;
    } finally {
      await other.close();
      await opened.store.close();
      await proxy.stop();
      await dropSchema(url, opened.schema);
    }
  });

  it("wakes a wait whose notification was missed while its listener stayed up: the recheck backs it up", async () => {
    const opened = await openTestStore(url, { recheckMs: 200 });
    try {
      const runId = freshRunId();
      await opened.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      const waiting = opened.store.waitForEvents(runId, 0, AbortSignal.timeout(10_000));
      // Another replica's commit whose notification is lost: the event appended to the table as
      // arp_commit would (next seq, next_seq moved on) but with no NOTIFY.
      await sql(
        url,
        `WITH appended AS (
           INSERT INTO ${opened.schema}.arp_events (run_id, seq, body) VALUES ($1, 1, $2::json) RETURNING run_id)
         UPDATE ${opened.schema}.arp_runs SET next_seq = 2 WHERE run_id IN (SELECT run_id FROM appended)`,
        [runId, JSON.stringify(event("node_evaluated"))],
      );
      await waiting;
      // What it holds in memory (seq 0, its own) does not hide what the table has.
      expect((await opened.store.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([0, 1]);
    } finally {
      await opened.close();
    }
  });

  it("keeps any JSON string byte for byte (NUL, lone surrogates, every plane)", async () => {
    const opened = await openTestStore(url);
    try {
      const runId = freshRunId();
      const text = "a\u0000b \ud800 \udfff 𝄞 \u2028 é";
      const root = nodeRunRecord(runId, 0);
      root.node_run.inputs = { text, nested: { [text]: [text] } };
      await opened.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        insert_node_runs: [root],
        events: [event("run_started", { text })],
      });
      expect((await opened.store.getNodeRun(`${runId}.0`))!.node_run.inputs).toEqual({
        text,
        nested: { [text]: [text] },
      });
      expect((await opened.store.readEvents(runId, 0, 1))[0]!.data).toEqual({ text });
      expect((await opened.store.getRunTree(runId))!.nodeRuns[0]!.node_run.inputs).toEqual({
        text,
        nested: { [text]: [text] },
      });
    } finally {
      await opened.close();
    }
  });

  it("answers 503 store_unavailable (retryable) when the database cannot be reached", async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const via = new URL(url);
    via.port = String(proxy.port);
    const schema = freshSchema();
    const store = await PostgresStore.open({
      connectionString: via.toString(),
      schema,
      connectTimeoutMs: 1_000,
    });
    try {
      const runId = freshRunId();
      expect((await store.commit({ run_id: runId, create_run: runRecord(runId) })).ok).toBe(true);
      await proxy.stop(); // every connection cut, new ones refused
      for (const call of [
        () => store.getRun(runId),
        () => store.commit({ run_id: runId, events: [event("x" as never)] }),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toMatchObject({ status: 503, code: "store_unavailable", retryable: true });
      }
    } finally {
      await store.close();
      await proxy.stop();
      await dropSchema(url, schema);
    }
  });

  it("counts its round trips, in all and by method; reads its own events from memory, and others' their notifications carried", async () => {
    const opened = await openTestStore(url);
    const other = await PostgresStore.open({ connectionString: url, schema: opened.schema });
    try {
      const before = opened.store.stats.queries;
      const runId = freshRunId();
      await opened.store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        events: [event("run_started")],
      });
      await opened.store.getRun(runId);
      expect(opened.store.stats.queries - before).toBe(2);
      expect(opened.store.stats.by.get("commit")?.queries).toBeGreaterThanOrEqual(1);
      expect(opened.store.stats.by.get("getRun")?.ms).toBeGreaterThan(0);
      // What it committed itself, it has: no round trip.
      expect((await opened.store.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([0]);
      expect(opened.store.stats.queries - before).toBe(2);
      // Another store (replica) sees the same log, and what it appends is not hidden by the first's
      // memory: its notification carries the event, which the first then serves from memory too.
      expect((await other.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([0]);
      const told = opened.store.waitForEvents(runId, 0, AbortSignal.timeout(5_000));
      await other.commit({ run_id: runId, events: [event("node_evaluated")] });
      await told; // its notification
      const reads = opened.store.stats.by.get("readEvents")?.queries ?? 0;
      expect((await opened.store.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([0, 1]);
      expect((await opened.store.readEvents(runId, 1, 10))[0]).toMatchObject({
        seq: 1,
        type: "node_evaluated",
      });
      expect(opened.store.stats.by.get("readEvents")?.queries ?? 0).toBe(reads);
    } finally {
      await other.close();
      await opened.close();
    }
  });

  it("refuses ids it cannot keep, and never finds them", async () => {
    const opened = await openTestStore(url);
    try {
      for (const bad of ["a\u0000b", "a\ud800b"]) {
        await expect(opened.store.commit({ run_id: bad, create_run: runRecord(bad) })).rejects.toThrow(
          RangeError,
        );
        expect(await opened.store.getRun(bad)).toBeUndefined();
        expect(await opened.store.getNodeRun(bad)).toBeUndefined();
        expect(await opened.store.readEvents(bad, 0, 1)).toEqual([]);
      }
    } finally {
      await opened.close();
    }
  });
});
