import { describe, expect, it } from "vitest";
import {
  isNodeKind,
  isNodeType,
  isRunEvent,
  NODE_REGISTRY_SERVICE,
  type OperationSpec,
  operationValidators,
  RUN_COORDINATOR_SERVICE,
  RUN_GATEWAY_SERVICE,
  SCHEMAS,
  SERVICES,
} from "../src/index.js";

const ops = (key: keyof typeof SERVICES): OperationSpec[] => Object.values(SERVICES[key].operations);
const route = (o: OperationSpec) => `${o.method} ${o.path}`;

// The required endpoints per service, as the ARP v1 contract lists them.
const REQUIRED: Record<keyof typeof SERVICES, string[]> = {
  "run-gateway": ["POST /v1/runs", "GET /v1/runs/{run_id}", "POST /v1/runs/{run_id}:cancel"],
  "run-coordinator": [
    "POST /v1/runs",
    "GET /v1/runs/{run_id}",
    "POST /v1/runs/{run_id}:cancel",
    "POST /v1/node-runs",
    "GET /v1/node-runs/{node_run_id}",
    "POST /v1/node-runs/{node_run_id}:evaluation",
    "POST /v1/node-runs/{node_run_id}:complete",
  ],
  "atomic-executor": ["POST /v1/atomic-node-runs:execute"],
  "composite-executor": ["POST /v1/composite-node-runs:begin"],
  "node-registry": ["GET /v1/node-types", "POST /v1/node-types", "GET /v1/node-types/{node_type_id}"],
  selection: ["POST /v1/candidate-sets"],
  pdp: ["POST /v1/policy:decide"],
};

describe("operation tables", () => {
  it("has the seven services", () => {
    expect(Object.values(SERVICES).map((s) => s.name)).toEqual([
      "AtomicExecutor",
      "CompositeExecutor",
      "NodeRegistry",
      "Pdp",
      "RunCoordinator",
      "RunGateway",
      "Selection",
    ]);
  });

  it.each(Object.keys(REQUIRED) as (keyof typeof SERVICES)[])(
    "%s: required and optional operations",
    (key) => {
      const required = ops(key)
        .filter((o) => o.conformance === "required")
        .map(route);
      expect(required.sort()).toEqual(["GET /v1/health", "GET /v1/version", ...REQUIRED[key]].sort());
      for (const o of ops(key).filter((x) => x.conformance === "optional")) {
        expect(o.response.kind === "ndjson" || o.path.endsWith(":cancel")).toBe(true);
      }
    },
  );

  it("health and version are open; everything else expects a bearer token", () => {
    for (const key of Object.keys(SERVICES) as (keyof typeof SERVICES)[]) {
      for (const o of ops(key))
        expect(o.auth, route(o)).toBe(o.name === "health" || o.name === "version" ? "none" : "bearer");
    }
  });

  it("NDJSON streams name RunEvent as their line schema", () => {
    const streams = Object.values(SERVICES).flatMap((s) => Object.values(s.operations) as OperationSpec[]);
    const ndjson = streams.filter((o) => o.response.kind === "ndjson");
    expect(ndjson.map((o) => o.name).sort()).toEqual([
      "streamNodeRunEvents",
      "streamRunEvents",
      "streamRunEvents",
    ]);
    for (const o of ndjson)
      expect(o.response).toMatchObject({
        status: 200,
        kind: "ndjson",
        itemSchema: "RunEvent",
        validate: isRunEvent,
      });
  });

  it("say which event ends a stream and which path parameter scopes it", () => {
    expect(RUN_GATEWAY_SERVICE.operations.streamRunEvents.response).toMatchObject({
      scope: "run_id",
      endEvent: "run_completed",
    });
    expect(RUN_COORDINATOR_SERVICE.operations.streamRunEvents.response).toMatchObject({
      scope: "run_id",
      endEvent: "run_completed",
    });
    const node = RUN_COORDINATOR_SERVICE.operations.streamNodeRunEvents.response;
    expect(node).toMatchObject({ scope: "node_run_id" });
    expect("endEvent" in node).toBe(false);
  });

  it("say which operations are safe to retry, and by which idempotency key", () => {
    const all = Object.values(SERVICES).flatMap((s) => Object.values(s.operations) as OperationSpec[]);
    // Every GET is safe; of the POSTs, the cancels are safe and two carry a key.
    for (const o of all.filter((o) => o.method === "GET")) expect(o.retry, o.operationId).toBe("safe");
    const posts = Object.fromEntries(
      all.filter((o) => o.method === "POST").map((o) => [o.operationId, [o.retry, o.idempotencyKey]]),
    );
    expect(posts).toEqual({
      execute_atomic_node_run: ["unsafe", undefined],
      cancel_atomic_node_run: ["safe", undefined],
      begin_composite_node_run: ["unsafe", undefined],
      cancel_composite_node_run: ["safe", undefined],
      publish_node_type: ["unsafe", undefined],
      decide_policy: ["unsafe", undefined],
      start_run: ["keyed", ["run_id"]],
      cancel_run: ["safe", undefined],
      create_node_runs: ["keyed", ["node_runs", "*", "idempotency_key"]],
      report_node_run_evaluation: ["unsafe", undefined],
      complete_node_run: ["unsafe", undefined],
      generate_candidate_set: ["unsafe", undefined],
    });
  });

  it("describes parameters, bodies and responses", () => {
    const c = RUN_COORDINATOR_SERVICE.operations;
    expect(c.completeNodeRun).toMatchObject({
      operationId: "complete_node_run",
      method: "POST",
      path: "/v1/node-runs/{node_run_id}:complete",
      pathParams: [{ name: "node_run_id", required: true }],
      requestBody: { schema: "NodeRunCompleteRequest", required: true },
      response: { status: 204, kind: "empty" },
    });
    const r = NODE_REGISTRY_SERVICE.operations;
    expect(r.listNodeTypes.queryParams).toEqual([
      { name: "q", required: false },
      { name: "kind", required: false, schema: "NodeKind", validate: isNodeKind },
    ]);
    expect(r.listNodeTypes.response).toEqual({
      status: 200,
      kind: "json",
      schema: "NodeType",
      array: true,
      validate: isNodeType,
    });
    expect(r.getNodeType.queryParams).toEqual([{ name: "version", required: false }]);
  });

  it("hold, next to every schema name, that schema's own validator (no lookup by name)", () => {
    let checked = 0;
    for (const key of Object.keys(SERVICES) as (keyof typeof SERVICES)[]) {
      for (const o of ops(key)) {
        for (const p of [...o.pathParams, ...o.queryParams]) {
          expect(p.validate, `${route(o)} ${p.name}`).toBe(p.schema ? SCHEMAS[p.schema].validate : undefined);
          if (p.schema) checked++;
        }
        const v = operationValidators(o);
        expect(v.request, route(o)).toBe(o.requestBody ? SCHEMAS[o.requestBody.schema].validate : undefined);
        expect(o.requestBody?.validate).toBe(v.request);
        const r = o.response;
        const name = r.kind === "json" ? r.schema : r.kind === "ndjson" ? r.itemSchema : undefined;
        expect(v.response, route(o)).toBe(name ? SCHEMAS[name].validate : undefined);
        if (r.kind !== "empty") expect(r.validate).toBe(v.response);
        checked += (v.request ? 1 : 0) + (v.response ? 1 : 0);
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});
