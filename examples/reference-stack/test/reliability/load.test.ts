/**
 * 1 000 pipeline runs of five steps, all started at once through the gateway, each followed on its
 * own stream, on a stack whose every service is a process of its own: on the memory store with one
 * coordinator, and on PostgreSQL with two coordinator replicas behind the balancer. Every run must
 * succeed with the output computed here, every log be gap-free from seq 0; every service's peak
 * resident memory must stay under {@link PEAK_RSS_LIMIT}, and its heap (after GC, once the burst's
 * keep-alive connections have closed) must come back to its baseline (taken after a warm-up) within
 * {@link HEAP_TOLERANCE}; a memory store's coordinator, which keeps the 1 000 ended runs (its
 * `maxFinishedRuns`) by design, within {@link KEPT_RUNS_TOLERANCE}.
 * Throughput, latency and memory are printed, never asserted (bench/load.bench.ts measures them on a
 * quiet machine, for bench/results.md). `ARP_LOAD_RUNS` changes the count.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, type StackOptions, startStack } from "../../src/stack.js";
import { ANY_PORT, QUIET } from "../run-log.js";
import { allAtOnce, MiB, memoryOf, mib, quantile, SETTLE_MS, steady } from "../support/load.js";
import { describePostgres, dropSchema, freshSchema, withSchema } from "../support/postgres.js";

const RUNS = Number(process.env.ARP_LOAD_RUNS ?? 1000);
const WARMUP = 40;
/** The most resident memory any one service's process may reach under the load. */
const PEAK_RSS_LIMIT = 768 * MiB;
/**
 * How far a service's heap after GC may end above its baseline once the load is over. Not 16 MiB, as
 * the soak's: Node's `fetch` (undici) keeps a pool client for every connection it ever had open at
 * once to an origin, and the burst opens thousands (a heap snapshot of the composite executor after
 * it: 3,151 pool clients and their queues, some 6 MiB). Up to 11.5 MiB above the baseline measured
 * (bench/results.md), 15 MiB before the burst's keep-alive connections had closed. A high-water mark
 * of the burst, not growth per run: the soak's heap stays flat.
 */
const HEAP_TOLERANCE = 32 * MiB;
/** A memory store's coordinator keeps the last 1 000 ended runs (`maxFinishedRuns`): about 50 MiB here. */
const KEPT_RUNS_TOLERANCE = 128 * MiB;
/** A stuck test's deadline: 1 000 runs take about 1.5 minutes on the 2-core machine. */
const DEADLINE_MS = 420_000;

function loadSuite(name: string, options: () => StackOptions, cleanup?: () => Promise<void>): void {
  describe(name, () => {
    let stack: RunningStack;
    beforeAll(async () => {
      stack = await startStack({
        ...options(),
        processes: { nodeArgs: ["--expose-gc"] },
        ports: ANY_PORT,
        logger: QUIET,
      });
    }, 60_000);
    afterAll(async () => {
      await stack?.close();
      await cleanup?.();
    }, 60_000);

    it(
      `${RUNS} concurrent five-step pipeline runs: all succeed, every log gap-free, memory bounded and back to its baseline`,
      async () => {
        const gatewayUrl = stack.urls["run-gateway"];
        const signal = AbortSignal.timeout(DEADLINE_MS - 10_000);
        const warm = await steady(gatewayUrl, { concurrency: 10, count: WARMUP, signal, first: RUNS });
        expect(warm.problems).toEqual([]);
        const baseline = await memoryOf(stack);

        const load = await allAtOnce(gatewayUrl, RUNS, signal);
        expect(load.problems).toEqual([]);
        expect(load.outcomes).toHaveLength(RUNS);
        expect(new Set(load.outcomes.map((o) => o.run.run_id)).size).toBe(RUNS);

        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const after = await memoryOf(stack);
        const latencies = load.outcomes.map((o) => o.latencyMs);
        const seconds = load.wallMs / 1000;
        const rows = [...after].map(([service, m]) => {
          const before = baseline.get(service)!;
          return `  ${service}: heap ${mib(before.heapUsed)} -> ${mib(m.heapUsed)}, peak RSS ${mib(m.peakRss)}`;
        });
        console.log(
          `load (${name}): ${RUNS} runs at once in ${seconds.toFixed(1)} s: ${(RUNS / seconds).toFixed(1)} runs/s, ` +
            `p50 ${(quantile(latencies, 0.5) / 1000).toFixed(1)} s, p99 ${(quantile(latencies, 0.99) / 1000).toFixed(1)} s\n${rows.join("\n")}`,
        );
        for (const [service, m] of after) {
          expect(m.collected, service).toBe(true);
          expect(m.peakRss, `${service}'s peak RSS`).toBeLessThan(PEAK_RSS_LIMIT);
          const keepsRuns = service === "run-coordinator" && options().store === undefined;
          expect(m.heapUsed - baseline.get(service)!.heapUsed, `${service}'s heap growth`).toBeLessThan(
            keepsRuns ? KEPT_RUNS_TOLERANCE : HEAP_TOLERANCE,
          );
        }
      },
      DEADLINE_MS,
    );
  });
}

loadSuite("memory store, one coordinator", () => ({}));

describePostgres("on PostgreSQL", (url) => {
  const schema = freshSchema();
  loadSuite(
    "PostgreSQL, two coordinator replicas",
    () => ({ store: withSchema(url, schema), coordinators: 2 }),
    () => dropSchema(url, schema),
  );
});
