/**
 * The workflows the viewer offers to start: the stack's demo pipeline (`npm start` runs the same
 * one), a parallel one with a nested pipeline, one that fails on purpose (a closed-input node such
 * as `arp.ref.fail` gets no seed text, or it would fail with `invalid_inputs` instead), and a slow
 * one to cancel.
 * Each fills the request box, where it can be edited before it is sent.
 */
import type { RunStartRequest } from "@arp/client";
import { DEMO_RUN } from "../../demo.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

export interface Workflow {
  id: string;
  label: string;
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
