/**
 * Hostile input to the NDJSON parser, property-based (fast-check): arbitrary bytes split at arbitrary
 * points, invalid UTF-8, huge lines, deep nesting. The only error is `ArpProtocolError` (never a
 * `RangeError`, `SyntaxError` or `TypeError`); how the bytes are split never changes the outcome;
 * valid NDJSON round-trips; memory is bounded by `maxLineLength` (heap after GC, `--expose-gc`: the
 * `hostile` project of vitest.config.ts).
 *
 *   ARP_FUZZ_RUNS=100000 npx vitest run --project hostile   # the heavy local run (default 2,000)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArpProtocolError } from "../src/core/errors.js";
import { NdjsonDecoder, type NdjsonLine, readNdjson } from "../src/core/ndjson.js";

const RUNS = Number(process.env.ARP_FUZZ_RUNS ?? 2_000);
const SEED = process.env.ARP_FUZZ_SEED === undefined ? undefined : Number(process.env.ARP_FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
/** Scales a test's timeout with the knob (2,000 runs take well under a second each). */
const timeout = Math.max(30_000, RUNS * 10);

type Outcome = { lines: NdjsonLine[]; error?: { message: string; line: number | undefined } };

/** Decodes `bytes` cut at `cuts`: every line before an error, and the error (which must be typed). */
function decode(bytes: Uint8Array, cuts: readonly number[], maxLineLength?: number): Outcome {
  const decoder = new NdjsonDecoder(maxLineLength === undefined ? {} : { maxLineLength });
  const lines: NdjsonLine[] = [];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const cut of [...points, bytes.length]) {
      decoder.push(bytes.subarray(from, cut), lines);
      from = cut;
    }
    decoder.end(lines);
    return { lines };
  } catch (err) {
    if (!(err instanceof ArpProtocolError))
      throw new Error(`an untyped error: ${String(err)}`, { cause: err });
    // Spent: the same error again, typed.
    expect(() => decoder.push(new Uint8Array([0x7b]))).toThrow(err);
    return { lines, error: { message: err.message, line: err.line } };
  }
}

/** Bytes that look a little like NDJSON: JSON fragments, newlines, CRs, BOMs and bad UTF-8 among noise. */
const hostileBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
      fc.constantFrom(
        ...[
          [0x0a],
          [0x0d, 0x0a],
          [0x0d],
          [0xef, 0xbb, 0xbf],
          [0x80],
          [0xc0, 0xaf],
          [0xed, 0xa0, 0x80],
          [0xf4, 0x90],
        ].map((b) => new Uint8Array(b)),
        ...["{", "}", "[", "]", '"', "\\", "\\u", "\\ud800", "  ", "\u2028", "__proto__"].map((t) =>
          new TextEncoder().encode(t),
        ),
      ),
    ),
    { maxLength: 30 },
  )
  .map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  });

const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe(`NdjsonDecoder under hostile input (${RUNS} runs per property)`, () => {
  it(
    "arbitrary bytes: values or an ArpProtocolError, the same however the bytes are split",
    () => {
      fc.assert(
        fc.property(hostileBytes, cuts, fc.constantFrom(undefined, 8, 64), (bytes, at, max) => {
          const whole = decode(bytes, [], max);
          expect(decode(bytes, at, max)).toEqual(whole);
          // One byte at a time is a split too.
          if (bytes.length < 200) expect(decode(bytes, Array.from(bytes.keys()), max)).toEqual(whole);
        }),
        params,
      );
    },
    timeout,
  );

  it(
    "valid NDJSON (any JSON values, LF or CRLF, blank lines) round-trips, split anywhere",
    () => {
      const line = fc.tuple(
        fc.jsonValue(),
        fc.constantFrom("\n", "\r\n"),
        fc.constantFrom("", "\n", " \r\n"),
      );
      fc.assert(
        fc.property(fc.array(line, { maxLength: 12 }), cuts, (items, at) => {
          const text = items.map(([v, end, blank]) => `${JSON.stringify(v)}${end}${blank}`).join("");
          const { lines, error } = decode(new TextEncoder().encode(text), at);
          expect(error).toBeUndefined();
          expect(lines.map((l) => l.value)).toEqual(items.map(([v]) => JSON.parse(JSON.stringify(v))));
        }),
        params,
      );
    },
    timeout,
  );

  it("deep nesting (up to 1,000,000 levels on one line): a value or an ArpProtocolError, nothing else", () => {
    for (const depth of [100_000, 1_000_000]) {
      const open = "[".repeat(depth);
      for (const text of [
        `${open}${"]".repeat(depth)}\n`,
        `${open}\n`,
        `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
      ]) {
        const outcome = decode(new TextEncoder().encode(text), [1, depth, depth + 1]);
        expect(outcome.lines.length + (outcome.error ? 1 : 0)).toBe(1);
      }
    }
  });

  it(
    "a line over maxLineLength is refused as it arrives, whatever the chunking, on the right line",
    () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 64 }), fc.nat({ max: 5 }), cuts, (max, before, at) => {
          const text = `${"1\n".repeat(before)}"${"x".repeat(max)}"`; // one longer than max, no newline
          const { lines, error } = decode(new TextEncoder().encode(text), at, max);
          expect(lines).toHaveLength(before);
          expect(error).toEqual({
            line: before + 1,
            message: `line ${before + 1}: NDJSON line is longer than ${max} characters`,
          });
        }),
        params,
      );
    },
    timeout,
  );
});

describe("bounded memory", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  const heapAfterGc = () => {
    gc!();
    gc!();
    return process.memoryUsage().heapUsed;
  };

  it("a server that never sends a newline: refused at 16 MiB (the default limit), its pieces released", async () => {
    expect(gc, "run with --expose-gc (the hostile project of vitest.config.ts)").toBeTypeOf("function");
    const chunk = new Uint8Array(1024 * 1024).fill(0x61); // 1 MiB of "a", forever
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        controller.enqueue(chunk);
      },
    });
    const before = heapAfterGc();
    let peak = 0;
    const error = await (async () => {
      try {
        for await (const _ of readNdjson(body)) throw new Error("no line was expected");
      } catch (err) {
        return err;
      } finally {
        peak = process.memoryUsage().heapUsed;
      }
    })();
    expect(error).toBeInstanceOf(ArpProtocolError);
    expect((error as ArpProtocolError).line).toBe(1);
    expect(sent).toBeLessThanOrEqual(18); // read stops just past the limit (plus what the stream pulled ahead)
    // The decoded pieces (16 MiB of text, Latin-1 in V8: about 1 byte a character) are dropped after the error.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    expect(heapAfterGc() - before).toBeLessThan(4 * 1024 * 1024);
  });

  it("a long run of hostile streams leaves the heap where it was", () => {
    const sample = fc.sample(fc.tuple(hostileBytes, cuts), { numRuns: 200, seed: 7 });
    for (const [bytes, at] of sample) decode(bytes, at, 64); // warm up
    const before = heapAfterGc();
    for (let i = 0; i < Math.max(10, RUNS / 200); i++)
      for (const [bytes, at] of sample) decode(bytes, at, 64);
    expect(heapAfterGc() - before).toBeLessThan(2 * 1024 * 1024);
  });
});
