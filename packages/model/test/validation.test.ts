import { createRequire } from "node:module";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  arrayIssues,
  assertRun,
  assertValid,
  formatIssues,
  isRun,
  issuesTruncated,
  isValid,
  MAX_VALIDATION_ISSUES,
  type NodeRunsCreateRequest,
  operationValidators,
  RUN_COORDINATOR_SERVICE,
  RUN_STATES,
  type Run,
  type RunState,
  SCHEMAS,
  type SchemaName,
  toIssues,
  ValidationError,
  validate,
  validatorFor,
} from "../src/index.js";

const run: Run = { run_id: "run_1", state: "running", root_node_run_id: "nr_1" };

describe("validate", () => {
  it("returns the value, typed, when it is valid", () => {
    const result = validate("Run", { ...run });
    expect(result).toEqual({ ok: true, value: run });
    if (result.ok) expectTypeOf(result.value).toEqualTypeOf<Run>();
  });

  it("reports every issue with a JSON pointer and a readable message", () => {
    const result = validate("Run", {
      run_id: 7,
      state: "paused",
      started_at: "2026-01-15T09:30:00",
      extra: 1,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.pointer, e.keyword, e.message])).toEqual([
      ["/root_node_run_id", "required", "is required"],
      ["/extra", "additionalProperties", expect.stringContaining("is not allowed")],
      ["/run_id", "type", "must be of type string"],
      ["/state", "enum", `must be one of ${RUN_STATES.map((s) => `"${s}"`).join(", ")}`],
      ["/started_at", "format", "must be a valid date-time string"],
    ]);
  });

  it("points into arrays and nested objects, escaping keys per RFC 6901", () => {
    const body = {
      run_id: "r",
      parent_node_run_id: "p",
      node_runs: [{ node_type_ref: { node_type_id: "x" }, inputs: {}, "a/b~c": 1 }],
    };
    const result = validate("NodeRunsCreateRequest", body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.pointer).sort()).toEqual([
      "/node_runs/0/a~1b~0c",
      "/node_runs/0/node_type_ref/version",
    ]);
  });

  it("words bounds, integers and minItems", () => {
    const issues = (name: SchemaName, data: unknown) => {
      const r = validate(name, data);
      return r.ok ? [] : r.errors.map((e) => `${e.pointer} ${e.message}`);
    };
    expect(issues("EvaluationResult", { status: "success", confidence: 1.5 })).toEqual([
      "/confidence must be <= 1",
    ]);
    expect(
      issues("RunEvent", { run_id: "r", seq: 1.5, type: "run_started", time: "2026-01-15T09:30:00Z" }),
    ).toEqual(["/seq must be an integer"]);
    expect(issues("NodeRunsCreateRequest", { run_id: "r", parent_node_run_id: "p", node_runs: [] })).toEqual([
      "/node_runs must have at least 1 item",
    ]);
    expect(issues("Extensions", { nodot: 1 })).toEqual([expect.stringMatching(/^\/nodot is not allowed/)]);
  });
});

describe("guards and assertions", () => {
  it("isValid and isX narrow unknown values", () => {
    const value: unknown = { ...run };
    expect(isValid("Run", value)).toBe(true);
    expect(isRun({})).toBe(false);
    if (isRun(value)) expectTypeOf(value).toEqualTypeOf<Run>();
    if (isValid("NodeRunsCreateRequest", value)) expectTypeOf(value).toEqualTypeOf<NodeRunsCreateRequest>();
  });

  it("isX works as a callback: the extra arguments of filter, some and every are ignored", () => {
    const items: unknown[] = [{ ...run }, {}, { ...run, state: "bogus" }, { ...run }];
    expect(items.filter(isRun)).toEqual([run, run]);
    expect(items.some(isRun)).toBe(true);
    expect(items.every(isRun)).toBe(false);
    expect(items.map(isRun)).toEqual([true, false, false, true]);
  });

  it("assertValid and assertX throw a ValidationError that lists the issues", () => {
    expect(() => assertRun({ ...run })).not.toThrow();
    let caught: unknown;
    try {
      assertValid("Run", { run_id: "r" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as ValidationError;
    expect(err.code).toBe("validation_failed");
    expect(err.schema).toBe("Run");
    expect(err.message).toBe("Invalid Run: /state is required; /root_node_run_id is required");
    expect(err.errors).toHaveLength(2);
  });

  it("summarises long issue lists", () => {
    const issues = ["/a", "/b", "/c", "/d", "/e"].map((pointer) => ({
      pointer,
      message: "is required",
      keyword: "required",
      params: {},
    }));
    expect(formatIssues(issues)).toBe("/a is required; /b is required; /c is required; and 2 more");
    expect(
      formatIssues([{ pointer: "", message: "must be of type object", keyword: "type", params: {} }]),
    ).toBe("(root) must be of type object");
  });

  it("instanceof works across the ESM and CJS builds (brand check)", async () => {
    type Build = {
      assertRun: (value: unknown) => void;
      ValidationError: abstract new (...args: never[]) => unknown;
    };
    const cjs = createRequire(import.meta.url)("../dist/index.cjs") as Build;
    const esmBuild = "../dist/index.js"; // a variable: tsc must not resolve dist/ at typecheck time
    const esm = (await import(esmBuild)) as Build;
    let fromCjs: unknown;
    try {
      cjs.assertRun({});
    } catch (err) {
      fromCjs = err;
    }
    expect(fromCjs).toBeInstanceOf(esm.ValidationError);
    expect(fromCjs).toBeInstanceOf(ValidationError);
    expect(new Error("x")).not.toBeInstanceOf(esm.ValidationError);
    expect({ code: "validation_failed" }).not.toBeInstanceOf(ValidationError);
  });
});

describe("types", () => {
  it("enums are string unions with their values exported as const arrays", () => {
    expectTypeOf<RunState>().toEqualTypeOf<"queued" | "running" | "succeeded" | "failed" | "canceled">();
    expectTypeOf(RUN_STATES).toEqualTypeOf<
      readonly ["queued", "running", "succeeded", "failed", "canceled"]
    >();
  });

  it("rejects unknown schema names and wrong shapes at compile time", () => {
    // @ts-expect-error: not a schema name
    expect(() => validate("Nope", {})).toThrow(
      /Unknown ARP schema name "Nope"; expected one of: AtomicExecuteRequest, /,
    );
    // @ts-expect-error: run_id must be a string
    const bad: Run = { run_id: 1, state: "queued", root_node_run_id: "n" };
    // @ts-expect-error: "paused" is not a RunState
    const state: RunState = "paused";
    expect([bad, state]).toHaveLength(2);
  });

  it("does not export a type named Error that would shadow the global", async () => {
    const mod = await import("../src/index.js");
    expect("Error" in mod).toBe(false);
    expectTypeOf<import("../src/index.js").ErrorDetail>().toHaveProperty("code");
  });
});

describe("operationValidators", () => {
  const ops = RUN_COORDINATOR_SERVICE.operations;

  it("gives the request and response validators of an operation, once", () => {
    const start = operationValidators(ops.startRun);
    expect(start.request).toBe(SCHEMAS.RunStartRequest.validate);
    expect(start.response).toBe(SCHEMAS.Run.validate);
    expect(operationValidators(ops.startRun)).toBe(start); // cached per operation
    expect(Object.isFrozen(start)).toBe(true);
  });

  it("has no request validator without a body, none for a 204, and the event schema for a stream", () => {
    expect(operationValidators(ops.getRun).request).toBeUndefined();
    expect(operationValidators(ops.streamRunEvents).response).toBe(SCHEMAS.RunEvent.validate);
    const empty = Object.values(ops).find((op) => op.response.kind === "empty");
    expect(empty).toBeDefined();
    expect(operationValidators(empty!).response).toBeUndefined();
  });
});

describe("validatorFor and arrayIssues", () => {
  it("validatorFor gives a schema's validator by name and rejects unknown names", () => {
    expect(validatorFor("Run")).toBe(SCHEMAS.Run.validate);
    expect(validatorFor("Run")).toBe(isRun);
    expect(() => validatorFor("Nope")).toThrow(/Unknown ARP schema name "Nope"; expected one of: .*Run/);
  });

  it("arrayIssues: undefined for an array of valid items, else the issues with the item's index", () => {
    const check = validatorFor("Run");
    expect(arrayIssues(check, [])).toBeUndefined();
    expect(arrayIssues(check, [run, run])).toBeUndefined();
    expect(arrayIssues(check, { ...run })).toEqual([
      { pointer: "", message: "must be of type array", keyword: "type", params: { type: "array" } },
    ]);
    const issues = arrayIssues(check, [run, { ...run, state: "paused" }, { run_id: "run_3" }]);
    expect(issues?.map((i) => `${i.pointer} ${i.keyword}`)).toEqual([
      "/1/state enum",
      "/2/state required",
      "/2/root_node_run_id required",
    ]);
  });
});

describe("the issue limit (MAX_VALIDATION_ISSUES)", () => {
  const hugeRequest = { node_runs: Array.from({ length: 300_000 }, () => ({})) };

  it("validators stop at the limit instead of reporting every issue of a huge document", () => {
    const check = validatorFor("NodeRunsCreateRequest");
    expect(check(hugeRequest)).toBe(false);
    expect(check.errors!.length).toBeGreaterThanOrEqual(MAX_VALIDATION_ISSUES);
    expect(check.errors!.length).toBeLessThan(2 * MAX_VALIDATION_ISSUES);
    expect(issuesTruncated(check.errors)).toBe(true);
    expect(toIssues(check.errors)).toHaveLength(MAX_VALIDATION_ISSUES);
  });

  it("validate and assertValid say when the list was cut", () => {
    const result = validate("NodeRunsCreateRequest", hugeRequest);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.truncated).toBe(true);
    expect(result.errors).toHaveLength(MAX_VALIDATION_ISSUES);
    expect(validate("NodeTypeRef", {})).toMatchObject({ ok: false, truncated: false });

    const error = (() => {
      try {
        assertValid("NodeRunsCreateRequest", hugeRequest);
      } catch (err) {
        return err as ValidationError;
      }
    })();
    expect(error?.truncated).toBe(true);
    expect(error?.message).toBe(
      "Invalid NodeRunsCreateRequest: /run_id is required; /parent_node_run_id is required; " +
        "/node_runs/0/node_type_ref is required; and 97 more (validation stopped after 100 issues)",
    );
  });

  it("arrayIssues stops at the limit", () => {
    const issues = arrayIssues(
      validatorFor("Run"),
      Array.from({ length: 100_000 }, () => ({})),
    );
    expect(issues).toHaveLength(MAX_VALIDATION_ISSUES);
  });

  it("formatIssues cuts a long pointer (an echoed unknown key) to 200 characters", () => {
    const result = validate("NodeTypeRef", { node_type_id: "a", version: "1", ["k".repeat(900_000)]: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.pointer).toHaveLength(900_001); // the issue itself is exact
    const line = formatIssues(result.errors);
    expect(line.length).toBeLessThan(300);
    expect(line).toMatch(/^\/k+… is not allowed/);
  });
});
