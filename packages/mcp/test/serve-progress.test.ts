/** Progress notifications from a run's events: what they say, how often, and what they remember. */
import type { RunEvent } from "@arp/model";
import { expect, it } from "vitest";
import { MAX_NAMED_NODE_RUNS, ProgressReporter } from "../src/serve/progress.js";

const TIME = "2026-12-01T00:00:00Z";
const mapped = (seq: number, nodeRunId: string): RunEvent => ({
  run_id: "r",
  seq,
  type: "subtask_mapped",
  time: TIME,
  node_run_id: nodeRunId,
  data: { node_type_ref: { node_type_id: `t.${nodeRunId}`, version: "1" } },
});
const executed = (seq: number, nodeRunId: string): RunEvent => ({
  run_id: "r",
  seq,
  type: "atomic_executed",
  time: TIME,
  node_run_id: nodeRunId,
  data: { state: "succeeded" },
});

it("names the node types of at most MAX_NAMED_NODE_RUNS node runs; past them, the node run", async () => {
  const sent: [number, string][] = [];
  const reporter = new ProgressReporter(
    async (progress, message) => void sent.push([progress, message]),
    "r",
    0,
  );
  let seq = 0;
  for (let i = 0; i < MAX_NAMED_NODE_RUNS + 5; i++) await reporter.event(mapped(seq++, `n${i}`), false);
  await reporter.event(executed(seq++, "n0"), false);
  await reporter.event(executed(seq++, `n${MAX_NAMED_NODE_RUNS + 1}`), true);
  expect(sent.at(-2)).toEqual([MAX_NAMED_NODE_RUNS + 6, "atomic_executed t.n0 succeeded"]);
  expect(sent.at(-1)).toEqual([
    MAX_NAMED_NODE_RUNS + 7,
    `atomic_executed n${MAX_NAMED_NODE_RUNS + 1} succeeded`,
  ]);
});

it("waits for a send, but never past the signal: then it rejects with the signal's reason", async () => {
  let sends = 0;
  const reporter = new ProgressReporter(
    () => {
      sends += 1;
      return new Promise<void>(() => undefined); // a client that reads nothing
    },
    "r",
    0,
  );
  const controller = new AbortController();
  const reason = new Error("deadline");
  setTimeout(() => controller.abort(reason), 50);
  await expect(reporter.event(executed(0, "n0"), false, controller.signal)).rejects.toBe(reason);
  // Once aborted, no further send is waited for.
  await expect(reporter.event(executed(1, "n0"), true, controller.signal)).rejects.toBe(reason);
  expect(sends).toBe(2);
});
