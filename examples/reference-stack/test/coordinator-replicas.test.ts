/**
 * Two Run Coordinator replicas in this process, each with its own PostgresStore on one schema (as
 * two processes would be), behind the fake peers of run-coordinator.fakes.ts. What only the
 * database can keep right: concurrent duplicate creates, late completions after a cancel, gap-free
 * seqs under parallel appends, live streams across replicas, exactly-once dispatch of orphans.
 * (Replicas as separate processes behind the balancer: replicas.test.ts.)
 */
import { ArpApiError, RunCoordinatorClient } from "@arp/client";
import type * as T from "@arp/model";
import { afterEach, expect, it } from "vitest";
import { Peers } from "../src/peers.js";
import { ReferenceRunCoordinator } from "../src/services/run-coordinator.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import {
  commitQueuedRun,
  ECHO,
  FAKE_SERVER,
  hang,
  PLAN,
  runEvents,
  SLOW,
  type Stack,
  startStack,
} from "./run-coordinator.fakes.js";
import { describePostgres, dropSchema, freshSchema, sql } from "./support/postgres.js";

interface Replicas {
  a: Stack;
  b: ReferenceRunCoordinator;
  clientB: RunCoordinatorClient;
  schema: string;
  close(): Promise<void>;
}

let open: Replicas | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

describePostgres("Run Coordinator replicas on one PostgreSQL schema", (url) => {
  /** Replica A (with the fakes) and replica B, on one fresh schema. */
  const replicas = async (
    setup: Parameters<typeof startStack>[1] = () => {},
    { recheckMs, ...options }: { leaseMs?: number; recheckMs?: number } = {},
  ): Promise<Replicas> => {
    const schema = freshSchema();
    const storeOptions = {
      connectionString: url,
      schema,
      maxConnections: 5,
      ...(recheckMs ? { recheckMs } : {}),
    };
    const storeA = await PostgresStore.open(storeOptions);
    const storeB = await PostgresStore.open(storeOptions);
    const a = await startStack({ store: storeA, replicaId: "replica-a", ...options }, setup);
    const b = new ReferenceRunCoordinator({
      peers: new Peers({ urls: a.urls }),
      server: FAKE_SERVER,
      store: storeB,
      sweepIntervalMs: 0,
      replicaId: "replica-b",
      ...options,
    });
    const runningB = await b.listen({ port: 0 });
    open = {
      a,
      b,
      clientB: new RunCoordinatorClient({ baseUrl: runningB.url, retry: false }),
      schema,
      async close() {
        await runningB.close({ timeoutMs: 1_000 });
        await a.close();
        await Promise.all([storeA.close(), storeB.close()]);
        await dropSchema(url, schema);
      },
    };
    return open;
  };

  it("creates a node run once when both replicas get the same create at the same moment", async () => {
    const { a, clientB } = await replicas();
    const run = await a.client.startRun({ root_node_type_ref: PLAN, input: {} });
    const root = run.root_node_run_id;
    for (let round = 0; round < 10; round++) {
      const spec = { node_type_ref: ECHO, inputs: { text: `r${round}` }, idempotency_key: `k${round}` };
      const body = { run_id: run.run_id, parent_node_run_id: root, node_runs: [spec] };
      const [x, y] = await Promise.all([a.client.createNodeRuns(body), clientB.createNodeRuns(body)]);
      expect(x.node_runs[0]!.node_run_id).toBe(y.node_runs[0]!.node_run_id);
      // The same key with another spec, at the same moment on both: one may create, the other is refused.
      const other = (text: string) => ({
        ...body,
        node_runs: [{ ...spec, idempotency_key: `other${round}`, inputs: { text } }],
      });
      const answers = await Promise.allSettled([
        a.client.createNodeRuns(other("one")),
        clientB.createNodeRuns(other("two")),
      ]);
      expect(answers.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = answers.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(ArpApiError);
      expect(refused.reason).toMatchObject({ status: 409, code: "idempotency_conflict" });
    }
    const rows = await sql<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM ${open!.schema}.arp_node_runs WHERE run_id = $1`,
      [run.run_id],
    );
    expect(Number(rows[0]!.n)).toBe(1 + 10 + 10);
  });

  it("keeps a canceled run canceled when completions come late, to either replica", async () => {
    const { a, clientB } = await replicas((f) => {
      f.atomic.behaviour = hang;
    });
    const run = await a.client.startRun({ root_node_type_ref: SLOW, input: {} });
    const root = run.root_node_run_id;
    await expect
      .poll(async () => (await clientB.getNodeRun(root)).state, { timeout: 10_000 })
      .toBe("running");
    expect((await clientB.cancelRun(run.run_id)).state).toBe("canceled");
    const late = await Promise.allSettled([
      a.client.completeNodeRun(root, { state: "succeeded", outputs: { text: "late" } }),
      clientB.completeNodeRun(root, { state: "succeeded", outputs: { text: "late" } }),
    ]);
    for (const answer of late) {
      expect(answer.status).toBe("rejected");
      expect((answer as PromiseRejectedResult).reason).toMatchObject({ status: 409, code: "node_run_ended" });
    }
    expect((await a.client.getRun(run.run_id)).state).toBe("canceled");
    expect((await clientB.getNodeRun(root)).state).toBe("canceled");
    const events = await runEvents(clientB, run.run_id);
    expect(events.at(-1)).toMatchObject({ type: "run_completed", data: { state: "canceled" } });
    expect(events.filter((e) => e.type === "run_completed")).toHaveLength(1);
  });

  it("numbers events without a gap when both replicas append at once (40 reports; checked in the table)", async () => {
    const { a, clientB } = await replicas();
    const run = await a.client.startRun({ root_node_type_ref: PLAN, input: {} });
    const root = run.root_node_run_id;
    await expect
      .poll(async () => (await a.client.getNodeRun(root)).state, { timeout: 10_000 })
      .toBe("running");
    const reports = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? a.client : clientB).reportNodeRunEvaluation(root, {
        evaluation_result: { status: "success", details: { i } },
      }),
    );
    await Promise.all(reports);
    const rows = await sql<{ seq: number; type: string }>(
      url,
      `SELECT seq, body->>'type' AS type FROM ${open!.schema}.arp_events WHERE run_id = $1 ORDER BY seq`,
      [run.run_id],
    );
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i));
    expect(rows.filter((r) => r.type === "node_evaluated")).toHaveLength(40);
    // Both replicas stream the same log.
    await a.client.completeNodeRun(root, { state: "succeeded" });
    const [viaA, viaB] = await Promise.all([runEvents(a.client, run.run_id), runEvents(clientB, run.run_id)]);
    expect(viaA).toEqual(viaB);
    expect(viaA.map((e) => e.seq)).toEqual(viaA.map((_, i) => i));
  });

  it("streams on one replica what the other appends, as it happens", async () => {
    // The recheck (the backstop for a lost notification) far off: only a notification can wake it.
    const { a, clientB } = await replicas(undefined, { recheckMs: 60_000 });
    const run = await a.client.startRun({ root_node_type_ref: PLAN, input: {} });
    const root = run.root_node_run_id;
    await expect
      .poll(async () => (await a.client.getNodeRun(root)).state, { timeout: 10_000 })
      .toBe("running");
    const seen: { event: T.RunEvent; at: number }[] = [];
    const following = (async () => {
      for await (const event of a.client.streamRunEvents(run.run_id, { idleTimeoutMs: 10_000 }))
        seen.push({ event, at: performance.now() });
    })();
    const sentAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sentAt.push(performance.now());
      await clientB.reportNodeRunEvaluation(root, {
        evaluation_result: { status: "success", details: { i } },
      });
    }
    await clientB.completeNodeRun(root, { state: "succeeded" });
    await following;
    const evaluated = seen.filter((s) => s.event.type === "node_evaluated");
    expect(evaluated).toHaveLength(5);
    // Woken by the notification, not by the recheck: each arrives long before it could run.
    const delays = evaluated.map((s, i) => s.at - sentAt[i]!);
    expect(Math.max(...delays)).toBeLessThan(10_000);
    expect(seen.at(-1)!.event.type).toBe("run_completed");
  });

  it("dispatches an orphaned node run exactly once, however many replicas sweep it", async () => {
    const { a, b } = await replicas();
    // A run whose root was created by a replica that never beat (it died at once).
    const store = a.coordinator.store;
    const runId = `orphan-${Date.now()}`;
    await commitQueuedRun(store, {
      runId,
      owner: "replica-ghost",
      created: new Date().toISOString(),
      text: "orphan",
    });
    await Promise.all([a.coordinator.sweep(), b.sweep(), a.coordinator.sweep(), b.sweep()]);
    await expect
      .poll(async () => (await a.client.getRun(runId)).state, { timeout: 10_000 })
      .toBe("succeeded");
    expect(a.atomic.executed.filter((r) => r.node_run_id === `${runId}.0`)).toHaveLength(1);
    const owner = (await store.getNodeRun(`${runId}.0`))!.owner;
    expect(["replica-a", "replica-b"]).toContain(owner);
  });

  it("fails an atomic node run whose replica died waiting for its executor (replica_lost), and ends the run", async () => {
    const { a, b, clientB } = await replicas(
      (f) => {
        f.atomic.behaviour = hang;
      },
      { leaseMs: 300 },
    );
    const run = await a.client.startRun({ root_node_type_ref: SLOW, input: {} });
    const root = run.root_node_run_id;
    await expect
      .poll(async () => (await clientB.getNodeRun(root)).state, { timeout: 10_000 })
      .toBe("running");
    await a.coordinator.stop(); // replica A is gone; its call to the executor with it
    await b.sweep();
    const ended = await clientB.getNodeRun(root);
    expect(ended.state).toBe("failed");
    const events = await runEvents(clientB, run.run_id);
    const failed = events.find((e) => e.node_run_id === root && e.data?.state === "failed");
    expect(failed?.data?.error).toMatchObject({ code: "replica_lost", details: { replica_id: "replica-a" } });
    expect(events.at(-1)).toMatchObject({ type: "run_completed", data: { state: "failed" } });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    await expect.poll(() => a.atomic.canceled, { timeout: 5_000 }).toContain(root);
  });
});
