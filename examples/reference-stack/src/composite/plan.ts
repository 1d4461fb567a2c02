/**
 * What a composite node run will do, read from its begin request before anything is accepted: every
 * problem is found here, so that a bad assignment is answered `accepted: false` with a message
 * instead of failing later. Pure functions, no I/O.
 *
 * The input rules (also in the README):
 * - the seed is the inputs without the step list (`steps` or `branches`) and `input`, with `input`
 *   merged over them (so `{ steps, input: { text } }` seeds `{ text }`, and a composite nested in a
 *   pipeline, whose inputs are the previous outputs plus its own `steps`, is seeded with those outputs);
 * - pipeline: step 0 gets `{ ...seed, ...step.inputs }`, step i gets
 *   `{ ...outputs of step i-1, ...step.inputs }` (a shallow merge, the step's own keys win); the
 *   pipeline's outputs are the last step's outputs;
 * - parallel: every branch gets `{ ...seed, ...branch.inputs }`; the outputs are
 *   `{ results: [outputs of branch 0, ...] }`, in branch order.
 */
import type * as T from "@arp/model";
import {
  COMPOSITE_NODE_TYPE_VERSION,
  DEFAULT_MAX_GOAL_LENGTH,
  DEFAULT_MAX_STEPS,
  PARALLEL_NODE_TYPE_ID,
  PIPELINE_NODE_TYPE_ID,
} from "../catalog/composite.js";

export type JsonObject = Record<string, unknown>;

export type Step =
  | { readonly node_type: T.NodeTypeRef; readonly inputs: JsonObject }
  | { readonly goal: string; readonly inputs: JsonObject };

export interface Plan {
  readonly kind: "pipeline" | "parallel";
  readonly steps: readonly Step[];
  readonly seed: JsonObject;
}

export interface PlanLimits {
  /** Most steps (branches) of one composite node run. */
  maxSteps: number;
  /** Longest goal text, in characters. */
  maxGoalLength: number;
}

export const DEFAULT_PLAN_LIMITS: Readonly<PlanLimits> = {
  maxSteps: DEFAULT_MAX_STEPS,
  maxGoalLength: DEFAULT_MAX_GOAL_LENGTH,
};

export type PlanResult = { ok: true; plan: Plan } | { ok: false; message: string };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const LIST_KEY = { pipeline: "steps", parallel: "branches" } as const;
const STEP_KEYS = new Set(["node_type", "goal", "inputs"]);
const REF_KEYS = new Set(["node_type_id", "version"]);

/** The plan of a begin request, or why it cannot be carried out. */
export function planComposite(
  request: T.CompositeBeginRequest,
  limits: PlanLimits = DEFAULT_PLAN_LIMITS,
): PlanResult {
  const fail = (message: string): PlanResult => ({ ok: false, message });
  const ref = request.node_type_ref;
  const kind =
    ref.version !== COMPOSITE_NODE_TYPE_VERSION
      ? undefined
      : ref.node_type_id === PIPELINE_NODE_TYPE_ID
        ? "pipeline"
        : ref.node_type_id === PARALLEL_NODE_TYPE_ID
          ? "parallel"
          : undefined;
  if (kind === undefined) {
    return fail(
      `unknown composite node type ${ref.node_type_id}@${ref.version}: this executor runs ` +
        `${PIPELINE_NODE_TYPE_ID}@${COMPOSITE_NODE_TYPE_VERSION} and ${PARALLEL_NODE_TYPE_ID}@${COMPOSITE_NODE_TYPE_VERSION}`,
    );
  }
  const key = LIST_KEY[kind];
  const { [key]: list, input, ...rest } = request.inputs;
  if (!Array.isArray(list)) return fail(`/inputs/${key} must be an array of steps`);
  if (list.length === 0) return fail(`/inputs/${key} must have at least one step`);
  if (list.length > limits.maxSteps) {
    return fail(`/inputs/${key} has ${list.length} steps; this executor runs at most ${limits.maxSteps}`);
  }
  if (input !== undefined && !isObject(input)) return fail("/inputs/input must be an object");

  const steps: Step[] = [];
  for (const [index, raw] of list.entries()) {
    const parsed = parseStep(raw, `/inputs/${key}/${index}`, limits);
    if (typeof parsed === "string") return fail(parsed);
    steps.push(parsed);
  }

  const limit = limitProblem(kind, steps, request.constraints);
  if (limit !== undefined) return fail(limit);
  return { ok: true, plan: { kind, steps, seed: { ...rest, ...(input ?? {}) } } };
}

/** A step, or the problem with it (a message naming its pointer). */
function parseStep(raw: unknown, at: string, limits: PlanLimits): Step | string {
  if (!isObject(raw)) return `${at} must be an object`;
  const unknown = Object.keys(raw).find((k) => !STEP_KEYS.has(k));
  if (unknown !== undefined) return `${at}/${unknown} is not a step field (node_type, goal, inputs)`;
  const inputs = raw.inputs === undefined ? {} : raw.inputs; // a null is not "no inputs": it is refused
  if (!isObject(inputs)) return `${at}/inputs must be an object`;
  if ((raw.node_type === undefined) === (raw.goal === undefined)) {
    return `${at} must name exactly one of node_type and goal`;
  }
  if (raw.goal !== undefined) {
    if (typeof raw.goal !== "string" || raw.goal.trim() === "")
      return `${at}/goal must be a non-empty string`;
    if (raw.goal.length > limits.maxGoalLength) {
      return `${at}/goal is ${raw.goal.length} characters; at most ${limits.maxGoalLength}`;
    }
    return { goal: raw.goal, inputs };
  }
  const ref = raw.node_type;
  if (!isObject(ref)) return `${at}/node_type must be an object with node_type_id and version`;
  const extra = Object.keys(ref).find((k) => !REF_KEYS.has(k));
  if (extra !== undefined) return `${at}/node_type/${extra} is not allowed (node_type_id, version)`;
  for (const field of REF_KEYS) {
    const value = ref[field];
    if (typeof value !== "string" || value === "")
      return `${at}/node_type/${field} must be a non-empty string`;
  }
  return { node_type: { node_type_id: ref.node_type_id as string, version: ref.version as string }, inputs };
}

/** Which limit of the constraints the plan breaks, if any. */
function limitProblem(
  kind: Plan["kind"],
  steps: readonly Step[],
  constraints: T.ConstraintEnvelope | undefined,
): string | undefined {
  const structural = constraints?.structural;
  const children = structural?.max_children_per_composite;
  if (children !== undefined && steps.length > children) {
    return `${steps.length} steps, but constraints.structural.max_children_per_composite is ${children}`;
  }
  // A pipeline creates one child per round; a parallel creates all of its children in one round.
  const rounds = kind === "pipeline" ? steps.length : 1;
  const maxRounds = structural?.max_decomposition_rounds_per_node;
  if (maxRounds !== undefined && rounds > maxRounds) {
    return `${rounds} decomposition rounds, but constraints.structural.max_decomposition_rounds_per_node is ${maxRounds}`;
  }
  const allowed = constraints?.candidates?.allowed_node_type_ids;
  const denied = new Set(constraints?.candidates?.denied_node_type_ids ?? []);
  for (const [index, step] of steps.entries()) {
    if (!("node_type" in step)) continue; // a goal's candidates are filtered by the Selection service
    const id = step.node_type.node_type_id;
    if (denied.has(id))
      return `step ${index}: node type ${id} is in constraints.candidates.denied_node_type_ids`;
    if (allowed !== undefined && !allowed.includes(id)) {
      return `step ${index}: node type ${id} is not in constraints.candidates.allowed_node_type_ids`;
    }
  }
  return undefined;
}

/** The inputs of a step fed `fed` (the seed, or the previous step's outputs): a shallow merge, the step wins. */
export function stepInputs(fed: JsonObject, step: Step): JsonObject {
  return { ...fed, ...step.inputs };
}
