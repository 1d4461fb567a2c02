/**
 * Several coordinator replicas: `startStack({ coordinators: N, store: "postgres://..." })` runs N
 * child processes of src/serve.ts behind the balancer. Real processes, sockets and PostgreSQL.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { describe, expect, it, onTestFailed } from "vitest";
import { runDemo } from "../src/demo.js";
import { startStack } from "../src/stack.js";
import { MemoryStore } from "../src/store/memory.js";
import { SERVICE_KEYS, type ServiceKey } from "../src/urls.js";
import { describePostgres, dropSchema, freshSchema, sql, withSchema } from "./support/postgres.js";

const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0])) as Record<ServiceKey, number>;
const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

/** A logger that keeps the lines (the replicas' stderr among them), printed if the test fails. */
function keptLogger() {
  const lines: string[] = [];
  onTestFailed(() => {
    console.error(`logged:\n${lines.join("\n")}`);
  });
  return {
    lines,
    warn: (message: string) => lines.push(`warn: ${message}`),
    error: (message: string) => lines.push(`error: ${message}`),
  };
}

/** A pipeline run (upper, reverse) through the gateway, followed to its end: the run, and its outputs. */
async function pipeline(gateway: RunGatewayClient, text: string): Promise<T.Run & { outputs?: unknown }> {
  const started = await gateway.startRun({
    root_node_type_ref: ref("pipeline"),
    input: { input: { text }, steps: [{ node_type: ref("text.upper") }, { node_type: ref("text.reverse") }] },
  });
  const events: T.RunEvent[] = [];
  for await (const event of gateway.streamRunEvents(started.run_id)) events.push(event);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events[0]?.type).toBe("run_started");
  expect(events.at(-1)?.type).toBe("run_completed");
  return { ...(await gateway.getRun(started.run_id)), outputs: events.at(-1)?.data?.outputs };
}

describe("startStack({ coordinators }) refuses what cannot work", () => {
  it("several coordinators need a postgres:// store URL", async () => {
    await expect(startStack({ coordinators: 2, ports: ANY_PORT })).rejects.toThrow(
      'coordinators: 2 needs store: "postgres://..." (a URL each replica process opens); a memory store cannot be shared across processes (store: none)',
    );
    await expect(startStack({ coordinators: 2, store: "memory" })).rejects.toThrow(/\(store: memory\)$/);
    await expect(startStack({ coordinators: 2, store: new MemoryStore() })).rejects.toThrow(
      /\(store: a Store object\)$/,
    );
    await expect(startStack({ coordinators: 0 })).rejects.toThrow(/coordinators must be a whole number >= 1/);
  });

  it("a replica that exits during start-up makes startStack reject with its stderr", async () => {
    const logger = keptLogger();
    // Nothing listens on port 1: the replica's PostgresStore.open fails, and the replica exits 1.
    const failed = (await startStack({
      coordinators: 2,
      store: "postgres://arp@127.0.0.1:1/none",
      ports: ANY_PORT,
      logger,
    }).catch((e: unknown) => e)) as Error;
    expect(failed.message).toMatch(/^a run-coordinator replica \(pid \d+\) exited with 1 during start-up:\n/);
    expect(failed.message).toContain("ECONNREFUSED");
    // The stderr went to the logger too, a line at a time, with the replica's pid.
    expect(logger.lines.some((l) => /^error: run-coordinator replica \d+: .*ECONNREFUSED/.test(l))).toBe(
      true,
    );
  });
});

describePostgres("two coordinator replicas on one PostgreSQL", (url) => {
  it("run the demo and pipelines through the gateway, both serving; one killed, one added", async () => {
    const logger = keptLogger();
    const schema = freshSchema();
    const stack = await startStack({
      store: withSchema(url, schema),
      coordinators: 2,
      ports: ANY_PORT,
      logger,
    });
    try {
      const balancer = stack.balancer!;
      expect(stack.urls["run-coordinator"]).toBe(balancer.url);
      expect(stack.replicas).toHaveLength(2);
      expect(new Set(balancer.replicas)).toEqual(new Set(stack.replicas.map((r) => r.url)));
      expect(stack.replicas.map((r) => r.url)).not.toContain(balancer.url);

      const demo = await runDemo({
        gateway: stack.urls["run-gateway"],
        coordinator: stack.urls["run-coordinator"],
        write: () => undefined,
      });
      expect(demo.state).toBe("succeeded");
      const gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
      const texts = ["alpha", "Bravo two", "charlie 3"];
      const runs = await Promise.all(texts.map((text) => pipeline(gateway, text)));
      expect(runs.map((r) => [r.state, r.outputs])).toEqual(
        texts.map((text) => ["succeeded", { text: [...text.toUpperCase()].reverse().join("") }]),
      );
      const served = stack.replicas.map((r) => balancer.stats.replicas[r.url]!.requests);
      expect(served.every((n) => n > 0)).toBe(true);
      expect(served.reduce((a, b) => a + b)).toBeGreaterThan(20); // gateway and composite calls

      // SIGKILL one: it is taken off the balancer, and the other one serves alone.
      const [killed, kept] = stack.replicas as [(typeof stack.replicas)[0], (typeof stack.replicas)[0]];
      killed.kill("SIGKILL");
      expect(await killed.exited).toBeNull();
      expect(balancer.replicas).toEqual([kept.url]);
      expect((await pipeline(gateway, "after")).outputs).toEqual({ text: "RETFA" });

      // A replacement joins and takes its share.
      const added = await stack.addReplica();
      expect(balancer.replicas).toEqual([kept.url, added.url]);
      expect(stack.replicas).toHaveLength(3);
      expect((await pipeline(gateway, "again")).outputs).toEqual({ text: "NIAGA" });
      expect(balancer.stats.replicas[added.url]!.requests).toBeGreaterThan(0);
    } finally {
      await stack.close();
      await dropSchema(url, schema);
    }
    for (const replica of stack.replicas) expect(await replica.exited).not.toBeUndefined();
  });

  it("--secure: the replicas require the issuer's tokens and get their own for their peers", async () => {
    const logger = keptLogger();
    const schema = freshSchema();
    const stack = await startStack({
      store: withSchema(url, schema),
      coordinators: 2,
      secure: true,
      ports: ANY_PORT,
      logger,
    });
    try {
      const issuer = stack.issuer!;
      const run = await runDemo({
        gateway: stack.urls["run-gateway"],
        coordinator: stack.urls["run-coordinator"],
        token: async (audience) => (await issuer.mint(audience, "demo")).token,
        write: () => undefined,
      });
      expect(run.state).toBe("succeeded");
      for (const replica of stack.replicas) {
        expect(stack.balancer!.stats.replicas[replica.url]!.requests).toBeGreaterThan(0);
        const anonymous = await fetch(`${replica.url}/v1/runs/${run.run_id}`);
        expect(anonymous.status).toBe(401);
      }
    } finally {
      await stack.close();
      await dropSchema(url, schema);
    }
  });

  // The store from ARP_STORE_URL, as a deployment would give it, and from --store, which wins over
  // the variable (set to a database that does not exist, so the run fails if the flag is not used).
  it.each([
    { how: "ARP_STORE_URL=URL", flag: false },
    { how: "--store URL", flag: true },
  ])(
    "npm start -- --once --coordinators 2, $how: the demo succeeds on that schema, the replicas are printed",
    async ({ flag }) => {
      const schema = freshSchema();
      try {
        const anyPort = [...SERVICE_KEYS.flatMap((key) => [`--${key}-port`, "0"]), "--viewer-port", "0"];
        const store = withSchema(url, schema);
        const args = [
          "src/main.ts",
          "--once",
          "--coordinators",
          "2",
          ...anyPort,
          ...(flag ? ["--store", store] : []),
        ];
        const env = { ...process.env, ARP_STORE_URL: flag ? "postgres://arp@127.0.0.1:1/none" : store };
        const { stdout } = await run(tsx, args, { cwd: root, env, timeout: 90_000 });
        expect(stdout).toMatch(/^ {2}run-coordinator +http:\/\/127\.0\.0\.1:\d+ \(the balancer\)$/m);
        expect(stdout).toMatch(/^ {4}replica 1 +http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/m);
        expect(stdout).toMatch(/^ {4}replica 2 +http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/m);
        const runId = stdout.match(/^run (run-[\w-]+): succeeded$/m)?.[1];
        expect(runId).toBeDefined();
        // The run is in that schema's tables.
        expect(await sql(url, `SELECT state FROM ${schema}.arp_runs WHERE run_id = $1`, [runId])).toEqual([
          { state: "succeeded" },
        ]);
      } finally {
        await dropSchema(url, schema);
      }
    },
  );
});
