/**
 * `@arp/server/fetch` on Node, next to `listen()`: requests per second for `POST /v1/runs` (a
 * RunStartRequest in, a Run out; validation on, auth disabled), driven by autocannon on loopback. A
 * fetch handler needs a host that turns node:http into `Request`/`Response`; two are measured:
 *
 * - `raw`: `node:http` reading the body, `JSON.parse`, replying `JSON.stringify(run)` (the baseline);
 * - `listen`: a `BaseRunGatewayServer` subclass on its own `listen()`;
 * - `bridgeControl` (control): a minimal node:http → `Request`/`Response` bridge (this file's
 *   `bridge()`: `new Request` with a `Readable.toWeb` body, the `Response` body written as read)
 *   serving a trivial fetch handler (`await request.json()`, `Response.json(run)`): the bridge's own cost;
 * - `bridgeFetch`: the same bridge serving `createFetchHandler(service)`;
 * - `honoControl` (control): `@hono/node-server`'s `getRequestListener` (the node:http adapter most
 *   fetch-style Node apps use) serving the trivial handler;
 * - `honoFetch`: `@hono/node-server` serving `createFetchHandler(service)`.
 *
 * Each server runs in its own child process (this file, started with `--serve <kind>`). Prints a table
 * and replaces (or appends) the section `## Fetch handler on Node (@arp/server/fetch)` of
 * `bench/results.md`. Run: `npm run build`, then `npm run bench:fetch` in bench/; about 2.5 min.
 */

import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
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

const ROUNDS = 7;
const RUN_SECONDS = 3;
const WARMUP_SECONDS = 1.5;
const CONNECTIONS = 10;

const SECTION = "## Fetch handler on Node (@arp/server/fetch)";
const benchDir = fileURLToPath(new URL(".", import.meta.url));
const vectors = join(benchDir, "../spec/v1/conformance/json_vectors");
const START = JSON.parse(
  readFileSync(join(vectors, "run_gateway/runs/run_start_request/full.json"), "utf8"),
) as RunStartRequest;
const BODY = JSON.stringify(START);
const RUN = JSON.parse(readFileSync(join(vectors, "core/run/full.json"), "utf8")) as Run;

type Kind = "raw" | "listen" | "bridgeControl" | "bridgeFetch" | "honoControl" | "honoFetch";
type FetchLike = (request: Request) => Response | Promise<Response>;

// ---------------------------------------------------------------------------------------------
// The servers, one per child process

/** A minimal node:http → fetch bridge, as a host does it: a web Request in, the Response written out. */
function bridge(handle: FetchLike): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const departed = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) departed.abort();
    });
    const method = req.method ?? "GET";
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: departed.signal };
    if (method !== "GET" && method !== "HEAD") {
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      init.duplex = "half";
    }
    void Promise.resolve(handle(new Request(`http://${req.headers.host}${req.url}`, init))).then(
      async (response) => {
        const head: string[] = [];
        for (const [name, value] of response.headers) head.push(name, value);
        res.writeHead(response.status, head);
        if (response.body === null) return void res.end();
        for await (const chunk of response.body) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
        }
        res.end();
      },
      () => res.destroy(),
    );
  };
}

/** The trivial fetch handler of the control rows: parse, answer, nothing else. */
const trivial: FetchLike = async (request) => {
  await request.json();
  return Response.json(RUN);
};

async function arpHandler(): Promise<FetchLike> {
  const { BaseRunGatewayServer } = await import("@arp/server");
  const { createFetchHandler } = await import("@arp/server/fetch");
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
  return createFetchHandler(new BenchGateway({ auth: { mode: "disabled" } }));
}

async function serve(kind: Kind): Promise<void> {
  let server: Server;
  if (kind === "raw") {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const text = JSON.stringify(RUN);
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      });
    });
  } else if (kind === "listen") {
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
    const running = await new BenchGateway({ auth: { mode: "disabled" } }).listen({ port: 0 });
    server = running.server;
  } else {
    const handle = kind === "bridgeControl" || kind === "honoControl" ? trivial : await arpHandler();
    if (kind === "honoControl" || kind === "honoFetch") {
      const { getRequestListener } = await import("@hono/node-server");
      server = createServer(getRequestListener(handle));
    } else {
      server = createServer(bridge(handle));
    }
  }
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  reportToParent(server);
}

// ---------------------------------------------------------------------------------------------
// Driving them

const require = createRequire(import.meta.url);
/** A dependency's version, also of one whose exports map hides its package.json (`@hono/node-server`). */
function versionOf(name: string): string {
  for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
    if (pkg.name === name) return pkg.version;
  }
  throw new Error(`no package.json for ${name}`);
}

type Child = ChildOf<Kind>;
/** One autocannon run against `child`: POST /v1/runs with the golden body, CONNECTIONS in flight. */
const measure = (child: Child, seconds: number): Promise<Tally> =>
  measureChild(child, { path: "/v1/runs", body: BODY, connections: CONNECTIONS, seconds });

/** Every contender answers the golden request with the same valid Run; ours refuse a broken body. */
async function verify(child: Child, validates: boolean): Promise<void> {
  const post = (body: string) =>
    fetch(`${child.url}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const res = await post(BODY);
  const run = (await res.json()) as unknown;
  if (res.status !== 200 || !validate("Run", run).ok || JSON.stringify(run) !== JSON.stringify(RUN)) {
    throw new Error(`${child.kind}: POST /v1/runs answered ${res.status} without the expected Run`);
  }
  if (!validates) return;
  const invalid = await post(JSON.stringify({ ...START, run_id: 42 }));
  const envelope = (await invalid.json()) as { error?: { code?: string } };
  if (invalid.status !== 400 || envelope.error?.code !== "invalid_request") {
    throw new Error(`${child.kind}: an invalid body was answered ${invalid.status}, not 400 invalid_request`);
  }
}

interface Contender {
  label: string;
  validates: boolean;
}
const CONTENDERS: Record<Kind, Contender> = {
  raw: { label: "raw `node:http`: read body, `JSON.parse`, `JSON.stringify(run)`", validates: false },
  listen: { label: "`@arp/server` `listen()`", validates: true },
  bridgeControl: { label: "control: minimal node:http → fetch bridge, trivial handler", validates: false },
  bridgeFetch: { label: "`createFetchHandler(service)` behind the minimal bridge", validates: true },
  honoControl: { label: "control: `@hono/node-server`, trivial handler", validates: false },
  honoFetch: { label: "`createFetchHandler(service)` behind `@hono/node-server`", validates: true },
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
      "ratio to raw (median, min–max)",
    ],
    names.map((kind) => [
      CONTENDERS[kind].label,
      int(median(rounds.rates(kind))),
      median(rounds.cpuPerRequest(kind)).toFixed(1),
      kind === "raw" ? "1" : spread(rounds.ratios(kind, "raw"), 3),
    ]),
  );
  const pairs: [string, Kind, Kind][] = [
    ["fetch handler (minimal bridge) / `listen()`", "bridgeFetch", "listen"],
    ["fetch handler (`@hono/node-server`) / `listen()`", "honoFetch", "listen"],
    [
      "fetch handler / trivial handler, minimal bridge (the pipeline's cost there)",
      "bridgeFetch",
      "bridgeControl",
    ],
    ["fetch handler / trivial handler, `@hono/node-server`", "honoFetch", "honoControl"],
  ];
  const pairTable = table(
    ["Ratio (requests/s)", "median (min–max)"],
    pairs.map(([label, a, b]) => [label, spread(rounds.ratios(a, b), 3)]),
  );

  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const section = `${SECTION}

Written by \`bench/fetch.bench.ts\` (\`npm run bench:fetch\` in bench/), which replaces only this section.
Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; Node ${process.version}; ${cpu} (${cpus().length} cores); run time ${elapsed.toFixed(0)} s
- \`@arp/server\` ${versionOf("@arp/server")}, \`@hono/node-server\` ${versionOf("@hono/node-server")}, autocannon ${versionOf("autocannon")}.
  Workload as in the server section: \`POST /v1/runs\` with the \`run_start_request/full.json\` golden vector,
  answered 200 with \`core/run/full.json\`; ours validate both (auth disabled).
- Method: each server in its own child process, autocannon on loopback (${CONNECTIONS} connections), ${ROUNDS}
  rounds of ${RUN_SECONDS} s per contender in a rotating, alternating order after a ${WARMUP_SECONDS} s warm-up.
  A fetch handler on Node needs a node:http → \`Request\`/\`Response\` bridge: the minimal one in this
  file, and \`@hono/node-server\`; each also serves a trivial fetch handler, the control that prices
  the bridge alone. On Bun and Deno the host's own \`Request\`/\`Response\` are native and no bridge runs.

${resultsTable}

${pairTable}
`;
  writeResultsSection(SECTION, section);
  console.log(
    `\n${resultsTable}\n\n${pairTable}\n\nUpdated the fetch section of bench/results.md (${elapsed.toFixed(0)} s).`,
  );
}

await benchEntry((kind) => serve(kind as Kind), main);
