/**
 * Hostile input to the golden-vector loader (`runVectors`, and `arp-conformance vectors` in-process),
 * property-based (fast-check): vector files of arbitrary bytes, invalid UTF-8, truncated JSON, deep
 * nesting (100,000 levels), `__proto__` keys, huge files. Every file is a result (`ok`/`mismatch`) or
 * a `UsageError` naming it; nothing throws, the CLI exits 0, 1 or 2 (never 3, its internal error);
 * no prototype is polluted; the heap after GC returns to its baseline (`--expose-gc`: the `hostile`
 * project of vitest.config.ts).
 *
 *   ARP_FUZZ_RUNS=100000 npx vitest run --project hostile   # the heavy local run (default 2,000)
 */
import { isUtf8 } from "node:buffer";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { precompiledValidators, runVectors, UsageError } from "../src/index.js";
import { cli, requireBuild, tempTree } from "./helpers.js";

const RUNS = Number(process.env.ARP_FUZZ_RUNS ?? 2_000);
const SEED = process.env.ARP_FUZZ_SEED === undefined ? undefined : Number(process.env.ARP_FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
const timeout = Math.max(60_000, RUNS * 30);
const validators = precompiledValidators();
const RUN = { run_id: "r1", state: "queued", root_node_run_id: "n1" };
const MARK = "arpFuzzPolluted";

const encode = (text: string) => Buffer.from(text, "utf8");
const runText = JSON.stringify(RUN);

/** 100,000 levels deep: balanced, inside a Run's open `extensions`, unbalanced. */
const DEEP = [
  encode(`${"[".repeat(100_000)}${"]".repeat(100_000)}`),
  encode(
    `{"run_id":"r1","state":"queued","root_node_run_id":"n1","extensions":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
  ),
  encode(`${"[".repeat(100_000)}`),
];

/** Vector file contents: noise, near-JSON, bad UTF-8, deep nesting, polluting keys. */
const content: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => encode(JSON.stringify(v))) },
  { weight: 5, arbitrary: fc.nat({ max: runText.length - 1 }).map((n) => encode(runText.slice(0, n))) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.nat({ max: runText.length }),
        fc.constantFrom([0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]),
      )
      .map(([n, bad]) =>
        Buffer.concat([encode(runText.slice(0, n)), Buffer.from(bad), encode(runText.slice(n))]),
      ),
  },
  // Rarer: V8's JSON.parse takes about 35 ms for 100,000 levels.
  { weight: 1, arbitrary: fc.constantFrom(...DEEP) },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encode(runText)]),
      encode(`{"__proto__":{"${MARK}":true},"run_id":"r1","state":"queued","root_node_run_id":"n1"}`),
      encode(`{"constructor":{"prototype":{"${MARK}":true}},"run_id":"r1"}`),
      encode(""),
      encode("\u0000"),
    ),
  },
);

/** Where a file goes: the schema mapping's flat and folder forms, a non-schema name, odd names. */
const place = fc.constantFrom(
  "core/run.json",
  "core/run/case.json",
  "core/run/nested/deeper.json",
  "core/nothing.json",
  "core/run/%2e%2e.json",
  "core/run/ü é.json",
  "core/run/.json",
);

function outcome(dir: string) {
  const run = runVectors({
    validators,
    vectorsDir: join(dir, "valid"),
    invalidVectorsDir: join(dir, "invalid"),
  });
  for (const error of run.errors) expect(error).toBeInstanceOf(UsageError);
  expect(run.passed + run.failed).toBe(run.results.length);
  return run;
}

describe(`the vectors loader under hostile files (${RUNS} runs)`, () => {
  it(
    "every file is a result or a UsageError; nothing throws; no prototype is polluted",
    () => {
      const top = tempTree({});
      let n = 0;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom("valid", "invalid"), place, content), {
            minLength: 1,
            maxLength: 3,
          }),
          (files) => {
            // A fresh folder per run, removed when the run ends: the disk stays bounded however many
            // runs there are, and the suite's cleanup hook has no thousands of folders left to sweep.
            const root = join(top, String(n++));
            try {
              // The last write of a path wins.
              const written = new Map(
                files.map(([folder, path, bytes]) => [join(root, folder, path), bytes]),
              );
              for (const [file, bytes] of written) {
                mkdirSync(join(file, ".."), { recursive: true });
                writeFileSync(file, bytes);
              }
              for (const folder of ["valid", "invalid"]) mkdirSync(join(root, folder), { recursive: true });
              const run = outcome(root);
              for (const [file, bytes] of written) {
                // Every vector written is accounted for: a result, or an error that names it.
                const judged = run.results.some((r) => r.file === file);
                expect(judged || run.errors.some((e) => e.path === file), file).toBe(true);
                // Bytes that are not UTF-8 are never judged as a vector.
                if (!isUtf8(bytes)) expect(judged).toBe(false);
              }
              expect(({} as Record<string, unknown>)[MARK]).toBeUndefined();
            } finally {
              rmSync(root, { recursive: true, force: true });
            }
          },
        ),
        params,
      );
    },
    timeout,
  );

  it("the CLI: exit 0, 1 or 2 for any such folder, never 3 (an internal error)", async () => {
    requireBuild();
    const samples = fc.sample(fc.array(fc.tuple(place, content), { minLength: 1, maxLength: 3 }), {
      numRuns: Math.max(50, RUNS / 20),
      ...(SEED === undefined ? {} : { seed: SEED }),
    });
    for (const files of samples) {
      const dir = tempTree(Object.fromEntries(files.map(([path]) => [path, "{}"])));
      for (const [path, bytes] of files) writeFileSync(join(dir, path), bytes);
      for (const format of ["text", "json"]) {
        const { code, stderr } = await cli("vectors", "--vectors", dir, "--format", format);
        expect([0, 1, 2], stderr).toContain(code);
        if (format === "json") expect(stderr).not.toContain("internal error");
      }
    }
  });

  it("limits: invalid UTF-8 and a file over 16 MiB are UsageErrors naming the file (the big one is not read)", () => {
    const dir = tempTree({});
    mkdirSync(join(dir, "core"), { recursive: true });
    writeFileSync(
      join(dir, "core", "run.json"),
      Buffer.concat([
        encode('{"run_id":"r'),
        Buffer.from([0xff]),
        encode('1","state":"queued","root_node_run_id":"n1"}'),
      ]),
    );
    const bad = runVectors({ validators, vectorsDir: dir });
    expect(bad.results).toEqual([]);
    expect(bad.errors.map((e) => e.message)).toEqual([`${join(dir, "core", "run.json")}: not valid UTF-8`]);

    // 16 MiB + 1 of valid JSON (a string): refused by its size.
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x61);
    big[0] = 0x22;
    big[big.length - 1] = 0x22;
    writeFileSync(join(dir, "core", "run.json"), big);
    const huge = runVectors({ validators, vectorsDir: dir });
    expect(huge.errors.map((e) => e.message)).toEqual([
      `${join(dir, "core", "run.json")}: the vector is larger than 16777216 bytes (16777217)`,
    ]);
    // At the limit it is read (and judged: a string is no Run).
    big[1] = 0x22;
    writeFileSync(join(dir, "core", "run.json"), big.subarray(1));
    const at = runVectors({ validators, vectorsDir: dir });
    expect([at.errors, at.failed]).toEqual([[], 1]);
  });

  it("memory: a long run of hostile folders leaves the heap where it was", () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "run with --expose-gc (the hostile project of vitest.config.ts)").toBeTypeOf("function");
    const root = tempTree({});
    const samples = fc.sample(fc.tuple(place, content), { numRuns: 100, seed: 3 });
    const once = () => {
      for (const [path, bytes] of samples) {
        rmSync(root, { recursive: true, force: true });
        mkdirSync(join(root, path, ".."), { recursive: true });
        writeFileSync(join(root, path), bytes);
        runVectors({ validators, vectorsDir: root });
      }
    };
    once();
    gc!();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5; i++) once();
    gc!();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024);
  });
});
