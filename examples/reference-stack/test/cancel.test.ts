/**
 * Runs canceled mid-flight, through the gateway: a pipeline while its second step (`arp.ref.sleep`)
 * sleeps, and a parallel while its three branches sleep. The run must end `canceled` with every node
 * run that had not ended canceled, its stream must end with `run_completed` (canceled), and both
 * executors must have been told and have stopped: the sleeps end early (measured by the atomic
 * executor's own `started_at` / `ended_at`), the composite executor drops the node run and creates
 * nothing more.
 *
 * The two executors are the stack's own classes with their defaults, started here and given to
 * `startStack` as `external`, so that the test can see what they were asked and what they answered.
 */
import { setTimeout as delay } from "node:timers/promises";
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import type { AtomicExecutorRequests, CompositeExecutorRequests, Logger, RunningServer } from "@arp/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Peers } from "../src/peers.js";
import { ReferenceAtomicExecutor } from "../src/services/atomic-executor.js";
import { ReferenceCompositeExecutor } from "../src/services/composite-executor.js";
import { type RunningStack, startStack } from "../src/stack.js";
import type { StackUrls } from "../src/urls.js";
import { ANY_PORT, logProblems, nodeRunIds, QUIET, readRunLog } from "./run-log.js";

/** How long each sleep would take: the test must end long before, canceled. */
const SLEEP_MS = 30_000; // a cancel must end them long before: within half of it, on a loaded machine too
/** How long the sleeps have been going when the run is canceled. */
const MID_FLIGHT_MS = 300;
/** How long the executors' side may take to show (a busy machine); far less than a sleep. */
const WAIT = { timeout: 5_000, interval: 20 };

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const sleep = (ms: number) => ({ node_type: ref("sleep"), inputs: { ms } });

/** Collects what a service logs, so that nothing is printed and errors can be asserted away. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, warn: () => undefined, error: (m, d) => errors.push(`${m} ${JSON.stringify(d)}`) };
}

/** The stack's atomic executor, recording the node runs it was given, its answers, and the cancels. */
class RecordingAtomicExecutor extends ReferenceAtomicExecutor {
  readonly received: T.AtomicExecuteRequest[] = [];
  readonly answers = new Map<string, T.AtomicExecuteResult>();
  readonly cancels: string[] = [];

  override async executeAtomicNodeRun(
    req: AtomicExecutorRequests["executeAtomicNodeRun"],
  ): Promise<T.AtomicExecuteResult> {
    this.received.push(req.body);
    const result = await super.executeAtomicNodeRun(req);
    this.answers.set(req.body.node_run_id, result);
    return result;
  }

  override cancelAtomicNodeRun(req: AtomicExecutorRequests["cancelAtomicNodeRun"]): void {
    this.cancels.push(req.params.node_run_id);
    super.cancelAtomicNodeRun(req);
  }
}

/** The stack's composite executor, recording the cancels. */
class RecordingCompositeExecutor extends ReferenceCompositeExecutor {
  readonly cancels: string[] = [];

  override cancelCompositeNodeRun(req: CompositeExecutorRequests["cancelCompositeNodeRun"]): void {
    this.cancels.push(req.params.node_run_id);
    super.cancelCompositeNodeRun(req);
  }
}

/** The calls this process makes that create or complete node runs (only the composite executor does). */
interface Call {
  at: number;
  what: string;
}

describe("runs canceled mid-flight", () => {
  let stack: RunningStack;
  let atomic: RecordingAtomicExecutor;
  let composite: RecordingCompositeExecutor;
  const logs = { atomic: recordingLogger(), composite: recordingLogger() };
  const running: RunningServer[] = [];
  const calls: Call[] = [];
  const realFetch = globalThis.fetch;
  let gateway: RunGatewayClient;
  let coordinator: RunCoordinatorClient;

  beforeAll(async () => {
    const urls: Partial<StackUrls> = {};
    atomic = new RecordingAtomicExecutor({ server: { auth: { mode: "disabled" }, logger: logs.atomic } });
    composite = new RecordingCompositeExecutor({
      peers: new Peers({ urls }),
      server: { auth: { mode: "disabled" }, logger: logs.composite },
    });
    const a = await atomic.listen({ port: 0 });
    const c = await composite.listen({ port: 0 });
    running.push(a, c);
    stack = await startStack({
      ports: ANY_PORT,
      logger: QUIET,
      external: { "atomic-executor": a.url, "composite-executor": c.url },
    });
    Object.assign(urls, stack.urls);
    gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
    coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
    // Every createNodeRuns and completeNodeRun of this process, with its time: the composite
    // executor's clients look globalThis.fetch up at each request.
    const nodeRuns = `${stack.urls["run-coordinator"]}/v1/node-runs`;
    globalThis.fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === "POST" && (url === nodeRuns || url.endsWith(":complete"))) {
        calls.push({ at: performance.now(), what: `POST ${url}` });
      }
      return realFetch(input, init);
    };
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    await stack?.close();
    await composite?.stop();
    for (const server of running) await server.close();
  });

  /** The sleeps of run `runId` that the atomic executor has received. */
  const sleepsOf = (runId: string) =>
    atomic.received.filter((r) => r.run_id === runId && r.node_type_ref.node_type_id === "arp.ref.sleep");

  /**
   * Starts `request` through the gateway and follows its stream; once `sleeps` of its sleeps are
   * going at the atomic executor (and MID_FLIGHT_MS more), cancels it through the gateway. Checks
   * the run, its log, the executors' side, and answers the node runs (read through the coordinator).
   */
  async function cancelMidFlight(request: T.RunStartRequest, sleeps: number) {
    const signal = AbortSignal.timeout(25_000);
    const run = await gateway.startRun(request, { signal });
    const log = readRunLog(stack.urls["run-gateway"], run.run_id, signal);
    await vi.waitFor(() => expect(sleepsOf(run.run_id)).toHaveLength(sleeps), { timeout: 10_000 });
    await delay(MID_FLIGHT_MS);

    const canceledAt = performance.now();
    const canceledAtWall = Date.now();
    const canceled = await gateway.cancelRun(run.run_id, { signal });
    expect(canceled.state).toBe("canceled");
    const events = await log;
    const streamEndedMs = performance.now() - canceledAt;
    expect(logProblems(events, run.run_id, "canceled")).toEqual([]);
    expect((await gateway.getRun(run.run_id, { signal })).state).toBe("canceled");

    const nodeRuns = await Promise.all(
      nodeRunIds(events).map((id) => coordinator.getNodeRun(id, { signal })),
    );
    // What ended before the cancel ended on its own; everything else was canceled.
    for (const n of nodeRuns) {
      if (n.state !== "canceled") {
        expect(n.state, n.node_run_id).toBe("succeeded");
        expect(Date.parse(n.ended_at!), n.node_run_id).toBeLessThanOrEqual(canceledAtWall);
      }
    }

    // The atomic executor was told, and each sleep ended early: canceled, without outputs.
    const sleepIds = sleepsOf(run.run_id).map((r) => r.node_run_id);
    await vi.waitFor(() => {
      for (const id of sleepIds) expect(atomic.answers.get(id)?.state, id).toBe("canceled");
    }, WAIT);
    const slept = sleepIds.map((id) => {
      const answer = atomic.answers.get(id)!;
      expect(answer.outputs).toBeUndefined();
      return Date.parse(answer.ended_at!) - Date.parse(answer.started_at!);
    });
    for (const ms of slept) expect(ms).toBeLessThan(SLEEP_MS / 2);
    await vi.waitFor(() => expect(atomic.cancels).toEqual(expect.arrayContaining(sleepIds)), WAIT);

    // The composite executor was told and stopped: the node run is no longer in progress there, and
    // it neither created nor completed anything after the cancel.
    await vi.waitFor(() => expect(composite.cancels).toContain(run.root_node_run_id), WAIT);
    await vi.waitFor(() => expect(composite.active).toBe(0), WAIT);
    expect(calls.filter((c) => c.at >= canceledAt).map((c) => c.what)).toEqual([]);
    expect([...logs.atomic.errors, ...logs.composite.errors]).toEqual([]);

    const sleptText = slept.map((ms) => `${ms} ms`).join(", ");
    console.log(
      `cancel: ${sleepIds.length} sleep(s) of ${SLEEP_MS} ms canceled after ${sleptText}; ` +
        `the stream ended ${streamEndedMs.toFixed(0)} ms after the cancel`,
    );
    return { run, events, nodeRuns, sleepIds };
  }

  it("a pipeline canceled while its second step sleeps: canceled, the sleep stopped, no later step", async () => {
    const { nodeRuns, sleepIds } = await cancelMidFlight(
      {
        root_node_type_ref: ref("pipeline"),
        // No `input`: the echo's outputs are {}, so the sleep gets exactly { ms }.
        input: { steps: [{ node_type: ref("echo") }, sleep(SLEEP_MS), { node_type: ref("echo") }] },
      },
      1,
    );
    expect(nodeRuns.map((n) => [n.node_type_ref.node_type_id, n.state])).toEqual([
      ["arp.ref.pipeline", "canceled"],
      ["arp.ref.echo", "succeeded"], // step 0, done before the cancel
      ["arp.ref.sleep", "canceled"], // step 1; step 2 was never created
    ]);
    expect(sleepIds).toEqual([nodeRuns[2]!.node_run_id]);
  });

  it("a parallel canceled while its three branches sleep: every node run canceled, every sleep stopped", async () => {
    const { nodeRuns, events } = await cancelMidFlight(
      {
        root_node_type_ref: ref("parallel"),
        input: { branches: [sleep(SLEEP_MS), sleep(SLEEP_MS), sleep(SLEEP_MS)] },
      },
      3,
    );
    expect(nodeRuns.map((n) => [n.node_type_ref.node_type_id, n.state])).toEqual([
      ["arp.ref.parallel", "canceled"],
      ["arp.ref.sleep", "canceled"],
      ["arp.ref.sleep", "canceled"],
      ["arp.ref.sleep", "canceled"],
    ]);
    // Each branch's end is in the log, as canceled, before run_completed.
    const ends = events.filter((e) => e.type === "atomic_executed").map((e) => e.data?.state);
    expect(ends).toEqual(["canceled", "canceled", "canceled"]);
  });
});
