/**
 * `arp-mcp executor`: argument errors, a run in-process through `main()` (publishing to a registry,
 * passing `arp-conformance check atomic-executor --tier deep`), and one run as a real child process
 * through bin/arp-mcp.js, stopped by SIGTERM.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AtomicExecutorClient } from "@arp/client";
import type { AtomicExecuteRequest } from "@arp/model";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import type { CommandIo } from "../src/commands/command.js";
import { eventually, stdioSpec } from "./support/fixture.js";
import { startRegistry } from "./support/registry.js";

/** Pids of the processes whose command line contains `text` (Linux' /proc). */
function processesWith(text: string): string[] {
  return readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
    } catch {
      return false; // it ended meanwhile
    }
  });
}

const BIN = fileURLToPath(new URL("../bin/arp-mcp.js", import.meta.url));
const CHECKER = fileURLToPath(new URL("../../conformance/bin/arp-conformance.js", import.meta.url));

function io() {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const value: CommandIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    signal: controller.signal,
  };
  return { io: value, out, err, stop: () => controller.abort(), stderr: () => err.join("") };
}

/** Starts `arp-mcp executor` in-process; resolves with its URL once it printed it. */
async function startExecutor(args: string[]) {
  const t = io();
  const exit = main(["executor", ...args], t.io);
  const url = await Promise.race([
    eventually("the ready line", () => /arp-mcp executor (http:\/\/\S+)/.exec(t.stderr())?.[1], 30_000),
    exit.then((code) => {
      throw new Error(`exited ${code}: ${t.stderr()}`);
    }),
  ]);
  return { ...t, url, exit };
}

describe("arp-mcp executor: arguments", () => {
  it.each([
    [[], /at least one --server/],
    [["--server", "no-equals"], /NAME=COMMAND/],
    [["--server", "a.b=node x"], /server name/],
    [["--server", "a=node 'x"], /unclosed/],
    [["--server", "a=http://x", "--port", "70000"], /--port must be a whole number/],
    [["--server", "a=http://x", "--call-timeout-ms", "-1"], /--call-timeout-ms/],
    [["--server", "a=http://x", "--registry-url", "ftp://x"], /--registry-url/],
    [["--server", "a=http://x", "--shutdown-timeout-ms", "soon"], /--shutdown-timeout-ms/],
    [["--server", "a=x", "--server", "a=y", "--insecure"], /given twice/],
    [["--bogus"], /Unknown option/],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const t = io();
    expect(await main(["executor", ...(args as string[])], t.io)).toBe(2);
    expect(t.stderr()).toMatch(message as RegExp);
    expect(t.stderr()).toContain("Usage: arp-mcp executor");
  });

  it("auth is on by default: without ARP_AUTH_* settings it says what to set (exit 2)", async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith("ARP_AUTH_")) delete process.env[k];
    try {
      const t = io();
      expect(await main(["executor", "--server", "a=http://127.0.0.1:1/mcp"], t.io)).toBe(2);
      expect(t.stderr()).toMatch(/--insecure/);
    } finally {
      process.env = saved;
    }
  });

  it("--help lists the options", async () => {
    const t = io();
    expect(await main(["executor", "--help"], t.io)).toBe(0);
    expect(t.out.join("")).toMatch(/--server NAME=COMMAND\|URL.*\(repeatable\)/);
  });
});

describe("arp-mcp executor: running", () => {
  it("serves, publishes to --registry-url, passes arp-conformance --tier deep, and stops on the signal", {
    timeout: 120_000,
  }, async () => {
    const { registry, running: reg } = await startRegistry();
    const dir = await mkdtemp(join(tmpdir(), "arp-mcp-"));
    const t = await startExecutor([
      "--server",
      stdioSpec("fx"),
      "--registry-url",
      reg.url,
      "--insecure",
      "--port",
      "0",
    ]);
    try {
      expect(t.stderr()).toMatch(/\(1 MCP server, 9 node types\)/);
      await eventually("the node types in the registry", () =>
        registry.nodeTypes.length === 9 ? true : undefined,
      );
      const text = registry.nodeTypes.find((n) => n.node_type_id === "mcp.fx.text");
      expect(text).toBeDefined();
      const client = new AtomicExecutorClient({ baseUrl: t.url });
      expect(
        await client.executeAtomicNodeRun({
          node_run_id: "nr_cli",
          run_id: "run_cli",
          node_type_ref: { node_type_id: "mcp.fx.text", version: text?.version as string },
          inputs: { text: "from the cli" },
        }),
      ).toMatchObject({ state: "succeeded", outputs: { content: [{ text: "from the cli" }] } });

      const atomic_execute: AtomicExecuteRequest = {
        node_run_id: "x",
        run_id: "x",
        node_type_ref: { node_type_id: "mcp.fx.text", version: text?.version as string },
        inputs: { text: "arp-conformance" },
      };
      const fixtures = join(dir, "fixtures.json");
      await writeFile(fixtures, JSON.stringify({ atomic_execute }));
      const { stdout } = await promisify(execFile)(process.execPath, [
        CHECKER,
        "check",
        "atomic-executor",
        "--url",
        t.url,
        "--tier",
        "deep",
        "--allow-mutations",
        "--strict",
        "--format",
        "json",
        "--fixtures",
        fixtures,
      ]).catch((err: { stdout?: string; code?: number }) => {
        throw new Error(`arp-conformance exited ${err.code}: ${err.stdout ?? ""}`);
      });
      const report = JSON.parse(stdout) as {
        ok: boolean;
        counts: { failed: number; warned: number; skipped: number };
        results: { check_id: string; status: string; message: string }[];
      };
      expect(report.counts).toMatchObject({ failed: 0, warned: 0, skipped: 0 });
      expect(report.ok).toBe(true);
      const byId = new Map(report.results.map((r) => [r.check_id, r]));
      expect(byId.get("core.executeAtomicNodeRun.execute")?.message).toMatch(/: succeeded$/);
      expect(byId.get("deep.cancelAtomicNodeRun.cancel")?.status).toBe("PASS");
    } finally {
      t.stop();
      expect(await t.exit).toBe(0);
      await reg.close();
      await rm(dir, { recursive: true, force: true });
    }
    // Stopped: the port is closed.
    await expect(fetch(`${t.url}/v1/health`)).rejects.toThrow();
  });

  it("--shutdown-timeout-ms: a node run still executing at shutdown is cut after it", {
    timeout: 60_000,
  }, async () => {
    const t = await startExecutor([
      "--server",
      stdioSpec("fx"),
      "--insecure",
      "--shutdown-timeout-ms",
      "300",
    ]);
    const client = new AtomicExecutorClient({ baseUrl: t.url });
    let stopped = 0;
    let started = Number.POSITIVE_INFINITY;
    let settledAfterStop = Number.POSITIVE_INFINITY;
    try {
      // A wrong version's error names the current one.
      const probe = await client.executeAtomicNodeRun({
        node_run_id: "nr_probe",
        run_id: "r",
        node_type_ref: { node_type_id: "mcp.fx.slow", version: "0" },
        inputs: {},
      });
      const version = probe.error?.details?.current_version as string;
      expect(version).toMatch(/^1\.2\.0\+/);
      const slow = client
        .executeAtomicNodeRun({
          node_run_id: "nr_slow_at_shutdown",
          run_id: "r",
          node_type_ref: { node_type_id: "mcp.fx.slow", version },
          inputs: { ms: 60_000 },
        })
        .then(
          (r) => r.state,
          () => "cut",
        )
        .finally(() => {
          settledAfterStop = Date.now() - started;
        });
      await new Promise((r) => setTimeout(r, 300)); // the call is in flight
      started = Date.now();
      t.stop();
      expect(await t.exit).toBe(0);
      stopped = Date.now() - started;
      // Cut (the connection destroyed, or the node run canceled as the request's signal aborted).
      expect(["cut", "canceled"]).toContain(await slow);
    } finally {
      t.stop();
    }
    expect(stopped).toBeLessThan(20_000);
    // Cut at 300 ms, far sooner than the default 5 s would.
    expect(settledAfterStop).toBeLessThan(4_000);
  });

  it("runs as a child process through bin/arp-mcp.js and exits 0 on SIGTERM, ending its MCP server", {
    timeout: 90_000,
  }, async () => {
    expect(existsSync(join(BIN, "../../dist/cli.js")), "run `npm run build` in packages/mcp first").toBe(
      true,
    );
    // A marker in the MCP server's command line, to find its process (Linux: /proc); the executor's
    // own command line holds it too.
    const marker = `9.9.9-${process.pid}-${Date.now()}`;
    const child = spawn(
      process.execPath,
      [BIN, "executor", "--server", stdioSpec("fx", "--version", marker), "--insecure"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const servers = () => processesWith(marker).filter((pid) => pid !== String(child.pid));
    try {
      const url = await eventually(
        "the ready line",
        () => /arp-mcp executor (http:\/\/\S+)/.exec(stderr)?.[1],
        60_000,
      );
      const health = await fetch(`${url}/v1/health`);
      expect(health.status).toBe(200);
      expect(servers()).toHaveLength(1);
      child.kill("SIGTERM");
      expect(await exited, stderr).toBe(0);
      await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
      await eventually("the MCP server to end", () => (servers().length === 0 ? true : undefined));
    } finally {
      // A failure above must not leave the processes (and this test run) hanging.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const pid of servers()) process.kill(Number(pid), "SIGKILL");
    }
  });
});
