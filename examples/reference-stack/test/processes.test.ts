/**
 * `startStack({ processes })`: every service a child process of its own (src/serve.ts), as a
 * deployment would run them. Pipelines run through the gateway; the run viewer's origin may call
 * the gateway's process (CORS); each process answers `memory()` over its IPC channel (a full GC
 * first only with `--expose-gc`; concurrent queries each their own answer; a process gone rejects);
 * what a process cannot be handed (a policy document, a Store object) is refused; closing leaves no
 * process behind.
 */
import { RunGatewayClient } from "@arp/client";
import { describe, expect, it } from "vitest";
import { startReplica } from "../src/replicas.js";
import { startStack } from "../src/stack.js";
import { MemoryStore } from "../src/store/memory.js";
import { SERVICE_KEYS } from "../src/urls.js";
import { ANY_PORT, logProblems, QUIET } from "./run-log.js";
import { expectedOf, memoryOf, runOne } from "./support/load.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("startStack({ processes })", () => {
  it("runs every service in its own process: pipelines succeed, memory() answers, close() stops them all", async () => {
    const stack = await startStack({
      processes: { nodeArgs: ["--expose-gc"] },
      ports: ANY_PORT,
      logger: QUIET,
      viewer: { port: 0 },
    });
    let pids: number[] = [];
    try {
      expect(stack.processes.map((p) => p.service).sort()).toEqual([...SERVICE_KEYS].sort());
      pids = stack.processes.map((p) => p.pid);
      expect(new Set([process.pid, ...pids]).size).toBe(SERVICE_KEYS.length + 1);
      for (const p of stack.processes) expect(stack.urls[p.service]).toBe(p.url);
      expect(stack.replicas).toEqual([]); // one coordinator: no balancer, no replicas

      const gatewayUrl = stack.urls["run-gateway"];
      const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
      const signal = AbortSignal.timeout(25_000);
      const done = await Promise.all([0, 1, 2].map((i) => runOne(gateway, gatewayUrl, i, signal)));
      expect(done.flatMap((d) => d.problems)).toEqual([]);
      expect(done[2]!.outcome.events.at(-1)?.data?.outputs).toEqual(expectedOf(2).at(-1));
      expect(logProblems(done[0]!.outcome.events, done[0]!.outcome.run.run_id, "succeeded")).toEqual([]);

      // The viewer's page may call the gateway's process (its CORS origin went on its command line).
      const cors = await fetch(`${gatewayUrl}/v1/health`, { headers: { origin: stack.viewer!.origin } });
      expect(cors.headers.get("access-control-allow-origin")).toBe(stack.viewer!.origin);
      const other = await fetch(`${gatewayUrl}/v1/health`, {
        headers: { origin: "http://elsewhere.example" },
      });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();

      // Two queries at once: each gets its own answer.
      const [a, b] = await Promise.all([stack.processes[0]!.memory(), stack.processes[0]!.memory()]);
      expect(a).not.toBe(b);
      const memory = await memoryOf(stack);
      expect([...memory.keys()].sort()).toEqual([...SERVICE_KEYS].sort());
      for (const [service, m] of memory) {
        expect(m.collected, service).toBe(true);
        expect(m.heapUsed, service).toBeGreaterThan(1024 * 1024);
        expect(m.rss, service).toBeGreaterThan(m.heapUsed);
        expect(m.peakRss, service).toBeGreaterThanOrEqual(m.rss * 0.99);
      }
    } finally {
      await stack.close();
    }
    expect(pids.filter(alive)).toEqual([]);
    await expect(stack.processes[0]!.memory()).rejects.toThrow(/exited before it answered a memory query/);
  }, 120_000); // seven processes start one after another: slow on a loaded 2-core machine

  it("without --expose-gc, memory() says no collection ran", async () => {
    const alone = await startReplica({ service: "node-registry", args: ["--port", "0"], logger: QUIET });
    try {
      const memory = await alone.memory();
      expect(memory.collected).toBe(false);
      expect(memory.heapUsed).toBeGreaterThan(0);
    } finally {
      await alone.stop();
    }
  }, 60_000);

  it("refuses what a process cannot be handed: a policy document, a Store object", async () => {
    await expect(startStack({ processes: true, policy: { rules: [] } })).rejects.toThrow(
      "processes: the PDP's policy cannot be handed to a process; start without processes",
    );
    await expect(startStack({ processes: true, store: new MemoryStore() })).rejects.toThrow(
      'processes: a Store object cannot be handed to a process; give its URL (store: "postgres://...")',
    );
  });
});
