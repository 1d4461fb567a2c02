/**
 * The coordinator's database out of reach under load, then back: a TCP proxy between the store and
 * PostgreSQL is stopped (every connection cut mid-use, new ones refused) while 16 pipelines are in
 * flight, and started again on the same port 1.5 s later. (A proxy rather than restarting the
 * server: other test files share that server.) Requests during the outage answer 503
 * `store_unavailable`, retryable, at once; the pool and the listener reconnect; no accepted run is
 * lost (every one succeeds: background work waits the outage out), and no log has a gap or a repeat.
 */
import { ArpApiError, RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { expect, it } from "vitest";
import { startStack } from "../src/stack.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import { ANY_PORT, logProblems, QUIET, readRunLog } from "./run-log.js";
import { describePostgres, dropSchema, freshSchema } from "./support/postgres.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const RUNS = 16;

describePostgres("the coordinator's database goes away under load, and comes back", (url) => {
  it("answers 503 meanwhile, loses no run, and every log stays gap-free", async () => {
    const target = new URL(url);
    const pgAt = { host: target.hostname, port: Number(target.port) };
    let proxy = await startTcpProxy(pgAt);
    const via = new URL(url);
    via.port = String(proxy.port);
    const schema = freshSchema();
    const store = await PostgresStore.open({
      connectionString: via.toString(),
      schema,
      connectTimeoutMs: 1_000,
    });
    const stack = await startStack({ ports: ANY_PORT, logger: QUIET, store });
    try {
      const gatewayUrl = stack.urls["run-gateway"];
      const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
      const signal = AbortSignal.timeout(90_000);
      const runs = await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          gateway.startRun(
            {
              root_node_type_ref: ref("pipeline"),
              input: {
                // echo (its outputs are its inputs, here none: nothing for the sleep to refuse), sleep, echo.
                steps: [
                  { node_type: ref("echo") },
                  { node_type: ref("sleep"), inputs: { ms: 1_000 } },
                  { node_type: ref("echo"), inputs: { text: `after ${i}` } },
                ],
              },
            },
            { signal },
          ),
        ),
      );
      // Followed through the outage by a client that resumes what breaks, and retries for long enough
      // to ride out 1.5 s of 503s (the default, 3 attempts, gives up within a second).
      const follower = new RunGatewayClient({
        baseUrl: gatewayUrl,
        retry: { maxAttempts: 30, maxDelayMs: 500 },
      });
      const followed = runs.map(async (run) => {
        const events: T.RunEvent[] = [];
        for await (const event of follower.streamRunEvents(run.run_id, { signal, idleTimeoutMs: 60_000 }))
          events.push(event);
        return events;
      });
      await new Promise((resolve) => setTimeout(resolve, 700));
      await proxy.stop();

      // Meanwhile: 503, retryable, at once (never a hang, never a 500), at the coordinator and the gateway.
      const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"], retry: false });
      const gatewayOnce = new RunGatewayClient({ baseUrl: gatewayUrl, retry: false });
      for (const call of [
        () => coordinator.getRun(runs[0]!.run_id),
        () => gatewayOnce.getRun(runs[1]!.run_id),
        () => gatewayOnce.startRun({ root_node_type_ref: ref("echo"), input: { text: "during" } }),
      ]) {
        const started = performance.now();
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArpApiError);
        expect(error).toMatchObject({ status: 503, code: "store_unavailable", retryable: true });
        expect(performance.now() - started).toBeLessThan(5_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      proxy = await startTcpProxy(pgAt, proxy.port);

      const streams = await Promise.all(followed);
      for (const [i, run] of runs.entries()) {
        const log = await readRunLog(gatewayUrl, run.run_id, signal);
        expect(logProblems(log, run.run_id, "succeeded")).toEqual([]);
        expect(log.at(-1)?.data?.outputs).toMatchObject({ text: `after ${i}` });
        expect(streams[i]).toEqual(log);
      }
      const after = await gateway.startRun(
        {
          root_node_type_ref: ref("pipeline"),
          input: { input: { text: "x" }, steps: [{ node_type: ref("echo") }] },
        },
        { signal },
      );
      expect(
        logProblems(await readRunLog(gatewayUrl, after.run_id, signal), after.run_id, "succeeded"),
      ).toEqual([]);
    } finally {
      await stack.close();
      await store.close();
      await proxy.stop();
      await dropSchema(url, schema);
    }
  }, 120_000);
});
