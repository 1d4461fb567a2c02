/**
 * Hostile input, property-based (fast-check), against real loopback servers of all seven services:
 * for every route, `ARP_FUZZ_RUNS` (default 2,000) generated malformed requests, as raw bytes on
 * fresh TCP connections (see support/hostile.ts for the generators and what each may be answered).
 *
 * Every answer is a 4xx ARP ErrorEnvelope (checked with @arp/model's validator; a 2xx only for a
 * request that is valid by the validators), never a 5xx, within `ANSWER_BOUND_MS`; nothing is logged
 * as an error; the servers stay up; no prototype gains a property; and the heap, after GC, returns
 * to its baseline within `HEAP_TOLERANCE`. Runs with `--expose-gc` (the `hostile` project of
 * vitest.config.ts).
 *
 *   ARP_FUZZ_RUNS=100000 npx vitest run --project hostile   # the heavy local run (per route)
 *   ARP_FUZZ_SEED=<seed>                                    # replays a failure fast-check reported
 */
import { type ErrorEnvelope, SERVICES, type ServiceSpec, validate } from "@arp/model";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArpServerBase, RunningServer } from "../src/index.js";
import { type HostileRequest, hostileRequests, POLLUTION_MARK } from "./support/hostile.js";
import { type RecordingLogger, recordingLogger } from "./support/http.js";
import {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "./support/services.js";
import { exchange } from "./support/wire.js";

/** Requests per route. */
const RUNS = Number(process.env.ARP_FUZZ_RUNS ?? 2_000);
const SEED = process.env.ARP_FUZZ_SEED === undefined ? undefined : Number(process.env.ARP_FUZZ_SEED);
/** Requests sent at once (one fast-check run is a batch of this many). */
const BATCH = 16;
/** The bound on one request's answer: past it the server counts as hung. */
const ANSWER_BOUND_MS = 10_000;
/** How far the heap (after GC) may end above its baseline. */
const HEAP_TOLERANCE = 24 * 1024 * 1024;

const MAKE: Record<string, (logger: RecordingLogger) => ArpServerBase> = {
  "run-gateway": (logger) => new TestRunGateway({ logger }),
  "run-coordinator": (logger) => new TestRunCoordinator({ logger }),
  "atomic-executor": (logger) => new TestAtomicExecutor({ logger }),
  "composite-executor": (logger) => new TestCompositeExecutor({ logger }),
  "node-registry": (logger) => new TestNodeRegistry({ logger }),
  selection: (logger) => new TestSelection({ logger }),
  pdp: (logger) => new TestPdp({ logger }),
};

interface Running {
  spec: ServiceSpec;
  service: ArpServerBase;
  server: RunningServer;
  port: number;
  logger: RecordingLogger;
}

const running = new Map<string, Running>();
const tally = { requests: 0, twoXX: 0, dropped: 0, byStatus: new Map<number, number>() };

const PROTOTYPES = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
];
const snapshot = () => PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort().join(","));
let prototypesBefore: string[];

const gc = (globalThis as { gc?: () => void }).gc;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/** Empties what the test services keep (runs, node types, ...): their data is not the server's. */
function clearStores(): void {
  for (const { service } of running.values()) {
    for (const value of Object.values(service)) {
      if (value instanceof Map || value instanceof Set) value.clear();
      else if (Array.isArray(value)) value.length = 0;
    }
  }
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

let heapBaseline = 0;
const started = performance.now();

beforeAll(async () => {
  expect(gc, "run with --expose-gc (the hostile project of vitest.config.ts)").toBeTypeOf("function");
  prototypesBefore = snapshot();
  for (const spec of Object.values(SERVICES)) {
    const logger = recordingLogger();
    const service = MAKE[spec.key]!(logger);
    const server = await service.listen({ port: 0 });
    running.set(spec.key, { spec, service, server, port: Number(new URL(server.url).port), logger });
  }
  // Warm up (JIT, Node's parser pools, lazily built caches), then the baseline.
  for (const { spec, op } of routes) {
    const port = running.get(spec.key)!.port;
    await Promise.all(
      fc.sample(hostileRequests(spec, op), { numRuns: 50, seed: 1 }).map((r) => send(port, r)),
    );
  }
  clearStores();
  heapBaseline = await heapAfterGc();
}, 120_000);

afterAll(async () => {
  await Promise.all([...running.values()].map((r) => r.server.close({ timeoutMs: 1_000 })));
});

describe(`hostile requests: ${RUNS} per route, ${routes.length} routes of ${Object.keys(SERVICES).length} services`, () => {
  for (const { spec, op, name } of routes) {
    it(
      name,
      async () => {
        const { port } = running.get(spec.key)!;
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
    for (const { port, logger, spec } of running.values()) {
      const health = await exchange(
        port,
        Buffer.from("GET /v1/health HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n"),
        { timeoutMs: ANSWER_BOUND_MS },
      );
      expect([spec.key, health.status]).toEqual([spec.key, 200]);
      expect(logger.errors).toEqual([]);
    }
    expect(snapshot()).toEqual(prototypesBefore);
    expect(({} as Record<string, unknown>)[POLLUTION_MARK]).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "toString")).toBe(true);
    clearStores();
    const heap = await heapAfterGc();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.info(
      `hostile: ${tally.requests} requests in ${seconds} s (${tally.twoXX} 2xx to valid-by-chance requests, ` +
        `${tally.dropped} dropped uploads); heap ${(heapBaseline / 2 ** 20).toFixed(1)} -> ${(heap / 2 ** 20).toFixed(1)} MiB; ` +
        statuses.join(", "),
    );
    expect(tally.requests).toBeGreaterThanOrEqual(RUNS * routes.length);
    expect(heap - heapBaseline).toBeLessThan(HEAP_TOLERANCE);
  });
});
