/**
 * A soak: pipeline runs, 50 in flight without a pause, for `ARP_SOAK_SECONDS` (default 60; the
 * 30-minute soak is `ARP_SOAK_SECONDS=1800`), on PostgreSQL with two coordinator replicas, every
 * service a process of its own. Every run must succeed with the output computed here and a gap-free
 * log; each service's heap after GC is sampled every {@link SAMPLE_EVERY_MS} meanwhile (printed: a
 * leak shows as a climb), and must be back at its baseline (taken after a warm-up) within
 * {@link HEAP_TOLERANCE} once the load has stopped; every peak RSS stays under {@link PEAK_RSS_LIMIT}.
 * On PostgreSQL because a memory store keeps up to 1 000 ended runs by design: its coordinator's heap
 * grows until then, which is not a leak (test/reliability/load.test.ts bounds it).
 */
import { expect, it } from "vitest";
import type { ProcessMemory } from "../../src/process.js";
import { type RunningStack, startStack } from "../../src/stack.js";
import { ANY_PORT, QUIET } from "../run-log.js";
import { MiB, memoryOf, mib, quantile, SETTLE_MS, steady } from "../support/load.js";
import { describePostgres, dropSchema, freshSchema, withSchema } from "../support/postgres.js";

const SECONDS = Number(process.env.ARP_SOAK_SECONDS ?? 60);
const CONCURRENCY = 50;
const WARMUP = 100;
/** Twelve samples over a long soak; every 10 s over a short one. */
const SAMPLE_EVERY_MS = Math.max(10_000, (SECONDS * 1000) / 12);
const HEAP_TOLERANCE = 16 * MiB;
const PEAK_RSS_LIMIT = 768 * MiB;

describePostgres("soak", (url) => {
  it(
    `${SECONDS} s of pipeline runs, ${CONCURRENCY} in flight: every run succeeds; every service's heap after GC returns to its baseline`,
    async () => {
      const schema = freshSchema();
      let stack: RunningStack | undefined;
      try {
        stack = await startStack({
          store: withSchema(url, schema),
          coordinators: 2,
          processes: { nodeArgs: ["--expose-gc"] },
          ports: ANY_PORT,
          logger: QUIET,
        });
        const gatewayUrl = stack.urls["run-gateway"];
        const signal = AbortSignal.timeout(SECONDS * 1000 + 240_000);
        const warm = await steady(gatewayUrl, { concurrency: CONCURRENCY, count: WARMUP, signal });
        expect(warm.problems).toEqual([]);
        const baseline = await memoryOf(stack);

        const samples: Map<string, ProcessMemory>[] = [];
        let sampling: Promise<unknown> = Promise.resolve();
        const sampler = setInterval(() => {
          sampling = memoryOf(stack!).then((m) => samples.push(m));
        }, SAMPLE_EVERY_MS);
        const load = await steady(gatewayUrl, {
          concurrency: CONCURRENCY,
          untilMs: performance.now() + SECONDS * 1000,
          first: WARMUP,
          signal,
        }).finally(() => clearInterval(sampler));
        expect(load.problems).toEqual([]);
        await sampling; // the last sample is in (and did not fail) before the final measure
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const after = await memoryOf(stack);

        const latencies = load.outcomes.map((o) => o.latencyMs);
        const rows = [...after].map(([service, m]) => {
          const trend = samples.map((s) => (s.get(service)!.heapUsed / MiB).toFixed(1)).join(" ");
          return `  ${service}: heap ${mib(baseline.get(service)!.heapUsed)} -> ${mib(m.heapUsed)} (during: ${trend}), peak RSS ${mib(m.peakRss)}`;
        });
        console.log(
          `soak: ${load.outcomes.length} runs in ${(load.wallMs / 1000).toFixed(0)} s (${((load.outcomes.length * 1000) / load.wallMs).toFixed(1)} runs/s, ` +
            `p50 ${(quantile(latencies, 0.5) / 1000).toFixed(2)} s, p99 ${(quantile(latencies, 0.99) / 1000).toFixed(2)} s)\n${rows.join("\n")}`,
        );
        for (const [service, m] of after) {
          expect(m.collected, service).toBe(true);
          expect(m.peakRss, `${service}'s peak RSS`).toBeLessThan(PEAK_RSS_LIMIT);
          expect(m.heapUsed - baseline.get(service)!.heapUsed, `${service}'s heap growth`).toBeLessThan(
            HEAP_TOLERANCE,
          );
        }
      } finally {
        await stack?.close();
        await dropSchema(url, schema);
      }
    },
    SECONDS * 1000 + 300_000,
  );
});
