/**
 * HTTP servers measured by autocannon, each in a child process of its own (the bench file itself,
 * forked with `--serve KIND`): starting them, asking their CPU time, killing them on any exit, and one
 * autocannon run against one. Shared by server.bench.ts and fetch.bench.ts.
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
