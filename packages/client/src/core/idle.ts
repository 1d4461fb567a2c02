/** The idle deadline of an event stream (`idleTimeoutMs`), across its reconnects. */
import { type ArpRequestInfo, ArpTimeoutError } from "./errors.js";

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A stream's lifetime across its reconnects: the caller's signal, plus the idle deadline (no new event
 * for `idleMs`), merged into one signal. The deadline is paused while the consumer holds an event. An
 * explicit `idleTimeoutMs` counts all the time; the default counts only while the client polls (between
 * connections and on connections that end before the end event), not while a live connection is
 * open, so a quiet run on a live server is not cut. One timer per idle period, not one per event: an
 * event only records the time, and a timer that fires early sleeps again for what is left. A timer
 * that fires while nothing counts is not re-armed until something does again.
 */
export class IdleWatch {
  readonly #controller = new AbortController();
  readonly #caller: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  readonly #idleMs: number;
  readonly #always: boolean;
  readonly #info: ArpRequestInfo;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #since = Date.now();
  #paused = false;
  #live = false;
  readonly signal: AbortSignal = this.#controller.signal;

  /** `idleMs`: 0 or Infinity for none; `always`: an explicit setting (else the polling-only default). */
  constructor(caller: AbortSignal | undefined, idleMs: number, always: boolean, info: ArpRequestInfo) {
    if (!(idleMs >= 0)) throw new RangeError(`idleTimeoutMs must be 0 (none) or positive, got ${idleMs}`);
    this.#caller = caller;
    this.#idleMs = idleMs === Number.POSITIVE_INFINITY ? 0 : idleMs;
    this.#always = always;
    this.#info = info;
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else if (caller) {
      this.#onAbort = () => this.#controller.abort(caller.reason);
      caller.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.#ensureArmed();
  }

  get #counting(): boolean {
    return !this.#paused && (this.#always || !this.#live);
  }

  #ensureArmed(): void {
    if (this.#idleMs > 0 && this.#timer === undefined && this.#counting && !this.signal.aborted)
      this.#arm(this.#idleMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.signal.aborted || !this.#counting) return; // re-armed when counting resumes
        const left = this.#idleMs - (Date.now() - this.#since);
        if (left > 0) return this.#arm(left);
        this.#controller.abort(new ArpTimeoutError(this.#idleMs, { ...this.#info, phase: "stream_idle" }));
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  /** The consumer holds an event: its time is not the server's idle time. */
  pause(): void {
    this.#paused = true;
  }

  /** A new event was handled: the idle period starts again now. */
  restart(): void {
    this.#paused = false;
    this.#since = Date.now();
    this.#ensureArmed();
  }

  /** A connection is open and being read (the default does not count this time). */
  connected(): void {
    this.#live = true;
  }

  /** The connection ended: polling (and, by default, the count) starts again now. */
  disconnected(): void {
    this.#live = false;
    if (!this.#always) this.#since = Date.now();
    this.#ensureArmed();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (this.#onAbort) this.#caller?.removeEventListener("abort", this.#onAbort);
  }
}
