/**
 * Every operation of every service, over real HTTP on a loopback port, through the matching typed
 * client of `@arp/client`: the small services of `support/services.ts` answer with golden-vector
 * shaped payloads, their `Required*` variants show that unimplemented optional operations answer 501.
 * A client hook records which operations got an answer, so that the last test can check that the
 * operations exercised are exactly those of `SERVICES`.
 */
import {
  ArpApiError,
  AtomicExecutorClient,
  type ClientOptions,
  CompositeExecutorClient,
  NodeRegistryClient,
  PdpClient,
  RunCoordinatorClient,
  RunGatewayClient,
  SelectionClient,
} from "@arp/client";
import { type RunEvent, SERVICES, validate } from "@arp/model";
import { describe, expect, it } from "vitest";
import type { ArpServerBase } from "../src/index.js";
import { useServers } from "./support/http.js";
import {
  RequiredAtomicExecutor,
  RequiredCompositeExecutor,
  RequiredRunCoordinator,
  RequiredRunGateway,
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
  vector,
} from "./support/services.js";

type ServiceKey = keyof typeof SERVICES;

/** Service key → operation names that were answered 2xx / 501. */
const answered = new Map<ServiceKey, Set<string>>();
const unimplemented = new Map<ServiceKey, Set<string>>();
const record = (to: Map<ServiceKey, Set<string>>, key: ServiceKey, name: string) =>
  to.set(key, (to.get(key) ?? new Set()).add(name));

const servers = useServers();

/** Starts `service` and returns client options for it that record which operations got answers. */
async function serve(service: ArpServerBase): Promise<ClientOptions> {
  const key = service.service.key as ServiceKey;
  const { url } = await servers.listen(service);
  return {
    baseUrl: url,
    retry: false,
    hooks: {
      onResponse(request, response) {
        if (response.ok) record(answered, key, request.operation.name);
        else if (response.status === 501) record(unimplemented, key, request.operation.name);
      },
    },
  };
}

/** The ArpApiError `promise` rejects with. */
async function apiError(promise: Promise<unknown>): Promise<ArpApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArpApiError);
  return error as ArpApiError;
}

async function collect(stream: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const SUMMARIZE = vector("NodeTypeRef");

describe.each([
  ["run-gateway", () => new TestRunGateway(), RunGatewayClient],
  ["run-coordinator", () => new TestRunCoordinator(), RunCoordinatorClient],
  ["atomic-executor", () => new TestAtomicExecutor(), AtomicExecutorClient],
  ["composite-executor", () => new TestCompositeExecutor(), CompositeExecutorClient],
  ["node-registry", () => new TestNodeRegistry(), NodeRegistryClient],
  ["selection", () => new TestSelection(), SelectionClient],
  ["pdp", () => new TestPdp(), PdpClient],
] as const)("%s: health and version", (key, make, Client) => {
  it("answers the defaults", async () => {
    const service = make();
    expect(service.service).toBe(SERVICES[key]);
    const client = new Client(await serve(service));
    const health = await client.health();
    expect(health).toEqual({ status: "ok", time: expect.any(String) });
    expect(Number.isNaN(Date.parse(health.time))).toBe(false);
    expect(await client.version()).toEqual({
      service_name: key,
      service_version: "0.0.0",
      supported_api_versions: ["v1"],
    });
  });
});

describe("run-gateway", () => {
  it("starts, gets and cancels runs, and streams their events", async () => {
    const gateway = new TestRunGateway();
    const client = new RunGatewayClient(await serve(gateway));

    const minimal = await client.startRun(vector("RunStartRequest"));
    expect(minimal).toEqual({
      run_id: "run_0001",
      state: "running",
      root_node_run_id: "node_run_run_0001_root",
      started_at: "2026-01-15T09:30:00.000Z",
    });

    const request = vector("RunStartRequest", "full");
    const full = await client.startRun(request);
    expect(full).toMatchObject({
      run_id: request.run_id,
      state: "running",
      run_context: request.run_context,
      extensions: request.extensions,
    });
    expect(await client.getRun(full.run_id)).toEqual(full);

    const canceled = await client.cancelRun(minimal.run_id);
    expect(canceled).toMatchObject({ run_id: "run_0001", state: "canceled", ended_at: expect.any(String) });
    expect(await client.getRun(minimal.run_id)).toEqual(canceled);

    const events = await collect(client.streamRunEvents(minimal.run_id));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, "run_started"],
      [1, "node_run_assigned"],
      [2, "run_completed"],
    ]);
    expect(events.at(-1)?.data).toEqual({ state: "canceled" });
  });

  it("streams live: events appended after the stream opened arrive, and run_completed ends it", async () => {
    const gateway = new TestRunGateway();
    const client = new RunGatewayClient(await serve(gateway));
    const run = await client.startRun(vector("RunStartRequest"));
    const seen: RunEvent[] = [];
    for await (const event of client.streamRunEvents(run.run_id)) {
      seen.push(event);
      if (event.type === "run_started") gateway.finish(run.run_id, "succeeded", { summary: "done" });
    }
    expect(seen.map((e) => e.type)).toEqual(["run_started", "node_run_assigned", "run_completed"]);
    expect((await client.getRun(run.run_id)).state).toBe("succeeded");
  });

  it("answers ArpServerErrors thrown by handlers: 404 with details, 409 on a duplicate run_id", async () => {
    const client = new RunGatewayClient(await serve(new TestRunGateway()));
    const missing = await apiError(client.getRun("run_missing"));
    expect([missing.status, missing.code, missing.details]).toEqual([
      404,
      "not_found",
      { run_id: "run_missing" },
    ]);
    expect((await apiError(client.streamRunEvents("run_missing").next())).code).toBe("not_found");

    await client.startRun({ ...vector("RunStartRequest"), run_id: "run_dup" });
    const dup = await apiError(client.startRun({ ...vector("RunStartRequest"), run_id: "run_dup" }));
    expect([dup.status, dup.code, dup.details]).toEqual([409, "conflict", { run_id: "run_dup" }]);
  });

  it("without streamRunEvents: 501 not_implemented", async () => {
    const client = new RunGatewayClient(await serve(new RequiredRunGateway()));
    const run = await client.startRun(vector("RunStartRequest"));
    const error = await apiError(client.streamRunEvents(run.run_id).next());
    expect([error.status, error.code]).toEqual([501, "not_implemented"]);
    expect(error.message).toContain("stream_run_events is not implemented");
  });
});

describe("run-coordinator", () => {
  it("runs a composite root with a child through every operation", async () => {
    const coordinator = new TestRunCoordinator();
    const client = new RunCoordinatorClient(await serve(coordinator));
    const start = vector("RunStartRequest", "full");
    const run = await client.startRun(start);
    expect(run).toMatchObject({ run_id: start.run_id, state: "running", run_context: start.run_context });

    const root = await client.getNodeRun(run.root_node_run_id);
    expect(root).toMatchObject({
      run_id: run.run_id,
      node_type_ref: start.root_node_type_ref,
      kind: "composite",
      inputs: start.input,
    });

    const create = vector("NodeRunsCreateRequest");
    const body = {
      ...create,
      run_id: run.run_id,
      parent_node_run_id: root.node_run_id,
      node_runs: create.node_runs.map((n) => ({ ...n, idempotency_key: "search-1" })),
    };
    const { node_runs: children } = await client.createNodeRuns(body);
    expect(children).toHaveLength(1);
    const child = children[0]!;
    expect(child).toMatchObject({
      run_id: run.run_id,
      parent_node_run_id: root.node_run_id,
      state: "queued",
      node_type_ref: create.node_runs[0]!.node_type_ref,
    });
    // Same idempotency key: the same NodeRun, not a duplicate.
    expect((await client.createNodeRuns(body)).node_runs).toEqual([child]);

    const evaluation = vector("NodeRunEvaluationReportRequest", "full");
    await expect(client.reportNodeRunEvaluation(child.node_run_id, evaluation)).resolves.toBeUndefined();
    await expect(
      client.completeNodeRun(child.node_run_id, { state: "succeeded", outputs: { hits: 3 } }),
    ).resolves.toBeUndefined();
    expect(await client.getNodeRun(child.node_run_id)).toMatchObject({
      state: "succeeded",
      outputs: { hits: 3 },
      evaluation_result: evaluation.evaluation_result,
    });

    await client.completeNodeRun(root.node_run_id, vector("NodeRunCompleteRequest", "full"));
    const done = await client.getRun(run.run_id);
    expect(done.state).toBe(vector("NodeRunCompleteRequest", "full").state);

    const events = await collect(client.streamRunEvents(run.run_id));
    expect(events.map((e) => e.type)).toEqual([
      "run_started",
      "node_run_assigned",
      "composite_decomposed",
      "composite_decomposed",
      "node_evaluated",
      "atomic_executed",
      "atomic_executed",
      "run_completed",
    ]);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const childEvents = await collect(client.streamNodeRunEvents(child.node_run_id));
    expect(childEvents.map((e) => [e.node_run_id, e.type])).toEqual([
      [child.node_run_id, "node_evaluated"],
      [child.node_run_id, "atomic_executed"],
    ]);
    // The root's stream covers its descendants too.
    expect((await collect(client.streamNodeRunEvents(root.node_run_id))).length).toBe(6);

    const second = await client.startRun(vector("RunStartRequest"));
    expect(await client.cancelRun(second.run_id)).toMatchObject({ state: "canceled" });
  });

  it("answers 404 for unknown runs and node runs", async () => {
    const client = new RunCoordinatorClient(await serve(new TestRunCoordinator()));
    expect((await apiError(client.getNodeRun("node_run_missing"))).status).toBe(404);
    expect((await apiError(client.completeNodeRun("node_run_missing", { state: "failed" }))).code).toBe(
      "not_found",
    );
    expect((await apiError(client.createNodeRuns(vector("NodeRunsCreateRequest")))).code).toBe("not_found");
  });

  it("without the event streams: 501 not_implemented for both", async () => {
    const client = new RunCoordinatorClient(await serve(new RequiredRunCoordinator()));
    const run = await client.startRun(vector("RunStartRequest"));
    for (const stream of [
      client.streamRunEvents(run.run_id),
      client.streamNodeRunEvents(run.root_node_run_id),
    ]) {
      const error = await apiError(stream.next());
      expect([error.status, error.code]).toEqual([501, "not_implemented"]);
    }
  });
});

describe("atomic-executor", () => {
  it("executes and cancels atomic node runs", async () => {
    const executor = new TestAtomicExecutor();
    const client = new AtomicExecutorClient(await serve(executor));
    const request = vector("AtomicExecuteRequest");
    const result = await client.executeAtomicNodeRun(request);
    expect(result).toEqual({
      node_run_id: request.node_run_id,
      state: "succeeded",
      outputs: { summary: "- ARP defines seven services that cooperate to run a task." },
      started_at: "2026-01-15T09:30:00.000Z",
      ended_at: "2026-01-15T09:30:01.000Z",
    });

    const failed = await client.executeAtomicNodeRun({
      ...request,
      node_run_id: "nrun_2",
      node_type_ref: { node_type_id: "com.example.unknown", version: "1.0.0" },
    });
    expect(failed).toMatchObject({ state: "failed", error: { code: "unknown_node_type" } });

    await expect(client.cancelAtomicNodeRun(request.node_run_id)).resolves.toBeUndefined();
    expect(executor.canceled).toEqual([request.node_run_id]);
    expect((await apiError(client.cancelAtomicNodeRun("nrun_missing"))).code).toBe("not_found");
  });

  it("without cancelAtomicNodeRun: 501 not_implemented", async () => {
    const client = new AtomicExecutorClient(await serve(new RequiredAtomicExecutor()));
    const error = await apiError(client.cancelAtomicNodeRun("nrun_1"));
    expect([error.status, error.code]).toEqual([501, "not_implemented"]);
  });
});

describe("composite-executor", () => {
  it("begins and cancels composite node runs", async () => {
    const executor = new TestCompositeExecutor();
    const client = new CompositeExecutorClient(await serve(executor));
    const request = vector("CompositeBeginRequest");
    expect(await client.beginCompositeNodeRun(request)).toEqual({ accepted: true });
    expect(executor.assignments.get(request.node_run_id)).toEqual(request);

    const refused = await client.beginCompositeNodeRun({
      ...request,
      node_run_id: "nrun_deep",
      constraints: { structural: { max_depth: 0 } },
    });
    expect(refused).toEqual({ accepted: false, message: expect.stringContaining("max_depth") });

    await expect(client.cancelCompositeNodeRun(request.node_run_id)).resolves.toBeUndefined();
    expect(executor.canceled).toEqual([request.node_run_id]);
    expect((await apiError(client.cancelCompositeNodeRun(request.node_run_id))).status).toBe(404);
  });

  it("without cancelCompositeNodeRun: 501 not_implemented", async () => {
    const client = new CompositeExecutorClient(await serve(new RequiredCompositeExecutor()));
    const error = await apiError(client.cancelCompositeNodeRun("nrun_1"));
    expect([error.status, error.code]).toEqual([501, "not_implemented"]);
  });
});

describe("node-registry", () => {
  it("lists (with q and kind), publishes and gets node types", async () => {
    const client = new NodeRegistryClient(await serve(new TestNodeRegistry()));
    const ids = (types: { node_type_id: string }[]) => types.map((t) => t.node_type_id);

    expect(ids(await client.listNodeTypes())).toEqual([
      "com.example.summarize",
      "com.example.research_report",
      "com.example.web_search",
    ]);
    expect(ids(await client.listNodeTypes({ kind: "composite" }))).toEqual(["com.example.research_report"]);
    expect(ids(await client.listNodeTypes({ q: "SEARCH" }))).toEqual([
      "com.example.research_report",
      "com.example.web_search",
    ]);
    expect(ids(await client.listNodeTypes({ q: "search", kind: "atomic" }))).toEqual([
      "com.example.web_search",
    ]);
    expect(await client.listNodeTypes({ q: "translate" })).toEqual([]);

    const published = await client.publishNodeType({
      node_type: { ...vector("NodeType"), version: "1.10.0", description: "Newer." },
    });
    expect(published).toEqual({
      node_type_id: "com.example.summarize",
      version: "1.10.0",
      kind: "atomic",
      description: "Newer.",
    });
    expect(await client.getNodeType("com.example.summarize")).toEqual(published);
    expect(await client.getNodeType("com.example.summarize", { version: "1.2.0" })).toEqual(
      vector("NodeType", "full"),
    );

    const dup = await apiError(client.publishNodeType({ node_type: published }));
    expect([dup.status, dup.code]).toEqual([409, "conflict"]);
    expect((await apiError(client.getNodeType("com.example.summarize", { version: "9.9.9" }))).status).toBe(
      404,
    );
  });
});

describe("selection", () => {
  it("generates candidate sets within the request's constraints", async () => {
    const client = new SelectionClient(await serve(new TestSelection()));
    const minimal = vector("CandidateSetRequest");
    minimal.subtask_spec.goal = "Search the web for recent sources";
    const set = await client.generateCandidateSet(minimal);
    expect(set).toMatchObject({ candidate_set_id: "cset_0001", subtask_id: minimal.subtask_spec.subtask_id });
    expect(set.candidates).toHaveLength(3);
    expect(set.candidates[0]?.node_type_ref.node_type_id).toBe("com.example.web_search");

    const full = vector("CandidateSetRequest", "full");
    const constrained = await client.generateCandidateSet(full);
    expect(constrained.candidate_set_id).toBe("cset_0002");
    expect(constrained.candidates.map((c) => c.node_type_ref.node_type_id).sort()).toEqual([
      "com.example.summarize",
      "com.example.web_search",
    ]);
    expect(constrained.top_k).toBe(5);
  });
});

describe("pdp", () => {
  it("allows, denies and requires approval", async () => {
    const client = new PdpClient(await serve(new TestPdp()));
    expect(await client.decidePolicy(vector("PolicyDecisionRequest"))).toEqual({ decision: "allow" });
    expect(await client.decidePolicy(vector("PolicyDecisionRequest", "full"))).toEqual({ decision: "allow" });
    expect(await client.decidePolicy({ action: "shell.exec" })).toMatchObject({
      decision: "deny",
      reason_code: "ACTION_DENIED",
    });
    const approval = await client.decidePolicy({
      action: "email.send_external",
      node_type_ref: SUMMARIZE,
      context: { side_effect_class: "irreversible" },
    });
    expect(approval).toEqual({
      decision: "require_approval",
      reason_code: "IRREVERSIBLE_SIDE_EFFECT",
      approval_ref: {
        approval_id: "apr_0001",
        uri: "https://approvals.example.com/v1/approvals/apr_0001",
      },
    });
    expect(validate("PolicyDecision", approval).ok).toBe(true);
  });
});

describe("coverage", () => {
  it("exercised every operation of every service, and each optional one also unimplemented", () => {
    const all = Object.fromEntries(
      Object.entries(SERVICES).map(([key, s]) => [key, Object.keys(s.operations).sort()]),
    );
    const optional = Object.fromEntries(
      Object.entries(SERVICES)
        .map(([key, s]) => [
          key,
          Object.values(s.operations)
            .filter((op) => op.conformance === "optional")
            .map((op) => op.name)
            .sort(),
        ])
        .filter(([, names]) => (names?.length ?? 0) > 0),
    );
    const sorted = (m: Map<ServiceKey, Set<string>>) =>
      Object.fromEntries([...m].map(([key, names]) => [key, [...names].sort()]));
    expect(sorted(answered)).toEqual(all);
    expect(sorted(unimplemented)).toEqual(optional);
  });
});
