/**
 * What the fault tests share (a database cut off, restarted, a replica killed): runs long enough for
 * a fault to land mid-run, followed by a client that rides the fault out, and the checks afterwards:
 * requests during an outage answer 503 `store_unavailable` (retryable) at once; every run then
 * succeeded with a gap-free log equal to what its follower saw; the stack serves new runs.
 */
import { ArpApiError, RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { expect } from "vitest";
import type { RunningStack } from "../../src/stack.js";
import { logProblems, readRunLog } from "../run-log.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

/**
 * The fault tests' runs: `count` pipelines (echo, sleep `sleepMs`, echo `after i`: run i's output),
 * started at once through the gateway, each long enough for a fault to land mid-run.
 */
export function startSleepPipelines(
  gateway: RunGatewayClient,
  count: number,
  sleepMs: number,
  signal: AbortSignal,
): Promise<T.Run[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      gateway.startRun(
        {
          root_node_type_ref: ref("pipeline"),
          input: {
            // echo (its outputs are its inputs, here none: nothing for the sleep to refuse), sleep, echo.
            steps: [
              { node_type: ref("echo") },
              { node_type: ref("sleep"), inputs: { ms: sleepMs } },
              { node_type: ref("echo"), inputs: { text: `after ${i}` } },
            ],
          },
        },
        { signal },
      ),
    ),
  );
}

/**
 * Each run's events, followed through the gateway by a client that resumes a cut stream and retries
 * long enough (60 attempts, at most 500 ms apart) to ride out seconds of 503s; the default (3
 * attempts) gives up within a second.
 */
export function followThroughOutages(gatewayUrl: string, runs: readonly T.Run[], signal: AbortSignal) {
  const follower = new RunGatewayClient({ baseUrl: gatewayUrl, retry: { maxAttempts: 60, maxDelayMs: 500 } });
  return runs.map(async (run) => {
    const events: T.RunEvent[] = [];
    for await (const event of follower.streamRunEvents(run.run_id, { signal, idleTimeoutMs: 60_000 }))
      events.push(event);
    return events;
  });
}

/** During an outage: 503, retryable, at once (never a hang, never a 500), at the coordinator and the gateway. */
export async function expectUnavailable(stack: RunningStack, runs: readonly T.Run[]): Promise<void> {
  const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"], retry: false });
  const gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"], retry: false });
  for (const call of [
    () => coordinator.getRun(runs[0]!.run_id),
    () => gateway.getRun(runs[1]!.run_id),
    () => gateway.startRun({ root_node_type_ref: ref("echo"), input: { text: "during" } }),
  ]) {
    const started = performance.now();
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpApiError);
    expect(error).toMatchObject({ status: 503, code: "store_unavailable", retryable: true });
    expect(performance.now() - started).toBeLessThan(5_000);
  }
}

/**
 * Afterwards: every run of {@link startSleepPipelines} succeeded with its output and a gap-free log,
 * which is what its follower saw; and a new run succeeds. Answers the followers' logs.
 */
export async function expectAllSucceeded(
  gatewayUrl: string,
  runs: readonly T.Run[],
  followed: readonly Promise<T.RunEvent[]>[],
  signal: AbortSignal,
): Promise<T.RunEvent[][]> {
  const streams = await Promise.all(followed);
  for (const [i, run] of runs.entries()) {
    const log = await readRunLog(gatewayUrl, run.run_id, signal);
    expect(logProblems(log, run.run_id, "succeeded")).toEqual([]);
    expect(log.at(-1)?.data?.outputs).toMatchObject({ text: `after ${i}` });
    expect(streams[i]).toEqual(log);
  }
  const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
  const after = await gateway.startRun(
    {
      root_node_type_ref: ref("pipeline"),
      input: { input: { text: "x" }, steps: [{ node_type: ref("echo") }] },
    },
    { signal },
  );
  expect(logProblems(await readRunLog(gatewayUrl, after.run_id, signal), after.run_id, "succeeded")).toEqual(
    [],
  );
  return streams;
}
