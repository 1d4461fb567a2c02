/**
 * The stack under load: 200 pipeline runs of five atomic steps each, all started at once through the
 * gateway, every one followed on its own event stream (through the gateway too). Every run must
 * succeed with the output computed here independently, every node run must have succeeded, and every
 * stream must be the run's whole log (see logProblems). The wall time and the throughput are printed,
 * never asserted: a 2-core machine running other tests at the same time is no benchmark.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../src/stack.js";
import { ANY_PORT, logProblems, nodeRunIds, QUIET, readRunLog } from "./run-log.js";
import { expectedOf, pipelineOf, STEPS } from "./support/load.js";

const RUNS = 200;
/** The reads after the runs (1 200 node runs, 200 runs) go at most this many at a time. */
const READ_CONCURRENCY = 16;

/** `f` over `items`, at most `limit` at a time; the results in order. */
async function pooled<I, O>(items: readonly I[], limit: number, f: (item: I) => Promise<O>): Promise<O[]> {
  const results: O[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

describe("the stack under load", () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack({ ports: ANY_PORT, logger: QUIET });
  });
  afterAll(() => stack.close());

  it(`${RUNS} concurrent pipeline runs of ${STEPS} steps: all succeed, every stream gap-free from seq 0`, async () => {
    const gatewayUrl = stack.urls["run-gateway"];
    const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
    const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
    // The deadline of a stuck test (the test's is 120 s), not a speed check: the runs take about 20 s
    // on the 2-core machine, 45 s with both cores busy elsewhere, and once took over 55 s with more.
    const signal = AbortSignal.timeout(115_000);

    // All at once, on purpose: 200 starts, then 200 streams, each read to its end. Nothing else is
    // in flight from here meanwhile (the reads below come after).
    const began = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: RUNS }, async (_, i) => {
        const run = await gateway.startRun(pipelineOf(i), { signal });
        return { i, run, events: await readRunLog(gatewayUrl, run.run_id, signal) };
      }),
    );
    const wallMs = performance.now() - began;

    expect(outcomes.flatMap(({ run, events }) => logProblems(events, run.run_id, "succeeded"))).toEqual([]);
    for (const { i, run, events } of outcomes) {
      expect(events.at(-1)?.data?.outputs, `run ${i}`).toEqual(expectedOf(i).at(-1));
      expect(events[0]?.data?.root_node_run_id, `run ${i}`).toBe(run.root_node_run_id);
      const atomic = events.filter((e) => e.type === "atomic_executed");
      expect(atomic.map((e) => e.data?.state)).toEqual(Array(STEPS).fill("succeeded"));
    }

    // Read back: every run succeeded (through the gateway), every node run too (through the
    // coordinator: the ids are the events'), each step with its outputs, the root with the last's.
    const runs = await pooled(outcomes, READ_CONCURRENCY, ({ run }) =>
      gateway.getRun(run.run_id, { signal }),
    );
    expect(runs.filter((r) => r.state !== "succeeded").map((r) => `${r.run_id} ${r.state}`)).toEqual([]);
    const ids = outcomes.flatMap(({ events }) => nodeRunIds(events));
    expect(ids).toHaveLength(RUNS * (STEPS + 1));
    const nodeRuns = await pooled(ids, READ_CONCURRENCY, (id) => coordinator.getNodeRun(id, { signal }));
    const unsucceeded = nodeRuns.filter((n) => n.state !== "succeeded");
    expect(unsucceeded.map((n) => `${n.node_run_id} ${n.state}`)).toEqual([]);
    const byId = new Map(nodeRuns.map((n) => [n.node_run_id, n]));
    for (const { i, run, events } of outcomes) {
      // The root first, then the steps in the order they were created (one after another).
      const [root, ...steps] = nodeRunIds(events).map((id) => byId.get(id)!);
      expect(root?.node_run_id).toBe(run.root_node_run_id);
      expect(root?.outputs, `run ${i}`).toEqual(expectedOf(i).at(-1));
      expect(steps.map((n) => n.parent_node_run_id)).toEqual(Array(STEPS).fill(run.root_node_run_id));
      const types = pipelineOf(i).input.steps as { node_type: T.NodeTypeRef }[];
      expect(steps.map((n) => n.node_type_ref)).toEqual(types.map((step) => step.node_type));
      const outputs = steps.map((n) => n.outputs);
      expect(outputs, `run ${i}`).toEqual(expectedOf(i));
    }

    const events = outcomes.reduce((sum, o) => sum + o.events.length, 0);
    const seconds = wallMs / 1000;
    console.log(
      `load: ${RUNS} concurrent runs, ${ids.length} node runs, ${events} events in ${seconds.toFixed(1)} s ` +
        `(start to the last run_completed): ${(RUNS / seconds).toFixed(1)} runs/s, ` +
        `${(ids.length / seconds).toFixed(0)} node runs/s`,
    );
  }, 120_000);
});
