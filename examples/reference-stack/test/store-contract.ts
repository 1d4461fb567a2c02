/**
 * What every {@link Store} must do, as a vitest suite: `storeContract("memory", async () => ({ store }))`.
 * A PostgreSQL store runs the same suite (with a fresh schema per `make`), so nothing here may
 * depend on the in-memory implementation: only the interface's promises (src/store/interface.ts).
 */
import type * as T from "@arp/model";
import { afterEach, describe, expect, it } from "vitest";
import type { EventDraft, NodeRunRecord, RunRecord, Store } from "../src/store/interface.js";

export interface StoreUnderTest {
  store: Store;
  close?: () => Promise<void>;
}

const TIME = "2026-01-15T09:30:00.000Z";

let counter = 0;
/** A run id no other test (or earlier run of the suite against a kept database) has used. */
export function freshRunId(): string {
  counter += 1;
  return `contract-${Date.now().toString(36)}-${counter}`;
}

export function runRecord(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    run: { run_id: runId, state: "running", root_node_run_id: `${runId}.0`, started_at: TIME },
    node_count: 1,
    ...extra,
  };
}

export function nodeRunRecord(
  runId: string,
  n: number,
  extra: Partial<NodeRunRecord> & { parent?: string; state?: T.NodeRunState } = {},
): NodeRunRecord {
  const { parent, state, ...rest } = extra;
  return {
    node_run: {
      node_run_id: `${runId}.${n}`,
      run_id: runId,
      node_type_ref: { node_type_id: "contract.echo", version: "1.0.0" },
      kind: n === 0 ? "composite" : "atomic",
      state: state ?? "queued",
      created_at: TIME,
      inputs: { n },
      ...(parent === undefined ? {} : { parent_node_run_id: parent }),
    },
    depth: parent === undefined ? 0 : 1,
    children: 0,
    rounds: 0,
    evaluations: 0,
    timeout: { ms: 60_000, source: "default", idle: false },
    ...rest,
  };
}

export function event(type: T.RunEventType, data?: Record<string, unknown>, nodeRunId?: string): EventDraft {
  return {
    type,
    time: TIME,
    ...(nodeRunId === undefined ? {} : { node_run_id: nodeRunId }),
    ...(data === undefined ? {} : { data }),
  };
}

export function storeContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    afterEach(async () => {
      await current?.close?.();
      current = undefined;
    });
    const open = async () => {
      current = await make();
      return current.store;
    };
    /** A store with one run (its root queued, the log at seq 0). */
    const withRun = async (extra: Partial<RunRecord> = {}) => {
      const store = await open();
      const runId = freshRunId();
      const created = await store.commit({
        run_id: runId,
        create_run: runRecord(runId, extra),
        insert_node_runs: [nodeRunRecord(runId, 0)],
        events: [event("run_started")],
      });
      expect(created.ok).toBe(true);
      return { store, runId };
    };

    it("creates a run with its root and first events, and reads them back", async () => {
      const store = await open();
      const runId = freshRunId();
      const result = await store.commit({
        run_id: runId,
        create_run: runRecord(runId),
        insert_node_runs: [nodeRunRecord(runId, 0)],
        events: [event("run_started"), event("policy_decided", { decision: "allow" })],
      });
      expect(result).toEqual({
        ok: true,
        events: [
          { run_id: runId, seq: 0, type: "run_started", time: TIME },
          { run_id: runId, seq: 1, type: "policy_decided", time: TIME, data: { decision: "allow" } },
        ],
      });
      const run = await store.getRun(runId);
      expect(run).toMatchObject(runRecord(runId));
      expect(run?.version).toBe(1);
      expect((await store.getNodeRun(`${runId}.0`))?.version).toBe(1);
      const tree = await store.getRunTree(runId);
      expect(tree?.run).toEqual(run);
      expect(tree?.nodeRuns).toEqual(await store.listNodeRuns(runId));
      expect(await store.getRunTree(freshRunId())).toBeUndefined();
      expect(await store.getNodeRun(`${runId}.0`)).toMatchObject(nodeRunRecord(runId, 0));
      expect((await store.listNodeRuns(runId)).map((n) => n.node_run.node_run_id)).toEqual([`${runId}.0`]);
      expect((await store.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([0, 1]);
    });

    it("knows nothing of what was never stored", async () => {
      const store = await open();
      const runId = freshRunId();
      expect(await store.getRun(runId)).toBeUndefined();
      expect(await store.getNodeRun(`${runId}.0`)).toBeUndefined();
      expect(await store.listNodeRuns(runId)).toEqual([]);
      expect(await store.readEvents(runId, 0, 10)).toEqual([]);
      expect(await store.findNodeRunByKey(runId, `${runId}.0`, "k")).toBeUndefined();
      expect(await store.commit({ run_id: runId, events: [event("run_started")] })).toEqual({
        ok: false,
        reason: "not_found",
      });
    });

    it("refuses a second run with the same id, and keeps the first as it was", async () => {
      const { store, runId } = await withRun();
      const again = await store.commit({
        run_id: runId,
        create_run: runRecord(runId, { node_count: 7 }),
        events: [event("run_started")],
      });
      expect(again).toEqual({ ok: false, reason: "exists" });
      expect((await store.getRun(runId))?.node_count).toBe(1);
      expect(await store.readEvents(runId, 0, 10)).toHaveLength(1);
    });

    it("numbers events 0, 1, 2, ... with no gap, also under concurrent changes", async () => {
      const { store, runId } = await withRun();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.commit({
            run_id: runId,
            events: [event("node_evaluated", { i }), event("node_evaluated", { i })],
          }),
        ),
      );
      const seqs: number[] = [];
      for (const result of results) {
        if (!result.ok) throw new Error(`refused: ${result.reason}`);
        const [a, b] = result.events;
        expect(b!.seq).toBe(a!.seq + 1); // one change's events are consecutive
        expect(a!.data).toEqual(b!.data);
        seqs.push(a!.seq, b!.seq);
      }
      expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const log = await store.readEvents(runId, 0, 1000);
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i));
      expect(log.every((e) => e.run_id === runId)).toBe(true);
    });

    it("reads events from a seq, at most `limit` of them", async () => {
      const { store, runId } = await withRun();
      await store.commit({ run_id: runId, events: Array.from({ length: 9 }, () => event("node_evaluated")) });
      expect((await store.readEvents(runId, 3, 4)).map((e) => e.seq)).toEqual([3, 4, 5, 6]);
      expect((await store.readEvents(runId, 8, 100)).map((e) => e.seq)).toEqual([8, 9]);
      expect(await store.readEvents(runId, 10, 100)).toEqual([]);
    });

    it("lets only one of two changes made from the same version of a run through", async () => {
      const { store, runId } = await withRun();
      const read = (await store.getRun(runId))!;
      const [a, b] = await Promise.all(
        [2, 3].map((node_count) =>
          store.commit({
            run_id: runId,
            update_run: { version: read.version, record: { ...runRecord(runId), node_count } },
            events: [event("composite_decomposed", { node_count })],
          }),
        ),
      );
      expect([a!.ok, b!.ok].sort()).toEqual([false, true]);
      const lost = a!.ok ? b! : a!;
      expect(lost).toEqual({ ok: false, reason: "conflict" });
      const after = (await store.getRun(runId))!;
      expect(after.version).not.toBe(read.version);
      expect(after.node_count).toBe(a!.ok ? 2 : 3);
      expect(await store.readEvents(runId, 0, 10)).toHaveLength(2); // the loser appended nothing
    });

    it("lets only one of two changes made from the same version of a node run through", async () => {
      const { store, runId } = await withRun();
      const root = (await store.getNodeRun(`${runId}.0`))!;
      const move = (state: T.NodeRunState) =>
        store.commit({
          run_id: runId,
          update_node_runs: [{ version: root.version, record: nodeRunRecord(runId, 0, { state }) }],
          events: [event("node_run_assigned", { state }, `${runId}.0`)],
        });
      const results = await Promise.all([move("assigned"), move("canceled")]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: "conflict" }]);
      const stored = (await store.getNodeRun(`${runId}.0`))!;
      const winner = results[0]!.ok ? "assigned" : "canceled";
      expect(stored.node_run.state).toBe(winner);
      // The version read before is stale now: a third change from it is refused too.
      expect((await move("failed")).ok).toBe(false);
    });

    it("applies a change whole or not at all", async () => {
      const { store, runId } = await withRun();
      const root = (await store.getNodeRun(`${runId}.0`))!;
      await store.commit({
        run_id: runId,
        update_node_runs: [{ version: root.version, record: nodeRunRecord(runId, 0, { state: "assigned" }) }],
      });
      const refused = await store.commit({
        run_id: runId,
        update_run: {
          version: (await store.getRun(runId))!.version,
          record: runRecord(runId, { node_count: 2 }),
        },
        insert_node_runs: [nodeRunRecord(runId, 1, { parent: `${runId}.0`, idempotency_key: "k" })],
        update_node_runs: [{ version: root.version, record: nodeRunRecord(runId, 0, { state: "running" }) }], // stale
        events: [event("composite_decomposed", { children: [`${runId}.1`] }, `${runId}.0`)],
      });
      expect(refused).toEqual({ ok: false, reason: "conflict" });
      expect(await store.getNodeRun(`${runId}.1`)).toBeUndefined();
      expect(await store.findNodeRunByKey(runId, `${runId}.0`, "k")).toBeUndefined();
      expect((await store.getRun(runId))!.node_count).toBe(1);
      expect((await store.getNodeRun(`${runId}.0`))!.node_run.state).toBe("assigned");
      expect(await store.readEvents(runId, 0, 10)).toHaveLength(1);
    });

    it("keeps node run ids unique, and idempotency keys unique per parent", async () => {
      const { store, runId } = await withRun();
      const root = `${runId}.0`;
      const child = (n: number, key: string, parent = root) =>
        nodeRunRecord(runId, n, { parent, idempotency_key: key, fingerprint: `fp-${n}` });
      expect((await store.commit({ run_id: runId, insert_node_runs: [child(1, "a")] })).ok).toBe(true);
      expect(await store.commit({ run_id: runId, insert_node_runs: [nodeRunRecord(runId, 1)] })).toEqual({
        ok: false,
        reason: "exists",
      });
      expect(await store.commit({ run_id: runId, insert_node_runs: [child(2, "a")] })).toEqual({
        ok: false,
        reason: "exists",
      });
      expect(await store.commit({ run_id: runId, insert_node_runs: [child(3, "b"), child(4, "b")] })).toEqual(
        {
          ok: false,
          reason: "exists",
        },
      );
      // The same key under another parent is another key.
      expect(
        (await store.commit({ run_id: runId, insert_node_runs: [child(5, "a", `${runId}.1`)] })).ok,
      ).toBe(true);
      expect((await store.findNodeRunByKey(runId, root, "a"))?.node_run.node_run_id).toBe(`${runId}.1`);
      expect((await store.findNodeRunByKey(runId, `${runId}.1`, "a"))?.fingerprint).toBe("fp-5");
      // The same, with the run and the parent, in one read.
      const context = await store.getCreateContext(runId, root, ["a", "b", "zz"]);
      expect(context.run?.run.run_id).toBe(runId);
      expect(context.parent).toEqual(await store.getNodeRun(root));
      expect([...context.byKey.keys()]).toEqual(["a"]);
      expect(context.byKey.get("a")).toEqual(await store.getNodeRun(`${runId}.1`));
      const none = await store.getCreateContext(freshRunId(), "nope", ["a"]);
      expect(none.run).toBeUndefined();
      expect(none.parent).toBeUndefined();
      expect(none.byKey.size).toBe(0);
      expect(await store.findNodeRunByKey(runId, root, "b")).toBeUndefined();
      expect((await store.listNodeRuns(runId)).map((n) => n.node_run.node_run_id)).toEqual([
        root,
        `${runId}.1`,
        `${runId}.5`,
      ]);
    });

    it("closes the log with run_completed: no event is appended after it", async () => {
      const { store, runId } = await withRun();
      const done = await store.commit({
        run_id: runId,
        update_run: {
          version: (await store.getRun(runId))!.version,
          record: runRecord(runId, { run: { ...runRecord(runId).run, state: "succeeded" } }),
        },
        events: [event("atomic_executed", { state: "succeeded" }, `${runId}.0`), event("run_completed")],
      });
      expect(done.ok).toBe(true);
      expect(await store.commit({ run_id: runId, events: [event("node_evaluated")] })).toEqual({
        ok: false,
        reason: "closed",
      });
      const log = await store.readEvents(runId, 0, 10);
      expect(log.at(-1)?.type).toBe("run_completed");
      expect(log).toHaveLength(3);
    });

    it("throws for a change whose run_completed is not its last event", async () => {
      const { store, runId } = await withRun();
      await expect(
        store.commit({ run_id: runId, events: [event("run_completed"), event("node_evaluated")] }),
      ).rejects.toThrow(/last/);
      expect(await store.readEvents(runId, 0, 10)).toHaveLength(1);
    });

    it("hands out copies: changing what was read changes nothing stored", async () => {
      const { store, runId } = await withRun();
      const run = (await store.getRun(runId))!;
      run.run.state = "failed";
      const nodeRun = (await store.getNodeRun(`${runId}.0`))!;
      nodeRun.node_run.state = "failed";
      (nodeRun.node_run.inputs as Record<string, unknown>).n = 99;
      const [listed] = await store.listNodeRuns(runId);
      listed!.node_run.state = "failed";
      const [first] = await store.readEvents(runId, 0, 1);
      try {
        (first as { type: string }).type = "run_completed";
      } catch {
        // frozen: fine too
      }
      expect((await store.getRun(runId))!.run.state).toBe("running");
      expect((await store.getNodeRun(`${runId}.0`))!.node_run).toMatchObject({
        state: "queued",
        inputs: { n: 0 },
      });
      expect((await store.readEvents(runId, 0, 1))[0]!.type).toBe("run_started");
    });

    it("waits for events: at once when there is one past the seq, else until one comes", async () => {
      const { store, runId } = await withRun();
      const signal = new AbortController().signal;
      await store.waitForEvents(runId, -1, signal); // seq 0 is there
      await store.waitForEvents(freshRunId(), 0, signal); // no such run: nothing to wait for
      let woke = false;
      const waiting = store.waitForEvents(runId, 0, signal).then(() => {
        woke = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      expect(woke).toBe(false);
      await store.commit({ run_id: runId, events: [event("node_evaluated")] });
      await waiting;
      expect(woke).toBe(true);
    });

    it("stops waiting when the signal aborts, with its reason", async () => {
      const { store, runId } = await withRun();
      const controller = new AbortController();
      const waiting = store.waitForEvents(runId, 0, controller.signal);
      const reason = new Error("client went away");
      controller.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      await expect(store.waitForEvents(runId, 0, controller.signal)).rejects.toBe(reason);
    });

    it("lists what is overdue: running runs and live node runs past their deadline", async () => {
      const { store, runId } = await withRun({ deadline_ms: 1_000 });
      const root = `${runId}.0`;
      await store.commit({
        run_id: runId,
        insert_node_runs: [
          nodeRunRecord(runId, 1, { parent: root, deadline_ms: 500 }),
          nodeRunRecord(runId, 2, { parent: root, deadline_ms: 5_000 }),
          nodeRunRecord(runId, 3, { parent: root, deadline_ms: 500, state: "succeeded" }),
        ],
      });
      const mine = async (nowMs: number) => {
        const overdue = await store.listOverdue(nowMs, 1000);
        return {
          runs: overdue.runs.filter((id) => id === runId),
          node_runs: overdue.node_runs.filter((id) => id.startsWith(`${runId}.`)).sort(),
        };
      };
      expect(await mine(400)).toEqual({ runs: [], node_runs: [] });
      expect(await mine(500)).toEqual({ runs: [], node_runs: [`${runId}.1`] });
      expect(await mine(6_000)).toEqual({ runs: [runId], node_runs: [`${runId}.1`, `${runId}.2`] });
      const child = (await store.getNodeRun(`${runId}.1`))!;
      await store.commit({
        run_id: runId,
        update_node_runs: [
          { version: child.version, record: { ...child, node_run: { ...child.node_run, state: "failed" } } },
        ],
      });
      expect((await mine(6_000)).node_runs).toEqual([`${runId}.2`]);
      expect((await store.listOverdue(6_000, 1)).node_runs.length).toBeLessThanOrEqual(1);
    });

    it("never changes the state of what has ended, whatever version the change names", async () => {
      const { store, runId } = await withRun();
      const root = `${runId}.0`;
      const read = (await store.getNodeRun(root))!;
      const canceled = nodeRunRecord(runId, 0, { state: "canceled" });
      const ended = await store.commit({
        run_id: runId,
        update_node_runs: [{ version: read.version, record: canceled }],
        update_run: {
          version: (await store.getRun(runId))!.version,
          record: runRecord(runId, { run: { ...runRecord(runId).run, state: "canceled" } }),
        },
      });
      expect(ended.ok).toBe(true);
      const now = (await store.getNodeRun(root))!;
      // A late completion, even one naming the current version, cannot move it.
      const late = await store.commit({
        run_id: runId,
        update_node_runs: [{ version: now.version, record: nodeRunRecord(runId, 0, { state: "succeeded" }) }],
        events: [event("atomic_executed", { state: "succeeded" }, root)],
      });
      expect(late).toEqual({ ok: false, reason: "ended" });
      const run = (await store.getRun(runId))!;
      const rerun = await store.commit({
        run_id: runId,
        update_run: { version: run.version, record: runRecord(runId) },
      });
      expect(rerun).toEqual({ ok: false, reason: "ended" });
      expect((await store.getNodeRun(root))!.node_run.state).toBe("canceled");
      expect((await store.getRun(runId))!.run.state).toBe("canceled");
      expect(await store.readEvents(runId, 0, 10)).toHaveLength(1);
      // What is not its state may still change (an evaluation of a node run that has ended).
      const evaluated = await store.commit({
        run_id: runId,
        update_node_runs: [{ version: now.version, record: { ...canceled, evaluations: 1 } }],
      });
      expect(evaluated.ok).toBe(true);
      expect((await store.getNodeRun(root))!.evaluations).toBe(1);
    });

    it("lists, when asked, node runs still queued that were created before a time, whoever owns them", async () => {
      const { store, runId } = await withRun();
      const root = `${runId}.0`;
      const alive = `replica-alive-${runId}`;
      await store.heartbeat(alive, Number.MAX_SAFE_INTEGER);
      await store.commit({
        run_id: runId,
        insert_node_runs: [
          nodeRunRecord(runId, 1, { parent: root, owner: alive }),
          nodeRunRecord(runId, 2, { parent: root, owner: alive, state: "running" }),
          nodeRunRecord(runId, 3, { parent: root, owner: alive, state: "succeeded" }),
        ],
      });
      const mine = async (queuedBeforeMs?: number) =>
        (await store.listOrphans(0, 1000, queuedBeforeMs)).filter((id) => id.startsWith(`${runId}.`)).sort();
      expect(await mine()).toEqual([]);
      expect(await mine(Date.parse(TIME))).toEqual([]); // created at TIME: not before it
      expect(await mine(Date.parse(TIME) + 1)).toEqual([root, `${runId}.1`]);
    });

    it("lists orphans: live node runs whose owner stopped beating", async () => {
      const { store, runId } = await withRun();
      const root = `${runId}.0`;
      const a = `replica-a-${runId}`;
      const b = `replica-b-${runId}`;
      await store.heartbeat(a, 10_000);
      await store.heartbeat(b, 20_000);
      await store.commit({
        run_id: runId,
        insert_node_runs: [
          nodeRunRecord(runId, 1, { parent: root, owner: a }),
          nodeRunRecord(runId, 2, { parent: root, owner: b }),
          nodeRunRecord(runId, 3, { parent: root, owner: a, state: "succeeded" }),
          nodeRunRecord(runId, 4, { parent: root, owner: `never-beat-${runId}` }),
          nodeRunRecord(runId, 5, { parent: root }),
        ],
      });
      const mine = async (nowMs: number) =>
        (await store.listOrphans(nowMs, 1000)).filter((id) => id.startsWith(`${runId}.`)).sort();
      expect(await mine(5_000)).toEqual([`${runId}.4`]);
      expect(await mine(15_000)).toEqual([`${runId}.1`, `${runId}.4`]);
      expect(await mine(25_000)).toEqual([`${runId}.1`, `${runId}.2`, `${runId}.4`]);
      await store.heartbeat(a, 30_000); // beating again
      expect(await mine(25_000)).toEqual([`${runId}.2`, `${runId}.4`]);
      // Taken over: the owner changes with the record.
      const orphan = (await store.getNodeRun(`${runId}.4`))!;
      const taken = await store.commit({
        run_id: runId,
        update_node_runs: [{ version: orphan.version, record: { ...orphan, owner: a } }],
      });
      expect(taken.ok).toBe(true);
      expect(await mine(25_000)).toEqual([`${runId}.2`]);
      expect((await store.listOrphans(25_000, 1)).length).toBeLessThanOrEqual(1);
    });
  });
}
