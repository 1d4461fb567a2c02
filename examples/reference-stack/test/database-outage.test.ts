/**
 * The coordinator's database out of reach under load, then back: a TCP proxy between the store and
 * PostgreSQL is stopped (every connection cut mid-use, new ones refused) while 16 pipelines are in
 * flight, and started again on the same port 1.5 s later. (A proxy rather than restarting the
 * server: other test files share that server.) Requests during the outage answer 503
 * `store_unavailable`, retryable, at once; the pool and the listener reconnect; no accepted run is
 * lost (every one succeeds: background work waits the outage out), and no log has a gap or a repeat.
 */
import { RunGatewayClient } from "@arp/client";
import { it } from "vitest";
import { startStack } from "../src/stack.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import { ANY_PORT, QUIET } from "./run-log.js";
import {
  expectAllSucceeded,
  expectUnavailable,
  followThroughOutages,
  startSleepPipelines,
} from "./support/outage.js";
import { describePostgres, dropSchema, freshSchema } from "./support/postgres.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

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
      const runs = await startSleepPipelines(gateway, RUNS, 1_000, signal);
      // Followed through the outage by a client that resumes what breaks and rides out the 503s.
      const followed = followThroughOutages(gatewayUrl, runs, signal);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await proxy.stop();

      await expectUnavailable(stack, runs);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      proxy = await startTcpProxy(pgAt, proxy.port);
      await expectAllSucceeded(gatewayUrl, runs, followed, signal);
    } finally {
      await stack.close();
      await store.close();
      await proxy.stop();
      await dropSchema(url, schema);
    }
  }, 120_000);
});
