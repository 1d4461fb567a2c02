import { ArpApiError, RunCoordinatorClient } from "@arp/client";
import type * as T from "@arp/model";
import { ArpServerError, notImplemented } from "@arp/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_EVENT_FIELD_BYTES } from "../src/coordinator/events.js";
import { Peers } from "../src/peers.js";
import { ReferenceRunCoordinator, STUCK_QUEUED_MS } from "../src/services/run-coordinator.js";
import { MemoryStore } from "../src/store/memory.js";
import {
  after,
  commitQueuedRun,
  ECHO,
  hang,
  nodeRunEvents,
  OTHER,
  PLAN,
  PLAN_SUB,
  runEvents,
  SLOW,
  type Stack,
  shape,
  startStack,
  twoEchoChildren,
} from "./run-coordinator.fakes.js";

/** For vi.waitFor: its 1 s default is too short for a loaded CI machine. */
const WAIT = { timeout: 10_000 };
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(...args: Parameters<typeof startStack>): Promise<Stack> {
  stack = await startStack(...args);
  return stack;
}

/** The ARP error a call rejects with. */
async function apiError(call: Promise<unknown>): Promise<ArpApiError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ArpApiError)) throw new Error(`expected an ArpApiError, got ${String(err)}`);
  return err;
}

function child(ref: T.NodeTypeRef, extra: Partial<T.NodeRunCreateSpec> = {}): T.NodeRunCreateSpec {
  return { node_type_ref: ref, inputs: { text: ref.node_type_id }, ...extra };
}

describe("ReferenceRunCoordinator: runs", () => {
  it("runs an atomic root: PDP, executor, outputs, and a log from run_started to run_completed", async () => {
    const s = await start();
    const client = new RunCoordinatorClient({
      baseUrl: s.urls["run-coordinator"]!,
      headers: { traceparent: TRACEPARENT },
    });
    const run = await client.startRun({ run_id: "r1", root_node_type_ref: ECHO, input: { text: "hi" } });
    expect(run).toMatchObject({ run_id: "r1", state: "running", root_node_run_id: "r1.0" });

    const events = await runEvents(client, "r1");
    expect(shape(events)).toEqual([
      ["run_started", undefined, "running"],
      ["policy_decided", undefined, undefined],
      ["policy_decided", "r1.0", undefined],
      ["node_run_assigned", "r1.0", "assigned"],
      ["node_run_assigned", "r1.0", "running"],
      ["atomic_executed", "r1.0", "succeeded"],
      ["run_completed", undefined, "succeeded"],
    ]);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events[1]!.data).toEqual({ action: "run.start", decision: "allow" });
    expect(events.at(-1)!.data).toEqual({ state: "succeeded", outputs: { text: "hi" } });
    expect(JSON.stringify(events)).not.toContain("null");

    expect(await client.getRun("r1")).toMatchObject({ state: "succeeded", ended_at: expect.any(String) });
    expect(await client.getNodeRun("r1.0")).toMatchObject({
      state: "succeeded",
      kind: "atomic",
      outputs: { text: "hi" },
      executor_binding: { executor_instance_id: "atomic-executor", endpoint: s.urls["atomic-executor"] },
    });
    expect(s.pdp.requests.map((r) => [r.action, r.node_run_id])).toEqual([
      ["run.start", undefined],
      ["node.run.execute", "r1.0"],
    ]);
    expect(s.atomic.executed).toEqual([
      { node_run_id: "r1.0", run_id: "r1", node_type_ref: ECHO, inputs: { text: "hi" } },
    ]);
    // The caller's trace reached every peer, also the calls made after startRun answered.
    expect(s.registry.traceparents).toEqual([TRACEPARENT]);
    expect(s.pdp.traceparents).toEqual([TRACEPARENT, TRACEPARENT]);
    expect(s.atomic.traceparents).toEqual([TRACEPARENT]);
  });

  it("runs a composite root whose executor creates two atomic children, evaluates and completes", async () => {
    const s = await start({}, (f) => {
      f.composite.script = twoEchoChildren;
    });
    await s.client.startRun({ run_id: "c1", root_node_type_ref: PLAN, input: {} });
    const events = await runEvents(s.client, "c1");
    expect(s.composite.failures).toEqual([]);
    expect((await s.client.getRun("c1")).state).toBe("succeeded");
    expect(events.at(-1)!.data).toEqual({ state: "succeeded", outputs: { texts: ["a", "b"] } });

    const of = (id: string) => shape(events.filter((e) => e.node_run_id === id));
    expect(of("c1.0")).toEqual([
      ["node_run_assigned", "c1.0", "assigned"],
      ["node_run_assigned", "c1.0", "running"],
      ["composite_decomposed", "c1.0", undefined],
      ["composite_decomposed", "c1.0", "succeeded"],
    ]);
    const decomposed = events.find((e) => e.type === "composite_decomposed")!;
    expect(decomposed.data).toEqual({ children: ["c1.1", "c1.2"], round: 1 });
    for (const id of ["c1.1", "c1.2"]) {
      expect(of(id)).toEqual([
        ["subtask_mapped", id, "queued"],
        ["policy_decided", id, undefined],
        ["node_run_assigned", id, "assigned"],
        ["node_run_assigned", id, "running"],
        ["atomic_executed", id, "succeeded"],
        ["node_evaluated", id, undefined],
      ]);
      expect(await s.client.getNodeRun(id)).toMatchObject({
        parent_node_run_id: "c1.0",
        state: "succeeded",
        evaluation_result: { status: "success" },
      });
    }
    expect(s.composite.begun).toEqual([
      {
        node_run_id: "c1.0",
        run_id: "c1",
        node_type_ref: PLAN,
        inputs: {},
        coordinator_endpoint: s.urls["run-coordinator"],
      },
    ]);
  });

  it("events carry the node runs' inputs and outputs: run_started, subtask_mapped, the end events", async () => {
    const s = await start({}, (f) => {
      f.composite.script = twoEchoChildren;
    });
    await s.client.startRun({ run_id: "io1", root_node_type_ref: PLAN, input: { seed: 1 } });
    const events = await runEvents(s.client, "io1");
    expect(events[0]!.data).toMatchObject({ root_node_run_id: "io1.0", inputs: { seed: 1 } });
    const mapped = events.filter((e) => e.type === "subtask_mapped");
    expect(mapped.map((e) => [e.node_run_id, e.data?.inputs])).toEqual([
      ["io1.1", { text: "a" }],
      ["io1.2", { text: "b" }],
    ]);
    const ends = events.filter((e) => e.type === "atomic_executed");
    expect(ends.map((e) => [e.node_run_id, e.data])).toEqual([
      ["io1.1", { state: "succeeded", outputs: { text: "a" } }],
      ["io1.2", { state: "succeeded", outputs: { text: "b" } }],
    ]);
    expect(events.at(-2)).toMatchObject({
      type: "composite_decomposed",
      node_run_id: "io1.0",
      data: { state: "succeeded", outputs: { texts: ["a", "b"] } },
    });
  });

  it("caps each inputs/outputs field of an event at MAX_EVENT_FIELD_BYTES; the node run keeps it all", async () => {
    const s = await start();
    // Just over the cap once serialized (`{"text":"..."}` adds 11 bytes; each é is 2 bytes of UTF-8).
    const big = { text: `${"é".repeat(MAX_EVENT_FIELD_BYTES / 2 - 5)}` };
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBe(MAX_EVENT_FIELD_BYTES + 1);
    await s.client.startRun({ run_id: "cap1", root_node_type_ref: ECHO, input: big });
    const events = await runEvents(s.client, "cap1");
    const truncated = { truncated: true, bytes };
    expect(events[0]!.data?.inputs).toEqual(truncated);
    expect(events.find((e) => e.type === "atomic_executed")!.data).toEqual({
      state: "succeeded",
      outputs: truncated,
    });
    expect(events.at(-1)!.data).toEqual({ state: "succeeded", outputs: truncated });
    expect(await s.client.getNodeRun("cap1.0")).toMatchObject({ inputs: big, outputs: big });

    // One byte less fits: the value itself.
    const fits = { text: `${"é".repeat(MAX_EVENT_FIELD_BYTES / 2 - 6)}x` };
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(MAX_EVENT_FIELD_BYTES);
    await s.client.startRun({ run_id: "cap2", root_node_type_ref: ECHO, input: fits });
    const kept = await runEvents(s.client, "cap2");
    expect(kept[0]!.data?.inputs).toEqual(fits);
    expect(kept.at(-1)!.data?.outputs).toEqual(fits);
  });

  it("streams gap-free from seq 0 while the run goes on, and ends after run_completed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = await start({}, (f) => {
      f.atomic.behaviour = async (req) => {
        await gate;
        return {
          node_run_id: req.node_run_id,
          state: "failed",
          error: { code: "boom", message: "it broke" },
        };
      };
    });
    await s.client.startRun({ run_id: "s1", root_node_type_ref: ECHO, input: {} });
    const live: T.RunEvent[] = [];
    const reading = (async () => {
      for await (const event of s.client.streamRunEvents("s1", { follow: false })) live.push(event);
    })();
    await vi.waitFor(() => expect(live.map((e) => e.type)).toContain("node_run_assigned"), WAIT);
    const nodeStream = nodeRunEvents(s.client, "s1.0");
    release();
    await reading; // one connection, to its end: the server ended it after run_completed
    expect(live.map((e) => e.seq)).toEqual(live.map((_, i) => i));
    expect(live.at(-1)).toMatchObject({
      type: "run_completed",
      data: { state: "failed", error: { code: "boom", message: "it broke" } },
    });
    const own = await nodeStream;
    expect(own.every((e) => e.node_run_id === "s1.0")).toBe(true);
    expect(own.at(-1)).toMatchObject({ type: "atomic_executed", data: { state: "failed" } });
    // A finished run replays the same log.
    expect(await runEvents(s.client, "s1")).toEqual(live);
    expect((await s.client.getRun("s1")).extensions).toEqual({
      "arp-ts.error": { code: "boom", message: "it broke" },
    });
  });

  it("answers 404 for unknown runs and node runs, also for their streams", async () => {
    const s = await start();
    expect((await apiError(s.client.getRun("nope"))).status).toBe(404);
    expect((await apiError(s.client.cancelRun("nope"))).status).toBe(404);
    expect((await apiError(s.client.getNodeRun("nope.0"))).status).toBe(404);
    expect((await apiError(runEvents(s.client, "nope"))).status).toBe(404);
    expect((await apiError(nodeRunEvents(s.client, "nope.0"))).status).toBe(404);
  });

  it("refuses a run_id that is taken, and a root node type the registry does not know", async () => {
    const s = await start();
    await s.client.startRun({ run_id: "dup", root_node_type_ref: ECHO, input: {} });
    expect(
      (await apiError(s.client.startRun({ run_id: "dup", root_node_type_ref: ECHO, input: {} }))).status,
    ).toBe(409);
    const unknown = await apiError(
      s.client.startRun({
        run_id: "u1",
        root_node_type_ref: { node_type_id: "test.none", version: "9" },
        input: {},
      }),
    );
    expect([unknown.status, unknown.code]).toEqual([400, "unknown_node_type"]);
    expect(unknown.details).toMatchObject({ node_type_ref: { node_type_id: "test.none", version: "9" } });
    expect((await apiError(s.client.getRun("u1"))).status).toBe(404);
  });

  it("answers 503 when the registry cannot be reached, and starts nothing", async () => {
    const s = await start();
    const coordinator = new ReferenceRunCoordinator({
      peers: new Peers({ urls: { ...s.urls, "node-registry": "http://127.0.0.1:1" } }),
      server: { auth: { mode: "disabled" }, logger: { warn() {}, error() {} } },
      sweepIntervalMs: 0,
    });
    const running = await coordinator.listen({ port: 0 });
    try {
      const client = new RunCoordinatorClient({ baseUrl: running.url, retry: false });
      const err = await apiError(client.startRun({ run_id: "x", root_node_type_ref: ECHO, input: {} }));
      expect([err.status, err.code, err.retryable]).toEqual([503, "unavailable", true]);
      expect((await apiError(client.getRun("x"))).status).toBe(404);
    } finally {
      await running.close();
    }
  });
});

describe("ReferenceRunCoordinator: policy", () => {
  it("answers 403 policy_denied to a denied run.start, and creates nothing", async () => {
    const s = await start({}, (f) => {
      f.pdp.decide = (r) =>
        r.action === "run.start"
          ? { decision: "deny", reason_code: "tenant_blocked" }
          : { decision: "allow" };
    });
    const err = await apiError(s.client.startRun({ run_id: "d1", root_node_type_ref: ECHO, input: {} }));
    expect([err.status, err.code]).toEqual([403, "policy_denied"]);
    expect(err.details).toEqual({ action: "run.start", decision: "deny", reason_code: "tenant_blocked" });
    expect((await apiError(s.client.getRun("d1"))).status).toBe(404);
    expect(s.atomic.executed).toEqual([]);
  });

  it("answers 403 approval_required to run.start needing approval, and creates nothing", async () => {
    const s = await start({}, (f) => {
      f.pdp.decide = () => ({ decision: "require_approval", approval_ref: { approval_id: "ap-1" } });
    });
    const err = await apiError(s.client.startRun({ run_id: "a1", root_node_type_ref: ECHO, input: {} }));
    expect([err.status, err.code]).toEqual([403, "approval_required"]);
    expect(err.details).toMatchObject({ approval_ref: { approval_id: "ap-1" } });
    expect((await apiError(s.client.getRun("a1"))).status).toBe(404);
  });

  it("fails an atomic node run the PDP will not let execute, without calling the executor", async () => {
    const s = await start({}, (f) => {
      f.pdp.decide = (r) =>
        r.action === "node.run.execute"
          ? { decision: "deny", message: "no tools today" }
          : { decision: "allow" };
    });
    await s.client.startRun({ run_id: "d2", root_node_type_ref: ECHO, input: {} });
    const events = await runEvents(s.client, "d2");
    expect(shape(events)).toEqual([
      ["run_started", undefined, "running"],
      ["policy_decided", undefined, undefined],
      ["policy_decided", "d2.0", undefined],
      ["atomic_executed", "d2.0", "failed"],
      ["run_completed", undefined, "failed"],
    ]);
    expect(events[2]!.data).toEqual({
      action: "node.run.execute",
      decision: "deny",
      message: "no tools today",
    });
    expect(events.at(-1)!.data?.error).toMatchObject({ code: "policy_denied" });
    expect(s.atomic.executed).toEqual([]);
  });
});

describe("ReferenceRunCoordinator: node runs, limits and idempotency", () => {
  /** A run whose composite root's executor does nothing: the test plays it. */
  async function composite(
    constraints?: T.ConstraintEnvelope,
    options: Parameters<typeof startStack>[0] = {},
  ) {
    const s = await start(options);
    const run = await s.client.startRun({
      run_id: "n1",
      root_node_type_ref: PLAN,
      input: {},
      ...(constraints === undefined ? {} : { constraints }),
    });
    await vi.waitFor(
      async () => expect((await s.client.getNodeRun(run.root_node_run_id)).state).toBe("running"),
      WAIT,
    );
    const create = (nodeRuns: T.NodeRunCreateSpec[], parent = run.root_node_run_id) =>
      s.client.createNodeRuns({ run_id: "n1", parent_node_run_id: parent, node_runs: nodeRuns });
    return { s, run, create };
  }

  async function violation(call: Promise<unknown>) {
    const err = await apiError(call);
    expect([err.status, err.code]).toEqual([409, "constraint_violation"]);
    return err.details;
  }

  it("max_depth: children at the limit, none below it", async () => {
    const { create } = await composite({ structural: { max_depth: 1 } });
    const [sub] = (await create([child(PLAN_SUB)])).node_runs;
    expect(sub).toMatchObject({ node_run_id: "n1.1", parent_node_run_id: "n1.0", kind: "composite" });
    await vi.waitFor(
      async () => expect((await stack!.client.getNodeRun("n1.1")).state).toBe("running"),
      WAIT,
    );
    expect(await violation(create([child(ECHO)], "n1.1"))).toMatchObject({
      constraint: "structural.max_depth",
      limit: 1,
      source: "constraints",
      actual: 2,
    });
  });

  it("max_children_per_composite counts every batch", async () => {
    const { create } = await composite({ structural: { max_children_per_composite: 2 } });
    expect(await violation(create([child(ECHO), child(ECHO), child(ECHO)]))).toMatchObject({
      constraint: "structural.max_children_per_composite",
      limit: 2,
    });
    await create([child(ECHO), child(ECHO)]);
    await violation(create([child(ECHO)]));
  });

  it("max_total_nodes_per_run counts the root, and holds under concurrent creates", async () => {
    const { s, create } = await composite({ structural: { max_total_nodes_per_run: 3 } });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => create([child(SLOW)])));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as ArpApiError).code).toBe("constraint_violation");
    }
    expect((await s.coordinator.store.listNodeRuns("n1")).map((n) => n.node_run.node_run_id)).toEqual([
      "n1.0",
      "n1.1",
      "n1.2",
    ]);
  });

  it("max_decomposition_rounds_per_node counts the createNodeRuns calls that create something", async () => {
    const { create } = await composite({ structural: { max_decomposition_rounds_per_node: 1 } });
    await create([child(ECHO, { idempotency_key: "k" }), child(ECHO)]);
    await create([child(ECHO, { idempotency_key: "k" })]); // a retry creates nothing: no new round
    expect(await violation(create([child(ECHO)]))).toMatchObject({
      constraint: "structural.max_decomposition_rounds_per_node",
      limit: 1,
      actual: 2,
    });
  });

  it("the coordinator's own ceilings apply when the constraints say nothing (or more)", async () => {
    const { create } = await composite(
      { structural: { max_children_per_composite: 50 } },
      { limits: { maxChildrenPerComposite: 1 } },
    );
    expect(await violation(create([child(ECHO), child(ECHO)]))).toMatchObject({
      constraint: "structural.max_children_per_composite",
      limit: 1,
      source: "coordinator",
    });
  });

  it("enforces denied_node_type_ids and allowed_node_type_ids at creation (not on the root)", async () => {
    const { create } = await composite({
      candidates: {
        allowed_node_type_ids: [ECHO.node_type_id, OTHER.node_type_id],
        denied_node_type_ids: [OTHER.node_type_id],
      },
    });
    expect(await violation(create([child(ECHO), child(OTHER)]))).toEqual({
      constraint: "candidates.denied_node_type_ids",
      node_type_id: OTHER.node_type_id,
      index: 1,
    });
    expect(await violation(create([child(SLOW)]))).toMatchObject({
      constraint: "candidates.allowed_node_type_ids",
    });
    expect((await create([child(ECHO)])).node_runs).toHaveLength(1);
  });

  it("a child's own constraints bind its subtree: its denied list applies under it", async () => {
    const { create } = await composite();
    await create([
      child(PLAN_SUB, { constraints: { candidates: { denied_node_type_ids: [ECHO.node_type_id] } } }),
    ]);
    await vi.waitFor(
      async () => expect((await stack!.client.getNodeRun("n1.1")).state).toBe("running"),
      WAIT,
    );
    await violation(create([child(ECHO)], "n1.1"));
    await create([child(ECHO)]); // not under n1.1: allowed
  });

  it("the same idempotency_key and spec answer the same node run; another spec is a 409", async () => {
    const { s, create } = await composite();
    const first = (await create([child(ECHO, { idempotency_key: "k1" })])).node_runs[0]!;
    const again = (await create([child(ECHO, { idempotency_key: "k1" })])).node_runs[0]!;
    expect(again.node_run_id).toBe(first.node_run_id);
    const err = await apiError(create([child(ECHO, { idempotency_key: "k1", inputs: { text: "other" } })]));
    expect([err.status, err.code]).toEqual([409, "idempotency_conflict"]);
    expect(err.details).toMatchObject({ idempotency_key: "k1", node_run_id: first.node_run_id });
    // One request naming a key twice: the same spec is one node run, another spec a 409.
    const twice = (
      await create([child(ECHO, { idempotency_key: "k2" }), child(ECHO, { idempotency_key: "k2" })])
    ).node_runs;
    expect(twice[0]!.node_run_id).toBe(twice[1]!.node_run_id);
    expect(
      (
        await apiError(
          create([child(ECHO, { idempotency_key: "k3" }), child(OTHER, { idempotency_key: "k3" })]),
        )
      ).code,
    ).toBe("idempotency_conflict");
    const nodeRuns = await s.coordinator.store.listNodeRuns("n1");
    expect(nodeRuns).toHaveLength(3); // root, k1, k2
    await vi.waitFor(
      () => expect(s.atomic.executed.map((e) => e.node_run_id).sort()).toEqual(["n1.1", "n1.2"]),
      WAIT,
    );
  });

  it("refuses children under an atomic node run, an ended one, an unknown one, or in another run", async () => {
    const { s, create } = await composite();
    const [atomic] = (await create([child(ECHO)])).node_runs;
    await vi.waitFor(
      async () => expect((await s.client.getNodeRun(atomic!.node_run_id)).state).toBe("succeeded"),
      WAIT,
    );
    expect((await apiError(create([child(ECHO)], atomic!.node_run_id))).code).toBe("not_composite");
    expect((await apiError(create([child(ECHO)], "n1.99"))).status).toBe(404);
    const unknown = await apiError(create([child({ node_type_id: "test.none", version: "1" })]));
    expect([unknown.status, unknown.code]).toEqual([400, "unknown_node_type"]);
    expect(unknown.details).toMatchObject({ pointer: "/node_runs/0/node_type_ref" });
    await s.client.startRun({ run_id: "n2", root_node_type_ref: PLAN, input: {} });
    expect(
      (
        await apiError(
          s.client.createNodeRuns({ run_id: "n2", parent_node_run_id: "n1.0", node_runs: [child(ECHO)] }),
        )
      ).status,
    ).toBe(404);
  });

  it("records evaluations and recovery actions; completes idempotently; a second, other state is a 409", async () => {
    const { s, run, create } = await composite();
    const [c] = (await create([child(ECHO)])).node_runs;
    await s.client.reportNodeRunEvaluation(c!.node_run_id, {
      evaluation_result: { status: "fail", reason_code: "too_short", confidence: 0.5 },
      recovery_action: { type: "retry", target_node_run_id: c!.node_run_id },
    });
    expect(await s.client.getNodeRun(c!.node_run_id)).toMatchObject({
      evaluation_result: { status: "fail", reason_code: "too_short", confidence: 0.5 },
      recovery_actions: [{ type: "retry", target_node_run_id: c!.node_run_id }],
    });
    await s.client.completeNodeRun(run.root_node_run_id, { state: "succeeded", outputs: { ok: true } });
    await s.client.completeNodeRun(run.root_node_run_id, { state: "succeeded" }); // a retry: 204
    const err = await apiError(s.client.completeNodeRun(run.root_node_run_id, { state: "failed" }));
    expect([err.status, err.code]).toEqual([409, "node_run_ended"]);
    const events = await runEvents(s.client, "n1");
    expect(events.find((e) => e.type === "node_evaluated")?.data).toEqual({
      status: "fail",
      reason_code: "too_short",
      confidence: 0.5,
      recovery_action: { type: "retry", target_node_run_id: c!.node_run_id },
    });
    expect(events.at(-1)!.data).toEqual({ state: "succeeded", outputs: { ok: true } });
    // The log is closed: nothing is recorded after run_completed.
    expect(
      (
        await apiError(
          s.client.reportNodeRunEvaluation(c!.node_run_id, { evaluation_result: { status: "success" } }),
        )
      ).code,
    ).toBe("run_ended");
    expect((await apiError(create([child(ECHO)]))).code).toBe("run_ended");
  });

  it("bounds the evaluations kept per node run", async () => {
    const { s, run } = await composite(undefined, { limits: { maxEvaluationsPerNodeRun: 2 } });
    const report = () =>
      s.client.reportNodeRunEvaluation(run.root_node_run_id, { evaluation_result: { status: "unknown" } });
    await report();
    await report();
    expect((await apiError(report())).code).toBe("constraint_violation");
  });

  it("completing a composite with children still going cancels them first (and tells their executor)", async () => {
    const s = await start({}, (f) => {
      f.atomic.behaviour = hang;
    });
    const run = await s.client.startRun({ run_id: "k1", root_node_type_ref: PLAN, input: {} });
    await vi.waitFor(async () => expect((await s.client.getNodeRun("k1.0")).state).toBe("running"), WAIT);
    await s.client.createNodeRuns({ run_id: "k1", parent_node_run_id: "k1.0", node_runs: [child(SLOW)] });
    await vi.waitFor(() => expect(s.atomic.executed).toHaveLength(1), WAIT);
    await s.client.completeNodeRun(run.root_node_run_id, { state: "succeeded" });
    const rootStream = await nodeRunEvents(s.client, "k1.0");
    expect(shape(rootStream).slice(-2)).toEqual([
      ["atomic_executed", "k1.1", "canceled"],
      ["composite_decomposed", "k1.0", "succeeded"],
    ]);
    await vi.waitFor(() => expect(s.atomic.canceled).toEqual(["k1.1"]), WAIT);
    expect(s.composite.canceled).toEqual([]); // its own completion: nobody to tell
    expect((await s.client.getRun("k1")).state).toBe("succeeded");
  });
});

describe("ReferenceRunCoordinator: cancellation and deadlines", () => {
  it("cancelRun cancels every node run that is not done, tells both executors, and stays canceled", async () => {
    const s = await start({}, (f) => {
      f.atomic.behaviour = hang;
    });
    await s.client.startRun({ run_id: "x1", root_node_type_ref: PLAN, input: {} });
    await vi.waitFor(async () => expect((await s.client.getNodeRun("x1.0")).state).toBe("running"), WAIT);
    await s.client.createNodeRuns({
      run_id: "x1",
      parent_node_run_id: "x1.0",
      node_runs: [child(SLOW), child(SLOW)],
    });
    await vi.waitFor(() => expect(s.atomic.executed).toHaveLength(2), WAIT);
    await s.client.completeNodeRun("x1.2", { state: "succeeded" }); // one child done before the cancel

    expect((await s.client.cancelRun("x1")).state).toBe("canceled");
    const events = await runEvents(s.client, "x1");
    expect(shape(events).slice(-3)).toEqual([
      ["atomic_executed", "x1.1", "canceled"],
      ["composite_decomposed", "x1.0", "canceled"],
      ["run_completed", undefined, "canceled"],
    ]);
    expect((await s.client.getNodeRun("x1.1")).state).toBe("canceled");
    expect((await s.client.getNodeRun("x1.2")).state).toBe("succeeded");
    await vi.waitFor(() => {
      expect(s.atomic.canceled.sort()).toEqual(["x1.1", "x1.2"]); // x1.2: completed here, so its executor was stopped then
      expect(s.composite.canceled).toEqual(["x1.0"]);
      expect(s.atomic.aborted.sort()).toEqual(["x1.1", "x1.2"]);
    }, WAIT);
    // Canceled stays canceled.
    expect((await s.client.cancelRun("x1")).state).toBe("canceled");
    expect((await apiError(s.client.completeNodeRun("x1.0", { state: "succeeded" }))).code).toBe(
      "node_run_ended",
    );
    expect((await s.client.getRun("x1")).state).toBe("canceled");
    expect(await runEvents(s.client, "x1")).toEqual(events);
  });

  it("ignores executors that do not implement cancel (501)", async () => {
    const s = await start({}, (f) => {
      f.atomic.behaviour = hang;
      f.atomic.cancelAtomicNodeRun = (req) => {
        f.atomic.canceled.push(req.params.node_run_id);
        throw notImplemented("no cancel here");
      };
      f.composite.cancelCompositeNodeRun = (req) => {
        f.composite.canceled.push(req.params.node_run_id);
        throw notImplemented("no cancel here");
      };
    });
    await s.client.startRun({ run_id: "x2", root_node_type_ref: PLAN, input: {} });
    await vi.waitFor(async () => expect((await s.client.getNodeRun("x2.0")).state).toBe("running"), WAIT);
    await s.client.createNodeRuns({ run_id: "x2", parent_node_run_id: "x2.0", node_runs: [child(SLOW)] });
    await vi.waitFor(() => expect(s.atomic.executed).toHaveLength(1), WAIT);
    expect((await s.client.cancelRun("x2")).state).toBe("canceled");
    await s.coordinator.settled();
    expect([s.atomic.canceled, s.composite.canceled]).toEqual([["x2.1"], ["x2.0"]]);
    expect((await s.client.getNodeRun("x2.1")).state).toBe("canceled");
    expect((await s.client.getRun("x2")).state).toBe("canceled");
  });

  it("fails an atomic node run whose executor does not answer within executorTimeoutMs", async () => {
    const s = await start({ executorTimeoutMs: 300 }, (f) => {
      f.atomic.behaviour = hang;
    });
    const started = Date.now();
    await s.client.startRun({ run_id: "t1", root_node_type_ref: ECHO, input: {} });
    const events = await runEvents(s.client, "t1");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(events.at(-2)).toMatchObject({
      type: "atomic_executed",
      node_run_id: "t1.0",
      data: { state: "failed" },
    });
    expect(events.at(-1)!.data).toMatchObject({
      state: "failed",
      error: { code: "executor_timeout", details: { timeout_ms: 300, source: "default" } },
    });
    await vi.waitFor(() => expect(s.atomic.canceled).toEqual(["t1.0"]), WAIT);
    expect(s.atomic.aborted).toEqual(["t1.0"]);
  });

  it("a node type's own max_wall_time_ms is its executor's deadline", async () => {
    const s = await start({}, (f) => {
      f.atomic.behaviour = hang;
      f.registry.add({ ...SLOW, kind: "atomic", constraints: { budgets: { max_wall_time_ms: 200 } } });
    });
    await s.client.startRun({ run_id: "t2", root_node_type_ref: SLOW, input: {} });
    const events = await runEvents(s.client, "t2");
    expect(events.at(-1)!.data?.error).toMatchObject({
      code: "executor_timeout",
      details: { timeout_ms: 200, source: "max_wall_time_ms" },
    });
  });

  it("fails a composite whose executor never calls back, but not while a child of it is going", async () => {
    // Wide enough that a loaded CI machine still creates the child before the idle deadline.
    const s = await start({ compositeIdleTimeoutMs: 5_000 }, (f) => {
      f.atomic.byType.set(SLOW.node_type_id, after(6_000));
      f.registry.add({ ...SLOW, kind: "atomic", constraints: { budgets: { max_wall_time_ms: 15_000 } } });
    });
    // Never called back: failed after 5 s.
    await s.client.startRun({ run_id: "t3", root_node_type_ref: PLAN, input: {} });
    const idle = await runEvents(s.client, "t3");
    expect(idle.at(-1)!.data?.error).toMatchObject({ code: "executor_timeout" });
    await vi.waitFor(() => expect(s.composite.canceled).toEqual(["t3.0"]), WAIT);

    // A child that takes 6 s (longer than the idle limit): its parent waits for it, then has 5 s more to complete.
    await s.client.startRun({ run_id: "t4", root_node_type_ref: PLAN, input: {} });
    await vi.waitFor(async () => expect((await s.client.getNodeRun("t4.0")).state).toBe("running"), WAIT);
    await s.client.createNodeRuns({ run_id: "t4", parent_node_run_id: "t4.0", node_runs: [child(SLOW)] });
    for await (const _ of s.client.streamNodeRunEvents("t4.1")) {
      // until the child ends, 6 s after the parent's last call
    }
    await s.client.completeNodeRun("t4.0", { state: "succeeded" }); // a 409 if it had timed out
    expect((await s.client.getNodeRun("t4.1")).state).toBe("succeeded");
    expect((await s.client.getRun("t4")).state).toBe("succeeded");
  });

  it("a run's budgets.max_wall_time_ms fails the run when it runs out", async () => {
    const s = await start({}, (f) => {
      f.atomic.behaviour = hang;
    });
    await s.client.startRun({
      run_id: "w1",
      root_node_type_ref: ECHO,
      input: {},
      constraints: { budgets: { max_wall_time_ms: 250 } },
    });
    const events = await runEvents(s.client, "w1");
    expect(events.at(-1)!.data).toMatchObject({
      state: "failed",
      error: { code: "wall_time_exceeded", details: { max_wall_time_ms: 250 } },
    });
    expect((await s.client.getRun("w1")).state).toBe("failed");
    await vi.waitFor(() => expect(s.atomic.canceled).toEqual(["w1.0"]), WAIT);
  });

  it("a sweep ends what another replica left overdue", async () => {
    const s = await start({ executorTimeoutMs: 200 }, (f) => {
      f.atomic.behaviour = hang;
    });
    // A second replica on the same store, whose timers are off (as if it had crashed).
    const replica = new ReferenceRunCoordinator({
      peers: new Peers({ urls: s.urls }),
      store: s.coordinator.store,
      executorTimeoutMs: 200,
      server: { auth: { mode: "disabled" }, logger: { warn() {}, error() {} } },
      sweepIntervalMs: 0,
    });
    const running = await replica.listen({ port: 0 });
    try {
      const client = new RunCoordinatorClient({ baseUrl: running.url, retry: false });
      await client.startRun({ run_id: "sw", root_node_type_ref: ECHO, input: {} });
      await vi.waitFor(() => expect(s.atomic.executed).toHaveLength(1), WAIT);
      await replica.stop(); // its timer for sw.0 is gone, its call aborted
      await new Promise((r) => setTimeout(r, 250));
      expect((await s.client.getNodeRun("sw.0")).state).toBe("running");
      await s.coordinator.sweep();
      expect((await s.client.getRun("sw")).state).toBe("failed");
    } finally {
      await running.close();
    }
  });
});

describe("ReferenceRunCoordinator: a store that cannot be reached for a while", () => {
  /** A memory store whose commits fail 503 `store_unavailable` while `away` is set. */
  class FlakyStore extends MemoryStore {
    away = false;
    refused = 0;
    /** Changes to apply, then answer 503 for, as a connection cut at the commit would. */
    loseAnswers = 0;
    override async commit(change: Parameters<MemoryStore["commit"]>[0]) {
      const away = () =>
        new ArpServerError({ status: 503, code: "store_unavailable", message: "away", retryable: true });
      if (this.away) {
        this.refused += 1;
        throw away();
      }
      const result = await super.commit(change);
      if (this.loseAnswers > 0 && result.ok && change.create_run === undefined) {
        this.loseAnswers -= 1;
        throw away();
      }
      return result;
    }
  }

  it("goes on after a change whose answer was lost: it reads back that the change was applied", async () => {
    const store = new FlakyStore();
    const { client, atomic } = await start({ store });
    store.loseAnswers = 2; // not the run's creation: its root's dispatch, then its end
    const run = await client.startRun({ root_node_type_ref: ECHO, input: { text: "lost" } });
    const events = await runEvents(client, run.run_id);
    expect(events.at(-1)).toMatchObject({ type: "run_completed", data: { state: "succeeded" } });
    expect(atomic.executed.filter((r) => r.node_run_id === run.root_node_run_id)).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(store.loseAnswers).toBe(0);
  });

  it("records an executor's answer once the store is back; requests meanwhile answer 503", async () => {
    const store = new FlakyStore();
    const { client, atomic } = await start({ store }, (fakes) => {
      fakes.atomic.behaviour = after(300);
    });
    const run = await client.startRun({ root_node_type_ref: ECHO, input: { text: "patient" } });
    await vi.waitFor(() => expect(atomic.executed).toHaveLength(1), WAIT);
    store.away = true; // the executor answers while the store is away
    const refused = await apiError(
      client.reportNodeRunEvaluation(run.root_node_run_id, { evaluation_result: { status: "success" } }),
    );
    expect(refused).toMatchObject({ status: 503, code: "store_unavailable", retryable: true });
    await vi.waitFor(() => expect(store.refused).toBeGreaterThan(2), { timeout: 5_000 });
    store.away = false;
    const events = await runEvents(client, run.run_id);
    expect(events.at(-1)).toMatchObject({ type: "run_completed", data: { state: "succeeded" } });
    expect((await client.getNodeRun(run.root_node_run_id)).outputs).toEqual({ text: "patient" });
  });

  it("gives up after storeOutageMs: the work fails, logged, nothing hangs", async () => {
    const store = new FlakyStore();
    const { client, atomic, coordinator } = await start({ store, storeOutageMs: 300 }, (fakes) => {
      fakes.atomic.behaviour = after(100);
    });
    const run = await client.startRun({ root_node_type_ref: ECHO, input: { text: "x" } });
    await vi.waitFor(() => expect(atomic.executed).toHaveLength(1), WAIT);
    store.away = true;
    const started = performance.now();
    await coordinator.settled();
    expect(performance.now() - started).toBeLessThan(15_000); // not forever: it gave up
    store.away = false;
    expect((await client.getNodeRun(run.root_node_run_id)).state).toBe("running"); // left to its deadline
  });
});

describe("ReferenceRunCoordinator: a node run whose dispatch never happened", () => {
  it("is dispatched, once, by a sweep once it has been queued STUCK_QUEUED_MS, even its own", async () => {
    const { client, atomic, coordinator } = await start();
    // As the change that created it would leave it had its answer been lost: queued, owned by this
    // (live) replica, never sent.
    const runId = `stuck-${Date.now()}`;
    const created = new Date(Date.now() - STUCK_QUEUED_MS - 1_000).toISOString();
    await commitQueuedRun(coordinator.store, { runId, owner: coordinator.replicaId, created, text: "stuck" });
    await Promise.all([coordinator.sweep(), coordinator.sweep()]);
    const events = await runEvents(client, runId);
    expect(events.at(-1)).toMatchObject({ type: "run_completed", data: { state: "succeeded" } });
    expect(atomic.executed.filter((r) => r.node_run_id === `${runId}.0`)).toHaveLength(1);
    // A fresh queued node run (one being dispatched right now) is left alone.
    const fresh = await client.startRun({ root_node_type_ref: ECHO, input: { text: "fresh" } });
    await coordinator.sweep();
    await runEvents(client, fresh.run_id);
    expect(atomic.executed.filter((r) => r.node_run_id === fresh.root_node_run_id)).toHaveLength(1);
  });
});
