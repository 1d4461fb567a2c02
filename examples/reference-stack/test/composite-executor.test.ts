import { ArpApiError, CompositeExecutorClient } from "@arp/client";
import type * as T from "@arp/model";
import { validate } from "@arp/model";
import type { Logger, RunningServer } from "@arp/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COMPOSITE_NODE_TYPES } from "../src/catalog/composite.js";
import { planComposite } from "../src/composite/plan.js";
import { saysLive } from "../src/composite/watch.js";
import { Peers } from "../src/peers.js";
import { ReferenceCompositeExecutor } from "../src/services/composite-executor.js";
import { ReferenceSelection } from "../src/services/selection.js";
import { FakeCoordinator, ref } from "./composite-executor.fakes.js";
import { atomic, startRegistry } from "./selection.fakes.js";
import { checkDeep } from "./support/conformance.js";

const PIPELINE = ref("arp.ref.pipeline");
const PARALLEL = ref("arp.ref.parallel");
const step = (id: string, inputs?: Record<string, unknown>) => ({
  node_type: ref(id),
  ...(inputs === undefined ? {} : { inputs }),
});

/** Collects what the executor logs, so a test can read it and nothing is printed. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m, d) => lines.push(`warn ${m} ${JSON.stringify(d)}`),
    error: (m, d) => lines.push(`error ${m} ${JSON.stringify(d)}`),
    debug: (m, d) => lines.push(`debug ${m} ${JSON.stringify(d)}`),
  };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const servers: RunningServer[] = [];
const executors: ReferenceCompositeExecutor[] = [];

/** A composite executor and a fake coordinator that hands composite children back to it. */
async function stack(
  options: {
    selectionUrl?: string;
    streams?: boolean;
    pollIntervalMs?: number;
    token?: () => string;
    maxActive?: number;
    callTimeoutMs?: number;
  } = {},
) {
  const logger = recordingLogger();
  const executor = new ReferenceCompositeExecutor({
    peers: new Peers({ urls: options.selectionUrl === undefined ? {} : { selection: options.selectionUrl } }),
    server: { auth: { mode: "disabled" }, logger },
    // No polling unless a test asks: progress must come from the node-run stream's wake-ups.
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.maxActive === undefined ? {} : { maxActive: options.maxActive }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
  });
  executors.push(executor);
  const running = await executor.listen({ port: 0 });
  servers.push(running);
  const coordinator = new FakeCoordinator({
    compositeUrl: running.url,
    ...(options.streams === undefined ? {} : { streams: options.streams }),
  });
  servers.push(await coordinator.start());
  return {
    executor,
    coordinator,
    logger,
    url: running.url,
    client: new CompositeExecutorClient({ baseUrl: running.url }),
  };
}

afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close({ timeoutMs: 1_000 })));
});

describe("ChildWatch", () => {
  it("wakes a child's waiter for every event naming it, except those that say it is still going (a state, an allow)", () => {
    const event = (type: T.RunEventType, data?: Record<string, unknown>): T.RunEvent => ({
      run_id: "r",
      seq: 1,
      type,
      time: "2026-01-01T00:00:00Z",
      node_run_id: "r.1",
      ...(data === undefined ? {} : { data }),
    });
    for (const state of ["queued", "assigned", "running"])
      expect(saysLive(event("node_run_assigned", { state }))).toBe(true);
    for (const state of ["succeeded", "failed", "canceled", "anything else", 3])
      expect(saysLive(event("atomic_executed", { state }))).toBe(false);
    expect(saysLive(event("policy_decided", { decision: "allow" }))).toBe(true);
    expect(saysLive(event("policy_decided", { decision: "deny" }))).toBe(false);
    expect(saysLive(event("node_evaluated"))).toBe(false);
  });
});

describe("composite node types", () => {
  it("are valid NodeTypes with input and output schemas", () => {
    expect(COMPOSITE_NODE_TYPES.map((n) => n.node_type_id)).toEqual(["arp.ref.pipeline", "arp.ref.parallel"]);
    for (const nodeType of COMPOSITE_NODE_TYPES) {
      expect(validate("NodeType", nodeType).ok).toBe(true);
      expect(nodeType).toMatchObject({ kind: "composite", version: "1.0.0" });
      expect(nodeType.input_schema).toBeTypeOf("object");
      expect(nodeType.output_schema).toBeTypeOf("object");
    }
  });

  it("seed: `input` merged over the other keys, without the step list", () => {
    const planned = planComposite({
      node_run_id: "n",
      run_id: "r",
      node_type_ref: PIPELINE,
      inputs: { steps: [step("test.echo")], text: "outer", other: 1, input: { text: "inner" } },
      coordinator_endpoint: "http://127.0.0.1:1",
    });
    expect(planned).toMatchObject({
      ok: true,
      plan: { kind: "pipeline", seed: { text: "inner", other: 1 } },
    });
  });
});

describe("ReferenceCompositeExecutor", () => {
  it("pipeline: runs steps in order, feeding each step's outputs (merged with its own inputs) to the next", async () => {
    const { coordinator } = await stack();
    const { nodeRunId, response } = await coordinator.beginComposite(PIPELINE, {
      // The first step's own `text` wins over the seed's; the others get the previous outputs.
      steps: [step("test.echo", { text: "hello" }), step("test.upper"), step("test.concat", { suffix: "!" })],
      input: { text: "overridden", lang: "en" },
    });
    expect(response).toEqual({ accepted: true });
    const done = await coordinator.terminal(nodeRunId);
    expect(done.state).toBe("succeeded");
    expect(coordinator.completions.get(nodeRunId)).toEqual({
      state: "succeeded",
      outputs: { text: "HELLO!" },
    });

    const children = coordinator.childrenOf(nodeRunId);
    expect(children.map((c) => c.node_type_ref.node_type_id)).toEqual([
      "test.echo",
      "test.upper",
      "test.concat",
    ]);
    expect(children.map((c) => c.inputs)).toEqual([
      { text: "hello", lang: "en" },
      { text: "hello" },
      { text: "HELLO", suffix: "!" },
    ]);
    // One create per step, in order, each keyed by the node run and the step index.
    expect(coordinator.creates.map((c) => c.body.node_runs.map((n) => n.idempotency_key))).toEqual([
      [`${nodeRunId}:step:0`],
      [`${nodeRunId}:step:1`],
      [`${nodeRunId}:step:2`],
    ]);
    expect(coordinator.evaluations).toEqual(
      children.map((c) => ({
        nodeRunId: c.node_run_id,
        result: expect.objectContaining({ status: "success" }),
      })),
    );
  });

  it("parallel: fans all branches out in one create and gives their outputs in branch order", async () => {
    const { coordinator } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PARALLEL, {
      branches: [step("test.slow", { ms: 150, text: "first" }), step("test.upper"), step("test.echo")],
      input: { text: "abc" },
    });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toEqual({
      state: "succeeded",
      outputs: { results: [{ text: "first" }, { text: "ABC" }, { text: "abc" }] },
    });
    expect(coordinator.creates).toHaveLength(1);
    expect(coordinator.creates[0]!.body.node_runs.map((n) => n.idempotency_key)).toEqual([
      `${nodeRunId}:branch:0`,
      `${nodeRunId}:branch:1`,
      `${nodeRunId}:branch:2`,
    ]);
    expect(coordinator.evaluations).toHaveLength(3);
  });

  it("pipeline: fails as soon as a step fails, and creates no further step", async () => {
    const { coordinator } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [step("test.echo"), step("test.fail"), step("test.upper")],
      input: { text: "x" },
    });
    await coordinator.terminal(nodeRunId);
    const completion = coordinator.completions.get(nodeRunId)!;
    expect(completion.state).toBe("failed");
    expect(completion.error).toMatchObject({ code: "step_failed", details: { step: 1, state: "failed" } });
    expect(completion.error!.message).toMatch(/^step 1 \(test\.fail@1\.0\.0, node run nr_\d+\) ended failed/);
    expect(completion.outputs).toBeUndefined();
    expect(coordinator.childrenOf(nodeRunId)).toHaveLength(2);
    expect(coordinator.evaluations.map((e) => e.result.status)).toEqual(["success", "fail"]);
  });

  it("parallel: waits for every branch, then fails naming the branches that failed", async () => {
    const { coordinator } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PARALLEL, {
      branches: [step("test.fail"), step("test.slow", { ms: 150 }), step("test.fail")],
      input: { text: "x" },
    });
    await coordinator.terminal(nodeRunId);
    const completion = coordinator.completions.get(nodeRunId)!;
    expect(completion).toMatchObject({ state: "failed", error: { code: "branch_failed" } });
    expect(completion.error!.details!.failed_branches).toEqual([
      expect.objectContaining({ branch: 0, state: "failed" }),
      expect.objectContaining({ branch: 2, state: "failed" }),
    ]);
    // The slow branch was not abandoned: it ended and was evaluated before the composite failed.
    expect(coordinator.childrenOf(nodeRunId).map((c) => c.state)).toEqual(["failed", "succeeded", "failed"]);
    expect(coordinator.evaluations).toHaveLength(3);
  });

  it("nesting: a step that is itself a composite is fed the previous outputs", async () => {
    const { coordinator } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [
        step("test.echo"),
        {
          node_type: PARALLEL,
          inputs: { branches: [step("test.upper"), step("test.concat", { suffix: "?" })] },
        },
      ],
      input: { text: "nest" },
    });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toEqual({
      state: "succeeded",
      outputs: { results: [{ text: "NEST" }, { text: "nest?" }] },
    });
    const inner = coordinator.childrenOf(nodeRunId)[1]!;
    expect(inner.kind).toBe("composite");
    expect(coordinator.childrenOf(inner.node_run_id)).toHaveLength(2);
  });

  it("goal steps: the Selection service's best candidate runs, its candidate set recorded on the child", async () => {
    const { registry, running } = await startRegistry([
      atomic("test.echo", "Echoes the text unchanged"),
      atomic("test.upper", "Turns the text into upper case letters"),
      atomic("test.concat", "Appends a suffix to the text"),
    ]);
    servers.push(running);
    const selection = new ReferenceSelection({
      peers: new Peers({ urls: { "node-registry": running.url } }),
    });
    const selectionServer = await selection.listen({ port: 0 });
    servers.push(selectionServer);
    const { coordinator } = await stack({ selectionUrl: selectionServer.url });

    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [{ goal: "Make the text upper case" }, { goal: "append a suffix", inputs: { suffix: "." } }],
      input: { text: "goal" },
    });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toEqual({
      state: "succeeded",
      outputs: { text: "GOAL." },
    });
    const specs = coordinator.creates.map((c) => c.body.node_runs[0]!);
    expect(specs.map((s) => s.node_type_ref.node_type_id)).toEqual(["test.upper", "test.concat"]);
    for (const [index, spec] of specs.entries()) {
      expect(spec.candidate_set_id).toMatch(/^cs_/);
      expect(spec.binding_decision).toMatchObject({
        subtask_id: `${nodeRunId}:step:${index}`,
        candidate_set_id: spec.candidate_set_id,
        chosen_node_type_ref: spec.node_type_ref,
      });
    }
    expect(registry.listCalls).toBe(1); // the inventory was reused within its TTL
  });

  it("goal steps: no candidate fails the node run with no_candidate", async () => {
    const { running } = await startRegistry([atomic("test.echo", "Echoes the text")]);
    servers.push(running);
    const selection = new ReferenceSelection({
      peers: new Peers({ urls: { "node-registry": running.url } }),
    });
    const selectionServer = await selection.listen({ port: 0 });
    servers.push(selectionServer);
    const { coordinator } = await stack({ selectionUrl: selectionServer.url });
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [{ goal: "translate into Klingon" }],
    });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toMatchObject({
      state: "failed",
      error: { code: "no_candidate" },
    });
    expect(coordinator.creates).toHaveLength(0);
  });

  it("goal steps without a Selection service fail with selection_failed, not a crash", async () => {
    const { coordinator } = await stack(); // no selection URL at all
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, { steps: [{ goal: "anything" }] });
    await coordinator.terminal(nodeRunId);
    const completion = coordinator.completions.get(nodeRunId)!;
    expect(completion).toMatchObject({ state: "failed", error: { code: "selection_failed" } });
    expect(completion.error!.message).toContain("no URL for the selection service");
  });

  it("cancel mid-flight: stops the work (no further child, no completion) and answers 204; unknown ids 404", async () => {
    const { coordinator, client, executor } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [step("test.hang"), step("test.echo")],
    });
    await until(() => coordinator.childrenOf(nodeRunId).length === 1);
    expect(executor.active).toBe(1);
    await client.cancelCompositeNodeRun(nodeRunId);
    await until(() => executor.active === 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(coordinator.childrenOf(nodeRunId)).toHaveLength(1);
    expect(coordinator.completions.has(nodeRunId)).toBe(false);
    await client.cancelCompositeNodeRun(nodeRunId); // again, after the end: still 204
    const unknown = await client.cancelCompositeNodeRun("nr_unknown").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ArpApiError);
    expect((unknown as ArpApiError).status).toBe(404);
  });

  it("a composite canceled through the coordinator (its stream ends) stops without completing", async () => {
    const { coordinator, executor } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PARALLEL, {
      branches: [step("test.hang"), step("test.hang")],
    });
    await until(() => coordinator.childrenOf(nodeRunId).length === 2);
    await coordinator.cancelSubtree(nodeRunId);
    await until(() => executor.active === 0);
    expect(coordinator.completions.has(nodeRunId)).toBe(false);
  });

  it("a repeated begin or a second executor cannot duplicate children (idempotency keys)", async () => {
    const { coordinator, url, executor } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [step("test.slow", { ms: 300, text: "once" })],
    });
    const repeat = coordinator.begins[0]!.request;
    const client = new CompositeExecutorClient({ baseUrl: url });
    expect(await client.beginCompositeNodeRun(repeat)).toMatchObject({ accepted: true });
    // A second executor (a restart, a failover) given the same assignment.
    const second = await stack();
    expect(await second.client.beginCompositeNodeRun(repeat)).toEqual({ accepted: true });
    await coordinator.terminal(nodeRunId);
    await until(() => executor.active === 0 && second.executor.active === 0);
    expect(coordinator.creates.length).toBeGreaterThanOrEqual(2);
    expect(coordinator.childrenOf(nodeRunId)).toHaveLength(1);
    expect(coordinator.completions.get(nodeRunId)).toEqual({ state: "succeeded", outputs: { text: "once" } });
    // Once done, the same id is not carried out again by the executor that ran it.
    expect(await client.beginCompositeNodeRun(repeat)).toMatchObject({ accepted: false });
  });

  it("answers accepted: false, with a message, for bad inputs, unknown node types and broken limits", async () => {
    const { client, coordinator } = await stack();
    const begin = (node_type_ref: T.NodeTypeRef, inputs: Record<string, unknown>, extra = {}) =>
      client.beginCompositeNodeRun({
        node_run_id: `nr_${Math.random()}`,
        run_id: "run_x",
        node_type_ref,
        inputs,
        coordinator_endpoint: coordinator.url,
        ...extra,
      });
    const cases: [T.CompositeBeginResponse, RegExp][] = [
      [await begin(ref("arp.ref.loop"), { steps: [] }), /unknown composite node type arp\.ref\.loop@1\.0\.0/],
      [await begin(ref("arp.ref.pipeline", "2.0.0"), { steps: [] }), /unknown composite node type/],
      [await begin(PIPELINE, {}), /\/inputs\/steps must be an array/],
      [await begin(PARALLEL, { steps: [step("test.echo")] }), /\/inputs\/branches must be an array/],
      [await begin(PIPELINE, { steps: [] }), /at least one step/],
      [
        await begin(PIPELINE, { steps: [{ goal: "x", node_type: ref("a") }] }),
        /exactly one of node_type and goal/,
      ],
      [
        await begin(PIPELINE, { steps: [{ node_type: { node_type_id: "a" } }] }),
        /node_type\/version must be/,
      ],
      [
        await begin(PIPELINE, { steps: [{ goal: "x", inputs: [] }] }),
        /\/inputs\/steps\/0\/inputs must be an object/,
      ],
      [
        await begin(PIPELINE, { steps: [{ goal: "x", inputs: null }] }),
        /\/inputs\/steps\/0\/inputs must be an object/,
      ],
      [
        await begin(PIPELINE, { steps: [{ goal: "   " }] }),
        /\/inputs\/steps\/0\/goal must be a non-empty string/,
      ],
      [
        await begin(PIPELINE, { steps: [{ goal: "x", extra: 1 }] }),
        /\/inputs\/steps\/0\/extra is not a step field/,
      ],
      [await begin(PIPELINE, { steps: Array(65).fill(step("test.echo")) }), /at most 64/],
      [
        await begin(PIPELINE, { steps: [step("test.echo")], input: "text" }),
        /\/inputs\/input must be an object/,
      ],
      [
        await begin(
          PIPELINE,
          { steps: [step("test.echo"), step("test.echo")] },
          {
            constraints: { structural: { max_children_per_composite: 1 } },
          },
        ),
        /max_children_per_composite is 1/,
      ],
      [
        await begin(
          PIPELINE,
          { steps: [step("test.echo")] },
          {
            constraints: { candidates: { denied_node_type_ids: ["test.echo"] } },
          },
        ),
        /test\.echo is in constraints\.candidates\.denied_node_type_ids/,
      ],
      [
        await begin(PIPELINE, { steps: [step("test.echo")] }, { coordinator_endpoint: "unix:///tmp/c.sock" }),
        /http:\/\/ or https:\/\//,
      ],
    ];
    for (const [response, message] of cases) {
      expect(response.accepted).toBe(false);
      expect(response.message).toMatch(message);
    }
    expect(coordinator.creates).toHaveLength(0);
  });

  it("bounded concurrency: beyond maxActive a begin is declined", async () => {
    const { coordinator } = await stack({ maxActive: 1 });
    const first = await coordinator.beginComposite(PIPELINE, { steps: [step("test.hang")] });
    expect(first.response.accepted).toBe(true);
    const second = await coordinator.beginComposite(PIPELINE, { steps: [step("test.echo")] });
    expect(second.response).toEqual({
      accepted: false,
      message: "busy: 1 composite node runs in progress (the limit of this executor)",
    });
  });

  it("honours constraints.budgets.max_wall_time_ms: failed with budget_exceeded", async () => {
    const { coordinator } = await stack();
    const { nodeRunId } = await coordinator.beginComposite(
      PIPELINE,
      { steps: [step("test.hang")] },
      { constraints: { budgets: { max_wall_time_ms: 200 } } },
    );
    const done = await coordinator.terminal(nodeRunId);
    expect(done.state).toBe("failed");
    expect(coordinator.completions.get(nodeRunId)).toMatchObject({ error: { code: "budget_exceeded" } });
  });

  it("a coordinator without the node-run stream (501) is polled", async () => {
    const { coordinator, logger } = await stack({ streams: false, pollIntervalMs: 50 });
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, {
      steps: [step("test.echo"), step("test.upper")],
      input: { text: "poll" },
    });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toEqual({ state: "succeeded", outputs: { text: "POLL" } });
    expect(
      logger.lines.some((l) =>
        l.startsWith("debug composite executor: the coordinator has no node-run stream"),
      ),
    ).toBe(true);
  });

  it("passes a bearer token (per audience) and the begin request's traceparent to the coordinator", async () => {
    const { coordinator, client } = await stack({ token: () => "tok-123" });
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await client.beginCompositeNodeRun(
      {
        node_run_id: "nr_traced",
        run_id: "run_traced",
        node_type_ref: PIPELINE,
        inputs: { steps: [step("test.echo")], input: { text: "t" } },
        coordinator_endpoint: coordinator.url,
      },
      { headers: { traceparent } },
    );
    await until(() => coordinator.completions.has("nr_traced"));
    expect(coordinator.creates[0]).toMatchObject({ authorization: "Bearer tok-123", traceparent });
  });

  it("a coordinator that goes away is logged, never an unhandled rejection", async () => {
    // Each call's deadline bounds its retries (COORDINATOR_RETRY alone keeps trying some 40 s per call).
    const { client, logger, executor } = await stack({ pollIntervalMs: 50, callTimeoutMs: 1_000 });
    const gone = new FakeCoordinator();
    const goneServer = await gone.start();
    await goneServer.close();
    const response = await client.beginCompositeNodeRun({
      node_run_id: "nr_orphan",
      run_id: "run_orphan",
      node_type_ref: PIPELINE,
      inputs: { steps: [step("test.echo")] },
      coordinator_endpoint: gone.url,
    });
    expect(response).toEqual({ accepted: true });
    await until(() => executor.active === 0, 20_000);
    expect(
      logger.lines.some((l) => l.startsWith("error composite executor: could not complete the node run")),
    ).toBe(true);
  });

  it("outputs over maxOutputBytes fail the node run with outputs_too_large", async () => {
    const logger = recordingLogger();
    const executor = new ReferenceCompositeExecutor({
      peers: new Peers({ urls: {} }),
      server: { auth: { mode: "disabled" }, logger },
      maxOutputBytes: 1_000,
    });
    executors.push(executor);
    const running = await executor.listen({ port: 0 });
    servers.push(running);
    const coordinator = new FakeCoordinator({ compositeUrl: running.url });
    servers.push(await coordinator.start());
    const { nodeRunId } = await coordinator.beginComposite(PIPELINE, { steps: [step("test.big")] });
    await coordinator.terminal(nodeRunId);
    expect(coordinator.completions.get(nodeRunId)).toMatchObject({
      state: "failed",
      error: { code: "outputs_too_large" },
    });
  });
});

describe("conformance", () => {
  let coordinator: FakeCoordinator;
  let coordinatorServer: RunningServer;
  let executor: ReferenceCompositeExecutor;
  let executorServer: RunningServer;

  beforeAll(async () => {
    executor = new ReferenceCompositeExecutor({
      peers: new Peers({ urls: {} }),
      server: { auth: { mode: "disabled" }, logger: recordingLogger() },
    });
    executorServer = await executor.listen({ port: 0 });
    coordinator = new FakeCoordinator({ compositeUrl: executorServer.url });
    coordinatorServer = await coordinator.start();
  });
  afterAll(async () => {
    await executor.stop();
    await executorServer.close();
    await coordinatorServer.close();
  });

  it("arp-conformance check composite-executor --tier deep --allow-mutations --strict: every check passes", async () => {
    const fixtures = {
      composite_begin: {
        node_run_id: "set-by-checker",
        run_id: "set-by-checker",
        node_type_ref: PIPELINE,
        inputs: {
          steps: [step("test.slow", { ms: 100 }), step("test.upper")],
          input: { text: "conformance" },
        },
        coordinator_endpoint: coordinator.url,
      },
    };
    const report = await checkDeep("composite-executor", executorServer.url, fixtures);
    expect(report.results.filter((r) => r.status !== "PASS")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.check_id)).toContain("core.beginCompositeNodeRun.begin");
    expect(report.results.map((r) => r.check_id)).toContain("deep.cancelCompositeNodeRun.cancel");
  });
});
