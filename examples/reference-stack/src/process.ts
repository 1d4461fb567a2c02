/** What the two command lines (`main.ts`, `serve.ts`) share: their exit, and waiting for a stop signal. */

/** Runs `main` and exits with its code; anything it throws is printed, exit 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Resolves on Ctrl-C (SIGINT) or SIGTERM; and, in a child process started with an IPC channel (a
 * stack's coordinator replica), when that channel closes: its parent went away, even by SIGKILL.
 */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
    if (process.connected) process.once("disconnect", () => resolve());
  });
}

/**
 * The IPC message a parent sends a service's process to learn its memory (replicas.ts, `memory()`):
 * `{ type, id }`, answered with `{ type, id, ...ProcessMemory }`.
 */
export const MEMORY_QUERY = "arp:memory";

/** What a service's process answers {@link MEMORY_QUERY} with; bytes. */
export interface ProcessMemory {
  /** V8's heap in use, after a full garbage collection when `collected`. */
  readonly heapUsed: number;
  /** Whether a full collection ran first: only when the process was started with `--expose-gc`. */
  readonly collected: boolean;
  /** Resident set size now. */
  readonly rss: number;
  /** The largest resident set size the process has had. */
  readonly peakRss: number;
}

/**
 * In a child process with an IPC channel (started by replicas.ts), answers {@link MEMORY_QUERY}: how
 * the tests measure each service's memory (heap after GC against a baseline, peak RSS) from outside.
 * The channel exists only for a parent that made it; nothing listens on the network for this.
 */
export function answerMemoryQueries(): void {
  if (!process.connected) return;
  process.on("message", (message: unknown) => {
    const query = message as { type?: unknown; id?: unknown } | null;
    if (query?.type !== MEMORY_QUERY) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    // Twice: the first collection can leave garbage that only finalizers of the first made unreachable.
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    const answer: ProcessMemory = {
      heapUsed: usage.heapUsed,
      collected: gc !== undefined,
      rss: usage.rss,
      peakRss: process.resourceUsage().maxRSS * 1024,
    };
    process.send?.({ type: MEMORY_QUERY, id: query.id, ...answer });
  });
}
