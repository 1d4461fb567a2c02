/**
 * Type tests of the generated method signatures: checked by `tsc -p tsconfig.test.json` (the
 * package's typecheck). Each `@ts-expect-error` below must stay an error: if a signature loosens,
 * the directive becomes unused and the typecheck fails. The negative calls live in a function that
 * is never run, so they make no requests.
 */
import type {
  AtomicExecuteResult,
  CandidateSet,
  ErrorEnvelope,
  Health,
  NodeKind,
  NodeRun,
  NodeRunsCreateResponse,
  NodeType,
  PolicyDecision,
  Run,
  RunEvent,
  RunStartRequest,
  ValidationIssue,
  VersionInfo,
} from "@arp/model";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ArpApiError,
  type ArpError,
  type ArpErrorCode,
  type ArpLocalErrorCode,
  type ArpTimeoutError,
  type ArpValidationError,
  AtomicExecutorClient,
  type CallOptions,
  CLIENTS,
  type ClientOptions,
  type Run as ClientRun,
  type RunEvent as ClientRunEvent,
  CompositeExecutorClient,
  type EventStream,
  type NodeRegistryCallOptions,
  NodeRegistryClient,
  PdpClient,
  RunCoordinatorClient,
  type RunGatewayCallOptions,
  RunGatewayClient,
  SelectionClient,
  type StreamOptions,
} from "../src/index.js";

const options: ClientOptions = { baseUrl: "http://127.0.0.1:1" };
const gateway = new RunGatewayClient(options);
const coordinator = new RunCoordinatorClient(options);
const registry = new NodeRegistryClient(options);
const atomic = new AtomicExecutorClient(options);
const composite = new CompositeExecutorClient(options);
const pdp = new PdpClient(options);
const selection = new SelectionClient(options);

describe("method signatures", () => {
  it("run gateway", () => {
    expectTypeOf(gateway.getRun).parameters.toEqualTypeOf<
      [runId: string, options?: RunGatewayCallOptions["getRun"]]
    >();
    expectTypeOf<RunGatewayCallOptions["getRun"]>().toEqualTypeOf<CallOptions>();
    expectTypeOf(gateway.getRun).returns.toEqualTypeOf<Promise<Run>>();
    expectTypeOf(gateway.startRun).parameters.toEqualTypeOf<[body: RunStartRequest, options?: CallOptions]>();
    expectTypeOf(gateway.startRun).returns.toEqualTypeOf<Promise<Run>>();
    expectTypeOf(gateway.cancelRun).returns.toEqualTypeOf<Promise<Run>>();
    expectTypeOf(gateway.health).returns.toEqualTypeOf<Promise<Health>>();
    expectTypeOf(gateway.version).returns.toEqualTypeOf<Promise<VersionInfo>>();
  });

  it("streams are async iterables of RunEvent, with stream options", () => {
    expectTypeOf(gateway.streamRunEvents).parameters.toEqualTypeOf<
      [runId: string, options?: StreamOptions]
    >();
    expectTypeOf<RunGatewayCallOptions["streamRunEvents"]>().toEqualTypeOf<StreamOptions>();
    expectTypeOf<StreamOptions["idleTimeoutMs"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf(gateway.streamRunEvents).returns.toEqualTypeOf<EventStream<RunEvent>>();
    expectTypeOf(gateway.streamRunEvents).returns.toExtend<AsyncIterable<RunEvent>>();
    expectTypeOf(coordinator.streamNodeRunEvents).returns.toExtend<AsyncIterable<RunEvent>>();
    expectTypeOf<EventStream<RunEvent>>().toEqualTypeOf<AsyncGenerator<RunEvent, void, undefined>>();
    expectTypeOf<StreamOptions>().toExtend<CallOptions>();
    expectTypeOf<StreamOptions["follow"]>().toEqualTypeOf<boolean | undefined>();
  });

  it("run coordinator", () => {
    expectTypeOf(coordinator.getNodeRun).returns.toEqualTypeOf<Promise<NodeRun>>();
    expectTypeOf(coordinator.createNodeRuns).returns.toEqualTypeOf<Promise<NodeRunsCreateResponse>>();
    expectTypeOf(coordinator.reportNodeRunEvaluation).parameters.toExtend<[string, object, CallOptions?]>();
    expectTypeOf(coordinator.reportNodeRunEvaluation).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(coordinator.completeNodeRun).returns.toEqualTypeOf<Promise<void>>();
  });

  it("executors", () => {
    expectTypeOf(atomic.cancelAtomicNodeRun).parameters.toEqualTypeOf<
      [nodeRunId: string, options?: CallOptions]
    >();
    expectTypeOf(atomic.cancelAtomicNodeRun).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(atomic.executeAtomicNodeRun).returns.toEqualTypeOf<Promise<AtomicExecuteResult>>();
    expectTypeOf(composite.cancelCompositeNodeRun).returns.toEqualTypeOf<Promise<void>>();
  });

  it("node registry: query parameters are typed options", () => {
    expectTypeOf(registry.listNodeTypes).returns.toEqualTypeOf<Promise<NodeType[]>>();
    expectTypeOf(registry.listNodeTypes)
      .parameter(0)
      .toEqualTypeOf<(CallOptions & { q?: string | undefined; kind?: NodeKind | undefined }) | undefined>();
    expectTypeOf<NodeRegistryCallOptions["listNodeTypes"]>().toEqualTypeOf<
      CallOptions & { q?: string | undefined; kind?: NodeKind | undefined }
    >();
    expectTypeOf(registry.getNodeType).parameters.toEqualTypeOf<
      [nodeTypeId: string, options?: CallOptions & { version?: string | undefined }]
    >();
    expectTypeOf(registry.getNodeType).returns.toEqualTypeOf<Promise<NodeType>>();
    expectTypeOf<NodeKind>().toEqualTypeOf<"atomic" | "composite">();
  });

  it("pdp and selection", () => {
    expectTypeOf(pdp.decidePolicy).returns.toEqualTypeOf<Promise<PolicyDecision>>();
    expectTypeOf(selection.generateCandidateSet).returns.toEqualTypeOf<Promise<CandidateSet>>();
  });
});

describe("errors and options", () => {
  it("error classes expose typed fields", () => {
    expectTypeOf<ArpApiError>().toExtend<ArpError>();
    expectTypeOf<ArpApiError["status"]>().toEqualTypeOf<number>();
    expectTypeOf<ArpApiError["envelope"]>().toEqualTypeOf<ErrorEnvelope | undefined>();
    expectTypeOf<ArpApiError["details"]>().toEqualTypeOf<Record<string, unknown> | undefined>();
    expectTypeOf<ArpError["code"]>().toEqualTypeOf<ArpErrorCode>();
    // Editors complete the known codes; any other string still type-checks.
    expectTypeOf<"not_found">().toExtend<ArpErrorCode>();
    expectTypeOf<"stream_idle_timeout">().toExtend<ArpLocalErrorCode>();
    expectTypeOf<"http_502">().toExtend<ArpErrorCode>();
    expectTypeOf<"acme.quota_exceeded">().toExtend<ArpErrorCode>();
    expectTypeOf<ArpTimeoutError["code"]>().toEqualTypeOf<"timeout" | "stream_idle_timeout">();
    expectTypeOf<ArpTimeoutError["phase"]>().toEqualTypeOf<"call" | "stream_idle">();
    expectTypeOf<ArpValidationError["errors"]>().toEqualTypeOf<readonly ValidationIssue[]>();
  });

  it("re-exports the model types its methods take and return", () => {
    expectTypeOf<ClientRun>().toEqualTypeOf<Run>();
    expectTypeOf<ClientRunEvent>().toEqualTypeOf<RunEvent>();
  });

  it("CLIENTS maps each service key to its client class", () => {
    expectTypeOf(CLIENTS["run-gateway"]).toEqualTypeOf<typeof RunGatewayClient>();
    expect(Object.keys(CLIENTS).sort()).toEqual([
      "atomic-executor",
      "composite-executor",
      "node-registry",
      "pdp",
      "run-coordinator",
      "run-gateway",
      "selection",
    ]);
    for (const [key, Client] of Object.entries(CLIENTS)) expect(Client.service.key).toBe(key);
  });

  it("bearerToken is a string or a (possibly async) function", () => {
    expectTypeOf<{ baseUrl: string; bearerToken: "t" }>().toExtend<ClientOptions>();
    expectTypeOf<{ baseUrl: string; bearerToken: () => Promise<string> }>().toExtend<ClientOptions>();
    expectTypeOf<{ baseUrl: string; bearerToken: () => string | undefined }>().toExtend<ClientOptions>();
    expectTypeOf<{ baseUrl: string; bearerToken: 42 }>().not.toExtend<ClientOptions>();
  });
});

/** Never called: each line is a call the compiler must reject. */
function negatives(run: Run, start: RunStartRequest): void {
  // @ts-expect-error wrong body type: a Run is not a RunStartRequest
  void gateway.startRun(run);
  // @ts-expect-error wrong body type: a field of the wrong type
  void gateway.startRun({ ...start, root_node_type_ref: { node_type_id: 42 } });
  // @ts-expect-error wrong body type: an unknown field
  void gateway.startRun({ ...start, colour: "blue" });
  // @ts-expect-error missing body
  void gateway.startRun();
  // @ts-expect-error missing path argument
  void gateway.getRun();
  // @ts-expect-error missing path argument: the body is not a node run id
  void coordinator.completeNodeRun({ state: "succeeded" });
  // @ts-expect-error passing a number id
  void gateway.getRun(42);
  // @ts-expect-error passing a number id
  void atomic.cancelAtomicNodeRun(7);
  // @ts-expect-error unknown query option `foo`
  void registry.listNodeTypes({ foo: "bar" });
  // @ts-expect-error `version` is a query option of getNodeType only
  void registry.listNodeTypes({ version: "1.0.0" });
  // @ts-expect-error wrong `kind` value
  void registry.listNodeTypes({ kind: "molecule" });
  // @ts-expect-error `q` is a string
  void registry.listNodeTypes({ q: 5 });
  // @ts-expect-error a stream is not a promise
  void gateway.streamRunEvents("run_1").then;
  // @ts-expect-error getRun does not resolve to an array
  const runs: Run[] = await_(gateway.getRun("run_1"));
  // @ts-expect-error cancelAtomicNodeRun resolves to nothing
  const result: NodeRun = await_(atomic.cancelAtomicNodeRun("nr_1"));
  // @ts-expect-error baseUrl is required
  void new RunGatewayClient({ bearerToken: "t" });
  // @ts-expect-error unknown validateResponses mode
  void new RunGatewayClient({ baseUrl: "http://x", validateResponses: "lenient" });
  // @ts-expect-error unknown jitter mode
  void gateway.getRun("run_1", { retry: { jitter: "some" } });
  void runs;
  void result;
}

/** Unwraps a promise's type, for the assignments above (never called). */
declare function await_<T>(promise: Promise<T>): T;

it("keeps the negative cases compiled but never run", () => {
  expect(negatives).toBeTypeOf("function");
});
