/**
 * The atomic executor as a process of its own, SIGKILLed while node runs are in it: those node runs
 * fail with an error, their runs end with complete logs, and the coordinator goes on serving (a
 * replacement executor on the same port takes new runs). The in-memory store: the coordinator is
 * not what fails here.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import { expect, it } from "vitest";
import { startReplica } from "../src/replicas.js";
import { startStack } from "../src/stack.js";
import { ANY_PORT, logProblems, nodeRunIds, QUIET, readRunLog } from "./run-log.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const RUNS = 6;

it("an atomic executor killed mid-run fails its node runs, ends their runs, and the stack goes on", async () => {
  const executor = await startReplica({ service: "atomic-executor", args: ["--port", "0"], logger: QUIET });
  const port = new URL(executor.url).port;
  const stack = await startStack({
    ports: ANY_PORT,
    logger: QUIET,
    external: { "atomic-executor": executor.url },
  });
  let replacement: Awaited<ReturnType<typeof startReplica>> | undefined;
  try {
    const gatewayUrl = stack.urls["run-gateway"];
    const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
    const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
    const signal = AbortSignal.timeout(60_000);
    const runs = await Promise.all(
      Array.from({ length: RUNS }, () =>
        gateway.startRun(
          {
            root_node_type_ref: ref("pipeline"),
            input: {
              steps: [{ node_type: ref("sleep"), inputs: { ms: 20_000 } }, { node_type: ref("echo") }],
            },
          },
          { signal },
        ),
      ),
    );
    await expect
      .poll(
        async () =>
          (
            await Promise.all(
              runs.map((r) =>
                coordinator.getNodeRun(`${r.run_id}.1`, { signal }).then(
                  (n) => n.state,
                  () => "",
                ),
              ),
            )
          ).every((s) => s === "running"),
        { timeout: 20_000, interval: 100 },
      )
      .toBe(true);
    const killedAt = performance.now();
    executor.kill("SIGKILL");
    expect(await executor.exited).toBeNull();

    for (const run of runs) {
      const log = await readRunLog(gatewayUrl, run.run_id, signal);
      expect(logProblems(log, run.run_id, "failed")).toEqual([]);
      const sleep = log.find((e) => e.node_run_id === `${run.run_id}.1` && e.data?.state === "failed");
      expect(sleep?.data?.error).toMatchObject({ code: "executor_error" });
      const nodeRuns = await Promise.all(nodeRunIds(log).map((id) => coordinator.getNodeRun(id, { signal })));
      expect(nodeRuns.map((n) => n.state)).toEqual(["failed", "failed"]); // the pipeline and its sleep
    }
    // Long before the sleeps' 20 s: the broken connection failed them at once.
    expect(performance.now() - killedAt).toBeLessThan(15_000);

    // A replacement on the same port, and the coordinator serves new runs as before.
    replacement = await startReplica({ service: "atomic-executor", args: ["--port", port], logger: QUIET });
    const after = await gateway.startRun(
      {
        root_node_type_ref: ref("pipeline"),
        input: { input: { text: "again" }, steps: [{ node_type: ref("text.upper") }] },
      },
      { signal },
    );
    const log = await readRunLog(gatewayUrl, after.run_id, signal);
    expect(logProblems(log, after.run_id, "succeeded")).toEqual([]);
    expect(log.at(-1)?.data?.outputs).toEqual({ text: "AGAIN" });
  } finally {
    await stack.close();
    await replacement?.stop();
    await executor.stop();
  }
}, 90_000);
