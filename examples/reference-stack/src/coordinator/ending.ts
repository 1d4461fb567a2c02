/**
 * Ending a node run, as one change: its unfinished descendants are canceled first, children before
 * their parents (so a subtree's events are all in the log before the end event that closes the
 * subtree's stream), then the node run itself ends; when it is the root, the run ends with the same
 * state and `run_completed` is the last event. Pure: the coordinator commits what this plans.
 */
import type * as T from "@arp/model";
import type { Change, RunRecord, StoredNodeRun, StoredRun } from "../store/interface.js";
import { ERROR_EXTENSION, nodeRunEnded, runCompleted } from "./events.js";
import { canMoveNodeRun, isTerminalNodeRun, isTerminalRun } from "./states.js";

/** How a node run ends. */
export interface Ending {
  state: T.NodeRunTerminalState;
  outputs?: Record<string, unknown>;
  output_artifacts?: T.ResourceRef[];
  /** Kept only when the state is `failed`. */
  error?: T.ErrorDetail;
}

export interface EndPlan {
  change: Change;
  /** Node runs the coordinator ended while an executor had them (assigned or running): tell it. */
  stopped: StoredNodeRun[];
  /** Every node run the change ends (the target and its canceled descendants). */
  ended: string[];
}

/** With `error` under {@link ERROR_EXTENSION} when there is one. */
function withError<O extends { extensions?: T.Extensions }>(obj: O, error: T.ErrorDetail | undefined): O {
  if (error === undefined) return obj;
  return { ...obj, extensions: { ...obj.extensions, [ERROR_EXTENSION]: error } };
}

/**
 * The change that ends `targetId` with `ending`, or undefined when it is already terminal.
 * `stopTarget`: the target's executor did not say so itself (a cancel, a timeout, a completion
 * from elsewhere), so it is to be told as well.
 */
export function planEnding(options: {
  run: StoredRun;
  nodeRuns: readonly StoredNodeRun[];
  targetId: string;
  ending: Ending;
  time: string;
  stopTarget: boolean;
}): EndPlan | undefined {
  const { run, nodeRuns, targetId, ending, time } = options;
  const target = nodeRuns.find((n) => n.node_run.node_run_id === targetId);
  if (target === undefined || !canMoveNodeRun(target.node_run.state, ending.state)) return undefined;

  const children = new Map<string, StoredNodeRun[]>();
  for (const n of nodeRuns) {
    const parent = n.node_run.parent_node_run_id;
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const change: Change = { run_id: run.run.run_id, update_node_runs: [], events: [] };
  const stopped: StoredNodeRun[] = [];
  const ended: string[] = [];
  const end = (n: StoredNodeRun, how: Ending, stop: boolean) => {
    const error = how.state === "failed" ? how.error : undefined;
    const node_run: T.NodeRun = withError(
      {
        ...n.node_run,
        state: how.state,
        ended_at: time,
        ...(how.outputs === undefined ? {} : { outputs: how.outputs }),
        ...(how.output_artifacts === undefined ? {} : { output_artifacts: how.output_artifacts }),
      },
      error,
    );
    const { version: _version, deadline_ms: _deadline, ...rest } = n;
    const record = { ...rest, node_run, ...(error === undefined ? {} : { error }) };
    change.update_node_runs!.push({ version: n.version, record });
    change.events!.push(nodeRunEnded(time, node_run, error));
    ended.push(n.node_run.node_run_id);
    if (stop && (n.node_run.state === "assigned" || n.node_run.state === "running")) stopped.push(n);
  };
  const cancelBelow = (id: string) => {
    for (const child of children.get(id) ?? []) {
      cancelBelow(child.node_run.node_run_id);
      if (!isTerminalNodeRun(child.node_run.state)) end(child, { state: "canceled" }, true);
    }
  };
  cancelBelow(targetId);
  end(target, ending, options.stopTarget);

  if (run.run.root_node_run_id === targetId && !isTerminalRun(run.run.state)) {
    const error = ending.state === "failed" ? ending.error : undefined;
    const { version: _version, deadline_ms: _deadline, ...rest } = run;
    const record: RunRecord = {
      ...rest,
      run: withError({ ...run.run, state: ending.state, ended_at: time }, error),
    };
    change.update_run = { version: run.version, record };
    change.events!.push(runCompleted(time, ending.state, ending.outputs, error));
  }
  return { change, stopped, ended };
}
