/**
 * Two coordinator replicas as processes on one PostgreSQL schema, behind the stack's balancer: one
 * SIGKILLed while runs are in flight, and the whole checker against the pair.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import { runConformance } from "@arp/conformance";
import type * as T from "@arp/model";
import { expect, it } from "vitest";
import { type RunningStack, startStack } from "../src/stack.js";
import { SERVICE_KEYS } from "../src/urls.js";
import { ANY_PORT, logProblems, nodeRunIds, QUIET, readRunLog } from "./run-log.js";
import { stackFixtures } from "./support/conformance.js";
import { startSleepPipelines } from "./support/outage.js";
import { describePostgres, dropSchema, freshSchema, withSchema } from "./support/postgres.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const RUNS = 12;
const SLEEP_MS = 8_000;

/**
 * Two replicas on a fresh schema. `quickFailover`: a dead replica is noticed within some six and a
 * half seconds (a lease of 6 s, beaten every 2 s: a live replica a loaded CI machine holds up for a few
 * seconds is not taken for dead); otherwise the default 10 s lease, for the conformance checks (a
 * replica taken for dead fails its sleeps `replica_lost`, ending runs a check needs).
 */
async function twoReplicas(url: string, schema: string, quickFailover: boolean): Promise<RunningStack> {
  return startStack({
    store: withSchema(url, schema),
    coordinators: 2,
    ...(quickFailover ? { coordinator: { leaseMs: 6_000, sweepIntervalMs: 500 } } : {}),
    ports: ANY_PORT,
    logger: QUIET,
  });
}

describePostgres("two coordinator replicas, one SIGKILLed mid-run", (url) => {
  it("every run still ends, with a complete, gap-free log; the streams resume across replicas", async () => {
    const schema = freshSchema();
    const stack = await twoReplicas(url, schema, true);
    try {
      const gatewayUrl = stack.urls["run-gateway"];
      // Each request for a run's event stream, counted: a second one for a run is the client resuming
      // a stream the kill cut (the gateway relays one upstream stream, through the balancer, per request).
      const streamRequests = new Map<string, number>();
      const gateway = new RunGatewayClient({
        baseUrl: gatewayUrl,
        fetch: (input, init) => {
          const url = new URL(input instanceof Request ? input.url : String(input));
          const runId = /^\/v1\/runs\/([^/]+)\/events$/.exec(url.pathname)?.[1];
          if (runId !== undefined) streamRequests.set(runId, (streamRequests.get(runId) ?? 0) + 1);
          return fetch(input, init);
        },
      });
      const signal = AbortSignal.timeout(60_000);
      const started = await startSleepPipelines(gateway, RUNS, SLEEP_MS, signal);
      // Each run followed through the gateway by the client, which resumes a cut stream.
      const followed = started.map(async (run) => {
        const events: T.RunEvent[] = [];
        for await (const event of gateway.streamRunEvents(run.run_id, { signal, idleTimeoutMs: 30_000 }))
          events.push(event);
        return events;
      });
      // Kill one while the sleeps are going: once half the runs have theirs running.
      const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
      await expect
        .poll(
          async () => {
            const states = await Promise.all(
              started.map((run) =>
                coordinator.getNodeRun(`${run.run_id}.2`, { signal }).then(
                  (n) => n.state,
                  () => "not yet",
                ),
              ),
            );
            return states.filter((s) => s === "running").length >= RUNS / 2;
          },
          { timeout: 20_000, interval: 100 },
        )
        .toBe(true);
      const [victim] = stack.replicas;
      victim!.kill("SIGKILL");
      expect(await victim!.exited).toBeNull();

      const streams = await Promise.all(followed);
      const logs = await Promise.all(started.map((run) => readRunLog(gatewayUrl, run.run_id, signal)));
      /** Node runs failed `replica_lost`, and the replica each error names. */
      const lost: { id: string; replica: unknown }[] = [];
      for (const [i, run] of started.entries()) {
        const log = logs[i]!;
        const state = log.at(-1)?.data?.state as T.RunState;
        expect(["succeeded", "failed"]).toContain(state);
        expect(logProblems(log, run.run_id, state)).toEqual([]);
        // What the client saw, resumed across the kill, is the log itself: every seq once, in order.
        expect(streams[i]).toEqual(log);
        const nodeRuns = await Promise.all(
          nodeRunIds(log).map((id) => coordinator.getNodeRun(id, { signal })),
        );
        expect(nodeRuns.filter((n) => !["succeeded", "failed", "canceled"].includes(n.state))).toEqual([]);
        for (const event of log) {
          const error = event.data?.error as
            | { code?: string; details?: { replica_id?: unknown } }
            | undefined;
          if (error?.code === "replica_lost")
            lost.push({ id: event.node_run_id!, replica: error.details?.replica_id });
        }
        if (state === "succeeded") {
          expect(log.at(-1)?.data?.outputs).toMatchObject({ text: `after ${i}` });
        }
      }
      const ended = logs.map((log) => log.at(-1)?.data?.state);
      const resumed = started.filter((run) => (streamRequests.get(run.run_id) ?? 0) > 1).length;
      console.log(
        `failover: ${RUNS} runs, replica ${victim!.pid} killed mid-sleep: ${ended.filter((s) => s === "succeeded").length} succeeded, ` +
          `${ended.filter((s) => s === "failed").length} failed (${lost.length} steps replica_lost, ${lost.filter(({ id }) => id.endsWith(".2")).length} of them sleeps); ` +
          `${resumed} streams cut and resumed`,
      );
      // Every run was followed, and the kill cut some of the streams (those the victim served): the
      // equality with the log above is then a resume's, not merely an uncut stream's.
      expect(started.every((run) => (streamRequests.get(run.run_id) ?? 0) >= 1)).toBe(true);
      expect(resumed).toBeGreaterThan(0);
      // The victim had sent some of the sleeps: those failed replica_lost (their answer went with it),
      // and so did any other step it was waiting on at the kill (on a loaded machine, an echo of a run
      // that started late or had just passed its sleep). Only atomic steps (the root pipeline is taken
      // over), and all the one replica's: the survivor was not taken for dead.
      expect(lost.some(({ id }) => id.endsWith(".2"))).toBe(true);
      expect(lost.filter(({ id }) => !/\.[123]$/.test(id))).toEqual([]);
      expect(new Set(lost.map(({ replica }) => replica)).size).toBe(1);
      // The survivor serves new runs.
      const after = await gateway.startRun(
        {
          root_node_type_ref: ref("pipeline"),
          input: { input: { text: "x" }, steps: [{ node_type: ref("echo") }] },
        },
        { signal },
      );
      const log = await readRunLog(gatewayUrl, after.run_id, signal);
      expect(logProblems(log, after.run_id, "succeeded")).toEqual([]);
    } finally {
      await stack.close();
      await dropSchema(url, schema);
    }
  }, 90_000);

  it("passes arp-conformance check --tier deep --allow-mutations for all seven services, strict", async () => {
    const schema = freshSchema();
    const stack = await twoReplicas(url, schema, false);
    try {
      const notPassed: string[] = [];
      let checks = 0;
      for (const service of SERVICE_KEYS) {
        const report = await runConformance({
          service,
          url: stack.urls[service],
          tier: "deep",
          allowMutations: true,
          fixtures: stackFixtures(stack.urls["run-coordinator"], service),
          pollIntervalMs: 50,
          strict: true,
        });
        checks += report.results.length;
        notPassed.push(
          ...report.results
            .filter((r) => r.status !== "PASS")
            .map((r) => `${service}/${r.check_id}: ${r.status} ${r.message}`),
        );
      }
      expect(notPassed).toEqual([]);
      expect(checks).toBeGreaterThan(400);
      // Both replicas took part.
      for (const replica of stack.replicas)
        expect(stack.balancer!.stats.replicas[replica.url]!.requests).toBeGreaterThan(0);
    } finally {
      await stack.close();
      await dropSchema(url, schema);
    }
  }, 90_000);
});
