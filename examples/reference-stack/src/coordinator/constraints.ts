/**
 * Constraints: how envelopes combine, and the checks the coordinator enforces with them. A node
 * run's constraints are its run's, its ancestors', its node type's and its create spec's, merged so
 * that each can only narrow what the others allow (see {@link mergeConstraints}). On top of them the
 * coordinator has ceilings of its own ({@link CoordinatorLimits}): the lower of the two applies.
 */
import type * as T from "@arp/model";

/** The coordinator's own ceilings; a run's constraints can lower them, never raise them. */
export interface CoordinatorLimits {
  /** Deepest node run (the root is depth 0). Default 16. */
  maxDepth: number;
  /** Children one composite node run may create in all. Default 100. */
  maxChildrenPerComposite: number;
  /** Node runs in one run, the root included. Default 1000. */
  maxTotalNodesPerRun: number;
  /** `createNodeRuns` calls that create something, per composite node run. Default 100. */
  maxDecompositionRoundsPerNode: number;
  /** Evaluation reports per node run (each is an event and a stored result). Default 100. */
  maxEvaluationsPerNodeRun: number;
}

export const DEFAULT_LIMITS: Readonly<CoordinatorLimits> = {
  maxDepth: 16,
  maxChildrenPerComposite: 100,
  maxTotalNodesPerRun: 1000,
  maxDecompositionRoundsPerNode: 100,
  maxEvaluationsPerNodeRun: 100,
};

type Structural = NonNullable<T.ConstraintEnvelope["structural"]>;
type Candidates = NonNullable<T.ConstraintEnvelope["candidates"]>;
type Budgets = NonNullable<T.ConstraintEnvelope["budgets"]>;
type Gates = NonNullable<T.ConstraintEnvelope["gates"]>;

const SIDE_EFFECTS: readonly NonNullable<Gates["side_effect_class"]>[] = ["read", "write", "irreversible"];

function minOf(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : Math.min(...present);
}

/** `{ ...obj }` without its undefined fields; `undefined` when nothing is left. */
function defined<O extends object>(obj: O): O | undefined {
  const entries = Object.entries(obj).filter(([, v]) => v !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as O);
}

/**
 * Merges envelopes, most general first (run, parent, node type, spec), so that none loosens another:
 * numbers (structural limits, budgets, `max_candidates_per_subtask`) take the smallest;
 * `allowed_node_type_ids` the intersection of the lists given; `denied_node_type_ids` the union;
 * `require_approval` is true when any says so; `side_effect_class` takes the narrowest (read <
 * write < irreversible). `extensions` are the most specific envelope's that has them.
 */
export function mergeConstraints(
  ...envelopes: (T.ConstraintEnvelope | undefined)[]
): T.ConstraintEnvelope | undefined {
  const all = envelopes.filter((e): e is T.ConstraintEnvelope => e !== undefined);
  if (all.length === 0) return undefined;
  const groups = <G>(group: (e: T.ConstraintEnvelope) => G | undefined): G[] =>
    all.map(group).filter((g): g is G => g !== undefined);
  const s = groups((e) => e.structural);
  const c = groups((e) => e.candidates);
  const b = groups((e) => e.budgets);
  const g = groups((e) => e.gates);

  const structural = defined<Structural>({
    max_depth: minOf(s.map((x) => x.max_depth)),
    max_children_per_composite: minOf(s.map((x) => x.max_children_per_composite)),
    max_total_nodes_per_run: minOf(s.map((x) => x.max_total_nodes_per_run)),
    max_decomposition_rounds_per_node: minOf(s.map((x) => x.max_decomposition_rounds_per_node)),
  });

  const allowedLists = c.map((x) => x.allowed_node_type_ids).filter((l): l is string[] => l !== undefined);
  const deniedLists = c.map((x) => x.denied_node_type_ids).filter((l): l is string[] => l !== undefined);
  const candidates = defined<Candidates>({
    max_candidates_per_subtask: minOf(c.map((x) => x.max_candidates_per_subtask)),
    allowed_node_type_ids:
      allowedLists.length === 0
        ? undefined
        : [...new Set(allowedLists.reduce((acc, list) => acc.filter((id) => list.includes(id))))],
    denied_node_type_ids: deniedLists.length === 0 ? undefined : [...new Set(deniedLists.flat())],
  });

  const budgets = defined<Budgets>({
    max_wall_time_ms: minOf(b.map((x) => x.max_wall_time_ms)),
    max_steps: minOf(b.map((x) => x.max_steps)),
    max_external_calls: minOf(b.map((x) => x.max_external_calls)),
    max_cost: minOf(b.map((x) => x.max_cost)),
  });

  const approvals = g.map((x) => x.require_approval).filter((v): v is boolean => v !== undefined);
  const classes = g.map((x) => x.side_effect_class).filter((v) => v !== undefined);
  const gates = defined<Gates>({
    require_approval: approvals.length === 0 ? undefined : approvals.includes(true),
    side_effect_class:
      classes.length === 0
        ? undefined
        : SIDE_EFFECTS[Math.min(...classes.map((x) => SIDE_EFFECTS.indexOf(x)))],
  });

  const extensions = [...all].reverse().find((e) => e.extensions !== undefined)?.extensions;
  return defined<T.ConstraintEnvelope>({ structural, candidates, budgets, gates, extensions });
}

/** A structural limit in effect: the lower of the constraint and the coordinator's ceiling. */
export interface Limit {
  /** The constraint's name, as in `ConstraintEnvelope.structural`. */
  name: keyof Structural;
  value: number;
  /** Whether the value is the constraints' or the coordinator's own ceiling. */
  source: "constraints" | "coordinator";
}

const CEILINGS: Readonly<Record<keyof Structural, keyof CoordinatorLimits>> = {
  max_depth: "maxDepth",
  max_children_per_composite: "maxChildrenPerComposite",
  max_total_nodes_per_run: "maxTotalNodesPerRun",
  max_decomposition_rounds_per_node: "maxDecompositionRoundsPerNode",
};

export function structuralLimit(
  name: keyof Structural,
  constraints: T.ConstraintEnvelope | undefined,
  limits: CoordinatorLimits,
): Limit {
  const given = constraints?.structural?.[name];
  const ceiling = limits[CEILINGS[name]];
  return given !== undefined && given <= ceiling
    ? { name, value: given, source: "constraints" }
    : { name, value: ceiling, source: "coordinator" };
}

/** Why `nodeTypeId` may not be created under `constraints`' candidate filters, or undefined. */
export function candidateViolation(
  constraints: T.ConstraintEnvelope | undefined,
  nodeTypeId: string,
): { constraint: "allowed_node_type_ids" | "denied_node_type_ids"; message: string } | undefined {
  const candidates = constraints?.candidates;
  if (candidates?.denied_node_type_ids?.includes(nodeTypeId)) {
    return {
      constraint: "denied_node_type_ids",
      message: `node type ${nodeTypeId} is in the constraints' denied_node_type_ids`,
    };
  }
  const allowed = candidates?.allowed_node_type_ids;
  if (allowed !== undefined && !allowed.includes(nodeTypeId)) {
    return {
      constraint: "allowed_node_type_ids",
      message: `node type ${nodeTypeId} is not in the constraints' allowed_node_type_ids`,
    };
  }
  return undefined;
}
