/**
 * The reference stack end to end, on each store: 5-step pipeline runs through the gateway, 50 in
 * flight at a time, for the in-memory store with one coordinator, PostgreSQL with one and PostgreSQL
 * with two replicas. Runs per second, p50/p99 latency (start to `run_completed` on the run's stream)
 * and, for PostgreSQL, the round trips per node run and where they go. Needs a PostgreSQL server:
 * `ARP_BENCH_DATABASE_URL` or `ARP_TEST_DATABASE_URL` (`source .ci/postgres` starts a throwaway one);
 * the benchmark makes a database of its own on it and drops it afterwards.
 *
 *   cd bench && npx tsx stack.bench.ts        # replaces the "## Reference stack" section of results.md
 */
import os from "node:os";
import { RunGatewayClient } from "@arp/client";
import pg from "pg";
import { startStack } from "../examples/reference-stack/src/stack.js";
import { PostgresStore } from "../examples/reference-stack/src/store/postgres/store.js";
import { SERVICE_KEYS } from "../examples/reference-stack/src/urls.js";
import { median, spread, table, writeResultsSection } from "./lib.js";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 200); // measured per round and contender
const WARMUP = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STEPS = 5;
const NODE_RUNS = STEPS + 1; // the pipeline's root and its steps

const SERVER_URL = process.env.ARP_BENCH_DATABASE_URL ?? process.env.ARP_TEST_DATABASE_URL;
if (SERVER_URL === undefined) {
  console.error("stack.bench: set ARP_BENCH_DATABASE_URL or ARP_TEST_DATABASE_URL (source .ci/postgres)");
  process.exit(2);
}
const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0]));
const QUIET = { warn: () => undefined, error: () => undefined };
const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const pipeline = (i: number) => ({
  root_node_type_ref: ref("pipeline"),
  input: {
    input: { text: `bench run ${i} Straße café 🚀` },
    steps: ["text.upper", "text.reverse", "text.word_count", "echo", "sha256"].map((id) => ({
      node_type: ref(id),
    })),
  },
});

type Contender = "memory, 1 coordinator" | "PostgreSQL, 1 coordinator" | "PostgreSQL, 2 coordinators";
const CONTENDERS: Contender[] = [
  "memory, 1 coordinator",
  "PostgreSQL, 1 coordinator",
  "PostgreSQL, 2 coordinators",
];

interface Round {
  runsPerSecond: number;
  latencies: number[];
  /** Transactions the database counted (every statement here is one), warm-up included. */
  transactions?: number;
  /** The one in-process coordinator's store: its round trips by method, measured runs only. */
  byMethod?: Map<string, { queries: number; ms: number }>;
}

/** `n` runs, `CONCURRENCY` at a time; each one's latency is its start to its stream's run_completed. */
async function drive(
  gatewayUrl: string,
  n: number,
  offset: number,
): Promise<{ wallMs: number; latencies: number[] }> {
  const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = offset + next++;
        const started = performance.now();
        const run = await gateway.startRun(pipeline(i));
        let state: unknown;
        for await (const event of gateway.streamRunEvents(run.run_id, { idleTimeoutMs: 60_000 })) {
          if (event.type === "run_completed") state = event.data?.state;
        }
        if (state !== "succeeded") throw new Error(`run ${run.run_id} ended ${String(state)}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { wallMs: performance.now() - began, latencies };
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

async function transactions(url: string): Promise<number> {
  const [row] = await sql<{ n: string }>(
    url,
    "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(row!.n);
}

async function round(contender: Contender, databaseUrl: string, r: number): Promise<Round> {
  const schema = `bench_${r}_${CONTENDERS.indexOf(contender)}`;
  const pgOne = contender === "PostgreSQL, 1 coordinator";
  const store = pgOne ? await PostgresStore.open({ connectionString: databaseUrl, schema }) : undefined;
  const before = contender === "memory, 1 coordinator" ? undefined : await transactions(databaseUrl);
  const stack = await startStack({
    ports: ANY_PORT,
    logger: QUIET,
    ...(store ? { store } : {}),
    ...(contender === "PostgreSQL, 2 coordinators"
      ? { store: `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}schema=${schema}`, coordinators: 2 }
      : {}),
  });
  try {
    await drive(stack.urls["run-gateway"], WARMUP, r * 100_000);
    const statsBefore = store ? new Map([...store.stats.by].map(([k, v]) => [k, { ...v }])) : undefined;
    const { wallMs, latencies } = await drive(stack.urls["run-gateway"], RUNS, r * 100_000 + WARMUP);
    const byMethod = store
      ? new Map(
          [...store.stats.by].map(([k, v]) => {
            const b = statsBefore!.get(k) ?? { queries: 0, ms: 0 };
            return [k, { queries: v.queries - b.queries, ms: v.ms - b.ms }];
          }),
        )
      : undefined;
    return {
      runsPerSecond: (RUNS / wallMs) * 1000,
      latencies,
      ...(byMethod ? { byMethod } : {}),
      ...(before === undefined ? {} : { before }),
    } as Round & { before?: number };
  } finally {
    await stack.close();
    await store?.close();
  }
}

const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const started = performance.now();
  const name = `arp_bench_${process.pid}`;
  await sql(SERVER_URL!, `CREATE DATABASE ${name}`);
  const databaseUrl = (() => {
    const u = new URL(SERVER_URL!);
    u.pathname = `/${name}`;
    return u.toString();
  })();
  const results = new Map<Contender, Round[]>(CONTENDERS.map((c) => [c, []]));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates, so no contender always runs first (or on a warmer machine).
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + r) % CONTENDERS.length]!);
      for (const contender of order) {
        const result = (await round(contender, databaseUrl, r)) as Round & { before?: number };
        if (result.before !== undefined) {
          // The backends report their counts when they exit: the stack has closed its pools by now.
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          result.transactions = (await transactions(databaseUrl)) - result.before;
        }
        results.get(contender)!.push(result);
        console.log(
          `round ${r + 1} ${contender}: ${result.runsPerSecond.toFixed(1)} runs/s, p50 ${median(result.latencies).toFixed(0)} ms, p99 ${percentile(result.latencies, 99).toFixed(0)} ms` +
            (result.transactions === undefined
              ? ""
              : `, ${(result.transactions / ((RUNS + WARMUP) * NODE_RUNS)).toFixed(1)} round trips per node run`),
        );
      }
    }
  } finally {
    await sql(SERVER_URL!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  const memory = results.get("memory, 1 coordinator")!;
  const ratio = (c: Contender) =>
    results.get(c)!.map((round, i) => round.runsPerSecond / memory[i]!.runsPerSecond);
  const rows = CONTENDERS.map((c) => {
    const rounds = results.get(c)!;
    const all = rounds.flatMap((x) => x.latencies);
    const trips = rounds.map((x) => x.transactions).filter((x): x is number => x !== undefined);
    return [
      c,
      median(rounds.map((x) => x.runsPerSecond)).toFixed(1),
      spread(ratio(c)),
      percentile(all, 50).toFixed(0),
      percentile(all, 99).toFixed(0),
      trips.length === 0 ? "—" : (median(trips) / ((RUNS + WARMUP) * NODE_RUNS)).toFixed(1),
    ];
  });
  const pgOne = results.get("PostgreSQL, 1 coordinator")!;
  const byMethod = new Map<string, { queries: number; ms: number }>();
  for (const round of pgOne) {
    for (const [k, v] of round.byMethod ?? []) {
      const sum = byMethod.get(k) ?? { queries: 0, ms: 0 };
      sum.queries += v.queries;
      sum.ms += v.ms;
      byMethod.set(k, sum);
    }
  }
  const nodeRuns = pgOne.length * RUNS * NODE_RUNS;
  const totalQueries = [...byMethod.values()].reduce((s, v) => s + v.queries, 0);
  const methodRows = [...byMethod]
    .sort((a, b) => b[1].queries - a[1].queries)
    .map(([k, v]) => [
      `\`${k}\``,
      (v.queries / nodeRuns).toFixed(2),
      `${((v.queries / totalQueries) * 100).toFixed(0)} %`,
      (v.ms / v.queries).toFixed(2),
    ]);
  methodRows.push(["all", (totalQueries / nodeRuns).toFixed(2), "100 %", "—"]);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const body = `## Reference stack: memory vs. PostgreSQL, one and two coordinators

Written by \`bench/stack.bench.ts\` (\`source .ci/postgres && cd bench && npx tsx stack.bench.ts\`), which
replaces only this section. Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; Node ${process.version}; ${os.cpus()[0]?.model ?? "?"} (${os.cpus().length} cores); PostgreSQL on loopback (the throwaway server of \`.ci/postgres\`: \`fsync=off\`); run time ${seconds} s
- Workload: pipeline runs of ${STEPS} atomic steps (${NODE_RUNS} node runs each) started through the gateway and
  followed on their gateway streams, ${CONCURRENCY} in flight at a time (a new one starts when one ends); per
  round and contender ${WARMUP} runs of warm-up, then ${RUNS} measured. ${ROUNDS} rounds; the contenders' order rotates.
- Every service of the stack runs in the benchmark's process (one event loop) except, with two
  coordinators, the replicas: two child processes behind the stack's balancer. Latency: a run's start
  to \`run_completed\` on its stream; p50/p99 over every measured run of every round.
- Round trips: the database's own count of transactions (\`pg_stat_database\`, every statement of
  the store is one), over warm-up and measured runs, per node run; by store method: the one
  in-process coordinator's \`PostgresStore.stats\`.

${table(["Store, coordinators", "runs/s (median)", "/ memory (median, min–max)", "p50 ms", "p99 ms", "round trips per node run"], rows)}

The cost of durability: PostgreSQL with one coordinator runs at ${spread(ratio("PostgreSQL, 1 coordinator"))} of the in-memory store's
throughput; with two replicas ${spread(ratio("PostgreSQL, 2 coordinators"))}.

Where the PostgreSQL path's round trips go (one coordinator, measured runs), per node run:

${table(["Store method", "round trips per node run", "share", "ms per round trip (seen from the client, pool wait included)"], methodRows)}
`;
  console.log(body);
  writeResultsSection("## Reference stack: memory vs. PostgreSQL, one and two coordinators", body);
}

await main();
