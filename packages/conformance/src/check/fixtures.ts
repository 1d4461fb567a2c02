/**
 * Fixtures: the request bodies the core and deep tiers send to create things. Each key names the
 * request schema its value must validate against; a fixtures file (`--fixtures FILE`, JSON or
 * YAML) replaces the defaults key by key. Ids the checker must own are made unique per run
 * (`run_id`, `node_run_id`, `subtask_id`, a published `node_type_id`), so fixtures hold templates.
 */
import { readFileSync } from "node:fs";
import type * as T from "@arp/model";
import { formatIssues, SCHEMAS, type SchemaName, toIssues } from "@arp/model";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../errors.js";

export interface Fixtures {
  /** Gateway and coordinator `POST /v1/runs`: the run whose end the checker waits for. */
  run: T.RunStartRequest;
  /** Registry `POST /v1/node-types`: its `node_type_id` gets a unique suffix, versions are the checker's. */
  node_type: T.NodeTypePublishRequest;
  /** Coordinator `POST /v1/node-runs`: each child created under a run's root node run. */
  node_run: T.NodeRunCreateSpec;
  /** Atomic executor `POST /v1/atomic-node-runs:execute` (`node_run_id`, `run_id` are replaced). */
  atomic_execute: T.AtomicExecuteRequest;
  /** Composite executor `POST /v1/composite-node-runs:begin` (`node_run_id`, `run_id` are replaced). */
  composite_begin: T.CompositeBeginRequest;
  /** Selection `POST /v1/candidate-sets` (`subtask_id` is replaced). */
  candidate_set: T.CandidateSetRequest;
  /** PDP `POST /v1/policy:decide`. */
  policy_decision: T.PolicyDecisionRequest;
}

/** The schema each fixture must validate against. */
export const FIXTURE_SCHEMAS: Readonly<Record<keyof Fixtures, SchemaName>> = {
  run: "RunStartRequest",
  node_type: "NodeTypePublishRequest",
  node_run: "NodeRunCreateSpec",
  atomic_execute: "AtomicExecuteRequest",
  composite_begin: "CompositeBeginRequest",
  candidate_set: "CandidateSetRequest",
  policy_decision: "PolicyDecisionRequest",
};

const ECHO = { node_type_id: "arp-conformance.echo", version: "1.0.0" };
const INPUT = { text: "arp-conformance" };

/** Minimal, valid bodies; a real stack usually needs `run` (a root node type it knows) from a file. */
export const DEFAULT_FIXTURES: Readonly<Fixtures> = {
  run: { root_node_type_ref: ECHO, input: INPUT },
  node_type: {
    node_type: {
      node_type_id: "arp-conformance.echo",
      version: "1.0.0",
      kind: "atomic",
      description: "Published by arp-conformance; safe to delete.",
    },
  },
  node_run: { node_type_ref: ECHO, inputs: INPUT },
  atomic_execute: {
    node_run_id: "set-by-checker",
    run_id: "set-by-checker",
    node_type_ref: ECHO,
    inputs: INPUT,
  },
  composite_begin: {
    node_run_id: "set-by-checker",
    run_id: "set-by-checker",
    node_type_ref: ECHO,
    inputs: INPUT,
    coordinator_endpoint: "http://127.0.0.1:1",
  },
  candidate_set: {
    subtask_spec: { subtask_id: "set-by-checker", goal: "Echo a short text" },
    constraints: { candidates: { max_candidates_per_subtask: 2 } },
  },
  policy_decision: { action: "node_run.start" },
};

/** Checks a parsed fixtures document and merges it over the defaults; throws {@link UsageError}. */
export function parseFixtures(value: unknown, where: string): Fixtures {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `${where}: expected an object whose keys are ${Object.keys(FIXTURE_SCHEMAS).join(", ")}`,
      {
        path: where,
      },
    );
  }
  const problems: UsageError[] = [];
  const fixtures: Record<string, unknown> = { ...DEFAULT_FIXTURES };
  for (const [key, fixture] of Object.entries(value)) {
    const schema = FIXTURE_SCHEMAS[key as keyof Fixtures];
    if (schema === undefined) {
      problems.push(
        new UsageError(
          `${where}: unknown fixture ${JSON.stringify(key)} (known: ${Object.keys(FIXTURE_SCHEMAS).join(", ")})`,
          {
            path: where,
          },
        ),
      );
      continue;
    }
    const validate = SCHEMAS[schema].validate;
    if (!validate(fixture)) {
      problems.push(
        new UsageError(
          `${where}: fixture ${key} is not a valid ${schema}: ${formatIssues(toIssues(validate.errors))}`,
          {
            path: where,
          },
        ),
      );
      continue;
    }
    fixtures[key] = fixture;
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new UsageError(
      `${where}: ${problems.length} problems: ${problems.map((p) => p.message).join("; ")}`,
      {
        path: where,
        problems,
      },
    );
  }
  return fixtures as unknown as Fixtures;
}

/** Reads `--fixtures FILE`: JSON, or YAML when the name ends in `.yaml`/`.yml`. */
export function readFixtures(file: string): Fixtures {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --fixtures ${file}: ${(err as Error).message}`, { path: file });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--fixtures ${file} does not parse: ${(err as Error).message}`, { path: file });
  }
  return parseFixtures(value, file);
}
