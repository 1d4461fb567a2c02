/**
 * The state machines of runs and node runs. Every state change the coordinator makes is checked
 * here first; the store's versions then make sure nobody else moved the record in between.
 *
 *   node run: queued → assigned → running → succeeded | failed | canceled
 *             (any state that is not terminal may also end at once: canceled, timed out, denied)
 *   run:      running → succeeded | failed | canceled   (a run is running from its start; the
 *             spec's `queued` is never used)
 *
 * A terminal state never changes again, so a canceled run stays canceled.
 */
import type * as T from "@arp/model";

export const NODE_RUN_TERMINAL: ReadonlySet<T.NodeRunState> = new Set(["succeeded", "failed", "canceled"]);
export const RUN_TERMINAL: ReadonlySet<T.RunState> = new Set(["succeeded", "failed", "canceled"]);

const NODE_RUN_NEXT: Readonly<Record<T.NodeRunState, readonly T.NodeRunState[]>> = {
  queued: ["assigned", "succeeded", "failed", "canceled"],
  assigned: ["running", "succeeded", "failed", "canceled"],
  running: ["succeeded", "failed", "canceled"],
  succeeded: [],
  failed: [],
  canceled: [],
};

const RUN_NEXT: Readonly<Record<T.RunState, readonly T.RunState[]>> = {
  queued: ["running", "succeeded", "failed", "canceled"],
  running: ["succeeded", "failed", "canceled"],
  succeeded: [],
  failed: [],
  canceled: [],
};

export function isTerminalNodeRun(state: T.NodeRunState): state is T.NodeRunTerminalState {
  return NODE_RUN_TERMINAL.has(state);
}

export function isTerminalRun(state: T.RunState): boolean {
  return RUN_TERMINAL.has(state);
}

/** Whether a node run may go from `from` to `to`. */
export function canMoveNodeRun(from: T.NodeRunState, to: T.NodeRunState): boolean {
  return NODE_RUN_NEXT[from].includes(to);
}

/** Whether a run may go from `from` to `to`. */
export function canMoveRun(from: T.RunState, to: T.RunState): boolean {
  return RUN_NEXT[from].includes(to);
}
