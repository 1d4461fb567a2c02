/**
 * `@arp/client` round trips against raw `fetch` on the same loopback server, side by side in one run:
 * requests per second for `getRun` (validation on, as a user gets it by default, and off) and
 * `startRun`, against `fetch(url).then((r) => r.json())` with the same concurrency. The server runs in a
 * child process, so its CPU work does not share the client's event loop. Prints a table and replaces
 * (or appends) the section `## Client round-trip (@arp/client)` of `bench/results.md`, leaving the
 * other sections as they are.
 *
 * Run: `npm run build`, then `cd bench && npx tsx client.bench.ts` (or `npm run bench:client`); about 100 s.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIENT_VERSION, RunGatewayClient } from "@arp/client";
import type { Run, RunStartRequest } from "@arp/model";
import { int, median, spread, table, writeResultsSection } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// Settings

const ROUNDS = 15; // each gives every contender ROUND_MS ...
const ROUND_MS = 1_000;
const SLICES = 4; // ... cut into this many interleaved slices, so neighbours share the machine's noise
const WARMUP_MS = 500; // per contender, before the first round (JIT, connection pool)
const CONCURRENCY = 16; // requests in flight, for every contender
const TARGET_RATIO = 0.9; // client getRun (defaults) / raw fetch, median of the per-round ratios

const SECTION = "## Client round-trip (@arp/client)";
const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const vectors = join(repoRoot, "spec/v1/conformance/json_vectors");

/** The golden vectors: the Run the server answers, and the start request the client sends. */
const RUN = JSON.parse(readFileSync(join(vectors, "core/run/full.json"), "utf8")) as Run;
const START = JSON.parse(
  readFileSync(join(vectors, "run_gateway/runs/run_start_request/full.json"), "utf8"),
) as RunStartRequest;

// ---------------------------------------------------------------------------------------------
// The server, in a child process (this same file, started with `--serve`)

function serve(): void {
  const body = Buffer.from(JSON.stringify(RUN));
  const headers = { "content-type": "application/json", "content-length": String(body.length) };
  const answer = (res: ServerResponse) => {
    res.writeHead(200, headers);
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "";
    if (req.method === "GET" && url.startsWith("/v1/runs/")) return answer(res);
    if (req.method === "POST" && url === "/v1/runs") {
      req.resume(); // read the whole request body, then answer
      req.on("end", () => answer(res));
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1", () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on("disconnect", () => process.exit(0));
}

async function startServer(): Promise<{ child: ChildProcess; baseUrl: string }> {
  // execArgv is inherited, so the child runs under tsx as this process does.
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { port: number }).port));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server child exited (${code})`)));
  });
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface Tally {
  requests: number;
  /** Wall-clock time, ms. */
  ms: number;
  /** CPU time of this (the client's) process, user + system, µs. */
  cpuUs: number;
}

/**
 * Runs `op` with CONCURRENCY calls in flight for `ms`: each worker starts a new call as soon as its
 * previous one settles, until the deadline; the clock stops when the last call is done, so calls still
 * in flight at the deadline are counted with the time they took.
 */
async function measure(op: () => Promise<unknown>, ms: number): Promise<Tally> {
  let requests = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + ms;
  const worker = async () => {
    while (performance.now() < deadline) {
      await op();
      requests++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(cpu);
  return { requests, ms: performance.now() - start, cpuUs: used.user + used.system };
}

// ---------------------------------------------------------------------------------------------
// Main

if (process.argv[2] === "--serve") {
  serve();
} else {
  await main();
}

interface Contender {
  label: string;
  /** The contender this one is compared with (itself for a baseline). */
  baseline: string;
  op: () => Promise<void>;
}

async function main(): Promise<void> {
  const began = performance.now();
  const { child, baseUrl } = await startServer();
  try {
    const id = RUN.run_id;
    const runUrl = `${baseUrl}/v1/runs/${encodeURIComponent(id)}`;
    const startUrl = `${baseUrl}/v1/runs`;
    const client = new RunGatewayClient({ baseUrl });
    const lenient = new RunGatewayClient({ baseUrl, validateResponses: "off" });
    const bounded = new RunGatewayClient({ baseUrl, timeoutMs: 30_000 });

    /** Every contender checks the answer it got, so each does (and keeps alive) the same work. */
    const check = (run: { run_id?: unknown }): void => {
      if (run.run_id !== id) throw new Error(`unexpected answer: ${JSON.stringify(run).slice(0, 80)}`);
    };
    const json = (r: Response) => r.json() as Promise<Run>;
    const postInit = (): RequestInit => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(START),
    });
    const contenders: Record<string, Contender> = {
      rawGet: {
        label: "raw `fetch(url).then(r => r.json())`, GET",
        baseline: "rawGet",
        op: () => fetch(runUrl).then(json).then(check),
      },
      rawGetTimeout: {
        label: "control: raw `fetch` GET with `signal: AbortSignal.timeout(30_000)`",
        baseline: "rawGet",
        op: () =>
          fetch(runUrl, { signal: AbortSignal.timeout(30_000) })
            .then(json)
            .then(check),
      },
      clientGet: {
        label: "`client.getRun(id)`, defaults (validation on)",
        baseline: "rawGet",
        op: () => client.getRun(id).then(check),
      },
      clientGetTimeout: {
        label: "`client.getRun(id)`, `timeoutMs: 30_000` (a deadline: fetch gets a signal)",
        baseline: "rawGet",
        op: () => bounded.getRun(id).then(check),
      },
      clientGetOff: {
        label: '`client.getRun(id)`, `validateResponses: "off"`',
        baseline: "rawGet",
        op: () => lenient.getRun(id).then(check),
      },
      rawPost: {
        label: "raw `fetch` POST (JSON body) + `r.json()`",
        baseline: "rawPost",
        op: () => fetch(startUrl, postInit()).then(json).then(check),
      },
      clientPost: {
        label: "`client.startRun(body)`, defaults",
        baseline: "rawPost",
        op: () => client.startRun(START).then(check),
      },
    };
    const names = Object.keys(contenders);
    const get = (name: string): Contender => contenders[name]!;

    // Same answer both ways, before anything is timed.
    const [viaClient, viaFetch] = await Promise.all([client.getRun(id), fetch(runUrl).then(json)]);
    if (JSON.stringify(viaClient) !== JSON.stringify(viaFetch)) throw new Error("client and fetch disagree");

    for (const name of names) await measure(get(name).op, WARMUP_MS);

    // rounds[name][round]: that contender's tally for the round, its slices added up.
    const rounds = Object.fromEntries(names.map((n) => [n, [] as Tally[]])) as Record<string, Tally[]>;
    for (let round = 0; round < ROUNDS; round++) {
      const tallies = new Map<string, Tally>(names.map((n) => [n, { requests: 0, ms: 0, cpuUs: 0 }]));
      for (let slice = 0; slice < SLICES; slice++) {
        // Rotate the starting contender and alternate the direction, so neighbours share the noise.
        const k = round * SLICES + slice;
        const rotated = names.map((_, i) => names[(i + k) % names.length]!);
        for (const name of k % 2 ? rotated.reverse() : rotated) {
          const t = await measure(get(name).op, ROUND_MS / SLICES);
          const sum = tallies.get(name)!;
          sum.requests += t.requests;
          sum.ms += t.ms;
          sum.cpuUs += t.cpuUs;
        }
      }
      for (const name of names) rounds[name]!.push(tallies.get(name)!);
      process.stdout.write(`\rround ${round + 1}/${ROUNDS}`);
    }
    process.stdout.write("\n");

    const rate = (t: Tally): number => t.requests / (t.ms / 1000);
    const rates = (name: string): number[] => rounds[name]!.map(rate);
    const cpuPer = (name: string): number[] => rounds[name]!.map((t) => t.cpuUs / t.requests);
    const ratios = (a: string, b: string): number[] => rates(a).map((x, i) => x / rates(b)[i]!);
    const elapsed = (performance.now() - began) / 1000;

    const resultsTable = table(
      [
        "Contender",
        "requests/s (median)",
        "client CPU µs per request (median)",
        "ratio to its raw `fetch` (median, min–max)",
      ],
      names.map((name) => {
        const c = get(name);
        return [
          c.label,
          int(median(rates(name))),
          median(cpuPer(name)).toFixed(0),
          c.baseline === name ? "1" : spread(ratios(name, c.baseline), 3),
        ];
      }),
    );
    const getRatio = ratios("clientGet", "rawGet");
    const targetTable = table(
      ["Target", "Measured", "Status"],
      [
        [
          `\`client.getRun\` (defaults) / raw \`fetch\` >= ${TARGET_RATIO}`,
          spread(getRatio, 3),
          median(getRatio) >= TARGET_RATIO ? "PASS" : "MISS",
        ],
      ],
    );

    const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
    const section = `${SECTION}

Written by \`bench/client.bench.ts\` (\`cd bench && npx tsx client.bench.ts\`), which replaces only this
section. Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; Node ${process.version} (undici ${process.versions.undici ?? "?"}); ${cpu} (${cpus().length} cores); run time ${elapsed.toFixed(0)} s
- \`@arp/client\` ${CLIENT_VERSION}. Server: \`node:http\` on 127.0.0.1 in a child process, answering
  \`GET /v1/runs/{id}\` and \`POST /v1/runs\` with the \`core/run/full.json\` golden vector
  (${int(Buffer.byteLength(JSON.stringify(RUN)))} bytes); \`startRun\` sends \`run_start_request/full.json\`.
- Method: ${CONCURRENCY} requests in flight per contender, all over the global \`fetch\` (one keep-alive
  pool); ${ROUNDS} rounds, each giving every contender ${ROUND_MS} ms in ${SLICES} interleaved slices whose order
  rotates and alternates, after ${WARMUP_MS} ms of warm-up each. requests/s is the median over the rounds;
  ratios are the median (min–max) of the per-round ratios. The client's CPU time per request
  (\`process.cpuUsage\`) is less sensitive to other load on the machine than requests/s. Every call checks
  the \`run_id\` it got.
- What the client adds per call: \`accept\`/\`user-agent\` headers, reading the body as text before
  \`JSON.parse\`, schema validation of the response (and of \`startRun\`'s request body). By default a call
  has no deadline and hands \`fetch\` no signal; the control row prices what raw \`fetch\` costs once it
  carries a timeout signal, and the \`timeoutMs\` row what ours costs with a deadline (a signal of its own
  and a timer per call).

${resultsTable}

${targetTable}
`;
    writeResultsSection(SECTION, section);

    console.log(
      `\nClient round-trip: ${CONCURRENCY} in flight, median of ${ROUNDS} rounds of ${ROUND_MS} ms per contender\n`,
    );
    console.log(resultsTable);
    console.log(`\n${targetTable}`);
    console.log(`\nUpdated the client section of bench/results.md (${elapsed.toFixed(0)} s).`);
  } finally {
    child.disconnect();
  }
}
