/**
 * The composite executor's built-in node types: `arp.ref.pipeline` (steps one after another, each
 * fed the previous one's outputs) and `arp.ref.parallel` (branches all at once). A step names a node
 * type, or a goal that the Selection service maps to one; a step may itself be a composite node
 * type, which the coordinator hands to a composite executor in turn (that is how nesting works).
 * The exact input rules are in src/composite/plan.ts and the README.
 */
import type { NodeType } from "@arp/model";

export const PIPELINE_NODE_TYPE_ID = "arp.ref.pipeline";
export const PARALLEL_NODE_TYPE_ID = "arp.ref.parallel";
export const COMPOSITE_NODE_TYPE_VERSION = "1.0.0";

/** Most steps (or branches) one composite node run may have; the executor's default `maxSteps`. */
export const DEFAULT_MAX_STEPS = 64;
/** Longest goal text of one step, in characters; the executor's default `maxGoalLength`. */
export const DEFAULT_MAX_GOAL_LENGTH = 1_000;

const STEP_SCHEMA = {
  description:
    "One unit of work: a node type to run, or a goal that the Selection service maps to a node type. " +
    "`inputs` are merged over what the step is fed (the step's own keys win).",
  type: "object",
  additionalProperties: false,
  oneOf: [{ required: ["node_type"] }, { required: ["goal"] }],
  properties: {
    node_type: {
      description: "The node type (and version) to run; may be a composite node type (nesting).",
      type: "object",
      additionalProperties: false,
      required: ["node_type_id", "version"],
      properties: {
        node_type_id: { type: "string", minLength: 1 },
        version: { type: "string", minLength: 1 },
      },
    },
    goal: {
      description:
        "What the step must achieve, in words; the best candidate of the Selection service runs it.",
      type: "string",
      minLength: 1,
      maxLength: DEFAULT_MAX_GOAL_LENGTH,
    },
    inputs: { description: "The step's own inputs.", type: "object", additionalProperties: true },
  },
} as const;

const SEED_SCHEMA = {
  description:
    "The value the first step (pipeline) or every branch (parallel) is fed. Other top-level keys of the " +
    "inputs are fed too (under `input`, which wins), so a composite nested in a pipeline receives the " +
    "previous step's outputs.",
  type: "object",
  additionalProperties: true,
} as const;

function listSchema(description: string) {
  return {
    description,
    type: "array",
    minItems: 1,
    maxItems: DEFAULT_MAX_STEPS,
    items: { $ref: "#/$defs/step" },
  };
}

export const PIPELINE_NODE_TYPE: NodeType = {
  node_type_id: PIPELINE_NODE_TYPE_ID,
  version: COMPOSITE_NODE_TYPE_VERSION,
  kind: "composite",
  description:
    "Runs steps in order as a pipeline: each step gets the previous step's outputs merged with its own " +
    "inputs; the outputs are the last step's outputs. Fails as soon as a step fails.",
  input_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["steps"],
    additionalProperties: true,
    properties: {
      steps: listSchema("The steps, run one after another."),
      input: SEED_SCHEMA,
    },
    $defs: { step: STEP_SCHEMA },
  },
  output_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    description: "The outputs of the last step.",
    type: "object",
    additionalProperties: true,
  },
};

export const PARALLEL_NODE_TYPE: NodeType = {
  node_type_id: PARALLEL_NODE_TYPE_ID,
  version: COMPOSITE_NODE_TYPE_VERSION,
  kind: "composite",
  description:
    "Runs branches in parallel, all at once, each fed the same input merged with its own inputs; the " +
    "outputs are the branches' outputs in branch order. Fails when any branch fails, once all have ended.",
  input_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["branches"],
    additionalProperties: true,
    properties: {
      branches: listSchema("The branches, all started at once."),
      input: SEED_SCHEMA,
    },
    $defs: { step: STEP_SCHEMA },
  },
  output_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    required: ["results"],
    properties: {
      results: {
        description: "The outputs of each branch, in branch order.",
        type: "array",
        items: { type: "object", additionalProperties: true },
      },
    },
  },
};

export const COMPOSITE_NODE_TYPES: readonly NodeType[] = [PIPELINE_NODE_TYPE, PARALLEL_NODE_TYPE];
