/**
 * Type tests of the generated request types and the error codes: checked by the package's typecheck
 * (`tsc -p tsconfig.json`, which covers test/). Each `@ts-expect-error` must stay an error: if a type
 * loosens, the directive becomes unused and the typecheck fails. The runtime assertions check that
 * the classes' handler signatures are the request map's entries, as a service author sees them.
 */
import type {
  AtomicExecuteRequest,
  CandidateSetRequest,
  NodeKind,
  NodeRunsCreateRequest,
  PolicyDecisionRequest,
  Run,
  RunStartRequest,
} from "@arp/model";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createFetchHandler, type FetchHandler } from "../src/fetch.js";
import {
  type ArpRequest,
  ArpServerError,
  type ArpServerErrorCode,
  type AtomicExecutorRequests,
  type BaseNodeRegistryServer,
  type BaseRunCoordinatorServer,
  BaseRunGatewayServer,
  type CompositeExecutorRequests,
  type NodeRegistryRequests,
  notFound,
  type PdpRequests,
  type RunCoordinatorRequests,
  type RunGatewayRequests,
  type SelectionRequests,
} from "../src/index.js";

describe("request types generated from the operation tables", () => {
  it("name each handler's body and parameters", () => {
    expectTypeOf<RunGatewayRequests["startRun"]>().toEqualTypeOf<ArpRequest<RunStartRequest>>();
    expectTypeOf<RunGatewayRequests["getRun"]>().toEqualTypeOf<ArpRequest<undefined, { run_id: string }>>();
    expectTypeOf<RunGatewayRequests["getRun"]["params"]["run_id"]>().toEqualTypeOf<string>();
    expectTypeOf<RunGatewayRequests["health"]>().toEqualTypeOf<ArpRequest>();
    expectTypeOf<NodeRegistryRequests["listNodeTypes"]["params"]>().toEqualTypeOf<{
      q?: string;
      kind?: NodeKind;
    }>();
    expectTypeOf<NodeRegistryRequests["getNodeType"]["params"]>().toEqualTypeOf<{
      node_type_id: string;
      version?: string;
    }>();
    expectTypeOf<RunCoordinatorRequests["createNodeRuns"]["body"]>().toEqualTypeOf<NodeRunsCreateRequest>();
    expectTypeOf<
      AtomicExecutorRequests["executeAtomicNodeRun"]["body"]
    >().toEqualTypeOf<AtomicExecuteRequest>();
    expectTypeOf<CompositeExecutorRequests["cancelCompositeNodeRun"]["params"]>().toEqualTypeOf<{
      node_run_id: string;
    }>();
    expectTypeOf<SelectionRequests["generateCandidateSet"]["body"]>().toEqualTypeOf<CandidateSetRequest>();
    expectTypeOf<PdpRequests["decidePolicy"]["body"]>().toEqualTypeOf<PolicyDecisionRequest>();
  });

  it("are what the base classes' methods take", () => {
    expectTypeOf<Parameters<BaseRunGatewayServer["getRun"]>>().toEqualTypeOf<
      [req: RunGatewayRequests["getRun"]]
    >();
    expectTypeOf<Parameters<BaseRunCoordinatorServer["streamRunEvents"]>[0]>().toEqualTypeOf<
      RunCoordinatorRequests["streamRunEvents"]
    >();
    expectTypeOf<Parameters<BaseNodeRegistryServer["listNodeTypes"]>[0]>().toEqualTypeOf<
      NodeRegistryRequests["listNodeTypes"]
    >();
  });

  it("cover every operation of a service, and only those", () => {
    expectTypeOf<keyof RunGatewayRequests>().toEqualTypeOf<
      "health" | "version" | "startRun" | "getRun" | "cancelRun" | "streamRunEvents"
    >();
  });

  it("type a handler written with them, and reject a mismatched one", () => {
    class Gateway extends BaseRunGatewayServer {
      startRun(req: RunGatewayRequests["startRun"]): Run {
        return { run_id: req.body.run_id ?? "run_1", state: "queued", root_node_run_id: "nr_1" };
      }
      getRun(req: RunGatewayRequests["getRun"]): Run {
        throw notFound(`no run ${req.params.run_id}`);
      }
      cancelRun(req: RunGatewayRequests["cancelRun"]): Run {
        // @ts-expect-error: getRun's parameters have no `q`
        return this.getRun({ ...req, params: { run_id: req.params.run_id, q: "x" } });
      }
    }
    class Wrong extends BaseRunGatewayServer {
      startRun(req: RunGatewayRequests["startRun"]): Run {
        return { run_id: req.body.run_id ?? "run_1", state: "queued", root_node_run_id: "nr_1" };
      }
      // @ts-expect-error: a handler of getRun cannot take startRun's request (a body it does not get)
      getRun(req: RunGatewayRequests["startRun"]): Run {
        return this.startRun(req);
      }
      cancelRun(req: RunGatewayRequests["cancelRun"]): Run {
        // @ts-expect-error: cancelRun has no body
        req.body.run_id;
        throw notFound("x");
      }
    }
    const gateway = new Gateway({ auth: { mode: "disabled" } });
    expect(gateway.service.key).toBe("run-gateway");
    expect(typeof Wrong).toBe("function");
  });
});

describe("error codes", () => {
  it("complete the package's own codes and accept any other", () => {
    expectTypeOf<"not_found">().toExtend<ArpServerErrorCode>();
    expectTypeOf<"payload_too_large">().toExtend<ArpServerErrorCode>();
    expectTypeOf<"my_own_code">().toExtend<ArpServerErrorCode>();
    expectTypeOf(notFound("x").code).toEqualTypeOf<ArpServerErrorCode>();
    const custom = new ArpServerError({ status: 429, code: "rate_limited", message: "slow down" });
    expect(custom.code).toBe("rate_limited");
    // @ts-expect-error: a code is a string
    expect(() => new ArpServerError({ status: 400, code: 42, message: "x" })).not.toThrow();
  });
});

describe("the fetch entry", () => {
  it("is a (request: Request) => Promise<Response> with close(), taking only a service", () => {
    class Gateway extends BaseRunGatewayServer {
      startRun(): Run {
        throw notFound("none");
      }
      getRun(): Run {
        throw notFound("none");
      }
      cancelRun(): Run {
        throw notFound("none");
      }
    }
    const handle = createFetchHandler(new Gateway({ auth: { mode: "disabled" } }));
    expectTypeOf(handle).toExtend<(request: Request) => Promise<Response>>();
    expectTypeOf(handle.close).toEqualTypeOf<() => void>();
    expectTypeOf(createFetchHandler).returns.toEqualTypeOf<FetchHandler>();
    // A Bun.serve / Deno.serve handler shape: extra arguments (the server, connection info) are fine.
    const host: (request: Request, info: { remoteAddr: string }) => Response | Promise<Response> = handle;
    expect(typeof host).toBe("function");
    // @ts-expect-error: a plain object is not a service
    expect(() => createFetchHandler({})).toThrow(TypeError);
  });
});
