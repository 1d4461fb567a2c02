/**
 * Services as child processes: the stack's coordinator replicas (`coordinators > 1`), and every
 * service with `processes`. Each is `node --import tsx src/serve.ts <service> ...` (the loader
 * `npm start`'s `tsx` uses, run by this Node itself, so that the child's pid is the server's own and
 * a signal reaches it), and is ready when it prints `<service> <url>`. It stops by itself when this
 * process ends (its IPC channel closes), also when this one is killed; the same channel answers
 * `memory()`. Its stderr (and any other output) goes, a line at a time and prefixed with its pid, to
 * the logger given (its `[arp-server] warn:` / `error:` lines at that level, anything else as an
 * error), else to this process's stderr; the last {@link KEPT_STDERR_BYTES} of it are kept for the
 * error of a process that exits during start-up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "@arp/server";
import { MEMORY_QUERY, type ProcessMemory } from "./process.js";
import type { ServiceKey } from "./urls.js";

/** How long a replica may take to print its URL before it is killed and the start fails. */
export const REPLICA_START_TIMEOUT_MS = 30_000;
/** How long a replica has to stop after SIGTERM before it gets SIGKILL. */
export const REPLICA_STOP_GRACE_MS = 5_000;
/** How long a process has to answer `memory()`. */
export const MEMORY_QUERY_TIMEOUT_MS = 10_000;
/** How much of a replica's stderr is kept for an error message. */
export const KEPT_STDERR_BYTES = 16 * 1024;

const SERVE = fileURLToPath(new URL("./serve.ts", import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface Replica {
  /** The service it runs. */
  readonly service: ServiceKey;
  /** Where it listens (its own URL, not the balancer's). */
  readonly url: string;
  readonly pid: number;
  /** Sends `signal` (default SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
  /** Its exit code once it exited (`null`: ended by a signal). */
  readonly exited: Promise<number | null>;
  /**
   * Its memory, asked over the IPC channel: the heap after a full GC when it was started with
   * `--expose-gc` (`nodeArgs`), and its peak RSS. Rejects after {@link MEMORY_QUERY_TIMEOUT_MS}.
   */
  memory(): Promise<ProcessMemory>;
}

export interface ReplicaProcess extends Replica {
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartReplicaOptions {
  /** The service the process runs (default `run-coordinator`; tests run an executor so, to kill it). */
  service?: ServiceKey;
  /** The flags after the service (`--port 0 --run-coordinator-url ...`). */
  args: readonly string[];
  /** Node's own flags for the child (`--expose-gc`), before the loader and the script. */
  nodeArgs?: readonly string[];
  /** Variables added to this process's environment (`ARP_STORE_URL`: a password stays out of `ps`). */
  env?: Record<string, string>;
  /** Where its output goes; default this process's stderr. */
  logger?: Logger;
  /** Called with the child as soon as it is spawned (before it is ready), so that it can be stopped. */
  spawned?: (child: ReplicaProcess) => void;
}

/** The tsx loader as a URL for `--import`, resolved from this package (not from the cwd). */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
}

/** Starts a replica; resolves once it prints its URL, rejects (with its stderr) if it exits first. */
export function startReplica(options: StartReplicaOptions): Promise<ReplicaProcess> {
  const service = options.service ?? "run-coordinator";
  const what = service === "run-coordinator" ? "a run-coordinator replica" : `a ${service} process`;
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", tsxLoader(), SERVE, service, ...options.args],
    // The IPC channel is only there to close when this process ends, however it ends: the replica
    // then stops by itself (process.ts, untilStopped), so that none is left behind.
    { cwd: PACKAGE_ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(child.exitCode));
  });
  const pid = child.pid ?? -1;
  let kept = "";
  const out = (line: string) => {
    kept = `${kept}${line}\n`.slice(-KEPT_STDERR_BYTES);
    const tagged = /^\[arp-server\] (warn|error): (.*)$/.exec(line);
    const text = `${what.slice(2)} ${pid}: ${tagged ? tagged[2] : line}`;
    if (options.logger === undefined) process.stderr.write(`[${what.slice(2)} ${pid}] ${line}\n`);
    else if (tagged?.[1] === "warn") options.logger.warn(text);
    else options.logger.error(text);
  };
  createInterface({ input: child.stderr! }).on("line", out);

  let url = "";
  let queries = 0;
  const handle: ReplicaProcess = {
    service,
    get url() {
      return url;
    },
    pid,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
    memory: () =>
      new Promise<ProcessMemory>((resolve, reject) => {
        // Each query its own id, echoed back: an answer to a query that timed out answers no other.
        const id = ++queries;
        const done = (settle: () => void) => {
          clearTimeout(timer);
          child.off("message", answered);
          child.off("exit", gone);
          settle();
        };
        const answered = (message: unknown) => {
          const {
            type,
            id: answering,
            ...memory
          } = message as { type?: unknown; id?: unknown } & ProcessMemory;
          if (type === MEMORY_QUERY && answering === id) done(() => resolve(memory));
        };
        const gone = () =>
          done(() => reject(new Error(`${what} (pid ${pid}) exited before it answered a memory query`)));
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(
                  `${what} (pid ${pid}) did not answer a memory query in ${MEMORY_QUERY_TIMEOUT_MS} ms`,
                ),
              ),
            ),
          MEMORY_QUERY_TIMEOUT_MS,
        );
        if (child.exitCode !== null || child.signalCode !== null) return gone();
        child.on("message", answered);
        child.once("exit", gone);
        child.send({ type: MEMORY_QUERY, id }, (error) => {
          if (error !== null) done(() => reject(new Error(`${what} (pid ${pid}): ${error.message}`)));
        });
      }),
    async stop(graceMs = REPLICA_STOP_GRACE_MS) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      handle.kill("SIGTERM");
      const timer = setTimeout(() => handle.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  options.spawned?.(handle);

  return new Promise<ReplicaProcess>((resolve, reject) => {
    let ready = false;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const match = /^(\S+) (http:\/\/\S+)$/.exec(line);
      if (!ready && match?.[1] === service) {
        ready = true;
        url = match[2]!;
        clearTimeout(timer);
        resolve(handle);
      } else {
        out(line);
      }
    });
    const timer = setTimeout(() => {
      if (ready) return;
      handle.kill("SIGKILL");
      reject(new Error(`${what} (pid ${pid}) did not start within ${REPLICA_START_TIMEOUT_MS} ms:\n${kept}`));
    }, REPLICA_START_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not be started: ${error.message}`));
    });
    // 'close' comes after its output has been read to the end: the error quotes all of stderr.
    child.once("close", (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${what} (pid ${pid}) exited with ${code ?? signal} during start-up:\n${kept}`));
    });
  });
}
