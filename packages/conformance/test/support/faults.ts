/**
 * The fault table: deliberately broken services, one row per fault. Each row names the service, how
 * it is broken (a subclass override, or a raw `node:http` handler in front of a correct service),
 * the tier it is checked at (`surface` unless it says) and exactly which checks must FAIL (every
 * other check must PASS; `warns` must WARN instead).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as T from "@arp/model";
import type { ArpRequest } from "../../../server/src/index.js";
import type { Tier } from "../../src/check/runner.js";
import {
  CORRECT,
  type Listening,
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
  /** Default `surface`. */
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
const OFF = { auth: { mode: "disabled" }, validateResponses: "off" } as const;
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
];
