/**
 * Writes an async iterable as an NDJSON response: one JSON value per line, written as produced,
 * waiting for the socket to drain when it is full (backpressure). When the client goes away, or the
 * server shuts down, the iterator's `return()` is called so the implementation can release resources.
 */
import type { ServerResponse } from "node:http";

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
  first: IteratorResult<unknown> | Promise<IteratorResult<unknown>>,
  signal: AbortSignal,
  check: (event: unknown) => void,
): Promise<void> {
  const aborted = abortedPromise(signal);
  let finished = false;
  let pending: IteratorResult<unknown> | Promise<IteratorResult<unknown>> = first;
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
