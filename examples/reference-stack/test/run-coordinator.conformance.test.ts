/**
 * The conformance checker against the coordinator, with fake peers. The checker plays the root's
 * executor (it creates a child, reports an evaluation, completes the child, then the root), so
 * its fixture node type `arp-conformance.echo` is a composite here, whose fake executor accepts and
 * does nothing: the checker's calls are the only ones. `@arp/conformance` is not a dependency of
 * the example: its CLI is run from the workspace (built by `npm run build`).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./run-coordinator.fakes.js";

const CLI = fileURLToPath(new URL("../../../packages/conformance/bin/arp-conformance.js", import.meta.url));

interface Report {
  ok: boolean;
  counts: Record<string, number>;
  results: { check_id: string; status: string; message: string; errors?: string[] }[];
}

describe("arp-conformance check run-coordinator --tier deep --allow-mutations --strict", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, (f) => {
      f.registry.add({ node_type_id: "arp-conformance.echo", version: "1.0.0", kind: "composite" });
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it("passes every check", { timeout: 60_000 }, async () => {
    const args = [
      CLI,
      "check",
      "run-coordinator",
      ...["--url", stack.urls["run-coordinator"]!],
      ...["--tier", "deep", "--allow-mutations", "--strict", "--format", "json", "--poll-timeout", "10"],
    ];
    const { stdout, code } = await promisify(execFile)(process.execPath, args, {
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ stdout, code: 0 }),
      (err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }),
    );
    const report = JSON.parse(stdout) as Report;
    const notPassed = report.results.filter((r) => r.status !== "PASS");
    expect(notPassed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
    const ids = report.results.map((r) => r.check_id);
    for (const id of [
      "core.createNodeRuns.idempotent",
      "core.completeNodeRun.complete",
      "core.getRun.terminal",
      "core.cancelRun.cancel",
      "deep.streamRunEvents.finished_run",
      "deep.streamNodeRunEvents.child",
    ]) {
      expect(ids).toContain(id);
    }
    expect(stack.composite.begun.length).toBeGreaterThanOrEqual(2); // the main run and the canceled one
  });
});
