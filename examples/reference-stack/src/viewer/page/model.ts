/**
 * A run as the viewer shows it, built from the run's events alone (the gateway has no node-run
 * endpoint): the tree of node runs, each one's state, node type, inputs, outputs, error, policy
 * decisions and evaluations. No DOM here: the same code runs in Node for the tests. The event data
 * it reads is the Run Coordinator's (the README's "Events" table); anything missing or of another
 * shape is left unknown rather than guessed.
 */
import type { NodeTypeRef, RunEvent } from "@arp/client";

export interface ErrorView {
  code: string;
  message: string;
  details?: unknown;
}

export interface PolicyView {
  seq: number;
  action: string;
  decision: string;
  reason_code?: string;
  message?: string;
}

export interface EvaluationView {
  seq: number;
  status: string;
  reason_code?: string;
  message?: string;
  confidence?: number;
}

export interface NodeView {
  readonly id: string;
  parent: string | undefined;
  /** In creation order (the order of their `composite_decomposed` batches). */
  readonly children: string[];
  node_type_ref: NodeTypeRef | undefined;
  kind: string | undefined;
  /** `queued` until an event says otherwise. */
  state: string;
  executor: string | undefined;
  /** As the event carried them: possibly `{ truncated: true, bytes }` (see {@link truncatedBytes}). */
  inputs: unknown;
  outputs: unknown;
  error: ErrorView | undefined;
  subtask_id: string | undefined;
  candidate_set_id: string | undefined;
  readonly policy: PolicyView[];
  readonly evaluations: EvaluationView[];
  /** The events about this node run. */
  readonly events: RunEvent[];
}

export interface RunView {
  readonly run_id: string;
  /** `unknown` until `run_started`. */
  state: string;
  root: string | undefined;
  outputs: unknown;
  error: ErrorView | undefined;
  /** Decisions about the run itself (`run.start`). */
  readonly policy: PolicyView[];
  /** By id, in the order they were first seen. */
  readonly nodes: Map<string, NodeView>;
  readonly events: RunEvent[];
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

export function newRun(runId: string): RunView {
  return {
    run_id: runId,
    state: "unknown",
    root: undefined,
    outputs: undefined,
    error: undefined,
    policy: [],
    nodes: new Map(),
    events: [],
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function ref(v: unknown): NodeTypeRef | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const { node_type_id, version } = v as Record<string, unknown>;
  return typeof node_type_id === "string" && typeof version === "string"
    ? { node_type_id, version }
    : undefined;
}

function errorOf(v: unknown): ErrorView | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const e = v as Record<string, unknown>;
  const code = str(e.code);
  if (code === undefined) return undefined;
  return { code, message: str(e.message) ?? "", ...(e.details === undefined ? {} : { details: e.details }) };
}

/** The size a truncated field stood for (`{ truncated: true, bytes }`), else undefined. */
export function truncatedBytes(v: unknown): number | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const t = v as Record<string, unknown>;
  return t.truncated === true && typeof t.bytes === "number" && Object.keys(t).length === 2
    ? t.bytes
    : undefined;
}

function node(run: RunView, id: string): NodeView {
  let n = run.nodes.get(id);
  if (n === undefined) {
    n = {
      id,
      parent: undefined,
      children: [],
      node_type_ref: undefined,
      kind: undefined,
      state: "queued",
      executor: undefined,
      inputs: undefined,
      outputs: undefined,
      error: undefined,
      subtask_id: undefined,
      candidate_set_id: undefined,
      policy: [],
      evaluations: [],
      events: [],
    };
    run.nodes.set(id, n);
  }
  return n;
}

function adopt(run: RunView, parentId: string, childId: string): void {
  const parent = node(run, parentId);
  const child = node(run, childId);
  child.parent = parentId;
  if (!parent.children.includes(childId)) parent.children.push(childId);
}

/**
 * Applies one event to `run` (an event already seen, by `seq`, is ignored); answers the ids of the
 * node runs it changed, so that a view redraws only those.
 */
export function applyEvent(run: RunView, event: RunEvent): string[] {
  const last = run.events.at(-1);
  if (last !== undefined && event.seq <= last.seq) return [];
  run.events.push(event);
  const data = event.data ?? {};
  const state = str(data.state);
  const id = event.node_run_id;
  const changed = new Set<string>();
  const about = id === undefined ? undefined : node(run, id);
  if (about !== undefined) {
    about.events.push(event);
    changed.add(about.id);
  }

  switch (event.type) {
    case "run_started": {
      const rootId = str(data.root_node_run_id);
      if (state !== undefined) run.state = state;
      if (rootId !== undefined) {
        run.root = rootId;
        const root = node(run, rootId);
        root.node_type_ref = ref(data.node_type_ref) ?? root.node_type_ref;
        if (data.inputs !== undefined) root.inputs = data.inputs;
        changed.add(rootId);
      }
      break;
    }
    case "policy_decided": {
      const decision: PolicyView = {
        seq: event.seq,
        action: str(data.action) ?? "?",
        decision: str(data.decision) ?? "?",
      };
      const reason = str(data.reason_code);
      const message = str(data.message);
      if (reason !== undefined) decision.reason_code = reason;
      if (message !== undefined) decision.message = message;
      (about ?? run).policy.push(decision);
      break;
    }
    case "subtask_mapped": {
      if (about === undefined) break;
      const parent = str(data.parent_node_run_id);
      if (parent !== undefined) {
        adopt(run, parent, about.id);
        changed.add(parent);
      }
      about.node_type_ref = ref(data.node_type_ref) ?? about.node_type_ref;
      about.kind = str(data.kind) ?? about.kind;
      about.subtask_id = str(data.subtask_id) ?? about.subtask_id;
      about.candidate_set_id = str(data.candidate_set_id) ?? about.candidate_set_id;
      if (data.inputs !== undefined) about.inputs = data.inputs;
      break;
    }
    case "composite_decomposed": {
      if (about === undefined) break;
      about.kind = "composite";
      if (Array.isArray(data.children)) {
        for (const child of data.children) {
          if (typeof child !== "string") continue;
          adopt(run, about.id, child);
          changed.add(child);
        }
      }
      break;
    }
    case "node_run_assigned": {
      if (about === undefined) break;
      const executor = str(data.executor);
      if (executor !== undefined) {
        about.executor = executor;
        if (about.kind === undefined && executor === "atomic-executor") about.kind = "atomic";
        if (about.kind === undefined && executor === "composite-executor") about.kind = "composite";
      }
      break;
    }
    case "atomic_executed":
      if (about !== undefined) about.kind = "atomic";
      break;
    case "node_evaluated": {
      if (about === undefined) break;
      const evaluation: EvaluationView = { seq: event.seq, status: str(data.status) ?? "?" };
      const reason = str(data.reason_code);
      const message = str(data.message);
      if (reason !== undefined) evaluation.reason_code = reason;
      if (message !== undefined) evaluation.message = message;
      if (typeof data.confidence === "number") evaluation.confidence = data.confidence;
      about.evaluations.push(evaluation);
      break;
    }
    case "run_completed":
      if (state !== undefined) run.state = state;
      run.outputs = data.outputs;
      run.error = errorOf(data.error);
      break;
    default:
      break;
  }

  // Every node run state change carries the new state; `run_started`'s is the run's, not the root's.
  if (about !== undefined && state !== undefined) {
    about.state = state;
    if (isTerminal(state)) {
      if (data.outputs !== undefined) about.outputs = data.outputs;
      const error = errorOf(data.error);
      if (error !== undefined) about.error = error;
    }
  }
  return [...changed];
}

/** The node runs depth first from the root (children in order), then any not reachable from it. */
export function walk(run: RunView): { node: NodeView; depth: number }[] {
  const out: { node: NodeView; depth: number }[] = [];
  const seen = new Set<string>();
  const visit = (n: NodeView, depth: number) => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    out.push({ node: n, depth });
    for (const c of n.children) {
      const child = run.nodes.get(c);
      if (child !== undefined) visit(child, depth + 1);
    }
  };
  const root = run.root === undefined ? undefined : run.nodes.get(run.root);
  if (root !== undefined) visit(root, 0);
  for (const n of run.nodes.values()) visit(n, 0);
  return out;
}
