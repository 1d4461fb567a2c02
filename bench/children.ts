/**
 * HTTP servers measured by autocannon, each in a child process of its own (the bench file itself,
 * forked with `--serve KIND`): starting them, asking their CPU time, killing them on any exit, and one
 * autocannon run against one, and the rounds that measure them side by side. Shared by server.bench.ts
 * and fetch.bench.ts.
 */
import { type ChildProcess, fork } from "node:child_process";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export interface Child<K extends string = string> {
  kind: K;
  process: ChildProcess;
  url: string;
}

const children: ChildProcess[] = [];

/** Kills every child still running (idempotent; also called on exit and on SIGINT/SIGTERM). */
function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Forks `benchUrl` (a bench's `import.meta.url`) with `--serve kind` and waits for its port. */
export async function startChild<K extends string>(benchUrl: string, kind: K): Promise<Child<K>> {
  // execArgv is inherited, so the child runs under tsx as this process does.
  const child = fork(fileURLToPath(benchUrl), ["--serve", kind], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { port: number }).port));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  return { kind, process: child, url: `http://127.0.0.1:${port}` };
}

/** The child side, once `server` listens: tells the parent the port, answers its CPU questions. */
export function reportToParent(server: Server): void {
  process.on("message", (m) => {
    // The parent asks for this process's CPU time before and after each run.
    if (m === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuUs: user + system });
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ port: (server.address() as AddressInfo).port });
}

/** The child's CPU time so far (user + system), µs. */
function childCpu(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const cpu = (m as { cpuUs?: unknown }).cpuUs;
      if (typeof cpu !== "number") return;
      child.process.off("message", onMessage);
      resolve(cpu);
    };
    child.process.on("message", onMessage);
    if (!child.process.send("cpu")) reject(new Error(`${child.kind}: IPC channel closed`));
  });
}

/**
 * A bench's entry: with `--serve KIND`, the child (`serve(KIND)`); else the parent (`main()`), whose
 * children are killed however it ends.
 */
export async function benchEntry(serve: (kind: string) => Promise<void>, main: () => Promise<void>) {
  if (process.argv[2] === "--serve") {
    await serve(process.argv[3] as string);
    return;
  }
  process.on("exit", killChildren);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killChildren();
      process.exit(130);
    });
  }
  try {
    await main();
  } finally {
    killChildren();
  }
}

// autocannon (CommonJS, no bundled types: the part of its API used here)
interface AutocannonResult {
  requests: { total: number };
  start: Date;
  finish: Date;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  connections: number;
  pipelining?: number;
  duration: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export interface Tally {
  requests: number;
  /** Wall-clock time, ms. */
  ms: number;
  /** CPU time of the server's process, user + system, µs. */
  serverCpuUs: number;
}

export interface Load {
  /** Path of the POST, `/v1/runs`. */
  path: string;
  /** JSON body of every request. */
  body: string;
  connections: number;
  pipelining?: number;
  seconds: number;
}

/** One autocannon run against `child`: POSTs of `load.body`; any error, timeout or non-2xx throws. */
export async function measure(child: Child, load: Load): Promise<Tally> {
  const cpuBefore = await childCpu(child);
  const result = await autocannon({
    url: `${child.url}${load.path}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: load.body,
    connections: load.connections,
    ...(load.pipelining === undefined ? {} : { pipelining: load.pipelining }),
    duration: load.seconds,
  });
  const cpuAfter = await childCpu(child);
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(
      `${child.kind}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`,
    );
  }
  return {
    requests: result.requests.total,
    ms: result.finish.getTime() - result.start.getTime(),
    serverCpuUs: cpuAfter - cpuBefore,
  };
}

export interface RoundsPlan {
  rounds: number;
  /** Per run of one contender. */
  runSeconds: number;
  /** Per contender, before the first round (JIT, lazy loading). */
  warmupSeconds: number;
}

/** Per contender, one tally per round, and the figures derived from them. */
export class Rounds<K extends string> {
  constructor(readonly tallies: Record<K, Tally[]>) {}
  /** Requests per second, per round. */
  rates(kind: K): number[] {
    return this.tallies[kind].map((t) => t.requests / (t.ms / 1000));
  }
  /** Server CPU µs per request, per round. */
  cpuPerRequest(kind: K): number[] {
    return this.tallies[kind].map((t) => t.serverCpuUs / t.requests);
  }
  /** `a`'s requests/s over `b`'s, round by round (neighbours in a round share the noise). */
  ratios(a: K, b: K): number[] {
    const of = this.rates(b);
    return this.rates(a).map((x, i) => x / of[i]!);
  }
  /** `b`'s CPU per request over `a`'s, round by round: above 1, `a` spends less. */
  cpuRatios(a: K, b: K): number[] {
    const ours = this.cpuPerRequest(a);
    return this.cpuPerRequest(b).map((x, i) => x / ours[i]!);
  }
}

/**
 * The measuring loop both HTTP benches share: starts one child per kind, has `verify` check each
 * (before anything is timed), warms each up, then gives every kind one `measure` run per round,
 * rotating which goes first and alternating the direction, so that neighbours share the noise.
 */
export async function measureRounds<K extends string>(
  benchUrl: string,
  kinds: readonly K[],
  verify: (child: Child<K>) => Promise<void>,
  measure: (child: Child<K>, seconds: number) => Promise<Tally>,
  plan: RoundsPlan,
): Promise<Rounds<K>> {
  const started = new Map<K, Child<K>>();
  for (const kind of kinds) started.set(kind, await startChild(benchUrl, kind));
  const child = (kind: K): Child<K> => started.get(kind)!;
  for (const kind of kinds) await verify(child(kind));
  for (const kind of kinds) await measure(child(kind), plan.warmupSeconds);

  const tallies = Object.fromEntries(kinds.map((k) => [k, [] as Tally[]])) as Record<K, Tally[]>;
  for (let round = 0; round < plan.rounds; round++) {
    const rotated = kinds.map((_, i) => kinds[(i + round) % kinds.length]!);
    for (const kind of round % 2 ? rotated.reverse() : rotated)
      tallies[kind].push(await measure(child(kind), plan.runSeconds));
    process.stdout.write(`\rround ${round + 1}/${plan.rounds}`);
  }
  process.stdout.write("\n");
  return new Rounds(tallies);
}
