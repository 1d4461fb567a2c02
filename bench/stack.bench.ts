/**
 * The reference stack end to end, on each store: 5-step pipeline runs through the gateway, 50 in
 * flight at a time, for the in-memory store with one coordinator, PostgreSQL with one and PostgreSQL
 * with two replicas. Runs per second, p50/p99 latency (start to `run_completed` on the run's stream)
 * and, for PostgreSQL, the round trips per node run and where they go. Needs a PostgreSQL server
 * started with `shared_preload_libraries=pg_stat_statements` (it counts every statement of every
 * replica): `ARP_BENCH_DATABASE_URL` or `ARP_TEST_DATABASE_URL` (`source .ci/postgres` starts such a
 * throwaway one); the benchmark makes a database of its own on it and drops it afterwards.
 *
 *   cd bench && npx tsx stack.bench.ts        # replaces the "## Reference stack" section of results.md
 */
import { execFileSync } from "node:child_process";
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
const HEADING = "## Reference stack: memory vs. PostgreSQL, one and two coordinators";

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

interface Statement {
  query: string;
  calls: number;
  /** Time the database spent running it, ms. */
  ms: number;
}

interface Round {
  runsPerSecond: number;
  latencies: number[];
  /** What the database ran for the stack (pg_stat_statements), warm-up and measured runs. */
  statements?: Statement[];
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

/** Every statement run in this database since the last reset, but the benchmark's own. */
async function statements(url: string): Promise<Statement[]> {
  const rows = await sql<{ query: string; calls: string; ms: number }>(
    url,
    `SELECT query, calls, total_exec_time AS ms FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT LIKE '%pg_stat_statements%'`,
  );
  return rows.map((r) => ({ query: r.query.replace(/\s+/g, " ").trim(), calls: Number(r.calls), ms: r.ms }));
}

const byStatement = (list: Statement[]) => list.reduce((sum, s) => sum + s.calls, 0);

async function round(contender: Contender, databaseUrl: string, r: number): Promise<Round> {
  const schema = `bench_${r}_${CONTENDERS.indexOf(contender)}`;
  const durable = contender !== "memory, 1 coordinator";
  const store =
    contender === "PostgreSQL, 1 coordinator"
      ? await PostgresStore.open({ connectionString: databaseUrl, schema })
      : undefined;
  if (durable) await sql(databaseUrl, "SELECT pg_stat_statements_reset()");
  const stack = await startStack({
    ports: ANY_PORT,
    logger: QUIET,
    ...(store ? { store } : {}),
    ...(contender === "PostgreSQL, 2 coordinators"
      ? { store: `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}schema=${schema}`, coordinators: 2 }
      : {}),
  });
  let result: Round;
  try {
    await drive(stack.urls["run-gateway"], WARMUP, r * 100_000);
    const before = store ? new Map([...store.stats.by].map(([k, v]) => [k, { ...v }])) : undefined;
    const { wallMs, latencies } = await drive(stack.urls["run-gateway"], RUNS, r * 100_000 + WARMUP);
    const byMethod = store
      ? new Map(
          [...store.stats.by].map(([k, v]) => {
            const b = before!.get(k) ?? { queries: 0, ms: 0 };
            return [k, { queries: v.queries - b.queries, ms: v.ms - b.ms }];
          }),
        )
      : undefined;
    result = { runsPerSecond: (RUNS / wallMs) * 1000, latencies, ...(byMethod ? { byMethod } : {}) };
  } finally {
    await stack.close();
    await store?.close();
  }
  if (durable) result.statements = await statements(databaseUrl);
  return result;
}

const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** A statement, short: its first words and the table it names. */
function shortQuery(query: string): string {
  const fn = /arp_commit\(/.test(query) ? "SELECT arp_commit(...)" : undefined;
  const text = fn ?? query.replace(/\$\d+/g, "?");
  return `\`${text.length > 70 ? `${text.slice(0, 67)}...` : text}\``;
}

/** The commit measured (`+ changes` when the work tree differs from it), for the results. */
function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") === "" ? "" : " + changes"}`;
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  // How loaded the machine was (the 1-minute load average, every 10 s): runs/s depend on it, round
  // trips do not. The benchmark itself keeps about two cores busy.
  const loads = [os.loadavg()[0]!];
  const sampling = setInterval(() => loads.push(os.loadavg()[0]!), 10_000);
  sampling.unref();
  const name = `arp_bench_${process.pid}`;
  await sql(SERVER_URL!, `CREATE DATABASE ${name}`);
  const databaseUrl = (() => {
    const u = new URL(SERVER_URL!);
    u.pathname = `/${name}`;
    return u.toString();
  })();
  const results = new Map<Contender, Round[]>(CONTENDERS.map((c) => [c, []]));
  try {
    await sql(databaseUrl, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements").catch((error: Error) => {
      throw new Error(`stack.bench needs pg_stat_statements (shared_preload_libraries): ${error.message}`);
    });
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates, so no contender always runs first (or on a warmer machine).
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + r) % CONTENDERS.length]!);
      for (const contender of order) {
        const result = await round(contender, databaseUrl, r);
        results.get(contender)!.push(result);
        const trips = result.statements && byStatement(result.statements) / ((RUNS + WARMUP) * NODE_RUNS);
        console.log(
          `round ${r + 1} ${contender}: ${result.runsPerSecond.toFixed(1)} runs/s, p50 ${median(result.latencies).toFixed(0)} ms, ` +
            `p99 ${percentile(result.latencies, 99).toFixed(0)} ms${trips === undefined ? "" : `, ${trips.toFixed(2)} round trips per node run`}`,
        );
      }
    }
  } finally {
    await sql(SERVER_URL!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  const nodeRunsPerRound = (RUNS + WARMUP) * NODE_RUNS;
  const memory = results.get("memory, 1 coordinator")!;
  const ratio = (c: Contender) => results.get(c)!.map((x, i) => x.runsPerSecond / memory[i]!.runsPerSecond);
  const rows = CONTENDERS.map((c) => {
    const rounds = results.get(c)!;
    const all = rounds.flatMap((x) => x.latencies);
    const trips = rounds.flatMap((x) => (x.statements ? [byStatement(x.statements) / nodeRunsPerRound] : []));
    const dbMs = rounds.flatMap((x) =>
      x.statements ? [x.statements.reduce((sum, s) => sum + s.ms, 0) / nodeRunsPerRound] : [],
    );
    return [
      c,
      median(rounds.map((x) => x.runsPerSecond)).toFixed(1),
      spread(ratio(c)),
      percentile(all, 50).toFixed(0),
      percentile(all, 99).toFixed(0),
      trips.length === 0 ? "—" : median(trips).toFixed(2),
      dbMs.length === 0 ? "—" : median(dbMs).toFixed(3),
    ];
  });

  // Where the round trips go: the database's statements (both PostgreSQL contenders, all rounds).
  const statementRows = (c: Contender) => {
    const merged = new Map<string, { calls: number; ms: number }>();
    const rounds = results.get(c)!;
    for (const x of rounds) {
      for (const s of x.statements ?? []) {
        const key = shortQuery(s.query);
        const sum = merged.get(key) ?? { calls: 0, ms: 0 };
        sum.calls += s.calls;
        sum.ms += s.ms;
        merged.set(key, sum);
      }
    }
    const nodeRuns = rounds.length * nodeRunsPerRound;
    return [...merged]
      .filter(([, v]) => v.calls / nodeRuns >= 0.01)
      .sort((a, b) => b[1].calls - a[1].calls)
      .map(([k, v]) => [k, (v.calls / nodeRuns).toFixed(2), (v.ms / v.calls).toFixed(3)]);
  };

  // By store method: the one in-process coordinator's own count, with the time seen from the client.
  const byMethod = new Map<string, { queries: number; ms: number }>();
  for (const x of results.get("PostgreSQL, 1 coordinator")!) {
    for (const [k, v] of x.byMethod ?? []) {
      const sum = byMethod.get(k) ?? { queries: 0, ms: 0 };
      sum.queries += v.queries;
      sum.ms += v.ms;
      byMethod.set(k, sum);
    }
  }
  const measuredNodeRuns = ROUNDS * RUNS * NODE_RUNS;
  const totalQueries = [...byMethod.values()].reduce((sum, v) => sum + v.queries, 0);
  const methodRows = [...byMethod]
    .filter(([, v]) => v.queries > 0)
    .sort((a, b) => b[1].queries - a[1].queries)
    .map(([k, v]) => [
      `\`${k}\``,
      (v.queries / measuredNodeRuns).toFixed(2),
      `${((v.queries / totalQueries) * 100).toFixed(0)} %`,
      (v.ms / v.queries).toFixed(2),
    ]);
  methodRows.push(["all", (totalQueries / measuredNodeRuns).toFixed(2), "100 %", "—"]);

  clearInterval(sampling);
  loads.push(os.loadavg()[0]!);
  const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}) on ${os.cpus().length} cores, the benchmark's own included`;
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  // What "durability" means in these figures: the server's own settings, as it reports them.
  const [durability] = await sql<{ fsync: string; synchronous_commit: string; full_page_writes: string }>(
    SERVER_URL!,
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit, current_setting('full_page_writes') AS full_page_writes",
  );
  const settings = `fsync=${durability?.fsync}, synchronous_commit=${durability?.synchronous_commit}, full_page_writes=${durability?.full_page_writes}`;
  const body = `${HEADING}

Written by \`bench/stack.bench.ts\` (\`source .ci/postgres && cd bench && npx tsx stack.bench.ts\`), which
replaces only this section. Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; commit ${commit()}; Node ${process.version}; ${os.cpus()[0]?.model ?? "?"} (${os.cpus().length} cores); PostgreSQL on loopback (${settings}; \`.ci/postgres\`'s throwaway server has all three off); run time ${seconds} s
- Machine: ${load}
- Workload: pipeline runs of ${STEPS} atomic steps (${NODE_RUNS} node runs each) started through the gateway and
  followed on their gateway streams, ${CONCURRENCY} in flight at a time (a new one starts when one ends); per
  round and contender ${WARMUP} runs of warm-up, then ${RUNS} measured. ${ROUNDS} rounds; the contenders' order rotates.
- Every service of the stack runs in the benchmark's process (one event loop) except, with two
  coordinators, the replicas: two child processes behind the stack's balancer. Latency: a run's start
  to \`run_completed\` on its stream; p50/p99 over every measured run of every round.
- Round trips: every statement the database ran for the stack, counted by \`pg_stat_statements\`
  (every replica's; a store call is one statement), over warm-up and measured runs, per node run;
  database time: the time it spent running them. By store method: the one in-process coordinator's
  \`PostgresStore.stats\` (measured runs), with the time each call took as its caller saw it
  (waiting for a pool connection and for the event loop included).

${table(["Store, coordinators", "runs/s (median)", "/ memory (median, min–max)", "p50 ms", "p99 ms", "round trips per node run", "database ms per node run"], rows)}

The cost of durability: PostgreSQL with one coordinator runs at ${spread(ratio("PostgreSQL, 1 coordinator"))} of the in-memory store's
throughput; with two replicas ${spread(ratio("PostgreSQL, 2 coordinators"))}.

By store method (one coordinator), per node run:

${table(["Store method", "round trips per node run", "share", "ms per call, as its caller saw it"], methodRows)}

The statements, one coordinator:

${table(["Statement", "per node run", "database ms each"], statementRows("PostgreSQL, 1 coordinator"))}

The statements, two coordinators:

${table(["Statement", "per node run", "database ms each"], statementRows("PostgreSQL, 2 coordinators"))}
`;
  console.log(body);
  writeResultsSection(HEADING, body);
}

await main();
