/**
 * The whole stack stopped and started again on the same PostgreSQL schema: the runs, node runs and
 * event streams of before read back intact through the new stack, and it takes new runs.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { expect, it } from "vitest";
import { startStack } from "../src/stack.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import { ANY_PORT, logProblems, nodeRunIds, QUIET, readRunLog } from "./run-log.js";
import { describePostgres, dropSchema, freshSchema } from "./support/postgres.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const pipeline = (text: string): T.RunStartRequest => ({
  root_node_type_ref: ref("pipeline"),
  input: { input: { text }, steps: [{ node_type: ref("text.upper") }, { node_type: ref("text.reverse") }] },
});

interface Seen {
  run: T.Run;
  events: T.RunEvent[];
  nodeRuns: T.NodeRun[];
}

async function read(urls: { gateway: string; coordinator: string }, runId: string): Promise<Seen> {
  const signal = AbortSignal.timeout(30_000);
  const gateway = new RunGatewayClient({ baseUrl: urls.gateway });
  const coordinator = new RunCoordinatorClient({ baseUrl: urls.coordinator });
  const events = await readRunLog(urls.gateway, runId, signal);
  return {
    run: await gateway.getRun(runId, { signal }),
    events,
    nodeRuns: await Promise.all(nodeRunIds(events).map((id) => coordinator.getNodeRun(id, { signal }))),
  };
}

describePostgres("the stack restarted on PostgreSQL", (url) => {
  it("reads back every earlier run, node run and event stream intact, and takes new runs", async () => {
    const schema = freshSchema();
    const open = () => PostgresStore.open({ connectionString: url, schema, maxConnections: 5 });
    const before = new Map<string, Seen>();
    try {
      // First life: two runs that succeed, one canceled midway.
      let store = await open();
      let stack = await startStack({ ports: ANY_PORT, logger: QUIET, store });
      let urls = { gateway: stack.urls["run-gateway"], coordinator: stack.urls["run-coordinator"] };
      const gateway = new RunGatewayClient({ baseUrl: urls.gateway });
      const done = await Promise.all(["first café", "second 🚀"].map((t) => gateway.startRun(pipeline(t))));
      const sleepy = await gateway.startRun({
        root_node_type_ref: ref("pipeline"),
        input: { input: { ms: 60_000 }, steps: [{ node_type: ref("sleep") }] },
      });
      for (const run of done) before.set(run.run_id, await read(urls, run.run_id));
      const coordinator = new RunCoordinatorClient({ baseUrl: urls.coordinator });
      const step = `${sleepy.root_node_run_id.replace(/\.0$/, "")}.1`; // the sleep (ids.ts: <run_id>.<n>)
      await expect
        .poll(
          () =>
            coordinator.getNodeRun(step).then(
              (n) => n.state,
              () => "not yet",
            ),
          { timeout: 10_000 },
        )
        .toBe("running");
      await gateway.cancelRun(sleepy.run_id);
      before.set(sleepy.run_id, await read(urls, sleepy.run_id));
      expect(logProblems(before.get(sleepy.run_id)!.events, sleepy.run_id, "canceled")).toEqual([]);
      for (const run of done)
        expect(logProblems(before.get(run.run_id)!.events, run.run_id, "succeeded")).toEqual([]);
      await stack.close();
      await store.close();

      // Second life: a new process's worth of services on other ports, the same database.
      store = await open();
      stack = await startStack({ ports: ANY_PORT, logger: QUIET, store });
      urls = { gateway: stack.urls["run-gateway"], coordinator: stack.urls["run-coordinator"] };
      try {
        for (const [runId, seen] of before) expect(await read(urls, runId)).toEqual(seen);
        const again = await new RunGatewayClient({ baseUrl: urls.gateway }).startRun(pipeline("third"));
        const after = await read(urls, again.run_id);
        expect(logProblems(after.events, again.run_id, "succeeded")).toEqual([]);
        expect(after.run.state).toBe("succeeded");
      } finally {
        await stack.close();
        await store.close();
      }
    } finally {
      await dropSchema(url, schema);
    }
  }, 60_000);
});
