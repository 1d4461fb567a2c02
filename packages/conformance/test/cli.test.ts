/** The `arp-conformance` CLI: in-process through `main()`, plus one run of the built bin. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SPEC_REF } from "@arp/model";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS, main } from "../src/cli.js";
import type { VectorsReport } from "../src/index.js";
import {
  bundledSpecRoot,
  capture,
  cli,
  hasReference,
  lastLine,
  packageRoot,
  referenceSpecRoot,
  repoRoot,
  requireBuild,
  tempTree,
} from "./helpers.js";

const RUN = { run_id: "r1", state: "queued", root_node_run_id: "n1" };

function countJson(dir: string): number {
  return (readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).filter((f) =>
    f.endsWith(".json"),
  ).length;
}

beforeAll(requireBuild);

describe("arp-conformance vectors (bundled spec)", () => {
  it("passes every bundled vector, one line per file", async () => {
    const { code, stdout, stderr } = await cli("vectors");
    const total =
      countJson(join(bundledSpecRoot, "conformance", "json_vectors")) +
      countJson(join(bundledSpecRoot, "conformance", "json_vectors_invalid"));
    expect(total).toBeGreaterThan(300);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(lastLine(stdout)).toBe(`${total} passed, 0 failed`);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(total + 2); // header, one line per file, summary
    expect(lines[0]).toMatch(
      /^spec spec\/v1@v\d+\.\d+\.\d+; valid: .*json_vectors; invalid: .*json_vectors_invalid$/,
    );
    expect(lines).toContain("ok        valid    core/run/minimal.json");
    expect(lines).toContain("ok        invalid  core/run/required--run_id.json");
  });

  it("says how to fix a missing bundled spec", async () => {
    const missing = join(tempTree({}), "spec", "v1");
    const { output, text } = capture();
    const code = await main(["vectors"], output, { bundledSpecRoot: missing });
    expect(code).toBe(2);
    expect(text.stderr).toContain(`arp-conformance: bundled spec not found at ${missing}`);
  });
});

describe("arp-conformance vectors (user folders)", () => {
  it("exits 1 on a valid vector that fails, naming it with its first issues", async () => {
    const dir = tempTree({
      "core/run/full.json": { ...RUN, state: "bogus", extra: 1 },
      "core/run/minimal.json": RUN,
    });
    const { code, stdout } = await cli("vectors", "--vectors", dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^mismatch {2}valid {4}core\/run\/full\.json {2}\/extra is not allowed .*; \/state must be one of "queued"/m,
    );
    expect(stdout).toContain("ok        valid    core/run/minimal.json\n");
    expect(lastLine(stdout)).toBe("1 passed, 1 failed");
  });

  it("exits 1 on an invalid vector that validates", async () => {
    const dir = tempTree({ "core/run/required--run_id.json": RUN });
    const { code, stdout } = await cli("vectors", "--invalid-vectors", dir);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "mismatch  invalid  core/run/required--run_id.json  expected a rejection, but it validated\n",
    );
    expect(lastLine(stdout)).toBe("0 passed, 1 failed");
  });

  it("maps the flat form, the folder form and nested groups; ignores non-JSON files", async () => {
    const dir = tempTree({
      "README.md": "# my vectors",
      "core/run.json": RUN,
      "core/run/notes.txt": "not a vector",
      "run_gateway/runs/run_start_request/minimal.json": {
        root_node_type_ref: { node_type_id: "com.example.x", version: "1.0.0" },
        input: {},
      },
    });
    const { code, stdout, stderr } = await cli("vectors", "--vectors", dir);
    expect([code, stderr]).toEqual([0, ""]);
    expect(stdout).toContain("ok        valid    core/run.json\n");
    expect(stdout).toContain("ok        valid    run_gateway/runs/run_start_request/minimal.json\n");
    expect(stdout).not.toMatch(/README|notes/);
    expect(lastLine(stdout)).toBe("2 passed, 0 failed");
  });

  it("exits 2 naming every unmapped or non-JSON file, and still reports the rest", async () => {
    const dir = tempTree({
      "core/run/minimal.json": RUN,
      "core/runs/minimal.json": RUN,
      "core/run/broken.json": '{ "run_id": ',
    });
    const { code, stdout, stderr } = await cli("vectors", "--vectors", dir);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `arp-conformance: ${join(dir, "core", "runs", "minimal.json")}: maps to no schema`,
    );
    expect(stderr).toContain(`arp-conformance: ${join(dir, "core", "run", "broken.json")}: not valid JSON`);
    expect(lastLine(stdout)).toBe("1 passed, 0 failed");
  });

  it("exits 2 on a missing folder, naming it", async () => {
    const missing = join(tempTree({}), "nope");
    const { code, stdout, stderr } = await cli("vectors", "--vectors", missing);
    expect(code).toBe(2);
    expect(stderr).toBe(`arp-conformance: folder not found: ${missing}\n`);
    expect(stdout).toBe("");
  });

  it("writes one JSON object with --format json", async () => {
    const valid = tempTree({ "core/run/a.json": RUN, "core/run/b.json": { ...RUN, state: 1 } });
    const invalid = tempTree({ "core/run/enum--state.json": { ...RUN, state: "bogus" } });
    const { code, stdout } = await cli(
      "vectors",
      "--vectors",
      valid,
      "--invalid-vectors",
      invalid,
      "--format",
      "json",
    );
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as VectorsReport;
    expect(report).toMatchObject({
      command: "vectors",
      specRef: expect.stringMatching(/^spec\/v1@/),
      vectors: valid,
      invalidVectors: invalid,
      passed: 2,
      failed: 1,
      errors: [],
    });
    expect(report.results).toHaveLength(3);
    expect(report.results[1]).toMatchObject({
      path: "core/run/b.json",
      expected: "valid",
      schema: "core/run.schema.json",
      status: "mismatch",
    });
    expect(report.results[1]!.issues[0]).toMatchObject({ pointer: "/state", keyword: "type" });
  });

  it("lists usage errors in the JSON report too", async () => {
    const dir = tempTree({ "nothing/here.json": {} });
    const { code, stdout } = await cli("vectors", "--vectors", dir, "--format", "json");
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as VectorsReport;
    expect(report.errors).toEqual([
      { path: join(dir, "nothing", "here.json"), message: expect.stringContaining("maps to no schema") },
    ]);
  });
});

describe("arp-conformance vectors --spec-path", () => {
  it.each([
    ["a v1 folder", join(repoRoot, "spec", "v1")],
    ["a folder containing v1/", join(repoRoot, "spec")],
    ["a repository root containing spec/v1", repoRoot],
  ])("accepts %s and runs that tree's own vectors", async (_, dir) => {
    const { code, stdout, stderr } = await cli("vectors", "--spec-path", dir);
    expect([code, stderr]).toEqual([0, ""]);
    expect(stdout.split("\n")[0]).toBe(
      `spec ${join(repoRoot, "spec", "v1")}; valid: ${join(repoRoot, "spec", "v1", "conformance", "json_vectors")}; invalid: ${join(repoRoot, "spec", "v1", "conformance", "json_vectors_invalid")}`,
    );
    expect(lastLine(stdout)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it("judges user vectors against a tree compiled at run time, formats included", async () => {
    const spec = tempTree({
      "schemas/things/thing.schema.json": {
        type: "object",
        required: ["at"],
        properties: { at: { type: "string", format: "date-time" } },
      },
    });
    const vectors = tempTree({ "things/thing/no_zone.json": { at: "2026-01-15T09:30:00" } });
    const { code, stdout } = await cli("vectors", "--spec-path", spec, "--vectors", vectors);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "mismatch  valid    things/thing/no_zone.json  /at must be a valid date-time string\n",
    );
  });

  it("exits 2 naming the path when there is no spec tree, or a schema does not compile", async () => {
    const empty = tempTree({});
    let run = await cli("vectors", "--spec-path", empty);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`arp-conformance: no ARP spec tree at ${empty}`);

    const broken = tempTree({ "v1/schemas/a.schema.json": { $ref: "gone.schema.json" } });
    run = await cli("vectors", "--spec-path", broken);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `arp-conformance: ${join(broken, "v1", "schemas", "a.schema.json")}: does not compile`,
    );
    expect(run.stdout).toBe("");
  });
});

describe("arp-conformance arguments", () => {
  const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };

  it("prints the program's help with --help or -h, listing every command of the table, and exits 0", async () => {
    for (const argv of [["--help"], ["-h"]]) {
      const { code, stdout, stderr } = await cli(...argv);
      expect([code, stderr]).toEqual([0, ""]);
      expect(stdout).toMatch(/^Usage: arp-conformance <command> \[options\]\n/);
      for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command.name} +\\S`, "m"));
      expect(stdout).toContain("-v, --version");
    }
  });

  it("prints a command's help, generated from its options, with <command> --help", async () => {
    const { code, stdout } = await cli("vectors", "--help");
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toBe(
      "Usage: arp-conformance vectors [--spec-path DIR] [--vectors DIR] [--invalid-vectors DIR] [--format text|json]",
    );
    expect(stdout).toMatch(/^ {6}--invalid-vectors DIR {2}Folder of vectors that must be rejected\.$/m);
    expect(stdout).toMatch(/^Exit codes: /m);
  });

  it.each([["--version"], ["-v"], ["vectors", "--version"]])(
    "%s prints the package version and SPEC_REF",
    async (...argv) => {
      const { code, stdout, stderr } = await cli(...argv);
      expect([code, stderr]).toEqual([0, ""]);
      expect(stdout).toBe(`arp-conformance ${pkg.version} (${SPEC_REF})\n`);
    },
  );

  it.each([
    [["vectors", "--verbose"], "unknown option: --verbose", "vectors"],
    [["vectors", "-x"], "unknown option: -x", "vectors"],
    [["--bogus"], "unknown option: --bogus", undefined],
    [["verify"], "unknown command: verify (commands: vectors, check)", undefined],
    [["verify", "--verbose"], "unknown command: verify (commands: vectors, check)", undefined],
    [[], "missing command", undefined],
    [["vectors", "extra"], "unexpected argument: extra", "vectors"],
    [["vectors", "--format", "xml"], "--format must be text or json, not xml", "vectors"],
    [["vectors", "--vectors"], "--vectors needs a folder", "vectors"],
    [["vectors", "--vectors", "--format", "json"], "--vectors needs a folder", "vectors"],
    [["vectors", "--spec-path="], "--spec-path needs a folder", "vectors"],
    [["vectors", "--help=yes"], "--help takes no value", "vectors"],
  ])("exits 2 on %j with one line of its own and the usage", async (argv, message, command) => {
    const { code, stdout, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const [first, usage, ...rest] = stderr.trimEnd().split("\n");
    expect(first).toBe(`arp-conformance: ${message}`);
    expect(usage).toBe(
      command === undefined
        ? "Usage: arp-conformance <command> [options]"
        : "Usage: arp-conformance vectors [--spec-path DIR] [--vectors DIR] [--invalid-vectors DIR] [--format text|json]",
    );
    expect(rest.at(-1)).toBe(
      `Run \`arp-conformance ${command === undefined ? "" : `${command} `}--help\` for more.`,
    );
    // Never Node's own parseArgs text.
    expect(stderr).not.toMatch(/ERR_PARSE_ARGS|To specify a positional argument|Unknown option '/);
  });
});

if (!hasReference) {
  console.warn(
    `skipping the reference-vector tests: ${referenceSpecRoot} is absent (a fresh clone has no ../shared)`,
  );
}

describe.skipIf(!hasReference)("the reference ARP Standard (../shared/reference/arp-standard)", () => {
  it("our precompiled validators accept and reject the reference vectors", async () => {
    const { code, stdout, stderr } = await cli(
      "vectors",
      "--vectors",
      join(referenceSpecRoot, "conformance", "json_vectors"),
      "--invalid-vectors",
      join(referenceSpecRoot, "conformance", "json_vectors_invalid"),
    );
    expect([code, stderr]).toEqual([0, ""]);
    expect(lastLine(stdout)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it.each([
    ["the v1 folder", referenceSpecRoot],
    ["the repository root", join(referenceSpecRoot, "..", "..")],
  ])("--spec-path %s compiles the reference tree and passes its own vectors", async (_, dir) => {
    const { code, stdout, stderr } = await cli("vectors", "--spec-path", dir);
    expect([code, stderr]).toEqual([0, ""]);
    const total =
      countJson(join(referenceSpecRoot, "conformance", "json_vectors")) +
      countJson(join(referenceSpecRoot, "conformance", "json_vectors_invalid"));
    expect(lastLine(stdout)).toBe(`${total} passed, 0 failed`);
  });
});

describe("the built bin", () => {
  it("arp-conformance vectors (the package's bin, run as a program) exits 0 and ends with the summary", () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    const bin = join(packageRoot, pkg.bin["arp-conformance"]!);
    expect(statSync(bin).mode & 0o111, "the bin must be executable").not.toBe(0);
    const child = spawnSync(bin, ["vectors"], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(lastLine(child.stdout)).toMatch(/^\d+ passed, 0 failed$/);
  });
  it("the built bin prints the package version with --version, and its own message on an unknown option", () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
    const bin = join(packageRoot, "bin", "arp-conformance.js");
    const version = spawnSync(bin, ["--version"], { encoding: "utf8" });
    expect([version.status, version.stderr, version.stdout]).toEqual([
      0,
      "",
      `arp-conformance ${pkg.version} (${SPEC_REF})\n`,
    ]);
    const unknown = spawnSync(bin, ["vectors", "--verbose"], { encoding: "utf8" });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe("arp-conformance: unknown option: --verbose");
  });
});
