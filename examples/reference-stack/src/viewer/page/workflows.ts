/**
 * The workflows the viewer offers to start: the stack's demo pipeline (`npm start` runs the same
 * one), a parallel one with a nested pipeline, one that fails on purpose (a closed-input node such
 * as `arp.ref.fail` gets no seed text, or it would fail with `invalid_inputs` instead), and a slow
 * one to cancel.
 * Each fills the request box, where it can be edited before it is sent. More can come from the
 * viewer's server in `config.json` (`workflows`: a stack's MCP tools, see `../mcp.ts`), listed after
 * these under their `group`.
 */
import type { RunStartRequest } from "@arp/client";
import { DEMO_RUN } from "../../demo.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

export interface Workflow {
  /** The picker option's value: unique in the picker. */
  id: string;
  /** What the picker shows (as text, never HTML). */
  label: string;
  /** The picker's group (`<optgroup>`) for it; built-in workflows have none. */
  group?: string;
  request: RunStartRequest;
}

export const WORKFLOWS: readonly Workflow[] = [
  { id: "pipeline", label: "Demo pipeline (upper, reverse, word count, SHA-256)", request: DEMO_RUN },
  {
    id: "parallel",
    label: "Parallel branches, one of them a nested pipeline",
    request: {
      root_node_type_ref: ref("parallel"),
      input: {
        input: { text: "Runs are trees of node runs" },
        branches: [
          { node_type: ref("text.upper") },
          { node_type: ref("text.word_count") },
          {
            node_type: ref("pipeline"),
            inputs: { steps: [{ node_type: ref("text.lower") }, { node_type: ref("sha256") }] },
          },
        ],
      },
    },
  },
  {
    id: "failing",
    label: "Fails on purpose: a parallel step with an arp.ref.fail branch",
    request: {
      root_node_type_ref: ref("pipeline"),
      input: {
        steps: [
          {
            node_type: ref("parallel"),
            inputs: {
              branches: [
                { node_type: ref("arith"), inputs: { op: "add", a: 2, b: 3 } },
                {
                  node_type: ref("fail"),
                  inputs: { code: "deliberate_failure", message: "failed on purpose" },
                },
              ],
            },
          },
          { node_type: ref("sha256") },
        ],
      },
    },
  },
  {
    id: "slow",
    label: "A slow pipeline (arp.ref.sleep 20 s): try Cancel",
    request: {
      root_node_type_ref: ref("pipeline"),
      input: {
        steps: [{ node_type: ref("sleep"), inputs: { ms: 20_000 } }, { node_type: ref("echo") }],
      },
    },
  },
];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The workflows of `config.json` that have the shape of one (a string id and label, an object
 * request, a string group or none) and an id the picker does not have yet; the others are left out.
 * The request is checked like a pasted one, when it is started.
 */
export function extraWorkflows(value: unknown, taken: ReadonlySet<string>): Workflow[] {
  if (!Array.isArray(value)) return [];
  const ids = new Set(taken);
  const out: Workflow[] = [];
  for (const w of value) {
    if (!isObject(w) || typeof w.id !== "string" || typeof w.label !== "string" || !isObject(w.request))
      continue;
    if ((w.group !== undefined && typeof w.group !== "string") || ids.has(w.id)) continue;
    ids.add(w.id);
    out.push({
      id: w.id,
      label: w.label,
      ...(typeof w.group === "string" ? { group: w.group } : {}),
      request: w.request as unknown as Workflow["request"],
    });
  }
  return out;
}
