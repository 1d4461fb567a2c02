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
 * Streams `events` into `res` (headers already decided by the caller). `check` may throw to stop the
 * stream (a strict response validation failure): the connection is then destroyed, so the client
 * sees a dropped stream rather than a clean end that would look like success.
 */
export async function writeNdjson(
  res: ServerResponse,
  events: AsyncIterable<unknown>,
  signal: AbortSignal,
  check: (event: unknown) => void,
): Promise<void> {
  const iterator = events[Symbol.asyncIterator]();
  const aborted = abortedPromise(signal);
  let finished = false;
  try {
    for (;;) {
      const step = await Promise.race([iterator.next(), aborted]);
      if (step === ABORTED) break;
      if (step.done) {
        finished = true;
        break;
      }
      check(step.value);
      if (!res.write(`${JSON.stringify(step.value)}\n`)) await drained(res, signal);
      if (signal.aborted) break;
    }
  } catch (err) {
    res.destroy();
    throw err;
  } finally {
    // Not awaited: an async generator suspended in an await settles its return() only after that
    // await, which may be the very wait the client's departure interrupted.
    if (!finished) iterator.return?.()?.catch(() => undefined);
  }
  if (!res.destroyed) res.end();
}
