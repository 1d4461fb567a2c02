/**
 * Writes an async iterable as an NDJSON response: one JSON value per line, written as produced,
 * waiting for the socket to drain when it is full (backpressure). When the client goes away, or the
 * server shuts down, the iterator's `return()` is called so the implementation can release resources.
 * The status line waits a moment for the first event (`firstStep`), so that a handler failing at once
 * is answered with its error envelope rather than a cut stream.
 */
import type { ResponseSide } from "./transport.js";

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
export function startNdjson(res: ResponseSide, status: number): void {
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

/** Timers cannot wait longer than this (a longer delay fires at once): such a limit is no limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a wait for the socket ended. */
type Drain = "drained" | "gone" | "stalled";

/**
 * Resolves when `res` can take more data (`drained`); at once, or as soon as it happens, when the
 * response is destroyed or closed or `signal` aborts (`gone`: no `drain` would ever come); or after
 * `timeoutMs` without a `drain` (`stalled`; 0 or Infinity: never). Every listener and the timer are
 * removed when it settles.
 */
function drained(res: ResponseSide, signal: AbortSignal, timeoutMs: number): Promise<Drain> | Drain {
  if (res.destroyed || signal.aborted) return "gone";
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: Drain) => {
      res.off("drain", onDrain);
      res.off("close", onGone);
      signal.removeEventListener("abort", onGone);
      if (timer !== undefined) clearTimeout(timer);
      resolve(outcome);
    };
    const onDrain = () => settle("drained");
    const onGone = () => settle("gone");
    res.on("drain", onDrain);
    res.on("close", onGone);
    signal.addEventListener("abort", onGone, { once: true });
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => settle("stalled"), timeoutMs);
      timer.unref();
    }
  });
}

const ABORTED = Symbol("aborted");

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** How a stream is written: what stops it, and what may not be sent. */
export interface StreamControl {
  /** Aborted when the client goes away or the server shuts down: the stream stops. */
  readonly signal: AbortSignal;
  /** How long one write may wait for a client that reads nothing (0 or Infinity: no limit). */
  readonly writeTimeoutMs: number;
  /** May throw to stop the stream (a strict validation failure). */
  check(event: unknown): void;
  /**
   * A write waited `writeTimeoutMs` for the client to read: cut the stream (abort the signal, destroy
   * the connection). The iterator is then returned, as on any departure.
   */
  stalled(): void;
}

/**
 * Streams the iterator's events into `res` (headers already sent), starting with `first`, the first
 * step (possibly still pending). `control.check` may throw to stop the stream (a strict validation
 * failure), as may the iterator: the connection is then closed without the final chunk, after what was
 * already written has been flushed, so the client sees a dropped stream, not a clean end that looks
 * like success. The error is rethrown for the caller to log.
 *
 * Nothing outlives a step: each wait for the iterator is a fresh promise that one abort listener (for
 * the whole stream) can settle, and is forgotten when it settles. (Racing every step against one
 * long-lived "aborted" promise, as `Promise.race` would, adds a reaction to that promise per step, and
 * each reaction keeps its race's settled value, the event, alive until the stream ends.)
 */
export function writeNdjson(
  res: ResponseSide,
  iterator: AsyncIterator<unknown>,
  first: FirstStep,
  control: StreamControl,
): Promise<void> {
  // Unwrapped here: the parameters of an async function stay in its frame until it returns, and the
  // first event would stay with them.
  return writeSteps(res, iterator, "now" in first ? first.now : first.later, control);
}

/** `writeNdjson`'s loop; `pending` is the step to wait for, undefined when the next is yet to be asked for. */
async function writeSteps(
  res: ResponseSide,
  iterator: AsyncIterator<unknown>,
  pending: IteratorResult<unknown> | PromiseLike<IteratorResult<unknown>> | undefined,
  control: StreamControl,
): Promise<void> {
  const { signal, writeTimeoutMs } = control;
  /** Settles the current wait for the iterator when the signal aborts; undefined between waits. */
  let wake: ((value: typeof ABORTED) => void) | undefined;
  const onAbort = () => wake?.(ABORTED);
  signal.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  let stepping = false; // true while waiting on the iterator, to tell its failures from check()'s
  try {
    for (;;) {
      // Also before the first event: the client may have left before the status line.
      if (signal.aborted || res.destroyed) break;
      pending ??= iterator.next();
      let step: IteratorResult<unknown> | typeof ABORTED;
      if (isPromiseLike(pending)) {
        const next = pending;
        stepping = true;
        step = await new Promise<IteratorResult<unknown> | typeof ABORTED>((resolve, reject) => {
          wake = resolve;
          next.then(resolve, reject);
        });
        wake = undefined;
        stepping = false;
      } else {
        step = pending;
      }
      if (step === ABORTED) break;
      if (step.done) {
        finished = true;
        break;
      }
      control.check(step.value);
      if (!res.write(`${JSON.stringify(step.value)}\n`)) {
        const outcome = await drained(res, signal, writeTimeoutMs);
        if (outcome === "stalled") control.stalled();
        if (outcome !== "drained") break;
      }
      pending = undefined;
    }
  } catch (err) {
    if (stepping) finished = true; // a throwing iterator is done; after a failed check it is returned below
    res.socket?.end(); // flushes what was written, then closes: no terminating chunk
    throw err;
  } finally {
    wake = undefined;
    signal.removeEventListener("abort", onAbort);
    // Not awaited: an async generator suspended in an await settles its return() only after that
    // await, which may be the very wait the client's departure interrupted.
    if (!finished) iterator.return?.()?.catch(() => undefined);
  }
  if (!res.destroyed) res.end();
}
