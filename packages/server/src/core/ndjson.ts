/**
 * Writes an async iterable as an NDJSON response: one JSON value per line, written as produced,
 * waiting for the socket to drain when it is full (backpressure). When the client goes away, or the
 * server shuts down, the iterator's `return()` is called so the implementation can release resources.
 * The status line waits a moment for the first event (`firstStep`), so that a handler failing at once
 * is answered with its error envelope rather than a cut stream.
 */
import type { ServerResponse } from "node:http";

/** How long a stream handler may take to produce its first event before the 200 is sent. */
export const FIRST_EVENT_GRACE_MS = 50;

const NDJSON_HEADERS = Object.freeze({
  "content-type": "application/x-ndjson",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
});

/** The async iterator of a stream handler's result, or undefined when it is not an `AsyncIterable`. */
export function iteratorOf(result: unknown): AsyncIterator<unknown> | undefined {
  if (!result || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function")
    return undefined;
  return (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
}

/** Sends the status line and headers of an NDJSON stream at once. */
export function startNdjson(res: ServerResponse, status: number): void {
  res.writeHead(status, NDJSON_HEADERS);
  res.flushHeaders();
}

/** The first step of a stream: settled within the grace period (`now`), or still pending (`later`). */
export type FirstStep =
  | { readonly now: IteratorResult<unknown> }
  | { readonly later: Promise<IteratorResult<unknown>> };

/**
 * The iterator's first step, waiting at most `ms` for it: its result when it settles in time (a
 * rejection is thrown), else the pending step. The pending promise is wrapped, not returned: an async
 * function that returns a promise waits for it, which would hold the status line until the first event.
 */
export async function firstStep(iterator: AsyncIterator<unknown>, ms: number): Promise<FirstStep> {
  const step = iterator.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  try {
    const winner = await Promise.race([step, late]);
    return winner === "late" ? { later: step } : { now: winner };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `res` can take more data, or when `signal` aborts, whichever comes first. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

const ABORTED = Symbol("aborted");

function abortedPromise(signal: AbortSignal): Promise<typeof ABORTED> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener("abort", () => resolve(ABORTED), { once: true });
  });
}

/**
 * Streams the iterator's events into `res` (headers already sent), starting with `first`, the first
 * step (possibly still pending). `check` may throw to stop the stream (a strict validation failure),
 * as may the iterator: the connection is then closed without the final chunk, after what was already
 * written has been flushed, so the client sees a dropped stream, not a clean end that looks like
 * success. The error is rethrown for the caller to log.
 */
export async function writeNdjson(
  res: ServerResponse,
  iterator: AsyncIterator<unknown>,
  first: FirstStep,
  signal: AbortSignal,
  check: (event: unknown) => void,
): Promise<void> {
  const aborted = abortedPromise(signal);
  let finished = false;
  let pending: IteratorResult<unknown> | Promise<IteratorResult<unknown>> =
    "now" in first ? first.now : first.later;
  let stepping = false; // true while waiting on the iterator, to tell its failures from check()'s
  try {
    for (;;) {
      stepping = true;
      const step = await Promise.race([pending, aborted]);
      stepping = false;
      if (step === ABORTED) break;
      if (step.done) {
        finished = true;
        break;
      }
      check(step.value);
      if (!res.write(`${JSON.stringify(step.value)}\n`)) await drained(res, signal);
      if (signal.aborted) break;
      pending = iterator.next();
    }
  } catch (err) {
    if (stepping) finished = true; // a throwing iterator is done; after a failed check it is returned below
    res.socket?.end(); // flushes what was written, then closes: no terminating chunk
    throw err;
  } finally {
    // Not awaited: an async generator suspended in an await settles its return() only after that
    // await, which may be the very wait the client's departure interrupted.
    if (!finished) iterator.return?.()?.catch(() => undefined);
  }
  if (!res.destroyed) res.end();
}
