/**
 * The fault table: deliberately broken services, one row per fault. Each row names the service, how
 * it is broken (a subclass override, or a raw `node:http` handler in front of a correct service),
 * the tier it is checked at (`surface` unless it says) and exactly which checks must FAIL (every
 * other check must PASS; `warns` must WARN instead).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as T from "@arp/model";
import { type ArpRequest, notFound } from "../../../server/src/index.js";
import type { Tier } from "../../src/check/runner.js";
import {
  CORRECT,
  FinishingRunGateway,
  type Listening,
  TestAtomicExecutor,
  TestNodeRegistry,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
  withAuth,
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
  /** The tier to run (default `surface`; every row runs with mutations allowed). */
  readonly tier?: Tier;
  /** Run the deep tier's auth probes (`--auth-probe`). */
  readonly authProbe?: boolean;
}

type AnswerHeaders = Record<string, string>;
/** The headers of the inner service's answers that the handler in front passes on. */
const PASSED_ON = ["content-type", "www-authenticate"];

/**
 * Answers `req` itself when `answer` returns a response; otherwise hands it to the correct service
 * (`service`, or the one `inner` makes) and passes its answer on, headers edited by `edit`.
 */
function intercept(
  service: string | (() => Listening),
  answer: (req: IncomingMessage) => { status: number; type: string; body: string } | undefined,
  edit: (headers: AnswerHeaders) => AnswerHeaders = (headers) => headers,
): () => Listening {
  return () => ({
    async listen() {
      const make = typeof service === "string" ? CORRECT[service]! : service;
      const inner = await make().listen({ port: 0 });
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
            const passed: AnswerHeaders = {};
            for (const name of PASSED_ON) {
              const value = upstream.headers.get(name);
              if (value !== null) passed[name] = value;
            }
            res.writeHead(upstream.status, edit(passed));
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
        ...(inner.headers === undefined ? {} : { headers: inner.headers }),
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

/** A gateway whose finished runs' streams are `edit`ed: the log's events in, the lines to send out. */
function streamFault(edit: (events: readonly T.RunEvent[]) => unknown[]): () => Listening {
  return () =>
    new (class extends FinishingRunGateway {
      override async *streamRunEvents(req: ArpRequest<undefined, { run_id: string }>) {
        const log = this.logs.get(req.params.run_id);
        if (log === undefined) throw notFound(`no run ${req.params.run_id}`);
        for (const line of edit(log.events)) yield line as T.RunEvent;
      }
    })(OFF);
}

/** A gateway in front of which a run's stream is answered with `lines` (raw) and `type`. */
function rawStream(type: string, lines: (runId: string) => string[]): () => Listening {
  return intercept("run-gateway", (req) => {
    const runId = /^\/v1\/runs\/([^/]+)\/events$/.exec(req.url ?? "")?.[1];
    // The checker's random ids go on to the service (its 404 is not this row's fault).
    if (runId === undefined || runId.startsWith("arp-conformance-unknown-")) return undefined;
    return { status: 200, type, body: `${lines(decodeURIComponent(runId)).join("\n")}\n` };
  });
}

/** The two events of a run that started and ended, as NDJSON lines. */
const startAndEnd = (runId: string): string[] => [
  JSON.stringify({ run_id: runId, seq: 0, type: "run_started", time: NOW }),
  JSON.stringify({ run_id: runId, seq: 1, type: "run_completed", time: NOW, data: { state: "succeeded" } }),
];

const RUN_STREAM = ["deep.streamRunEvents.finished_run"];

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
      "surface.listNodeTypes.success_body": /`\/0\/description` is null; absent fields must be omitted/,
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
    says: { "core.getRun.get": /`\/ended_at` is null; absent fields must be omitted/ },
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
  {
    name: "an HTML 404 page for a path no route has",
    service: "node-registry",
    tier: "deep",
    make: intercept("node-registry", (req) =>
      req.url?.startsWith("/v1/arp-conformance-unknown-route-")
        ? { status: 404, type: "text/html", body: "<html><body><h1>Not Found</h1></body></html>" }
        : undefined,
    ),
    fails: ["deep.unknown_route"],
  },
  {
    name: "a 200 envelope-less page for a path no route has",
    service: "atomic-executor",
    tier: "deep",
    make: intercept("atomic-executor", (req) =>
      req.url?.startsWith("/v1/arp-conformance-unknown-route-") ? json(200, { ok: true }) : undefined,
    ),
    fails: ["deep.unknown_route"],
  },
  {
    name: "auth required, but the 401 has no WWW-Authenticate",
    service: "pdp",
    tier: "deep",
    authProbe: true,
    make: intercept(
      () => withAuth(CORRECT.pdp!),
      () => undefined,
      ({ "www-authenticate": _challenge, ...rest }) => rest,
    ),
    fails: ["deep.auth.decidePolicy.no_token", "deep.auth.decidePolicy.garbage_token"],
  },
  {
    name: "auth required, but the 401 challenge is Basic",
    service: "run-gateway",
    tier: "deep",
    authProbe: true,
    make: intercept(
      () => withAuth(CORRECT["run-gateway"]!),
      () => undefined,
      (headers) =>
        headers["www-authenticate"] === undefined
          ? headers
          : { ...headers, "www-authenticate": 'Basic realm="arp"' },
    ),
    fails: ["deep.auth.getRun.no_token", "deep.auth.getRun.garbage_token"],
  },
  {
    name: "auth off, probed with --auth-probe (a 404 for the random id instead of a 401)",
    service: "run-coordinator",
    tier: "deep",
    authProbe: true,
    make: () => new TestRunCoordinator(),
    fails: ["deep.auth.getRun.no_token", "deep.auth.getRun.garbage_token"],
  },

  // Deep tier: event streams (the gateway's log is run_started, node_run_assigned, run_completed).
  {
    name: "NDJSON with a seq gap",
    service: "run-gateway",
    tier: "deep",
    make: streamFault((events) => events.filter((_, i) => i !== 1)),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /seq 2 after seq 0, a gap/ },
  },
  {
    name: "NDJSON out of order",
    service: "run-gateway",
    tier: "deep",
    make: streamFault(([a, b, ...rest]) => [b, a, ...rest]),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /seq 0 after seq 1; events are ordered by strictly increasing seq/ },
  },
  {
    name: "NDJSON with a line that is not JSON",
    service: "run-gateway",
    tier: "deep",
    make: rawStream("application/x-ndjson", (id) => {
      const [start, end] = startAndEnd(id);
      return [start!, "{not json", end!];
    }),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /line 2: not JSON/ },
  },
  {
    name: "NDJSON with JSON-quoted lines",
    service: "run-gateway",
    tier: "deep",
    make: streamFault((events) => events.map((e) => JSON.stringify(e))),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /line 1: a JSON string \(a quoted line\)/ },
  },
  {
    name: "NDJSON with an event of another run",
    service: "run-gateway",
    tier: "deep",
    make: streamFault((events) => events.map((e, i) => (i === 1 ? { ...e, run_id: "run_other" } : e))),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /line 2: run_id "run_other" is another run's/ },
  },
  {
    name: "NDJSON with a null field",
    service: "run-gateway",
    tier: "deep",
    make: streamFault((events) => events.map((e, i) => (i === 0 ? { ...e, node_run_id: null } : e))),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /`\/node_run_id` is null; absent fields must be omitted/ },
  },
  {
    name: "NDJSON with events after run_completed",
    service: "run-gateway",
    tier: "deep",
    make: streamFault((events) => {
      const last = events.at(-1)!;
      return [...events, { ...events[1]!, seq: last.seq + 1 }];
    }),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /after run_completed/ },
  },
  {
    name: "NDJSON with the wrong content type",
    service: "run-gateway",
    tier: "deep",
    make: rawStream("application/json", startAndEnd),
    fails: RUN_STREAM,
    says: { [RUN_STREAM[0]!]: /Content-Type application\/json, expected application\/x-ndjson/ },
  },
  {
    name: "a node run's stream with the events of the whole run",
    service: "run-coordinator",
    tier: "deep",
    make: () =>
      new (class extends TestRunCoordinator {
        override async *streamNodeRunEvents(req: ArpRequest<undefined, { node_run_id: string }>) {
          const nodeRun = this.nodeRuns.get(req.params.node_run_id);
          if (nodeRun === undefined) throw notFound(`no node run ${req.params.node_run_id}`);
          yield* this.logs.get(nodeRun.run_id)!.events;
        }
      })(OFF),
    fails: ["deep.streamNodeRunEvents.child"],
  },
  {
    name: "an atomic cancel that answers 200 with a body instead of 204",
    service: "atomic-executor",
    tier: "deep",
    make: intercept("atomic-executor", (req) =>
      req.method === "POST" && /:cancel$/.test(req.url ?? "") ? json(200, { canceled: true }) : undefined,
    ),
    fails: ["deep.cancelAtomicNodeRun.cancel"],
  },
  {
    name: "an atomic cancel that forgets finished node runs (a SKIP: cancel is for work going on)",
    service: "atomic-executor",
    tier: "deep",
    make: () =>
      new (class extends TestAtomicExecutor {
        override cancelAtomicNodeRun(req: ArpRequest<undefined, { node_run_id: string }>): void {
          throw notFound(`no node run ${req.params.node_run_id}`);
        }
      })(OFF),
    fails: [],
    skips: ["deep.cancelAtomicNodeRun.cancel"],
  },
  {
    name: "a run stream that stays open after run_completed (fine: the read stops there)",
    service: "run-gateway",
    tier: "deep",
    make: () =>
      new (class extends FinishingRunGateway {
        override async *streamRunEvents(req: ArpRequest<undefined, { run_id: string }>) {
          const log = this.logs.get(req.params.run_id);
          if (log === undefined) throw notFound(`no run ${req.params.run_id}`);
          yield* log.events;
          await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
        }
      })(OFF),
    fails: [],
  },
  {
    name: "health behind auth (the checker has a token, so only the open check sees it)",
    service: "pdp",
    tier: "deep",
    make: intercept(
      () => withAuth(CORRECT.pdp!),
      (req) =>
        req.url === "/v1/health" && req.headers.authorization === undefined
          ? json(401, { error: { code: "unauthorized", message: "token required" } })
          : undefined,
    ),
    fails: ["deep.health.open"],
  },
  {
    name: "auth required, checked without a token: invalid bodies are never judged",
    service: "selection",
    make: () => ({
      async listen(options) {
        // The token withAuth makes is left out: the checker runs without one.
        const { headers: _token, ...running } = await withAuth(CORRECT.selection!).listen(options);
        return running;
      },
    }),
    fails: [
      "surface.generateCandidateSet.invalid_body.empty",
      "surface.generateCandidateSet.invalid_body.unknown_property",
      "surface.generateCandidateSet.invalid_body.wrong_type",
    ],
    says: { "surface.generateCandidateSet.invalid_body.empty": /did not get past authentication/ },
  },
];
