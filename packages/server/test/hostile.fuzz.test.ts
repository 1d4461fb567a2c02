/**
 * Hostile input, property-based (fast-check), against real loopback servers of all seven services:
 * for every route, `ARP_FUZZ_RUNS` (default 2,000) generated malformed requests, as raw bytes on
 * fresh TCP connections (see support/hostile.ts for the generators and what each may be answered).
 *
 * Every answer is a 4xx ARP ErrorEnvelope (checked with @arp/model's validator; a 2xx only for a
 * request that is valid by the validators), never a 5xx, within `ANSWER_BOUND_MS`; nothing is logged
 * as an error; the servers stay up; no prototype gains a property; and the heap, after GC, returns
 * to its baseline within `HEAP_TOLERANCE`. The servers run in a child process started with
 * `--expose-gc` (support/hostile-servers.ts), which reports its heap, prototypes and logged errors.
 *
 *   ARP_FUZZ_RUNS=100000 npx vitest run test/hostile.fuzz.test.ts   # the heavy local run (per route)
 *   ARP_FUZZ_SEED=<seed>                                              # replays a failure fast-check reported
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ErrorEnvelope, SERVICES, validate } from "@arp/model";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileRequest, hostileRequests } from "./support/hostile.js";
import type { ServersReport } from "./support/hostile-servers.js";
import { exchange } from "./support/wire.js";

/** Requests per route. */
const RUNS = Number(process.env.ARP_FUZZ_RUNS ?? 2_000);
const SEED = process.env.ARP_FUZZ_SEED === undefined ? undefined : Number(process.env.ARP_FUZZ_SEED);
/** Requests sent at once (one fast-check run is a batch of this many). */
const BATCH = 24;
/** The bound on one request's answer: past it the server counts as hung. */
const ANSWER_BOUND_MS = 10_000;
/** How far the heap (after GC) may end above its baseline. */
const HEAP_TOLERANCE = 8 * 1024 * 1024; // 362,000 requests (ARP_FUZZ_RUNS=10000) ended 0.6 MiB above

const tally = {
  requests: 0,
  twoXX: 0,
  dropped: 0,
  byStatus: new Map<number, number>(),
};

/** The child process with the seven servers (support/hostile-servers.ts), and its ports by service key. */
let child: ChildProcess;
let ports: Record<string, number> = {};
let exited: string | undefined;
const replies: ((message: { report: ServersReport }) => void)[] = [];

function report(): Promise<ServersReport> {
  return new Promise((resolve) => {
    replies.push((m) => resolve(m.report));
    child.send("report");
  });
}

function check(request: HostileRequest, answer: Awaited<ReturnType<typeof exchange>>): void {
  const what = `${request.attack} (expect ${request.expect}): ${request.bytes.subarray(0, 300).toString("latin1")}`;
  tally.requests++;
  tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
  if (answer.status === 0) {
    if (!request.mayDrop) throw new Error(`closed without an answer: ${what}`);
    tally.dropped++;
    return;
  }
  if (answer.status >= 500) throw new Error(`answered ${answer.status} ${answer.body.toString()}: ${what}`);
  if (answer.status < 400) {
    if (request.expect !== "any")
      throw new Error(`answered ${answer.status} to a malformed request: ${what}`);
    tally.twoXX++;
    return;
  }
  if (answer.headers["content-type"] !== "application/json")
    throw new Error(`a ${answer.status} with content-type ${answer.headers["content-type"]}: ${what}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString("utf8"));
  } catch {
    throw new Error(`a ${answer.status} whose body is not JSON (${answer.body.toString()}): ${what}`);
  }
  const result = validate("ErrorEnvelope", body);
  if (!result.ok)
    throw new Error(`a ${answer.status} that is not an ErrorEnvelope (${answer.body}): ${what}`);
  if (typeof (body as ErrorEnvelope).error.code !== "string") throw new Error(`no code: ${what}`);
}

async function send(port: number, request: HostileRequest): Promise<void> {
  const answer = await exchange(port, request.bytes, {
    splits: request.splits,
    endAfterWrite: request.endAfterWrite,
    timeoutMs: ANSWER_BOUND_MS,
  });
  check(request, answer);
}

const routes = Object.values(SERVICES).flatMap((spec) =>
  Object.values(spec.operations).map((op) => ({ spec, op, name: `${spec.key} ${op.method} ${op.path}` })),
);

let baseline: ServersReport;
const started = performance.now();

beforeAll(async () => {
  child = fork(fileURLToPath(new URL("./support/hostile-servers.ts", import.meta.url)), {
    execArgv: ["--expose-gc", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.on("exit", (code, signal) => {
    exited = `the servers' process exited (code ${code}, signal ${signal})`;
  });
  ports = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.on("message", (m: { ports?: Record<string, number>; report?: ServersReport }) => {
      if (m.ports) resolve(m.ports);
      else if (m.report) replies.shift()?.(m as { report: ServersReport });
    });
  });
  // Warm up (JIT, Node's parser pools, lazily built caches), then the baseline.
  for (const { spec, op } of routes) {
    const port = ports[spec.key]!;
    await Promise.all(
      fc.sample(hostileRequests(spec, op), { numRuns: 50, seed: 1 }).map((r) => send(port, r)),
    );
  }
  baseline = await report();
}, 120_000);

afterAll(async () => {
  if (exited === undefined) {
    child.send("close");
    await new Promise((r) => child.once("exit", r));
  }
});

describe(`hostile requests: ${RUNS} per route, ${routes.length} routes of ${Object.keys(SERVICES).length} services`, () => {
  for (const { spec, op, name } of routes) {
    it(
      name,
      async () => {
        const port = ports[spec.key]!;
        await fc.assert(
          fc.asyncProperty(
            fc.array(hostileRequests(spec, op), { minLength: BATCH, maxLength: BATCH }),
            async (batch) => {
              await Promise.all(batch.map((r) => send(port, r)));
            },
          ),
          {
            numRuns: Math.ceil(RUNS / BATCH),
            endOnFailure: true,
            ...(SEED === undefined ? {} : { seed: SEED }),
          },
        );
      },
      // Generous: 2,000 requests take about a second; the bound scales with ARP_FUZZ_RUNS.
      Math.max(60_000, RUNS * 30),
    );
  }

  it("afterwards: every server is up, nothing was logged as an error, no prototype was polluted, the heap is back", async () => {
    expect(exited).toBeUndefined();
    for (const [key, port] of Object.entries(ports)) {
      const health = await exchange(
        port,
        Buffer.from("GET /v1/health HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n"),
        { timeoutMs: ANSWER_BOUND_MS },
      );
      expect([key, health.status]).toEqual([key, 200]);
    }
    const after = await report();
    expect(after.errors.filter((e) => e.count > 0)).toEqual([]);
    expect(after.prototypes).toEqual(baseline.prototypes);
    expect(after.polluted).toEqual([]);
    const [heapBaseline, heap] = [baseline.heap, after.heap];
    const cpu = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(1);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.info(
      `hostile: ${tally.requests} requests in ${seconds} s (${tally.twoXX} 2xx to valid-by-chance requests, ` +
        `${tally.dropped} dropped uploads); CPU: servers ${cpu(after.cpu)} s, client ${cpu(process.cpuUsage())} s; heap ${(heapBaseline / 2 ** 20).toFixed(1)} -> ${(heap / 2 ** 20).toFixed(1)} MiB; ` +
        statuses.join(", "),
    );
    expect(tally.requests).toBeGreaterThanOrEqual(RUNS * routes.length);
    expect(heap - heapBaseline).toBeLessThan(HEAP_TOLERANCE);
  });
});
