import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ArpApiError, AtomicExecutorClient } from "@arp/client";
import type { AtomicExecuteRequest, NodeType } from "@arp/model";
import type { RunningServer } from "@arp/server";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeFailure } from "../src/atomic/nodes.js";
import { ATOMIC_NODE_TYPES, SLEEP_MAX_MS } from "../src/catalog/atomic.js";
import { ReferenceAtomicExecutor } from "../src/services/atomic-executor.js";

const CHECKER = fileURLToPath(
  new URL("../../../packages/conformance/bin/arp-conformance.js", import.meta.url),
);
const noLogs = { warn: () => {}, error: () => {} };
const quiet = { auth: { mode: "disabled" as const }, logger: noLogs };

let seq = 0;
const nodeRunId = () => `nr_${++seq}`;

function request(
  id: string,
  inputs: Record<string, unknown>,
  extra: Partial<AtomicExecuteRequest> = {},
): AtomicExecuteRequest {
  return {
    node_run_id: nodeRunId(),
    run_id: "run_1",
    node_type_ref: { node_type_id: `arp.ref.${id}`, version: "1.0.0" },
    inputs,
    ...extra,
  };
}

async function serve(executor: ReferenceAtomicExecutor) {
  const running = await executor.listen({ port: 0 });
  return { running, client: new AtomicExecutorClient({ baseUrl: running.url, retry: false }) };
}

/** Polls `f` until it stops throwing (a cancel sent before the execute arrives is a 404). */
async function eventually<T>(f: () => Promise<T>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const apiError = async (p: Promise<unknown>): Promise<ArpApiError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArpApiError);
  return err as ArpApiError;
};

describe("ReferenceAtomicExecutor", () => {
  let running: RunningServer;
  let client: AtomicExecutorClient;
  const exec = (id: string, inputs: Record<string, unknown>, extra?: Partial<AtomicExecuteRequest>) =>
    client.executeAtomicNodeRun(request(id, inputs, extra));

  beforeAll(async () => {
    ({ running, client } = await serve(new ReferenceAtomicExecutor({ server: quiet })));
  });
  afterAll(() => running.close());

  // One success per node type (fail has none): each result is also checked against its output_schema.
  const good: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["echo", { text: "hi", n: [1, { a: null }] }, { text: "hi", n: [1, { a: null }] }],
    ["text.upper", { text: "straße ärp", extra: 1 }, { text: "STRASSE ÄRP" }],
    ["text.lower", { text: "ÄRP Stack" }, { text: "ärp stack" }],
    ["text.reverse", { text: "ab😀c" }, { text: "c😀ba" }],
    [
      "text.word_count",
      { text: "  one two\tthree\n" },
      { text: "  one two\tthree\n", words: 3, characters: 16 },
    ],
    ["text.word_count", { text: "" }, { text: "", words: 0, characters: 0 }],
    ["arith", { op: "add", a: 2, b: 3.5 }, { result: 5.5 }],
    ["arith", { op: "subtract", a: 2, b: 3 }, { result: -1 }],
    ["arith", { op: "multiply", a: -4, b: 2.5 }, { result: -10 }],
    ["arith", { op: "divide", a: 1, b: 4 }, { result: 0.25 }],
    ["json.pick", { value: { a: { b: [10, 20] } }, path: "/a/b/1" }, { value: 20, found: true }],
    ["json.pick", { value: { "a/b": { "~": 1 } }, path: "/a~1b/~0" }, { value: 1, found: true }],
    ["json.pick", { value: [1, 2], path: "" }, { value: [1, 2], found: true }],
    ["json.pick", { value: { a: null }, path: "/a" }, { value: null, found: true }],
    ["json.pick", { value: { a: 1 }, path: "/b", default: "none" }, { value: "none", found: false }],
    [
      "json.merge",
      {
        objects: [
          { a: { x: 1 }, l: [1] },
          { a: { y: 2 }, l: [2], b: 3 },
        ],
      },
      { value: { a: { y: 2 }, l: [2], b: 3 } },
    ],
    [
      "json.merge",
      { objects: [{ a: { x: 1, z: { p: 1 } } }, { a: { y: 2, z: { q: 2 } } }], deep: true },
      { value: { a: { x: 1, y: 2, z: { p: 1, q: 2 } } } },
    ],
    // The SHA-256 test vectors of FIPS 180-2 ("abc") and of the empty string, and a non-ASCII one.
    [
      "sha256",
      { text: "abc" },
      { sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    ],
    ["sha256", { text: "" }, { sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }],
    ["sleep", { ms: 0 }, { slept_ms: 0 }],
  ];

  it("has a success case for every node type but fail, and every output matches its output_schema", async () => {
    const covered = new Set(good.map(([id]) => `arp.ref.${id}`));
    expect(ATOMIC_NODE_TYPES.map((t) => t.node_type_id).filter((id) => !covered.has(id))).toEqual([
      "arp.ref.fail",
    ]);
    // A separate ajv, compiling each output_schema as published: the executor's own check is not trusted.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const validators = new Map(
      ATOMIC_NODE_TYPES.map((t) => [t.node_type_id, ajv.compile(t.output_schema as object)]),
    );
    for (const [id, inputs, outputs] of good) {
      const result = await exec(id, inputs);
      expect(result, id).toMatchObject({ state: "succeeded", outputs });
      expect(result.error).toBeUndefined();
      const validate = validators.get(`arp.ref.${id}`)!;
      expect(validate(result.outputs), `${id}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("every node type is a full atomic NodeType under arp.ref. at 1.0.0, with both schemas", () => {
    for (const t of ATOMIC_NODE_TYPES) {
      expect(t).toMatchObject({ kind: "atomic", version: "1.0.0" });
      expect(t.node_type_id).toMatch(/^arp\.ref\.[a-z0-9_.]+$/);
      expect(t.description?.length).toBeGreaterThan(10);
      expect(t.input_schema).toMatchObject({ type: "object" });
      expect(t.output_schema).toMatchObject({ type: "object" });
    }
  });

  it("answers the result for the request's node_run_id, with started_at and ended_at", async () => {
    const body = request("echo", {});
    const result = await client.executeAtomicNodeRun(body);
    expect(result.node_run_id).toBe(body.node_run_id);
    expect(Date.parse(result.ended_at as string)).toBeGreaterThanOrEqual(
      Date.parse(result.started_at as string),
    );
    expect(Object.values(result)).not.toContain(null);
  });

  it("inputs that break the input_schema fail with invalid_inputs and say where", async () => {
    const bad: [string, Record<string, unknown>, string][] = [
      ["text.upper", {}, ""],
      ["text.lower", { text: 3 }, "/text"],
      ["text.reverse", { text: null }, "/text"],
      ["text.word_count", { text: ["a"] }, "/text"],
      ["sha256", { txt: "a" }, ""],
      ["arith", { op: "pow", a: 1, b: 2 }, "/op"],
      ["arith", { op: "add", a: "1", b: 2 }, "/a"],
      ["arith", { op: "add", a: 1, b: 2, c: 3 }, ""],
      ["json.pick", { value: "str", path: "" }, "/value"],
      ["json.pick", { value: {}, path: "a" }, "/path"],
      ["json.merge", { objects: [] }, "/objects"],
      ["json.merge", { objects: [1] }, "/objects/0"],
      ["json.merge", { objects: Array.from({ length: 101 }, () => ({})) }, "/objects"],
      ["json.merge", { objects: [{}], deep: "yes" }, "/deep"],
      ["sleep", { ms: -1 }, "/ms"],
      ["sleep", { ms: 1.5 }, "/ms"],
      ["sleep", { ms: SLEEP_MAX_MS + 1 }, "/ms"],
      ["fail", { code: "" }, "/code"],
      ["fail", { why: "x" }, ""],
    ];
    for (const [id, inputs, pointer] of bad) {
      const result = await exec(id, inputs);
      expect(result, id).toMatchObject({ state: "failed", error: { code: "invalid_inputs" } });
      expect(result.outputs).toBeUndefined();
      expect(result.error?.message).toContain(`inputs of arp.ref.${id}@1.0.0`);
      const errors = result.error?.details?.errors as { pointer: string }[];
      expect(errors[0]?.pointer, id).toBe(pointer);
    }
  });

  it("an unknown node type, or a version it does not have, fails with unknown_node_type", async () => {
    for (const ref of [
      { node_type_id: "arp-conformance.echo", version: "1.0.0" },
      { node_type_id: "arp.ref.echo", version: "2.0.0" },
    ]) {
      const result = await client.executeAtomicNodeRun({ ...request("echo", {}), node_type_ref: ref });
      expect(result).toMatchObject({ state: "failed", error: { code: "unknown_node_type" } });
      expect(result.error?.message).toContain(`${ref.node_type_id}@${ref.version}`);
    }
  });

  it("node failures: division by zero, overflow, a missing path", async () => {
    expect(await exec("arith", { op: "divide", a: 1, b: 0 })).toMatchObject({
      state: "failed",
      error: { code: "division_by_zero" },
    });
    expect(await exec("arith", { op: "multiply", a: 1e308, b: 10 })).toMatchObject({
      state: "failed",
      error: { code: "non_finite_result" },
    });
    for (const [value, path] of [
      [{ a: 1 }, "/b"],
      [[1, 2], "/2"],
      [[1, 2], "/01"],
      [[1, 2], "/-"],
      [{ a: 1 }, "/a/b"],
      [{}, "/__proto__"],
      [{}, "/constructor"],
    ] as const) {
      expect(await exec("json.pick", { value, path }), path).toMatchObject({
        state: "failed",
        error: { code: "path_not_found", details: { path } },
      });
    }
  });

  it("json.merge keeps a __proto__ key a plain key", async () => {
    const objects = JSON.parse('[{"a":1},{"__proto__":{"polluted":true}}]') as unknown[];
    const result = await exec("json.merge", { objects, deep: true });
    expect(result.state).toBe("succeeded");
    expect(Object.keys(result.outputs?.value as object)).toEqual(["a", "__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("arp.ref.fail fails with the given code, message and retryable, else a default", async () => {
    expect(await exec("fail", {})).toMatchObject({
      state: "failed",
      error: { code: "deliberate_failure", message: "arp.ref.fail always fails" },
    });
    const result = await exec("fail", { code: "boom", message: "it broke", retryable: true });
    expect(result).toMatchObject({
      state: "failed",
      error: { code: "boom", message: "it broke", retryable: true },
    });
    expect(result.outputs).toBeUndefined();
    expect((await exec("fail", { code: "x" })).error).not.toHaveProperty("retryable");
  });

  it("sleep waits ms, then succeeds", async () => {
    const t0 = performance.now();
    expect(await exec("sleep", { ms: 60 })).toMatchObject({ state: "succeeded", outputs: { slept_ms: 60 } });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it("a cancel of an executing sleep ends it at once, canceled; the cancel of an unknown node run is a 404", async () => {
    const body = request("sleep", { ms: 30_000 });
    const t0 = performance.now();
    const pending = client.executeAtomicNodeRun(body);
    await eventually(() => client.cancelAtomicNodeRun(body.node_run_id)); // 404 until it executes
    const result = await pending;
    expect(result).toMatchObject({ node_run_id: body.node_run_id, state: "canceled" });
    expect(result.outputs).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(15_000); // not the sleep's 30 s
    // Executed: cancel again is still a 204 (nothing to stop); another id was never here.
    await expect(client.cancelAtomicNodeRun(body.node_run_id)).resolves.toBeUndefined();
    const err = await apiError(client.cancelAtomicNodeRun("nr_never"));
    expect([err.status, err.code]).toEqual([404, "not_found"]);
  });

  it("a cancel stops only its own node run", async () => {
    const a = request("sleep", { ms: 30_000 });
    const b = request("sleep", { ms: 300 });
    const pa = client.executeAtomicNodeRun(a);
    const pb = client.executeAtomicNodeRun(b);
    await eventually(() => client.cancelAtomicNodeRun(a.node_run_id));
    expect((await pa).state).toBe("canceled");
    expect(await pb).toMatchObject({ state: "succeeded", outputs: { slept_ms: 300 } });
  });

  it("constraints.budgets.max_wall_time_ms ends a longer sleep, failed with max_wall_time_exceeded", async () => {
    const t0 = performance.now();
    const result = await exec(
      "sleep",
      { ms: 30_000 },
      { constraints: { budgets: { max_wall_time_ms: 50 } } },
    );
    expect(result).toMatchObject({ state: "failed", error: { code: "max_wall_time_exceeded" } });
    expect(performance.now() - t0).toBeLessThan(15_000); // not the sleep's 30 s
    // A budget that is long enough changes nothing.
    expect(
      await exec("sleep", { ms: 10 }, { constraints: { budgets: { max_wall_time_ms: 5_000 } } }),
    ).toMatchObject({ state: "succeeded" });
  });

  it("the same node_run_id while it executes is a 409; once it is done it may execute again", async () => {
    const body = request("sleep", { ms: 30_000 });
    const pending = client.executeAtomicNodeRun(body);
    const err = await eventually(async () => {
      const e = await apiError(client.executeAtomicNodeRun({ ...body, inputs: { ms: 0 } }));
      if (e.status !== 409) throw e; // until the first one is executing
      return e;
    });
    expect(err.code).toBe("conflict");
    await client.cancelAtomicNodeRun(body.node_run_id);
    expect((await pending).state).toBe("canceled");
    expect(await client.executeAtomicNodeRun({ ...body, inputs: { ms: 0 } })).toMatchObject({
      state: "succeeded",
    });
  });

  it("a client that goes away stops its sleep (the node run is no longer executing)", async () => {
    const body = request("sleep", { ms: 30_000 });
    const controller = new AbortController();
    const pending = client.executeAtomicNodeRun(body, { signal: controller.signal });
    await eventually(async () => {
      const e = await apiError(client.executeAtomicNodeRun({ ...body, inputs: { ms: 0 } }));
      if (e.status !== 409) throw e;
    });
    controller.abort(new Error("gone"));
    await expect(pending).rejects.toThrow("gone");
    // Once the server has seen the disconnect, the id is free again (a 409 until then).
    const again = await eventually(() => client.executeAtomicNodeRun({ ...body, inputs: { ms: 0 } }));
    expect(again.state).toBe("succeeded");
  });
});

describe("ReferenceAtomicExecutor limits and guards", () => {
  it("more node runs at once than maxConcurrentNodeRuns: 503 unavailable, retryable", async () => {
    const { running, client } = await serve(
      new ReferenceAtomicExecutor({ server: quiet, maxConcurrentNodeRuns: 1 }),
    );
    try {
      const first = request("sleep", { ms: 30_000 });
      const pending = client.executeAtomicNodeRun(first);
      const err = await eventually(async () => {
        const e = await apiError(client.executeAtomicNodeRun(request("echo", {})));
        if (e.status !== 503) throw e;
        return e;
      });
      expect([err.code, err.retryable]).toEqual(["unavailable", true]);
      await client.cancelAtomicNodeRun(first.node_run_id);
      await pending;
      expect((await client.executeAtomicNodeRun(request("echo", {}))).state).toBe("succeeded");
    } finally {
      await running.close();
    }
  });

  it("remembers at most maxRememberedNodeRuns finished ids, forgetting the oldest", async () => {
    const { running, client } = await serve(
      new ReferenceAtomicExecutor({ server: quiet, maxRememberedNodeRuns: 2 }),
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const body = request("echo", { i });
        ids.push(body.node_run_id);
        await client.executeAtomicNodeRun(body);
      }
      expect((await apiError(client.cancelAtomicNodeRun(ids[0] as string))).status).toBe(404);
      await client.cancelAtomicNodeRun(ids[1] as string);
      await client.cancelAtomicNodeRun(ids[2] as string);
    } finally {
      await running.close();
    }
  });

  it("rejects bad limits and a node type given twice at construction", () => {
    expect(() => new ReferenceAtomicExecutor({ maxConcurrentNodeRuns: 0 })).toThrow(RangeError);
    expect(() => new ReferenceAtomicExecutor({ maxRememberedNodeRuns: 1.5 })).toThrow(RangeError);
    const type = ATOMIC_NODE_TYPES[0] as NodeType;
    expect(
      () =>
        new ReferenceAtomicExecutor({
          nodes: [
            { type, run: (i) => i },
            { type, run: (i) => i },
          ],
        }),
    ).toThrow("given twice");
  });

  it("outputs that break the output_schema fail with invalid_outputs; a node's bug is a 500", async () => {
    const type = (id: string): NodeType => ({
      node_type_id: id,
      version: "1.0.0",
      kind: "atomic",
      input_schema: { type: "object" },
      output_schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
    });
    const executor = new ReferenceAtomicExecutor({
      server: quiet,
      nodes: [
        { type: type("x.wrong"), run: () => ({ n: "one" }) },
        { type: type("x.bug"), run: () => JSON.parse("{") as Record<string, unknown> },
        {
          type: type("x.failure"),
          run: () => {
            throw new NodeFailure("custom", "no", { details: { why: "because" } });
          },
        },
      ],
      now: () => new Date("2026-01-02T03:04:05.000Z"),
    });
    const { running, client } = await serve(executor);
    try {
      const call = (id: string) =>
        client.executeAtomicNodeRun({
          node_run_id: nodeRunId(),
          run_id: "r",
          node_type_ref: { node_type_id: id, version: "1.0.0" },
          inputs: {},
        });
      const wrong = await call("x.wrong");
      expect(wrong).toMatchObject({
        state: "failed",
        error: { code: "invalid_outputs", details: { errors: [{ pointer: "/n" }] } },
        started_at: "2026-01-02T03:04:05.000Z",
        ended_at: "2026-01-02T03:04:05.000Z",
      });
      expect(wrong.outputs).toBeUndefined();
      expect((await apiError(call("x.bug"))).status).toBe(500);
      expect(await call("x.failure")).toMatchObject({
        state: "failed",
        error: { code: "custom", message: "no", details: { why: "because" } },
      });
      // Only the node types it was given.
      expect((await call("arp.ref.echo")).error?.code).toBe("unknown_node_type");
    } finally {
      await running.close();
    }
  });
});

describe("ReferenceAtomicExecutor conformance", () => {
  let running: RunningServer;
  let dir: string;
  beforeAll(async () => {
    running = await new ReferenceAtomicExecutor({ server: quiet }).listen({ port: 0 });
    dir = await mkdtemp(join(tmpdir(), "arp-atomic-"));
  });
  afterAll(async () => {
    await running.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function check(args: string[]) {
    const { stdout } = await promisify(execFile)(process.execPath, [
      CHECKER,
      "check",
      "atomic-executor",
      "--url",
      running.url,
      "--tier",
      "deep",
      "--allow-mutations",
      "--strict",
      "--format",
      "json",
      ...args,
    ]).catch((err: { stdout?: string; code?: number }) => {
      throw new Error(`arp-conformance exited ${err.code}: ${err.stdout ?? ""}`);
    });
    return JSON.parse(stdout) as {
      ok: boolean;
      counts: { passed: number; failed: number; warned: number; skipped: number };
      results: { check_id: string; status: string; message: string }[];
    };
  }

  it("passes --tier deep --allow-mutations --strict, executing arp.ref.echo from a fixtures file", async () => {
    const fixtures = join(dir, "fixtures.json");
    const atomic_execute: AtomicExecuteRequest = {
      node_run_id: "x",
      run_id: "x",
      node_type_ref: { node_type_id: "arp.ref.echo", version: "1.0.0" },
      inputs: { text: "arp-conformance" },
    };
    await writeFile(fixtures, JSON.stringify({ atomic_execute }));
    const report = await check(["--fixtures", fixtures]);
    expect(report.counts).toMatchObject({ failed: 0, warned: 0, skipped: 0 });
    expect(report.ok).toBe(true);
    const byId = new Map(report.results.map((r) => [r.check_id, r]));
    expect(byId.get("core.executeAtomicNodeRun.execute")?.message).toMatch(/: succeeded$/);
    expect(byId.get("deep.cancelAtomicNodeRun.cancel")?.status).toBe("PASS");
  });

  it("passes with the default fixtures too (arp-conformance.echo: failed, unknown_node_type)", async () => {
    const report = await check([]);
    expect(report.counts).toMatchObject({ failed: 0, warned: 0, skipped: 0 });
    const execute = report.results.find((r) => r.check_id === "core.executeAtomicNodeRun.execute");
    expect(execute?.message).toMatch(/: failed$/);
  });
});
