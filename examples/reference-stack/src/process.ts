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
