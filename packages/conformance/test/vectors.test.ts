/** The programmatic API: mapping, the runner, spec trees, the error class and the export map. */
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import {
  compileSpecTree,
  locateSpecRoot,
  precompiledValidators,
  runVectors,
  schemaFileFor,
  UsageError,
} from "../src/index.js";
import { repoRoot, tempTree } from "./helpers.js";

const RUN = { run_id: "r1", state: "queued", root_node_run_id: "n1" };
const validators = precompiledValidators();

describe("the public surface", () => {
  it("exports exactly these names", () => {
    expect(Object.keys(api).sort()).toEqual([
      "DEFAULT_FIXTURES",
      "FIXTURE_SCHEMAS",
      "IMPLEMENTED_TIERS",
      "TIERS",
      "UsageError",
      "applyBaseline",
      "checksFor",
      "compileSpecTree",
      "invalidBodies",
      "jsonReporter",
      "locateSpecRoot",
      "parseBaseline",
      "parseFixtures",
      "precompiledValidators",
      "readFixtures",
      "renderJson",
      "renderJunit",
      "renderText",
      "runConformance",
      "runVectors",
      "schemaFileFor",
      "textReporter",
    ]);
  });

  it("recognises a UsageError from another copy of the package (brand check)", () => {
    const foreign = { [Symbol.for("@arp/conformance.UsageError")]: true, message: "x" };
    expect(foreign instanceof UsageError).toBe(true);
    expect({} instanceof UsageError).toBe(false);
    const err = new UsageError("a: b", { path: "a" });
    expect(err).toBeInstanceOf(Error);
    expect([err.name, err.code, err.path]).toEqual(["UsageError", "usage_error", "a"]);
  });
});

describe("schemaFileFor", () => {
  it.each([
    ["core/run.json", "core/run.schema.json"],
    ["core/run/minimal.json", "core/run.schema.json"],
    ["run_gateway/runs/run_start_request.json", "run_gateway/runs/run_start_request.schema.json"],
    ["run_gateway/runs/run_start_request/minimal.json", "run_gateway/runs/run_start_request.schema.json"],
    ["core/nope.json", undefined],
    ["core/nope/minimal.json", undefined],
    ["core/run/deeper/minimal.json", undefined],
    ["run.json", undefined],
  ])("%s → %s", (vector, schema) => {
    expect(schemaFileFor(vector, validators)).toBe(schema);
  });

  it("prefers <name>.schema.json over the folder form", () => {
    const map = new Map([
      ["a/b.schema.json", () => true],
      ["a/b/c.schema.json", () => true],
    ]);
    expect(schemaFileFor("a/b/c.json", map)).toBe("a/b/c.schema.json");
    expect(schemaFileFor("a/b/d.json", map)).toBe("a/b.schema.json");
  });
});

describe("runVectors", () => {
  it("judges both folders, sorted, and records schema, status and issues", () => {
    const valid = tempTree({
      "core/run/b.json": RUN,
      "core/run/a.json": { ...RUN, state: "bogus" },
      "core/run.json": RUN,
    });
    const invalid = tempTree({
      "core/run/required--run_id.json": { state: "queued", root_node_run_id: "n" },
    });
    const run = runVectors({ validators, vectorsDir: valid, invalidVectorsDir: invalid });
    expect(run.errors).toEqual([]);
    expect(run.results.map((r) => [r.path, r.expected, r.schema, r.status])).toEqual([
      ["core/run/a.json", "valid", "core/run.schema.json", "mismatch"],
      ["core/run/b.json", "valid", "core/run.schema.json", "ok"],
      ["core/run.json", "valid", "core/run.schema.json", "ok"],
      ["core/run/required--run_id.json", "invalid", "core/run.schema.json", "ok"],
    ]);
    expect([run.passed, run.failed]).toEqual([3, 1]);
    expect(run.results[0]!.issues[0]).toMatchObject({ pointer: "/state", keyword: "enum" });
    expect(run.results[0]!.detail).toMatch(/^\/state must be one of "queued"/);
    expect(run.results[3]!.detail).toBe("/run_id is required");
    expect(run.results[1]!.file).toBe(join(valid, "core", "run", "b.json"));
  });

  it("collects every usage problem and still runs the other files", () => {
    const valid = tempTree({
      "core/nope.json": {},
      "core/also_nope/x.json": {},
      "core/run/broken.json": "{ not json",
      "core/run/ok.json": RUN,
    });
    const run = runVectors({ validators, vectorsDir: valid });
    expect(run.errors.map((e) => e.path)).toEqual([
      join(valid, "core", "also_nope", "x.json"),
      join(valid, "core", "nope.json"),
      join(valid, "core", "run", "broken.json"),
    ]);
    expect(run.errors.every((e) => e instanceof UsageError && e.message.startsWith(e.path!))).toBe(true);
    expect(run.results.map((r) => r.path)).toEqual(["core/run/ok.json"]);
  });

  it("reports a missing folder, an empty folder and no folder at all", () => {
    const empty = tempTree({ "README.md": "# no vectors here" });
    const missing = join(empty, "missing");
    expect(runVectors({ validators, vectorsDir: missing }).errors[0]!.message).toBe(
      `folder not found: ${missing}`,
    );
    expect(runVectors({ validators, invalidVectorsDir: empty }).errors[0]!.message).toBe(
      `no *.json vectors below ${empty}`,
    );
    expect(runVectors({ validators }).errors).toHaveLength(1);
  });

  it("follows symbolic links and reports a dangling one", () => {
    const target = tempTree({ "run/minimal.json": RUN });
    const valid = tempTree({});
    symlinkSync(target, join(valid, "core"));
    symlinkSync(join(valid, "nowhere.json"), join(valid, "core-dangling.json"));
    const run = runVectors({ validators, vectorsDir: valid });
    expect(run.results.map((r) => r.path)).toEqual(["core/run/minimal.json"]);
    expect(run.errors.map((e) => e.path)).toEqual([join(valid, "core-dangling.json")]);
  });
});

describe("spec trees", () => {
  const specV1 = join(repoRoot, "spec", "v1");

  it.each([
    ["a v1 folder", specV1],
    ["a folder containing v1/", join(repoRoot, "spec")],
    ["a repository root containing spec/v1", repoRoot],
  ])("locates %s", (_, dir) => {
    expect(locateSpecRoot(dir)).toBe(specV1);
  });

  it("names the path it could not use", () => {
    const dir = tempTree({ "v2/schemas/x.schema.json": {} });
    expect(() => locateSpecRoot(dir)).toThrow(
      new UsageError(
        `no ARP spec tree at ${dir}: expected schemas/ in it (a v1 folder), v1/schemas/, or spec/v1/schemas/ (a repository root)`,
        { path: dir },
      ),
    );
    expect(() => locateSpecRoot(join(dir, "missing"))).toThrow(
      `spec path not found: ${join(dir, "missing")}`,
    );
  });

  it("compiles every schema of our tree, agreeing with the precompiled validators", () => {
    const tree = compileSpecTree(specV1);
    expect([...tree.validators.keys()]).toEqual([...validators.keys()].sort());
    expect(tree.warnings).toEqual([]);
    const compiled = runVectors({
      validators: tree.validators,
      vectorsDir: join(specV1, "conformance", "json_vectors"),
      invalidVectorsDir: join(specV1, "conformance", "json_vectors_invalid"),
    });
    const precompiled = runVectors({
      validators,
      vectorsDir: join(specV1, "conformance", "json_vectors"),
      invalidVectorsDir: join(specV1, "conformance", "json_vectors_invalid"),
    });
    expect(compiled.failed).toBe(0);
    expect(compiled.results).toEqual(precompiled.results);
  });

  it("asserts date-time and uri exactly like @arp/model", () => {
    const root = tempTree({
      "schemas/thing.schema.json": {
        type: "object",
        properties: { at: { type: "string", format: "date-time" }, url: { type: "string", format: "uri" } },
      },
    });
    const check = compileSpecTree(root).validators.get("thing.schema.json")!;
    expect(check({ at: "2026-01-15T09:30:00Z", url: "unix:///run/arp.sock" })).toBe(true);
    expect(check({ at: "2026-01-15T09:30:00" })).toBe(false); // no time zone
    expect(check({ url: "/relative/path" })).toBe(false); // no scheme
    expect(check.errors?.[0]).toMatchObject({ keyword: "format", instancePath: "/url" });
  });

  it("resolves relative $refs between files and lists every broken schema", () => {
    const good = tempTree({
      "schemas/common/ext.schema.json": { type: "object" },
      "schemas/core/thing.schema.json": {
        type: "object",
        properties: { e: { $ref: "../common/ext.schema.json" } },
      },
    });
    const check = compileSpecTree(good).validators.get("core/thing.schema.json")!;
    expect(check({ e: 1 })).toBe(false);

    const bad = tempTree({
      "schemas/a.schema.json": { $ref: "missing.schema.json" },
      "schemas/b.schema.json": "{ nope",
      "schemas/c.schema.json": { type: "object" },
    });
    let caught: unknown;
    try {
      compileSpecTree(bad);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const problems = (caught as UsageError).problems;
    expect(problems.map((p) => p.path)).toEqual([
      join(bad, "schemas", "b.schema.json"),
      join(bad, "schemas", "a.schema.json"),
    ]);
    expect(problems[1]!.message).toMatch(/does not compile .*missing\.schema\.json/);
  });

  it("returns ajv's warnings instead of printing them", () => {
    const root = tempTree({ "schemas/x.schema.json": { type: "string", format: "color" } });
    expect(compileSpecTree(root).warnings.join("\n")).toMatch(/unknown format "color"/);
  });
});
