/**
 * `@arp/server` against the servers a user would otherwise write, side by side in one run: requests per
 * second for `POST /v1/runs` (a RunStartRequest in, a Run out) with request validation on and auth
 * disabled, driven by autocannon on loopback. Each server runs in its own child process (this file,
 * started with `--serve <kind>`), so only the load generator shares this process:
 *
 * - `raw`: `node:http` reading the body, `JSON.parse`, replying `JSON.stringify(run)`;
 * - `rawValidate` (control): the same plus `@arp/model`'s `validate()` of the request and the Run;
 * - `rawValidateContext` (control): `rawValidate` answering inside `AsyncLocalStorage.run`, as ours does
 *   for `getPrincipal()` (on Node 20 that store's async hooks cost something on every async resource);
 * - `listen`: a `BaseRunGatewayServer` subclass on its own `listen()` (validation on, defaults);
 * - `listenNoResponseCheck`: the same with `validateResponses: "off"`;
 * - `express`: plain Express 5, `express.json()` and a route doing what `raw` does;
 * - `expressDefaults` (control): the same with Express's defaults (ETag, X-Powered-By);
 * - `arpExpress`: the same service through `createApp(service)` from `@arp/server/express`.
 *
 * Prints a table and replaces (or appends) the section `## Server (@arp/server)` of `bench/results.md`,
 * leaving the other sections as they are.
 *
 * Run: `npm run build`, then `cd bench && npx tsx server.bench.ts` (or `npm run bench:server`); about 2.5 min.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Run, type RunStartRequest, validate } from "@arp/model";
import {
  benchEntry,
  type Child as ChildOf,
  measure as measureChild,
  measureRounds,
  reportToParent,
  type Tally,
} from "./children.js";
import { int, median, spread, table, writeResultsSection } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// Settings

const ROUNDS = 7; // each gives every contender one autocannon run of RUN_SECONDS
const RUN_SECONDS = 3;
const WARMUP_SECONDS = 1.5; // per contender, before the first round (JIT, lazy loading)
const CONNECTIONS = 10;
const PIPELINING = 1;
const TARGET_LISTEN = 0.8; // ours on listen() / raw node:http
const TARGET_EXPRESS = 0.9; // ours through createApp / plain Express 5

const SECTION = "## Server (@arp/server)";
const benchDir = fileURLToPath(new URL(".", import.meta.url));
const vectors = join(benchDir, "../spec/v1/conformance/json_vectors");

/** The golden vectors: the request every contender receives, and the Run every contender answers. */
const START_TEXT = readFileSync(join(vectors, "run_gateway/runs/run_start_request/full.json"), "utf8");
const START = JSON.parse(START_TEXT) as RunStartRequest;
const BODY = JSON.stringify(START);
const RUN = JSON.parse(readFileSync(join(vectors, "core/run/full.json"), "utf8")) as Run;

// ---------------------------------------------------------------------------------------------
// The servers, one per child process

type Kind =
  | "raw"
  | "rawValidate"
  | "rawValidateContext"
  | "listen"
  | "listenNoResponseCheck"
  | "express"
  | "expressDefaults"
  | "arpExpress";

/** Each child imports only what its server needs (the raw one loads neither Express nor @arp/server). */
async function serve(kind: Kind): Promise<void> {
  let server: Server;
  if (kind === "raw" || kind === "rawValidate" || kind === "rawValidateContext") {
    const validates = kind !== "raw";
    const context = kind === "rawValidateContext" ? new AsyncLocalStorage<{ sub: string }>() : undefined;
    const principal = { sub: "dev" };
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== "POST" || req.url !== "/v1/runs") {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400).end();
          return;
        }
        if (typeof body !== "object" || body === null) {
          res.writeHead(400).end();
          return;
        }
        // The control: the same two schema checks as ours, nothing else.
        if (validates && !validate("RunStartRequest", body).ok) {
          const text = JSON.stringify({ error: { code: "invalid_request", message: "invalid body" } });
          res.writeHead(400, { "content-type": "application/json" }).end(text);
          return;
        }
        const answer = () => {
          if (validates && !validate("Run", RUN).ok) throw new Error("invalid Run");
          const text = JSON.stringify(RUN);
          res.writeHead(200, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(text),
          });
          res.end(text);
        };
        if (context) context.run(principal, answer);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  } else if (kind === "express" || kind === "expressDefaults") {
    const { default: express } = await import("express");
    const app = express();
    if (kind === "express") {
      // The same headers and work as the others: no ETag hashing of each body, no X-Powered-By.
      app.set("etag", false);
      app.disable("x-powered-by");
    }
    app.use(express.json());
    app.post("/v1/runs", (_req, res) => {
      res.json(RUN);
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(s)));
    });
  } else {
    const { BaseRunGatewayServer } = await import("@arp/server");
    class BenchGateway extends BaseRunGatewayServer {
      startRun(): Run {
        return RUN;
      }
      getRun(): Run {
        return RUN;
      }
      cancelRun(): Run {
        return RUN;
      }
    }
    // Request validation is always on; response validation stays at its default ("strict") but in
    // the one row that prices it.
    const gateway = new BenchGateway({
      auth: { mode: "disabled" },
      ...(kind === "listenNoResponseCheck" ? { validateResponses: "off" as const } : {}),
    });
    if (kind === "listen" || kind === "listenNoResponseCheck") {
      server = (await gateway.listen({ port: 0, host: "127.0.0.1" })).server;
    } else {
      const { createApp } = await import("@arp/server/express");
      const app = createApp(gateway);
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(0, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(s)));
      });
    }
  }
  reportToParent(server);
}

const require = createRequire(import.meta.url);
const versionOf = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

type Child = ChildOf<Kind>;
/** One autocannon run against `child`: POST /v1/runs with the golden body, CONNECTIONS in flight. */
const measure = (child: Child, seconds: number): Promise<Tally> =>
  measureChild(child, {
    path: "/v1/runs",
    body: BODY,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    seconds,
  });

// ---------------------------------------------------------------------------------------------
// Before timing: every contender answers the same request with the same valid Run

async function verify(child: Child, validates: boolean): Promise<void> {
  const post = (body: string) =>
    fetch(`${child.url}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const res = await post(BODY);
  if (res.status !== 200) throw new Error(`${child.kind}: POST /v1/runs answered ${res.status}`);
  if (!res.headers.get("content-type")?.startsWith("application/json"))
    throw new Error(`${child.kind}: content-type ${res.headers.get("content-type")}`);
  const run = (await res.json()) as unknown;
  const check = validate("Run", run);
  if (!check.ok) throw new Error(`${child.kind}: the answer is not a valid Run`);
  if (JSON.stringify(run) !== JSON.stringify(RUN)) throw new Error(`${child.kind}: unexpected Run`);
  // Ours validates the request: a body that breaks RunStartRequest is answered 400 invalid_request.
  const invalid = await post(JSON.stringify({ ...START, run_id: 42 }));
  const envelope = (await invalid.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  if (validates && (invalid.status !== 400 || envelope?.error?.code !== "invalid_request")) {
    throw new Error(`${child.kind}: an invalid body was answered ${invalid.status}, not 400 invalid_request`);
  }
  if (!validates && invalid.status !== 200)
    throw new Error(`${child.kind}: baseline answered ${invalid.status}`);
}

// ---------------------------------------------------------------------------------------------
// Main

interface Contender {
  label: string;
  /** The contender this one is compared with (itself for a baseline). */
  baseline: Kind;
  /** Whether it validates the request (ours and the validating control) or not (the baselines). */
  validates: boolean;
}

const CONTENDERS: Record<Kind, Contender> = {
  raw: {
    label: "raw `node:http`: read body, `JSON.parse`, `JSON.stringify(run)`",
    baseline: "raw",
    validates: false,
  },
  rawValidate: {
    label: "control: raw `node:http` + `validate()` of the request and the Run",
    baseline: "raw",
    validates: true,
  },
  rawValidateContext: {
    label: "control: the same inside `AsyncLocalStorage.run` (as for `getPrincipal()`)",
    baseline: "raw",
    validates: true,
  },
  listen: { label: "`@arp/server` `listen()` (defaults: validation on)", baseline: "raw", validates: true },
  listenNoResponseCheck: {
    label: '`@arp/server` `listen()`, `validateResponses: "off"`',
    baseline: "raw",
    validates: true,
  },
  express: {
    label: "plain Express 5 + `express.json()`, `res.json(run)` (ETag off)",
    baseline: "express",
    validates: false,
  },
  expressDefaults: {
    label: "control: plain Express 5, Express defaults (ETag, X-Powered-By)",
    baseline: "express",
    validates: false,
  },
  arpExpress: {
    label: "`@arp/server/express` `createApp(service)` (validation on)",
    baseline: "express",
    validates: true,
  },
};

async function main(): Promise<void> {
  const began = performance.now();
  const names = Object.keys(CONTENDERS) as Kind[];
  const rounds = await measureRounds(
    import.meta.url,
    names,
    (child) => verify(child, CONTENDERS[child.kind].validates),
    measure,
    { rounds: ROUNDS, runSeconds: RUN_SECONDS, warmupSeconds: WARMUP_SECONDS },
  );
  const elapsed = (performance.now() - began) / 1000;

  const resultsTable = table(
    [
      "Contender",
      "requests/s (median)",
      "server CPU µs per request (median)",
      "requests/s ratio to its baseline (median, min–max)",
      "CPU-efficiency ratio (baseline µs / ours µs)",
    ],
    names.map((kind) => {
      const c = CONTENDERS[kind];
      const own = c.baseline === kind;
      return [
        c.label,
        int(median(rounds.rates(kind))),
        median(rounds.cpuPerRequest(kind)).toFixed(1),
        own ? "1" : spread(rounds.ratios(kind, c.baseline), 3),
        own ? "1" : spread(rounds.cpuRatios(kind, c.baseline), 3),
      ];
    }),
  );
  const listenRatio = rounds.ratios("listen", "raw");
  const expressRatio = rounds.ratios("arpExpress", "express");
  const targetTable = table(
    ["Target", "Measured", "Status"],
    [
      [
        `\`listen()\` / raw \`node:http\` >= ${TARGET_LISTEN}`,
        spread(listenRatio, 3),
        median(listenRatio) >= TARGET_LISTEN ? "PASS" : "MISS",
      ],
      [
        `\`createApp\` / plain Express 5 >= ${TARGET_EXPRESS}`,
        spread(expressRatio, 3),
        median(expressRatio) >= TARGET_EXPRESS ? "PASS" : "MISS",
      ],
    ],
  );

  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const section = `${SECTION}

Written by \`bench/server.bench.ts\` (\`cd bench && npx tsx server.bench.ts\`), which replaces only this
section. Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; Node ${process.version}; ${cpu} (${cpus().length} cores); run time ${elapsed.toFixed(0)} s
- \`@arp/server\` ${versionOf("@arp/server")}, Express ${versionOf("express")}, autocannon ${versionOf("autocannon")}.
  Workload: \`POST /v1/runs\` with the \`run_gateway/runs/run_start_request/full.json\` golden
  vector (${int(Buffer.byteLength(BODY))} bytes), answered 200 with \`core/run/full.json\` (${int(Buffer.byteLength(JSON.stringify(RUN)))} bytes), serialised on every request.
- Method: each server runs in its own child process; autocannon drives it from this process on
  loopback (${CONNECTIONS} connections, pipelining ${PIPELINING}). ${ROUNDS} rounds give every contender one ${RUN_SECONDS} s run, in an
  order that rotates and alternates from round to round, after a ${WARMUP_SECONDS} s warm-up each. requests/s is the
  median over the rounds; ratios are the median (min–max) of the per-round ratios. The server process's CPU time
  per request (\`process.cpuUsage\` in the child, before and after each run) is quoted beside it: with 2
  cores the load generator and the server each hold one, and a baseline that is cheaper than the load
  generator can drive shows as a CPU gap more than as a requests/s gap. Any error, timeout or non-2xx
  answer fails the run.
- Before timing, every server is checked to answer the golden request 200 with a valid \`Run\` (the same
  one), and ours to answer a body that breaks \`RunStartRequest\` 400 \`invalid_request\`. Ours does more
  work than the baselines, which is what is priced: routing, auth disabled (\`auth: { mode: "disabled" }\`),
  content-type and body-size checks, validation of the request against \`RunStartRequest\` and of the
  response against \`Run\` (\`validateResponses\` at its default, \`"strict"\`), and the principal store
  behind \`getPrincipal()\` (an \`AsyncLocalStorage\`). The control rows price the two schema checks alone
  on raw \`node:http\`, then those and the store; a row of ours with response validation off prices that
  check. The Express baseline turns ETag and X-Powered-By off so that it sends what the others
  send; the second control row shows Express with its defaults.

${resultsTable}

${targetTable}
`;
  writeResultsSection(SECTION, section);

  console.log(
    `\nServer: POST /v1/runs, ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${RUN_SECONDS} s per contender\n`,
  );
  console.log(resultsTable);
  console.log(`\n${targetTable}`);
  console.log(`\nUpdated the server section of bench/results.md (${elapsed.toFixed(0)} s).`);
}

await benchEntry((kind) => serve(kind as Kind), main);
