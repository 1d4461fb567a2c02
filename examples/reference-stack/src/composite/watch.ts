/**
 * How a composite node run learns that its children have ended. The coordinator's node-run stream of
 * the composite itself (`GET /v1/node-runs/{id}/events`, which replays its subtree's history and
 * follows it live) is only the wake-up signal: an event that names a child (unless it says the child
 * is still going) wakes that child's waiter, which then reads the child (`GET /v1/node-runs/{child}`),
 * the truth about its state.
 * Reading before each wait means an event that came before the wait is never missed, and a timer
 * wakes every waiter every `pollIntervalMs` as a safety net (a missed event, or a coordinator
 * without the optional stream, answered 501, costs at most that long).
 *
 * Nothing here rejects on its own: waits resolve when the watch is aborted, and the stream loop
 * catches everything (it logs and reopens with backoff) so a coordinator that goes away cannot
 * cause an unhandled rejection.
 */
import { ArpApiError, type RunCoordinatorClient } from "@arp/client";
import type * as T from "@arp/model";
import { NODE_RUN_TERMINAL_STATES } from "@arp/model";
import type { Logger } from "@arp/server";

const TERMINAL: ReadonlySet<string> = new Set(NODE_RUN_TERMINAL_STATES);

export function isTerminal(state: T.NodeRunState): state is T.NodeRunTerminalState {
  return TERMINAL.has(state);
}

const LIVE: ReadonlySet<string> = new Set(["queued", "assigned", "running"]);

/**
 * Whether `event` says its node run is still going: `data.state` queued, assigned or running, or a
 * `policy_decided` that allowed it. It cannot have ended, so its waiter is not woken to read it. Any
 * other event naming it wakes it (a coordinator may say a node run ended in events this one does
 * not know, or end it with a policy's denial alone).
 */
export function saysLive(event: T.RunEvent): boolean {
  const state = event.data?.state;
  if (typeof state === "string" && LIVE.has(state)) return true;
  return event.type === "policy_decided" && event.data?.decision === "allow";
}

/** First wait before reopening a stream that ended or failed; doubles up to {@link MAX_REOPEN_DELAY_MS}. */
export const FIRST_REOPEN_DELAY_MS = 250;
export const MAX_REOPEN_DELAY_MS = 30_000;

/** Resolves the waiters of one child when fired. Never rejects. */
class Wakeup {
  #waiters: Array<() => void> = [];
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  fire(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** `ms` later, or at once when `signal` aborts. Never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export interface WatchOptions {
  client: RunCoordinatorClient;
  /** The composite node run whose stream is followed. */
  nodeRunId: string;
  /** Ends the watch: every wait returns, the stream is closed. */
  signal: AbortSignal;
  /** Per-call options (the begin request's traceparent) and a deadline for each call. */
  call: { headers?: Record<string, string>; timeoutMs?: number };
  pollIntervalMs: number;
  logger: Logger;
  /** Called once when the composite's own node run is found terminal (canceled from outside). */
  onOwnTerminal(state: T.NodeRunTerminalState): void;
}

export class ChildWatch {
  readonly #options: WatchOptions;
  /** The waiters by child id (a set: the same child may be waited on twice, e.g. a deduplicated create). */
  readonly #wakeups = new Map<string, Set<Wakeup>>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: WatchOptions) {
    this.#options = options;
    this.#timer = setInterval(() => this.#fireAll(), options.pollIntervalMs);
    this.#timer.unref();
    if (options.signal.aborted) clearInterval(this.#timer);
    options.signal.addEventListener(
      "abort",
      () => {
        clearInterval(this.#timer);
        this.#fireAll();
      },
      { once: true },
    );
    void this.#follow();
  }

  /** The child once it is terminal, read from the coordinator. Rejects only when a read fails or on abort. */
  async terminal(childId: string): Promise<T.NodeRun> {
    const { client, signal, call } = this.#options;
    const wakeup = new Wakeup();
    const waiters = this.#wakeups.get(childId) ?? new Set<Wakeup>();
    waiters.add(wakeup);
    this.#wakeups.set(childId, waiters);
    try {
      for (;;) {
        signal.throwIfAborted();
        const woken = wakeup.next(); // taken before the read: a wake-up during it is kept
        const child = await client.getNodeRun(childId, { ...call, signal });
        if (isTerminal(child.state)) return child;
        await woken;
      }
    } finally {
      waiters.delete(wakeup);
      if (waiters.size === 0) this.#wakeups.delete(childId);
    }
  }

  #fire(childId: string): void {
    for (const wakeup of this.#wakeups.get(childId) ?? []) wakeup.fire();
  }

  #fireAll(): void {
    for (const waiters of this.#wakeups.values()) for (const wakeup of waiters) wakeup.fire();
  }

  /** Follows the composite's stream until the watch is aborted; never rejects. */
  async #follow(): Promise<void> {
    const { client, nodeRunId, signal, call, logger } = this.#options;
    let delay = FIRST_REOPEN_DELAY_MS;
    let lastSeq = -1;
    while (!signal.aborted) {
      try {
        // idleTimeoutMs 0: a child may work for an hour without an event; the abort ends the wait.
        const events = client.streamNodeRunEvents(nodeRunId, { ...call, signal, idleTimeoutMs: 0 });
        for await (const event of events) {
          // Only news resets the backoff: a reopened stream replays what was seen before.
          if (event.seq > lastSeq) {
            lastSeq = event.seq;
            delay = FIRST_REOPEN_DELAY_MS;
          }
          if (event.node_run_id !== undefined && !saysLive(event)) this.#fire(event.node_run_id);
        }
        // The stream of a node run ends when that node run is terminal: ours, ended from outside?
        this.#fireAll();
        const own = await client.getNodeRun(nodeRunId, { ...call, signal });
        if (isTerminal(own.state)) {
          this.#options.onOwnTerminal(own.state);
          return;
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ArpApiError && err.status === 501) {
          logger.debug?.("composite executor: the coordinator has no node-run stream; polling", {
            nodeRunId,
          });
          return;
        }
        logger.warn("composite executor: the node-run stream failed; reopening", {
          nodeRunId,
          error: err instanceof Error ? err.message : String(err),
          retryInMs: delay,
        });
      }
      await pause(delay, signal);
      delay = Math.min(delay * 2, MAX_REOPEN_DELAY_MS);
    }
  }
}
