/**
 * The events the coordinator appends, one builder per line of the README's table ("Events"). Every
 * event about a node run carries its `node_run_id`; every node run state change carries the new
 * state as `data.state`; no field is ever `null` (absent ones are left out).
 */
import type * as T from "@arp/model";
import type { EventDraft } from "../store/interface.js";
import { isTerminalNodeRun } from "./states.js";

/** Where a failed node run's or run's error is kept on the wire objects (they have no error field). */
export const ERROR_EXTENSION = "arp-ts.error";

/** `obj` without its undefined fields (so nothing absent is ever sent, not even as `null`). */
export function compact<O extends Record<string, unknown>>(obj: O): O {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as O;
}

/**
 * The most one `inputs` or `outputs` field of an event may hold: 16 KiB of JSON (UTF-8 bytes of
 * `JSON.stringify`). A larger value is replaced by {@link TruncatedField}, so that the event log
 * does not grow with the data a run moves (the node run itself keeps the whole value).
 */
export const MAX_EVENT_FIELD_BYTES = 16 * 1024;

/** What an event carries instead of a value over {@link MAX_EVENT_FIELD_BYTES}. */
export interface TruncatedField {
  truncated: true;
  /** The size of the value left out: UTF-8 bytes of its JSON. */
  bytes: number;
}

/** `value` when its JSON fits in `max` bytes, else `{ truncated: true, bytes }`. */
export function bounded(
  value: Record<string, unknown> | undefined,
  max = MAX_EVENT_FIELD_BYTES,
): Record<string, unknown> | TruncatedField | undefined {
  if (value === undefined) return undefined;
  const json = JSON.stringify(value);
  // A cheap bound first: a string of n UTF-16 units has between n and 3n UTF-8 bytes.
  if (json.length * 3 <= max) return value;
  const bytes = Buffer.byteLength(json, "utf8");
  return bytes <= max ? value : { truncated: true, bytes };
}

function draft(type: T.RunEventType, time: string, nodeRunId: string | undefined, data: object): EventDraft {
  return compact({ type, time, node_run_id: nodeRunId, data: compact(data as Record<string, unknown>) });
}

export function runStarted(time: string, run: T.Run, root: T.NodeRun): EventDraft {
  return draft("run_started", time, undefined, {
    state: run.state,
    root_node_run_id: root.node_run_id,
    node_type_ref: root.node_type_ref,
    inputs: bounded(root.inputs),
  });
}

export function policyDecided(
  time: string,
  nodeRunId: string | undefined,
  action: string,
  decision: T.PolicyDecision,
): EventDraft {
  return draft("policy_decided", time, nodeRunId, {
    action,
    decision: decision.decision,
    reason_code: decision.reason_code,
    message: decision.message,
  });
}

/** A batch of children created under `parent` (the parent's event; it comes before theirs). */
export function compositeDecomposed(
  time: string,
  parent: string,
  children: string[],
  round: number,
): EventDraft {
  return draft("composite_decomposed", time, parent, { children, round });
}

/** A child created (queued): the subtask it stands for, mapped to its node type. */
export function subtaskMapped(time: string, child: T.NodeRun, spec: T.NodeRunCreateSpec): EventDraft {
  return draft("subtask_mapped", time, child.node_run_id, {
    state: child.state,
    parent_node_run_id: child.parent_node_run_id,
    node_type_ref: child.node_type_ref,
    kind: child.kind,
    subtask_id: spec.binding_decision?.subtask_id,
    candidate_set_id: spec.candidate_set_id ?? spec.binding_decision?.candidate_set_id,
    inputs: bounded(child.inputs),
  });
}

/** Assigned to an executor (`executor`: the peer's service key), or running there. */
export function nodeRunAssigned(time: string, nodeRun: T.NodeRun, executor?: string): EventDraft {
  return draft("node_run_assigned", time, nodeRun.node_run_id, { state: nodeRun.state, executor });
}

export function nodeEvaluated(
  time: string,
  nodeRunId: string,
  report: T.NodeRunEvaluationReportRequest,
): EventDraft {
  const result = report.evaluation_result;
  return draft("node_evaluated", time, nodeRunId, {
    status: result.status,
    reason_code: result.reason_code,
    message: result.message,
    confidence: result.confidence,
    recovery_action: report.recovery_action,
  });
}

/** The end of a node run: `atomic_executed` for an atomic one, `composite_decomposed` for a composite one. */
export function nodeRunEnded(time: string, nodeRun: T.NodeRun, error?: T.ErrorDetail): EventDraft {
  const type = nodeRun.kind === "atomic" ? "atomic_executed" : "composite_decomposed";
  return draft(type, time, nodeRun.node_run_id, {
    state: nodeRun.state,
    outputs: bounded(nodeRun.outputs),
    error,
  });
}

export function runCompleted(
  time: string,
  state: T.RunState,
  outputs?: Record<string, unknown>,
  error?: T.ErrorDetail,
): EventDraft {
  return draft("run_completed", time, undefined, { state, outputs: bounded(outputs), error });
}

/** Whether `event` is the end event of node run `nodeRunId` (see {@link nodeRunEnded}). */
export function endsNodeRun(event: T.RunEvent, nodeRunId: string): boolean {
  if (event.node_run_id !== nodeRunId) return false;
  if (event.type !== "atomic_executed" && event.type !== "composite_decomposed") return false;
  const state = event.data?.state;
  return typeof state === "string" && isTerminalNodeRun(state as T.NodeRunState);
}

/** The children a `composite_decomposed` batch event names (none for an end event). */
export function childrenOf(event: T.RunEvent): string[] {
  if (event.type !== "composite_decomposed") return [];
  const children = event.data?.children;
  return Array.isArray(children) ? children.filter((c): c is string => typeof c === "string") : [];
}
