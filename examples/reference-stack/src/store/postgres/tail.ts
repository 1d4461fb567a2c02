/**
 * The last events of each run this store committed itself or was told of by another replica's
 * notification (which carries the events when they fit), so that its streams can read them without
 * a round trip. What it holds of a run is one gap-free window of its log: events that do not follow
 * it start a new window (`committed`). It never answers for what it may not have: `read` serves
 * from memory only a range inside that window, and only when the window reaches the last seq known
 * to exist (`seen`: told by notifications, the rechecks and the table's own answers), so an event
 * it was not given sends the reader to the table. What it holds are committed events, as
 * committed: the table's truth, not a guess.
 *
 * Bounded: at most {@link TAIL_EVENTS} events per run and {@link TAIL_BYTES} in all (the JSON size
 * of the events); past that the least recently written runs are forgotten. `seen` keeps one number
 * per run for at most {@link SEEN_RUNS} runs. And short-lived: `expire()` forgets the runs nothing
 * was written to or seen of for {@link TAIL_IDLE_MS} (their followers have read those events by
 * then, or read the table), so memory goes back to its baseline once the load stops; a 30-minute
 * soak held some 25 MiB of heap per replica in ended runs' events before.
 */
import type * as T from "@arp/model";

export const TAIL_EVENTS = 64;
export const TAIL_BYTES = 8 * 1024 * 1024;
export const SEEN_RUNS = 10_000;
export const TAIL_IDLE_MS = 5_000;

interface Tail {
  /** The seq of `events[0]`. */
  first: number;
  events: T.RunEvent[];
  sizes: number[];
  bytes: number;
  /** When it was last written (`now()`). */
  at: number;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export class EventTail {
  readonly #tails = new Map<string, Tail>();
  /** Per run, the last seq known to exist and when that was learnt; oldest first. */
  readonly #seen = new Map<string, { seq: number; at: number }>();
  readonly #now: () => number;
  #bytes = 0;

  /** `now`: a monotonic clock in ms (tests give their own). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** How much it holds (for tests and metrics). */
  get size(): { runs: number; bytes: number; seen: number } {
    return { runs: this.#tails.size, bytes: this.#bytes, seen: this.#seen.size };
  }

  /** Events just committed, here or by another replica (consecutive seqs), with the JSON length of each. */
  committed(runId: string, events: readonly T.RunEvent[], sizes: readonly number[]): void {
    if (events.length === 0) return;
    const first = events[0]!.seq;
    let tail = this.#tails.get(runId);
    if (tail !== undefined && tail.first + tail.events.length !== first) {
      this.#drop(runId); // not what follows what it held: start again from these
      tail = undefined;
    }
    tail ??= { first, events: [], sizes: [], bytes: 0, at: 0 };
    tail.at = this.#now();
    this.#tails.delete(runId); // re-inserted: the most recently written are kept longest
    this.#tails.set(runId, tail);
    events.forEach((event, i) => {
      tail.events.push(deepFreeze(structuredClone(event)));
      tail.sizes.push(sizes[i]!);
      tail.bytes += sizes[i]!;
      this.#bytes += sizes[i]!;
    });
    while (tail.events.length > TAIL_EVENTS) {
      tail.events.shift();
      const size = tail.sizes.shift()!;
      tail.bytes -= size;
      this.#bytes -= size;
      tail.first += 1;
    }
    while (this.#bytes > TAIL_BYTES && this.#tails.size > 0) this.#drop(this.#tails.keys().next().value!);
    this.seen(runId, events.at(-1)!.seq);
  }

  /** A seq known to exist in the run's log. */
  seen(runId: string, seq: number): void {
    const known = this.#seen.get(runId);
    if (known !== undefined && known.seq >= seq) return;
    this.#seen.delete(runId);
    this.#seen.set(runId, { seq, at: this.#now() });
    if (this.#seen.size > SEEN_RUNS) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /** Forgets everything (the store's listener broke: what is known of the logs' ends may be stale). */
  clear(): void {
    this.#tails.clear();
    this.#seen.clear();
    this.#bytes = 0;
  }

  /**
   * Forgets what was last written or seen more than `idleMs` ago. Both maps are in that order, so
   * this stops at the first recent entry: its cost is what it forgets.
   */
  expire(idleMs = TAIL_IDLE_MS): void {
    const cutoff = this.#now() - idleMs;
    for (const [runId, tail] of this.#tails) {
      if (tail.at > cutoff) break;
      this.#drop(runId);
    }
    for (const [runId, known] of this.#seen) {
      if (known.at > cutoff) break;
      this.#seen.delete(runId);
    }
  }

  /**
   * Up to `limit` events from `fromSeq`, from memory; undefined when it cannot answer for all of
   * them (it holds none from there, or the log is known to go further than what it holds).
   */
  read(runId: string, fromSeq: number, limit: number): T.RunEvent[] | undefined {
    const tail = this.#tails.get(runId);
    if (tail === undefined) return undefined;
    const last = tail.first + tail.events.length - 1;
    if (fromSeq < tail.first || fromSeq > last + 1) return undefined;
    if ((this.#seen.get(runId)?.seq ?? -1) > last) return undefined;
    // Frozen, so handing out the held objects is safe.
    return tail.events.slice(fromSeq - tail.first, fromSeq - tail.first + limit);
  }

  #drop(runId: string): void {
    const tail = this.#tails.get(runId);
    if (tail === undefined) return;
    this.#bytes -= tail.bytes;
    this.#tails.delete(runId);
  }
}
