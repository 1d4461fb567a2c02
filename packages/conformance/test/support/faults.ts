/**
 * The fault table: deliberately broken services, one row per fault. Each row names the service, how
 * it is broken (a subclass override, or a raw `node:http` handler in front of a correct service) and
 * exactly which checks must FAIL (every other check must PASS; `warns` must WARN instead).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as T from "@arp/model";
import type { ArpRequest } from "../../../server/src/index.js";
import {
  CORRECT,
  FinishingRunGateway,
  type Listening,
  TestAtomicExecutor,
  TestNodeRegistry,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "./services.js";

export interface Fault {
  readonly name: string;
  readonly service: string;
  readonly make: () => Listening;
  readonly fails: readonly string[];
  readonly warns?: readonly string[];
  /** Checks that need what a failing check makes, reported as SKIP. */
  readonly skips?: readonly string[];
  /** What a failing check's message and errors must say (check id → pattern). */
  readonly says?: Readonly<Record<string, RegExp>>;
  /** The tier to run (default `surface`; `core` and `deep` rows run with mutations allowed). */
  readonly tier?: "surface" | "core" | "deep";
}

/** Answers `req` itself when `answer` returns a response; otherwise hands it to the correct service. */
function intercept(
  service: string,
  answer: (req: IncomingMessage) => { status: number; type: string; body: string } | undefined,
): () => Listening {
  return () => ({
    async listen() {
      const inner = await CORRECT[service]!().listen({ port: 0 });
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const fake = answer(req);
        if (fake === undefined) {
          // Forward to the correct service (bodies included), answer what it answers.
          const chunks: Buffer[] = [];
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", async () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
            const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
            const upstream = await fetch(`${inner.url}${req.url}`, {
              method: req.method ?? "GET",
              headers,
              ...(body === undefined ? {} : { body }),
            });
            const text = await upstream.text();
            res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "" });
            res.end(text);
          });
          return;
        }
        req.resume();
        res.writeHead(fake.status, { "content-type": fake.type });
        res.end(fake.body);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        async close() {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await inner.close();
        },
      };
    },
  });
}

const json = (status: number, body: unknown) => ({
  status,
  type: "application/json",
  body: JSON.stringify(body),
});
/** No auth, no response checks (the faults are the point), and quiet about the 500s some rows cause. */
const OFF = {
  auth: { mode: "disabled" },
  validateResponses: "off",
  logger: { warn: () => undefined, error: () => undefined },
} as const;
const NOW = "2026-01-15T09:30:00.000Z";

export const FAULTS: readonly Fault[] = [
  {
    name: "health body missing the required `time`",
    service: "run-gateway",
    make: () =>
      new (class extends TestRunGateway {
        override health() {
          return { status: "ok" } as unknown as T.Health;
        }
      })(OFF),
    fails: ["smoke.health.schema"],
  },
  {
    name: '`"time": "now"` in health',
    service: "pdp",
    make: intercept("pdp", (req) =>
      req.url === "/v1/health" ? json(200, { status: "ok", time: "now" }) : undefined,
    ),
    fails: ["smoke.health.schema"],
  },
  {
    name: "an extra top-level field in version",
    service: "selection",
    make: () =>
      new (class extends TestSelection {
        override version(req: ArpRequest) {
          return { ...(super.version(req) as T.VersionInfo), build: "42" } as T.VersionInfo;
        }
      })(OFF),
    fails: ["smoke.version.schema"],
  },
  {
    name: "supported_api_versions without v1",
    service: "atomic-executor",
    make: intercept("atomic-executor", (req) =>
      req.url === "/v1/version"
        ? json(200, { service_name: "x", service_version: "1.0.0", supported_api_versions: ["v2"] })
        : undefined,
    ),
    fails: ["smoke.version.api_v1"],
  },
  {
    name: "health as text/plain (a warning, not a failure)",
    service: "composite-executor",
    make: intercept("composite-executor", (req) =>
      req.url === "/v1/health"
        ? { status: 200, type: "text/plain", body: JSON.stringify({ status: "ok", time: NOW }) }
        : undefined,
    ),
    fails: [],
    warns: ["smoke.health.content_type"],
  },
  {
    name: "a wrong enum value in a listed node type",
    service: "node-registry",
    make: () =>
      new (class extends TestNodeRegistry {
        override listNodeTypes() {
          return [{ node_type_id: "x", version: "1.0.0", kind: "molecular" }] as unknown as T.NodeType[];
        }
      })(OFF),
    fails: ["surface.listNodeTypes.success_body"],
  },
  {
    name: "a 200 for invalid bodies",
    service: "pdp",
    make: intercept("pdp", (req) =>
      req.method === "POST" && req.url === "/v1/policy:decide" ? json(200, { decision: "allow" }) : undefined,
    ),
    fails: [
      "surface.decidePolicy.invalid_body.empty",
      "surface.decidePolicy.invalid_body.unknown_property",
      "surface.decidePolicy.invalid_body.wrong_type",
    ],
  },
  {
    name: "text/plain error bodies",
    service: "selection",
    make: intercept("selection", (req) =>
      req.method === "POST" ? { status: 400, type: "text/plain", body: "bad request" } : undefined,
    ),
    fails: [
      "surface.generateCandidateSet.invalid_body.empty",
      "surface.generateCandidateSet.invalid_body.unknown_property",
      "surface.generateCandidateSet.invalid_body.wrong_type",
    ],
  },
  {
    name: "an error without an envelope (FastAPI's default 404)",
    service: "run-gateway",
    make: intercept("run-gateway", (req) =>
      req.method === "GET" && /^\/v1\/runs\/[^/]+$/.test(req.url ?? "")
        ? json(404, { detail: "Not Found" })
        : undefined,
    ),
    fails: ["surface.getRun.route", "surface.getRun.unknown_id"],
  },
  {
    name: "a 404 for a required route",
    service: "run-gateway",
    make: intercept("run-gateway", (req) =>
      req.method === "POST" && req.url === "/v1/runs"
        ? json(404, { error: { code: "not_found", message: "no route" } })
        : undefined,
    ),
    fails: ["surface.startRun.route"],
  },
  {
    name: "an unknown run id answered 200",
    service: "run-coordinator",
    make: () =>
      new (class extends TestRunCoordinator {
        override getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run {
          return { run_id: req.params.run_id, state: "running", root_node_run_id: "node_run_1" };
        }
      })(OFF),
    fails: ["surface.getRun.unknown_id"],
  },

  {
    name: "a null for an absent field",
    service: "node-registry",
    make: () =>
      new (class extends TestNodeRegistry {
        override listNodeTypes() {
          return [
            { node_type_id: "x", version: "1.0.0", kind: "atomic", description: null },
          ] as unknown as T.NodeType[];
        }
      })(OFF),
    fails: ["surface.listNodeTypes.success_body"],
    says: {
      "surface.listNodeTypes.success_body": /\/0\/description is null: an absent field must be left out/,
    },
  },
  {
    name: "a null for an absent field in a run",
    service: "run-gateway",
    tier: "core",
    make: () =>
      new (class extends FinishingRunGateway {
        override getRun(req: ArpRequest<undefined, { run_id: string }>) {
          return { ended_at: null, ...(super.getRun(req) as T.Run) } as unknown as T.Run;
        }
      })(OFF),
    fails: ["core.getRun.get", "core.getRun.terminal"],
    skips: [],
    says: { "core.getRun.get": /\/ended_at is null: an absent field must be left out/ },
  },
  // Core tier: the success paths.
  {
    name: "a duplicate publish accepted",
    service: "node-registry",
    tier: "core",
    make: () =>
      new (class extends TestNodeRegistry {
        override publishNodeType(req: ArpRequest<T.NodeTypePublishRequest>): T.NodeType {
          const type = req.body.node_type;
          this.types.set(`${type.node_type_id}@${type.version}`, type);
          return type;
        }
      })(OFF),
    fails: ["core.publishNodeType.duplicate"],
  },
  {
    name: "a version lookup that ignores version",
    service: "node-registry",
    tier: "core",
    make: () =>
      new (class extends TestNodeRegistry {
        override getNodeType(req: ArpRequest<undefined, { node_type_id: string; version?: string }>) {
          const { version: _ignored, ...params } = req.params;
          return super.getNodeType({ ...req, params });
        }
      })(OFF),
    fails: ["core.getNodeType.version", "core.getNodeType.unknown_version"],
  },
  {
    name: "a kind filter that is ignored",
    service: "node-registry",
    tier: "core",
    make: () =>
      new (class extends TestNodeRegistry {
        override listNodeTypes(req: ArpRequest<undefined, { q?: string; kind?: T.NodeKind }>) {
          const { kind: _ignored, ...params } = req.params;
          return super.listNodeTypes({ ...req, params });
        }
      })(OFF),
    fails: ["core.listNodeTypes.kind"],
  },
  {
    name: "a candidate set larger than top_k",
    service: "selection",
    tier: "core",
    make: () =>
      new (class extends TestSelection {
        override generateCandidateSet(req: ArpRequest<T.CandidateSetRequest>): T.CandidateSet {
          const set = super.generateCandidateSet(req);
          return { ...set, candidates: [...set.candidates, ...set.candidates], top_k: 1 };
        }
      })(OFF),
    fails: ["core.generateCandidateSet.generate"],
  },
  {
    name: "a subtask_id not echoed",
    service: "selection",
    tier: "core",
    make: () =>
      new (class extends TestSelection {
        override generateCandidateSet(req: ArpRequest<T.CandidateSetRequest>): T.CandidateSet {
          return { ...super.generateCandidateSet(req), subtask_id: "subtask_1" };
        }
      })(OFF),
    fails: ["core.generateCandidateSet.generate"],
  },
  {
    name: "a run that never ends",
    service: "run-gateway",
    tier: "core",
    make: () => new TestRunGateway(OFF),
    fails: ["core.getRun.terminal"],
  },
  {
    name: "an idempotency_key ignored",
    service: "run-coordinator",
    tier: "core",
    make: () =>
      new (class extends TestRunCoordinator {
        override createNodeRuns(req: ArpRequest<T.NodeRunsCreateRequest>) {
          const node_runs = req.body.node_runs.map(({ idempotency_key: _ignored, ...spec }) => spec);
          return super.createNodeRuns({ ...req, body: { ...req.body, node_runs } });
        }
      })(OFF),
    fails: ["core.createNodeRuns.idempotent"],
  },
  {
    name: "a root node run completed, the run still running",
    service: "run-coordinator",
    tier: "core",
    make: () =>
      new (class extends TestRunCoordinator {
        override completeNodeRun(req: ArpRequest<T.NodeRunCompleteRequest, { node_run_id: string }>) {
          const nodeRun = this.nodeRuns.get(req.params.node_run_id);
          if (nodeRun !== undefined) Object.assign(nodeRun, { state: req.body.state });
        }
      })(OFF),
    fails: ["core.getRun.terminal"],
  },
  {
    name: "an atomic result for another node run",
    service: "atomic-executor",
    tier: "core",
    make: () =>
      new (class extends TestAtomicExecutor {
        override executeAtomicNodeRun(req: ArpRequest<T.AtomicExecuteRequest>): T.AtomicExecuteResult {
          return { ...super.executeAtomicNodeRun(req), node_run_id: "node_run_1" };
        }
      })(OFF),
    fails: ["core.executeAtomicNodeRun.execute"],
  },
  {
    name: "a publish that answers 500",
    service: "node-registry",
    tier: "core",
    make: () =>
      new (class extends TestNodeRegistry {
        override publishNodeType(): T.NodeType {
          throw new Error("storage down");
        }
      })(OFF),
    fails: ["core.publishNodeType.publish", "core.publishNodeType.second_version"],
    skips: [
      "core.getNodeType.latest",
      "core.getNodeType.version",
      "core.getNodeType.unknown_version",
      "core.listNodeTypes.query",
      "core.listNodeTypes.kind",
      "core.publishNodeType.duplicate",
    ],
  },
];
