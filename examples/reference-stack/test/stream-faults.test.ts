/**
 * Run streams through a proxy that cuts, truncates and stalls their connections: the client's
 * `streamRunEvents` (which reconnects and skips what it has yielded) still delivers every seq of each
 * run exactly once, in order, and exactly the log the gateway serves without the proxy.
 */
import { RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { expect, it } from "vitest";
import { startStack } from "../src/stack.js";
import { ANY_PORT, logProblems, QUIET, readRunLog } from "./run-log.js";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const RUNS = 20;

it("delivers every seq once, in order, through connections that are cut, truncated and stalled", async () => {
  const stack = await startStack({ ports: ANY_PORT, logger: QUIET });
  let proxy: FaultProxy | undefined;
  try {
    const gatewayUrl = stack.urls["run-gateway"];
    // The events are some 300 bytes each: most connections break after a few events.
    proxy = await startFaultProxy(gatewayUrl, { seed: 13, maxByte: 4_000, stallMs: 400 });
    const direct = new RunGatewayClient({ baseUrl: gatewayUrl });
    // Many breaks in a row may bring nothing new (a cut before the first new event): allow for it.
    const faulty = new RunGatewayClient({
      baseUrl: proxy.url,
      retry: { maxAttempts: 50, baseDelayMs: 10, maxDelayMs: 100 },
    });
    const signal = AbortSignal.timeout(90_000);
    const runs = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        direct.startRun(
          {
            root_node_type_ref: ref("pipeline"),
            input: {
              input: { text: `run ${i}` },
              // Live events over about half a second: the stream is followed while the run goes on.
              steps: [
                { node_type: ref("text.upper") },
                { node_type: ref("echo"), inputs: { n: i } },
                { node_type: ref("text.reverse") },
                { node_type: ref("echo") },
                { node_type: ref("text.lower") },
              ],
            },
          },
          { signal },
        ),
      ),
    );
    const seen = await Promise.all(
      runs.map(async (run) => {
        const events: T.RunEvent[] = [];
        for await (const event of faulty.streamRunEvents(run.run_id, { signal, idleTimeoutMs: 30_000 }))
          events.push(event);
        return events;
      }),
    );
    for (const [i, run] of runs.entries()) {
      const log = await readRunLog(gatewayUrl, run.run_id, signal);
      expect(logProblems(log, run.run_id, "succeeded")).toEqual([]);
      expect(seen[i]).toEqual(log);
    }
    const kinds = proxy.faults.map((f) => f.kind);
    for (const kind of ["cut", "truncate", "stall"]) expect(kinds).toContain(kind);
    // Far more connections than runs: the streams resumed, many times.
    expect(proxy.faults.length).toBeGreaterThan(RUNS * 2);
    console.log(
      `stream faults: ${RUNS} runs over ${proxy.faults.length} connections (` +
        ["cut", "truncate", "stall", "none"]
          .map((k) => `${kinds.filter((x) => x === k).length} ${k}`)
          .join(", ") +
        ")",
    );
  } finally {
    await proxy?.close();
    await stack.close();
  }
}, 120_000);
