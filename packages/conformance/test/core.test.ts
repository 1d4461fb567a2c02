/** The core tier's inputs and wiring: fixtures, --allow-mutations, the CLI flags, cleanup. */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as T from "@arp/model";
import { SCHEMAS, SERVICES } from "@arp/model";
import { describe, expect, it } from "vitest";
import { DEFAULT_FIXTURES, FIXTURE_SCHEMAS, parseFixtures, readFixtures } from "../src/check/fixtures.js";
import { runChecks } from "../src/check/runner.js";
import { type CheckReport, runConformance, UsageError } from "../src/index.js";
import {
  cli,
  hasReference,
  lastLine,
  packageRoot,
  referenceSpecRoot,
  repoRoot,
  tempTree,
} from "./helpers.js";
import { CORRECT, TestRunCoordinator, TestRunGateway } from "./support/services.js";

describe("fixtures", () => {
  it("every default validates against the schema its key names", () => {
    for (const [key, schema] of Object.entries(FIXTURE_SCHEMAS)) {
      const validate = SCHEMAS[schema].validate;
      expect(validate(DEFAULT_FIXTURES[key as keyof typeof DEFAULT_FIXTURES]), `${key}: ${schema}`).toBe(
        true,
      );
    }
  });

  it("a file replaces the defaults key by key, JSON or YAML", () => {
    const run = { root_node_type_ref: { node_type_id: "jarvis.echo", version: "2.0.0" }, input: { x: 1 } };
    const dir = tempTree({
      "f.json": { run },
      "f.yaml":
        "run:\n  root_node_type_ref: { node_type_id: jarvis.echo, version: '2.0.0' }\n  input: { x: 1 }\n",
    });
    for (const file of ["f.json", "f.yaml"]) {
      const fixtures = readFixtures(join(dir, file));
      expect(fixtures.run).toEqual(run);
      expect(fixtures.policy_decision).toEqual(DEFAULT_FIXTURES.policy_decision);
    }
  });

  it("an unknown key or an invalid body is a UsageError naming each problem", () => {
    const both = () => parseFixtures({ runs: {}, run: { input: {} } }, "f.json");
    expect(both).toThrow(UsageError);
    expect(both).toThrow(
      /unknown fixture "runs".*fixture run is not a valid RunStartRequest.*root_node_type_ref/,
    );
    expect(() => parseFixtures([], "f.json")).toThrow(/expected an object/);
    const dir = tempTree({ "bad.json": "{ nope" });
    expect(() => readFixtures(join(dir, "bad.json"))).toThrow(/does not parse/);
    expect(() => readFixtures(join(dir, "missing.json"))).toThrow(/cannot read --fixtures/);
  });
});

describe("without --allow-mutations", () => {
  it("one FAIL says how to run it, every other core check is a SKIP; nothing is created", async () => {
    const gateway = new TestRunGateway();
    const running = await gateway.listen({ port: 0 });
    try {
      const report = await runChecks({ service: SERVICES["run-gateway"], url: running.url, tier: "core" });
      const core = report.results.filter((r) => r.tier === "core");
      expect(core.length).toBeGreaterThan(3);
      const [first, ...rest] = core;
      expect([first?.check_id, first?.status]).toEqual(["core.mutations_allowed", "FAIL"]);
      expect(first?.message).toMatch(/run with --allow-mutations \(or --tier surface for read-only checks\)/);
      for (const r of rest) {
        expect(r.status).toBe("SKIP");
        expect(r.message).toMatch(/--allow-mutations/);
      }
      expect(gateway.runs.size).toBe(0);
      expect(report.ok).toBe(false);
    } finally {
      await running.close();
    }
  });
});

describe("cleanup", () => {
  it("runs still going at the end are canceled, unless cleanup is off", async () => {
    for (const cleanup of [true, false]) {
      const gateway = new TestRunGateway(); // its runs never end on their own
      const running = await gateway.listen({ port: 0 });
      try {
        await runChecks({
          service: SERVICES["run-gateway"],
          url: running.url,
          tier: "core",
          allowMutations: true,
          pollIntervalMs: 20,
          pollTimeoutMs: 200,
          cleanup,
        });
        const states = [...gateway.runs.values()].map((r) => r.state);
        expect(states.length).toBe(2);
        expect(states.filter((s) => s === "running").length).toBe(cleanup ? 0 : 1);
      } finally {
        await running.close();
      }
    }
  });
});

describe("arp-conformance check --tier core", () => {
  it("--allow-mutations with --fixtures, --poll-timeout and --poll-interval: exit 0, core checks pass", async () => {
    const running = await CORRECT["run-gateway"]!().listen({ port: 0 });
    try {
      const dir = tempTree({ "f.json": { run: DEFAULT_FIXTURES.run } });
      const { code, stdout, stderr } = await cli(
        "check",
        "run-gateway",
        "--url",
        running.url,
        "--tier",
        "core",
        "--allow-mutations",
        "--fixtures",
        join(dir, "f.json"),
        "--poll-timeout",
        "5",
        "--poll-interval",
        "0.02",
        "--spec",
        "v1",
      );
      expect(stderr).toBe("");
      expect(stdout).toMatch(/^PASS {2}run-gateway {2}core\.getRun\.terminal {2}succeeded$/m);
      expect(lastLine(stdout)).toMatch(/ 0 failed, 0 warned, 0 skipped$/);
      expect(code).toBe(0);
    } finally {
      await running.close();
    }
  });

  it("usage errors exit 2: a bad fixtures file, a bad --poll-timeout, --spec v2", async () => {
    const dir = tempTree({ "f.json": { run: { input: {} } } });
    const url = "http://127.0.0.1:65535";
    const cases: [string[], RegExp][] = [
      [["--fixtures", join(dir, "f.json")], /fixture run is not a valid RunStartRequest/],
      [["--poll-timeout", "0"], /--poll-timeout must be a number of seconds > 0/],
      [["--spec", "v2"], /--spec must be v1, not v2/],
    ];
    for (const [extra, message] of cases) {
      const { code, stderr } = await cli("check", "pdp", "--url", url, "--tier", "core", ...extra);
      expect(code, extra.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
    }
  });
});

describe("--spec-path: judge against another spec tree", () => {
  /** A copy of the project's spec tree whose Health schema also requires `uptime_s`. */
  function stricterTree(): string {
    const dir = tempTree({});
    cpSync(join(repoRoot, "spec", "v1"), join(dir, "v1"), { recursive: true });
    const file = join(dir, "v1", "schemas", "common", "health.schema.json");
    const schema = JSON.parse(readFileSync(file, "utf8")) as { required: string[] };
    schema.required.push("uptime_s");
    writeFileSync(file, JSON.stringify(schema));
    return dir;
  }

  it("its schemas judge the bodies, and the report names it", async () => {
    const running = await CORRECT.pdp!().listen({ port: 0 });
    try {
      const same = await cli(
        "check",
        "pdp",
        "--url",
        running.url,
        "--tier",
        "core",
        "--allow-mutations",
        "--spec-path",
        repoRoot,
        "--format",
        "json",
      );
      expect(same.code).toBe(0);
      expect((JSON.parse(same.stdout) as { spec_ref: string }).spec_ref).toBe(join(repoRoot, "spec", "v1"));
      const stricter = await cli("check", "pdp", "--url", running.url, "--spec-path", stricterTree());
      expect(stricter.code).toBe(1);
      expect(stricter.stdout).toMatch(/^FAIL {2}pdp {2}smoke\.health\.schema /m);
      expect(stricter.stdout).toMatch(/uptime_s is required/);
      const report = await runConformance({ service: "pdp", url: running.url, specPath: stricterTree() });
      expect(report.results.find((r) => r.check_id === "smoke.health.schema")?.status).toBe("FAIL");
    } finally {
      await running.close();
    }
  });

  it("a tree without a schema the checks need, or no tree at all, is a usage error before any request", async () => {
    const dir = stricterTree();
    rmSync(join(dir, "v1", "schemas", "common", "health.schema.json"));
    const missing = await cli("check", "pdp", "--url", "http://127.0.0.1:65535", "--spec-path", dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /has no schemas\/common\/health\.schema\.json \(Health\), which the pdp checks need/,
    );
    const none = await cli("check", "pdp", "--url", "http://127.0.0.1:65535", "--spec-path", tempTree({}));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no ARP spec tree at/);
  });

  it.skipIf(!hasReference)(
    "the published ARP Standard's tree passes a correct service (skipped without ../shared)",
    async () => {
      const running = await CORRECT["run-coordinator"]!().listen({ port: 0 });
      try {
        const report = await runConformance({
          service: "run-coordinator",
          url: running.url,
          tier: "deep",
          allowMutations: true,
          pollIntervalMs: 20,
          specPath: referenceSpecRoot,
          strict: true,
        });
        expect(
          report.results.filter((r) => r.status !== "PASS").map((r) => `${r.check_id}: ${r.message}`),
        ).toEqual([]);
      } finally {
        await running.close();
      }
    },
  );
});

describe("check all --tier deep", () => {
  it("the README's fixtures file, all seven correct services, every tier: exit 0, nothing but PASS", async () => {
    const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
    const yaml = /```yaml\n(# conformance-fixtures\.yaml\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const dir = tempTree({ "conformance-fixtures.yaml": yaml });
    const services = await Promise.all(
      Object.keys(SERVICES).map(async (key) => [key, await CORRECT[key]!().listen({ port: 0 })] as const),
    );
    try {
      const urls = services.flatMap(([key, running]) => [`--${key}-url`, running.url]);
      const { code, stdout, stderr } = await cli(
        "check",
        "all",
        "--tier",
        "deep",
        "--allow-mutations",
        "--fixtures",
        join(dir, "conformance-fixtures.yaml"),
        "--poll-interval",
        "0.05",
        "--strict",
        "--format",
        "json",
        ...urls,
      );
      expect(stderr).toBe("");
      const { reports, ok } = JSON.parse(stdout) as { reports: CheckReport[]; ok: boolean };
      const notPassed = reports.flatMap((r) =>
        r.results.filter((x) => x.status !== "PASS").map((x) => `${r.service}/${x.check_id}: ${x.message}`),
      );
      expect(notPassed).toEqual([]);
      expect(reports.map((r) => r.service)).toEqual(Object.keys(SERVICES));
      expect([ok, code]).toEqual([true, 0]);
      // The fixture was used: the atomic executor summarised instead of failing an unknown node type.
      const execute = reports
        .find((r) => r.service === "atomic-executor")!
        .results.find((x) => x.check_id === "core.executeAtomicNodeRun.execute")!;
      expect(execute.message).toMatch(/: succeeded$/);
    } finally {
      for (const [, running] of services) await running.close();
    }
  });
});

describe("a coordinator run whose root is atomic", () => {
  it("the node-run checks SKIP, naming the fixture to change; the run checks still pass", async () => {
    const coordinator = new (class extends TestRunCoordinator {
      override startRun(req: Parameters<TestRunCoordinator["startRun"]>[0]) {
        const run = super.startRun(req) as T.Run;
        this.nodeRuns.get(run.root_node_run_id)!.kind = "atomic";
        return run;
      }
    })();
    const running = await coordinator.listen({ port: 0 });
    try {
      const report = await runChecks({
        service: SERVICES["run-coordinator"],
        url: running.url,
        tier: "core",
        allowMutations: true,
        pollIntervalMs: 20,
      });
      const create = report.results.find((r) => r.check_id === "core.createNodeRuns.create")!;
      expect(create.status).toBe("SKIP");
      expect(create.message).toMatch(/root .* is atomic.*give a composite root in --fixtures/);
      expect(report.results.find((r) => r.check_id === "core.getNodeRun.get")?.status).toBe("SKIP");
      expect(report.results.find((r) => r.check_id === "core.getRun.terminal")?.status).toBe("PASS");
      expect(report.results.filter((r) => r.status === "FAIL")).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
