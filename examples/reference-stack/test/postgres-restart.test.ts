/**
 * The coordinator's PostgreSQL server really restarted under load (database-outage.test.ts cuts a
 * TCP proxy instead): `pg_ctl stop` while 16 pipelines are in flight, so the server itself drops
 * every session, mid-transaction, then starts again on the same port. With one in-process
 * coordinator a `fast` stop; with two replica processes an `immediate` one (a crash: recovery on
 * start). Requests while it is down answer 503 `store_unavailable`, retryable, at once; no accepted
 * run is lost (each one succeeds), no log has a gap or a repeat, and the stack takes new runs.
 * A private cluster (support/pg-cluster.ts), not the shared server: other test files run against
 * that one meanwhile, and restarting it would break them.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningStack, startStack } from "../src/stack.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import { ANY_PORT, QUIET } from "./run-log.js";
import {
  expectAllSucceeded,
  expectUnavailable,
  followThroughOutages,
  startSleepPipelines,
} from "./support/outage.js";
import { type Cluster, describeCluster, type StopMode, startCluster } from "./support/pg-cluster.js";
import { freshSchema, sql, withSchema } from "./support/postgres.js";

const RUNS = 16;

/** Whether `schema` is absent from the cluster: the store starts on an empty one. */
async function schemaIsFresh(url: string, schema: string): Promise<boolean> {
  const rows = await sql(url, "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
  return rows.length === 0;
}

/**
 * 16 pipelines (echo, sleep 2 s, echo) through the gateway, followed by a resuming client; the
 * server stopped (`mode`) once some sleeps are running, requests probed while it is down (503 at
 * once), started again 1.5 s later; then every run succeeded with the log a fresh stream reads, and
 * a new run works.
 */
async function restartUnderLoad(cluster: Cluster, stack: RunningStack, mode: StopMode): Promise<void> {
  const gatewayUrl = stack.urls["run-gateway"];
  const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
  const signal = AbortSignal.timeout(90_000);
  const runs = await startSleepPipelines(gateway, RUNS, 2_000, signal);
  const followed = followThroughOutages(gatewayUrl, runs, signal);
  // Under load: the stop lands while sleeps are running (each run's third node run, `.2`).
  const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
  await expect
    .poll(
      async () => {
        const states = await Promise.all(
          runs.map((run) =>
            coordinator.getNodeRun(`${run.run_id}.2`, { signal }).then(
              (n) => n.state,
              () => "not yet",
            ),
          ),
        );
        return states.filter((state) => state === "running").length;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBeGreaterThan(0);

  await cluster.restart({
    mode,
    whileDown: async () => {
      await expectUnavailable(stack, runs);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    },
  });
  await expectAllSucceeded(gatewayUrl, runs, followed, signal);
}

describeCluster("the coordinator's PostgreSQL server restarts under load", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.remove();
  }, 120_000);

  it("a fast restart under one in-process coordinator: 503 meanwhile, no run lost, logs gap-free", async () => {
    const schema = freshSchema();
    expect(await schemaIsFresh(cluster.url, schema)).toBe(true);
    const store = await PostgresStore.open({
      connectionString: cluster.url,
      schema,
      connectTimeoutMs: 1_000,
    });
    const stack = await startStack({ ports: ANY_PORT, logger: QUIET, store });
    try {
      await restartUnderLoad(cluster, stack, "fast");
    } catch (error) {
      console.error(`server log:\n${cluster.log()}`);
      throw error;
    } finally {
      await stack.close();
      await store.close();
    }
  }, 120_000);

  it("an immediate (crash) restart under two coordinator replicas: the same", async () => {
    const schema = freshSchema();
    expect(await schemaIsFresh(cluster.url, schema)).toBe(true);
    const stack = await startStack({
      store: withSchema(cluster.url, schema),
      coordinators: 2,
      ports: ANY_PORT,
      logger: QUIET,
    });
    try {
      await restartUnderLoad(cluster, stack, "immediate");
      // Both replicas served, and still do.
      for (const replica of stack.replicas)
        expect(stack.balancer!.stats.replicas[replica.url]!.requests).toBeGreaterThan(0);
    } catch (error) {
      console.error(`server log:\n${cluster.log()}`);
      throw error;
    } finally {
      await stack.close();
    }
  }, 120_000);
});
