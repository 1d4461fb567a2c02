/**
 * 1 000 concurrent runs: the reliability load test's workload (test/reliability/load.test.ts), measured
 * on a quiet machine. Five-step pipeline runs, all 1 000 started at once through the gateway and each
 * followed on its stream, on a stack whose every service is a process of its own (so that each one's
 * memory is its own): memory store with one coordinator, PostgreSQL with two replicas behind the
 * balancer. Runs per second, p50/p99 latency (a run's start to the end of its stream), each service's
 * peak RSS and its heap after GC before and after. Needs a PostgreSQL server:
 * `ARP_BENCH_DATABASE_URL` or `ARP_TEST_DATABASE_URL` (`source .ci/postgres` starts a throwaway one).
 *
 *   cd bench && npx tsx load.bench.ts        # replaces the "## 1 000 concurrent runs" section of results.md
 */
import os from "node:os";
import pg from "pg";
import type { ProcessMemory } from "../examples/reference-stack/src/process.js";
import { startStack } from "../examples/reference-stack/src/stack.js";
import { SERVICE_KEYS } from "../examples/reference-stack/src/urls.js";
import {
  allAtOnce,
  memoryOf,
  quantile,
  SETTLE_MS,
  steady,
} from "../examples/reference-stack/test/support/load.js";
import { median, table, writeResultsSection } from "./lib.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = 40;
const HEADING = "## 1 000 concurrent runs: memory vs. PostgreSQL with two coordinators";

const SERVER_URL = process.env.ARP_BENCH_DATABASE_URL ?? process.env.ARP_TEST_DATABASE_URL;
if (SERVER_URL === undefined) {
  console.error("load.bench: set ARP_BENCH_DATABASE_URL or ARP_TEST_DATABASE_URL (source .ci/postgres)");
  process.exit(2);
}
const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0]));
const QUIET = { warn: () => undefined, error: () => undefined };
const withSchema = (url: string, schema: string) => `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;

type Contender = "memory, 1 coordinator" | "PostgreSQL, 2 coordinators";
const CONTENDERS: Contender[] = ["memory, 1 coordinator", "PostgreSQL, 2 coordinators"];

interface Round {
  runsPerSecond: number;
  latencies: number[];
  before: Map<string, ProcessMemory>;
  after: Map<string, ProcessMemory>;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
}

async function round(contender: Contender, r: number): Promise<Round> {
  const schema = `bench_load_${process.pid}_${r}`;
  const stack = await startStack({
    ports: ANY_PORT,
    logger: QUIET,
    processes: { nodeArgs: ["--expose-gc"] },
    ...(contender === "PostgreSQL, 2 coordinators"
      ? { store: withSchema(SERVER_URL!, schema), coordinators: 2 }
      : {}),
  });
  try {
    const gatewayUrl = stack.urls["run-gateway"];
    const signal = AbortSignal.timeout(900_000);
    const warm = await steady(gatewayUrl, { concurrency: 10, count: WARMUP, signal, first: RUNS });
    if (warm.problems.length > 0) throw new Error(warm.problems.join("\n"));
    const before = await memoryOf(stack);
    const load = await allAtOnce(gatewayUrl, RUNS, signal);
    if (load.problems.length > 0) throw new Error(load.problems.slice(0, 10).join("\n"));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // the burst's keep-alive connections close
    const after = await memoryOf(stack);
    const runsPerSecond = RUNS / (load.wallMs / 1000);
    console.log(`${contender}, round ${r + 1}: ${runsPerSecond.toFixed(1)} runs/s`);
    return { runsPerSecond, latencies: load.outcomes.map((o) => o.latencyMs), before, after };
  } finally {
    await stack.close();
    if (contender === "PostgreSQL, 2 coordinators") await dropSchema(schema);
  }
}

const began = performance.now();
const rounds = new Map<Contender, Round[]>(CONTENDERS.map((c) => [c, []]));
for (let r = 0; r < ROUNDS; r++) {
  // The order alternates, so neither always runs first.
  for (const contender of r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse()) {
    rounds.get(contender)!.push(await round(contender, r));
  }
}
const seconds = Math.round((performance.now() - began) / 1000);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

const summary = CONTENDERS.map((c) => {
  const list = rounds.get(c)!;
  const latencies = list.flatMap((x) => x.latencies);
  return [
    c,
    median(list.map((x) => x.runsPerSecond)).toFixed(1),
    (quantile(latencies, 0.5) / 1000).toFixed(1),
    (quantile(latencies, 0.99) / 1000).toFixed(1),
    mib(Math.max(...list.flatMap((x) => [...x.after.values()].map((m) => m.peakRss)))),
    mib(Math.max(...list.map((x) => [...x.after.values()].reduce((sum, m) => sum + m.peakRss, 0)))),
  ];
});

const throughput = (c: Contender) => median(rounds.get(c)!.map((x) => x.runsPerSecond));
const ratio = (throughput("PostgreSQL, 2 coordinators") / throughput("memory, 1 coordinator")).toFixed(2);

const memoryRows = CONTENDERS.flatMap((c) => {
  const list = rounds.get(c)!;
  const names = [...list[0]!.after.keys()];
  return names.map((name) => {
    const peak = Math.max(...list.map((x) => x.after.get(name)!.peakRss));
    const before = median(list.map((x) => x.before.get(name)!.heapUsed));
    const after = median(list.map((x) => x.after.get(name)!.heapUsed));
    return [`${c}: ${name}`, mib(peak), (before / 2 ** 20).toFixed(1), (after / 2 ** 20).toFixed(1)];
  });
});

const body = `${HEADING}

Written by \`bench/load.bench.ts\` (\`source .ci/postgres && cd bench && npx tsx load.bench.ts\`), which
replaces only this section. The workload of \`test/reliability/load.test.ts\`, measured on a quiet machine.

- Date: ${new Date().toISOString()}; Node ${process.version}; ${os.cpus()[0]?.model ?? "?"} (${os.cpus().length} cores, shared by every process, the benchmark's and PostgreSQL's too); run time ${seconds} s
- Workload: ${RUNS} pipeline runs of 5 atomic steps (6 node runs each), all started at once through the
  gateway, each followed on its gateway stream to \`run_completed\`; every run checked (its output, a
  gap-free log). ${WARMUP} runs of warm-up first. ${ROUNDS} rounds per contender, the order alternating.
- Every service is a process of its own (\`startStack({ processes })\`); with two coordinators, two
  replicas behind the stack's balancer. PostgreSQL on loopback (\`fsync=off\`).
- Latency: a run's start to the end of its stream, p50/p99 over every run of every round. Memory: each
  process's own figures, asked over its IPC channel (\`memory()\`): peak RSS (\`maxRSS\`), and the
  heap after a full GC (\`--expose-gc\`) after the warm-up and ${SETTLE_MS / 1000} s after the 1 000 runs (their
  keep-alive connections closed by then).

${table(["Store, coordinators", "runs/s (median)", "p50 s", "p99 s", "peak RSS of the largest process, MiB", "peak RSS of all processes, MiB"], summary)}

PostgreSQL with two coordinators sustains ${ratio} of the memory store's throughput under this burst
(every run in flight at once: each waits for the database, and on 2 cores the second replica adds no
CPU). Every run of every round succeeded with a gap-free log.

Each process, peak RSS and heap after GC (median over the rounds) before and after the runs; a memory
store's coordinator keeps the last 1 000 ended runs (\`maxFinishedRuns\`) by design:

${table(["Store: process", "peak RSS MiB", "heap after warm-up MiB", "heap after the runs MiB"], memoryRows)}
`;
writeResultsSection(HEADING, body);
console.log(body);
