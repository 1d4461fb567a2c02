import { afterEach, describe, expect, it, vi } from "vitest";
import { ArpError, ArpProtocolError } from "../src/core/errors.js";
import { DEFAULT_MAX_LINE_LENGTH, NdjsonDecoder, type NdjsonLine, readNdjson } from "../src/core/ndjson.js";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const REQUEST = { method: "GET", url: "https://gw.example/v1/runs/run_1/events" };

/** RunEvent-like lines: non-ASCII text (2-, 3- and 4-byte UTF-8), CRLF on some, blank lines, no final newline. */
const EVENTS = [
  { run_id: "run_1", seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" },
  { run_id: "run_1", seq: 1, type: "node_run_assigned", data: { note: "café ✓ 日本 🚀" } },
  { run_id: "run_1", seq: 2, type: "atomic_executed", data: { state: "succeeded", duration_ms: 4650 } },
  { run_id: "run_1", seq: 3, type: "run_completed", data: { summary: "fin — ✓" } },
];
const [e0, e1, e2, e3] = EVENTS.map((e) => JSON.stringify(e)) as [string, string, string, string];
const FIXTURE = `${e0}\n${e1}\r\n\n  \r\n${e2}\r\n${e3}`;
const EXPECTED: NdjsonLine[] = [
  { value: EVENTS[0], line: 1 },
  { value: EVENTS[1], line: 2 },
  { value: EVENTS[2], line: 5 },
  { value: EVENTS[3], line: 6 },
];

/** A short stream for the quadratic passes: a 2-byte, a 3-byte and a 4-byte character, CRLF, a blank line. */
const SHORT = '{"a":"é✓"}\r\n\n[1,"🚀"]\n"日本"';
const SHORT_EXPECTED: NdjsonLine[] = [
  { value: { a: "é✓" }, line: 1 },
  { value: [1, "🚀"], line: 3 },
  { value: "日本", line: 4 },
];

/** Cuts `data` at the given positions (sorted, possibly equal or at the ends: empty chunks included). */
function cut(data: Uint8Array, positions: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of positions) {
    chunks.push(data.slice(from, at));
    from = at;
  }
  chunks.push(data.slice(from));
  return chunks;
}

function decodeAll(chunks: readonly Uint8Array[], decoder = new NdjsonDecoder()): NdjsonLine[] {
  const out: NdjsonLine[] = [];
  for (const chunk of chunks) decoder.push(chunk, out);
  return decoder.end(out);
}

interface Source {
  stream: ReadableStream<Uint8Array>;
  pulls: () => number;
  cancels: unknown[];
}

/** A stream that hands out one chunk per pull (no read-ahead) and records pulls and cancels. */
function source(chunks: Iterable<Uint8Array>): Source {
  const it = chunks[Symbol.iterator]();
  let pulls = 0;
  const cancels: unknown[] = [];
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls++;
        const next = it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel(reason) {
        cancels.push(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls, cancels };
}

async function drain(gen: AsyncIterable<NdjsonLine>): Promise<{ lines: NdjsonLine[]; error: unknown }> {
  const lines: NdjsonLine[] = [];
  try {
    for await (const line of gen) lines.push(line);
  } catch (error) {
    return { lines, error };
  }
  return { lines, error: undefined };
}

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

describe("NdjsonDecoder: chunk boundaries", () => {
  const data = bytes(FIXTURE);
  const short = bytes(SHORT);

  it("the fixture really has multi-byte characters, CRLF, blank lines and no final newline", () => {
    expect(data.length).toBeGreaterThan(FIXTURE.length);
    expect(FIXTURE).toContain("\r\n");
    expect(FIXTURE).toContain("\n\n");
    expect(FIXTURE.endsWith("}")).toBe(true);
    expect(decodeAll([data])).toEqual(EXPECTED);
  });

  it("gives the same values and line numbers for every single cut position", () => {
    for (let at = 0; at <= data.length; at++) {
      expect(decodeAll(cut(data, [at])), `cut at ${at}`).toEqual(EXPECTED);
    }
  });

  it("gives the same values for every pair of cut positions", () => {
    let runs = 0;
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b++) {
        const got = decodeAll(cut(data, [a, b]));
        // toEqual per pair is slow; compare a serialization and report the first failing pair.
        if (JSON.stringify(got) !== JSON.stringify(EXPECTED))
          expect(got, `cuts at ${a}, ${b}`).toEqual(EXPECTED);
        runs++;
      }
    }
    expect(runs).toBe(((data.length + 1) * (data.length + 2)) / 2);
    // Exhaustive (tens of thousands of decodes): about 1 s alone, several on a loaded 2-core machine.
  }, 30_000);

  it("gives the same values when every byte is its own chunk", () => {
    expect(decodeAll(Array.from(data, (b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it("returns the lines a push completes, and end() the last one", () => {
    const decoder = new NdjsonDecoder();
    expect(decoder.push(bytes(`${e0}\n${e1.slice(0, 10)}`))).toEqual([EXPECTED[0]]);
    expect(decoder.push(bytes(e1.slice(10)))).toEqual([]);
    expect(decoder.push(bytes("\r"))).toEqual([]);
    expect(decoder.push(bytes("\n"))).toEqual([EXPECTED[1]]);
    expect(decoder.end()).toEqual([]);
  });

  it("ignores a UTF-8 BOM at the very start, wherever the chunks are cut", () => {
    const withBom = Uint8Array.of(0xef, 0xbb, 0xbf, ...short);
    for (let at = 0; at <= withBom.length; at++) {
      expect(decodeAll(cut(withBom, [at])), `cut at ${at}`).toEqual(SHORT_EXPECTED);
    }
  });

  it("does not ignore a BOM later in the stream", () => {
    expect(() => decodeAll([bytes('{"a":1}\n\uFEFF{"b":2}\n')])).toThrow(
      expect.objectContaining({ name: "ArpProtocolError", line: 2 }),
    );
  });

  it("treats a line end at the end of the stream as ending the last line, not starting an empty one", () => {
    expect(decodeAll([bytes('{"a":1}\n')])).toEqual([{ value: { a: 1 }, line: 1 }]);
    expect(decodeAll([bytes('{"a":1}\r\n\n\n   ')])).toEqual([{ value: { a: 1 }, line: 1 }]);
    expect(decodeAll([])).toEqual([]);
  });

  it("decodes invalid UTF-8 to U+FFFD, as Response.text() does", () => {
    expect(decodeAll([Uint8Array.of(0x22, 0x61, 0xff, 0x62, 0x22, 0x0a)])).toEqual([
      { value: "a\uFFFDb", line: 1 },
    ]);
  });

  it("can be reused after end(): line numbers start again", () => {
    const decoder = new NdjsonDecoder();
    expect(decodeAll([short], decoder)).toEqual(SHORT_EXPECTED);
    expect(decodeAll([short], decoder)).toEqual(SHORT_EXPECTED);
  });
});

describe("readNdjson: chunk boundaries", () => {
  const data = bytes(FIXTURE);
  const short = bytes(SHORT);

  it("gives the same values and line numbers for every single cut position", async () => {
    for (let at = 0; at <= data.length; at++) {
      const { lines, error } = await drain(readNdjson(source(cut(data, [at])).stream));
      expect(error).toBeUndefined();
      expect(lines, `cut at ${at}`).toEqual(EXPECTED);
    }
  });

  it("gives the same values for every pair of cut positions of a short stream", async () => {
    for (let a = 0; a <= short.length; a++) {
      for (let b = a; b <= short.length; b++) {
        const { lines, error } = await drain(readNdjson(source(cut(short, [a, b])).stream));
        expect(error).toBeUndefined();
        if (JSON.stringify(lines) !== JSON.stringify(SHORT_EXPECTED)) {
          expect(lines, `cuts at ${a}, ${b}`).toEqual(SHORT_EXPECTED);
        }
      }
    }
  });

  it("gives the same values when every byte is its own chunk", async () => {
    const src = source(Array.from(data, (b) => Uint8Array.of(b)));
    expect(await drain(readNdjson(src.stream))).toEqual({ lines: EXPECTED, error: undefined });
    expect(src.pulls()).toBe(data.length + 1); // every chunk, then the close
    expect(src.cancels).toEqual([]);
    expect(src.stream.locked).toBe(false);
  });

  it("yields each value as soon as its line is complete, before the next chunk is read", async () => {
    const src = source([bytes(`${e0}\n${e1.slice(0, 5)}`), bytes(`${e1.slice(5)}\n`)]);
    const gen = readNdjson(src.stream);
    expect(await gen.next()).toEqual({ done: false, value: EXPECTED[0] });
    expect(src.pulls()).toBe(1);
    expect(await gen.next()).toEqual({ done: false, value: EXPECTED[1] });
    expect(src.pulls()).toBe(2);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });
});

describe("malformed lines", () => {
  const BAD = `${e0}\n${e1}\r\n\n{"run_id": oops}\n${e2}\n`;

  it("throws ArpProtocolError with the line number after yielding the values before it", async () => {
    for (const chunks of [[bytes(BAD)], Array.from(bytes(BAD), (b) => Uint8Array.of(b))]) {
      const src = source(chunks);
      const { lines, error } = await drain(readNdjson(src.stream, REQUEST));
      expect(lines).toEqual(EXPECTED.slice(0, 2));
      expect(error).toBeInstanceOf(ArpProtocolError);
      expect(error).toBeInstanceOf(ArpError);
      const e = error as ArpProtocolError;
      expect(e.code).toBe("protocol_error");
      expect(e.line).toBe(4);
      expect(e.method).toBe("GET");
      expect(e.url).toBe(REQUEST.url);
      expect(e.message).toMatch(
        /^line 4: NDJSON line is not valid JSON: .*oops.* \(GET https:\/\/gw\.example\//,
      );
      expect(e.cause).toBeInstanceOf(SyntaxError);
      // The rest of the stream is not read: it is cancelled, with the error as the reason.
      expect(src.cancels).toEqual([error]);
      expect(src.stream.locked).toBe(false);
    }
  });

  it("names no request when none is given", async () => {
    const { error } = await drain(readNdjson(source([bytes("{}\n{")]).stream));
    expect(error).toBeInstanceOf(ArpProtocolError);
    expect((error as ArpProtocolError).line).toBe(2);
    expect((error as ArpProtocolError).method).toBeUndefined();
    expect((error as ArpProtocolError).message).toBe('line 2: NDJSON line is not valid JSON: "{"');
  });

  it("rejects two values on one line", () => {
    expect(() => decodeAll([bytes('{"a":1}{"b":2}\n')])).toThrow(ArpProtocolError);
    expect(() => decodeAll([bytes('{"a":1}\r{"b":2}\n')])).toThrow(ArpProtocolError); // a lone CR is no line end
  });

  it("NdjsonDecoder keeps the lines before the bad one in `out`, and is spent afterwards", () => {
    const decoder = new NdjsonDecoder({ request: REQUEST });
    const out: NdjsonLine[] = [];
    let error: unknown;
    try {
      decoder.push(bytes(BAD), out);
    } catch (e) {
      error = e;
    }
    expect(out).toEqual(EXPECTED.slice(0, 2));
    expect(error).toMatchObject({ code: "protocol_error", line: 4, url: REQUEST.url });
    expect(() => decoder.push(bytes(`${e0}\n`))).toThrow(error as Error);
    expect(() => decoder.end()).toThrow(error as Error);
  });

  it("reports a malformed last line without a newline", () => {
    expect(() => decodeAll([bytes(`${e0}\n{"a":`)])).toThrow(expect.objectContaining({ line: 2 }));
  });
});

describe("stopping early", () => {
  it("breaking out of for await cancels the source and reads no further", async () => {
    // Each chunk holds two lines; after the first value the consumer leaves.
    const chunks = Array.from({ length: 5 }, (_, i) => bytes(`{"seq":${2 * i}}\n{"seq":${2 * i + 1}}\n`));
    const src = source(chunks);
    const seen: unknown[] = [];
    for await (const { value } of readNdjson(src.stream)) {
      seen.push(value);
      break;
    }
    expect(seen).toEqual([{ seq: 0 }]);
    expect(src.cancels).toHaveLength(1);
    expect(src.stream.locked).toBe(false);
    expect(src.pulls()).toBe(1);
    await ticks(5);
    expect(src.pulls()).toBe(1);
  });

  it("an exception in the loop body cancels the source too", async () => {
    const src = source([bytes("1\n2\n3\n")]);
    const boom = new Error("consumer failed");
    await expect(
      (async () => {
        for await (const _ of readNdjson(src.stream)) throw boom;
      })(),
    ).rejects.toBe(boom);
    expect(src.cancels).toHaveLength(1);
    expect(src.stream.locked).toBe(false);
  });

  it("return() before the first next() leaves the stream untouched", async () => {
    const src = source([bytes("1\n")]);
    const gen = readNdjson(src.stream);
    await gen.return();
    // The generator body never ran, so it never locked the stream; the caller still owns it.
    expect(src.stream.locked).toBe(false);
    expect(src.pulls()).toBe(0);
  });

  it("does not cancel a stream that ended normally", async () => {
    const src = source([bytes("1\n2")]);
    expect((await drain(readNdjson(src.stream))).lines.map((l) => l.value)).toEqual([1, 2]);
    expect(src.cancels).toEqual([]);
    expect(src.stream.locked).toBe(false);
  });
});

describe("errors of the source stream", () => {
  it("propagate unchanged (the same object), after the values read before them", async () => {
    const reset = new TypeError("terminated: other side closed");
    let step = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (step++ === 0) controller.enqueue(bytes(`${e0}\n${e1.slice(0, 8)}`));
          else controller.error(reset);
        },
      },
      { highWaterMark: 0 },
    );
    const { lines, error } = await drain(readNdjson(stream, REQUEST));
    expect(lines).toEqual([EXPECTED[0]]);
    expect(error).toBe(reset);
    expect(stream.locked).toBe(false);
  });
});

describe("line length limit", () => {
  const line16 = `"${"a".repeat(14)}"`; // 16 characters

  it("accepts a line of exactly maxLineLength characters (line end excluded), rejects one more", () => {
    const decoder = () => new NdjsonDecoder({ maxLineLength: 16 });
    expect(decodeAll([bytes(`${line16}\n`)], decoder())).toHaveLength(1);
    expect(decodeAll([bytes(`${line16}\r\n`)], decoder())).toHaveLength(1);
    expect(decodeAll([bytes(`${line16}\r`), bytes("\n")], decoder())).toHaveLength(1);
    expect(decodeAll([bytes(line16)], decoder())).toHaveLength(1);
    for (const text of [`1\n ${line16}\n`, `1\n ${line16}`, `1\n${line16} \r\n`]) {
      for (let at = 0; at <= text.length; at++) {
        expect(
          () => decodeAll(cut(bytes(text), [at]), decoder()),
          `${JSON.stringify(text)} cut at ${at}`,
        ).toThrow(expect.objectContaining({ name: "ArpProtocolError", code: "protocol_error", line: 2 }));
      }
    }
  });

  it("throws while the line is still arriving, before any newline", () => {
    const decoder = new NdjsonDecoder({ maxLineLength: 16, request: REQUEST });
    expect(decoder.push(bytes(`1\n${"a".repeat(10)}`))).toEqual([{ value: 1, line: 1 }]);
    expect(() => decoder.push(bytes("a".repeat(10)))).toThrow(
      expect.objectContaining({
        line: 2,
        method: "GET",
        message: `line 2: NDJSON line is longer than 16 characters (GET ${REQUEST.url})`,
      }),
    );
  });

  it("bounds what readNdjson buffers from a server that never sends a newline (default 16 MiB)", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const src = source(
      (function* () {
        for (;;) yield chunk;
      })(),
    );
    const { lines, error } = await drain(readNdjson(src.stream, REQUEST));
    expect(lines).toEqual([]);
    expect(error).toBeInstanceOf(ArpProtocolError);
    expect((error as ArpProtocolError).line).toBe(1);
    // It stopped right after the limit: 16 MiB + 1 character of room for a CR, so 257 chunks.
    expect(src.pulls()).toBe(Math.ceil((DEFAULT_MAX_LINE_LENGTH + 2) / chunk.length));
    expect(src.cancels).toEqual([error]);
  });

  it("readNdjson takes the limit as an option", async () => {
    const { error } = await drain(
      readNdjson(source([bytes(`${e0}\n`)]).stream, undefined, { maxLineLength: 10 }),
    );
    expect(error).toMatchObject({ code: "protocol_error", line: 1 });
  });

  it("rejects a non-positive limit", () => {
    expect(() => new NdjsonDecoder({ maxLineLength: 0 })).toThrow(RangeError);
    expect(() => new NdjsonDecoder({ maxLineLength: Number.NaN })).toThrow(RangeError);
  });
});

describe("linear work", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("decodes every byte exactly once, whatever the chunking", () => {
    // Count what reaches TextDecoder from outside the decoder: a re-decoding implementation fails here.
    let decoded = 0;
    class CountingDecoder extends TextDecoder {
      override decode(input?: AllowSharedBufferSource, options?: TextDecodeOptions): string {
        decoded += input?.byteLength ?? 0;
        return super.decode(input, options);
      }
    }
    vi.stubGlobal("TextDecoder", CountingDecoder);
    const data = bytes(`${FIXTURE}\n`.repeat(50));
    for (const size of [1, 7, 64, 4096, data.length]) {
      decoded = 0;
      const chunks = Array.from({ length: Math.ceil(data.length / size) }, (_, i) =>
        data.subarray(i * size, (i + 1) * size),
      );
      expect(decodeAll(chunks)).toHaveLength(4 * 50);
      expect(decoded, `chunks of ${size}`).toBe(data.length);
    }
  });

  it("parses one line of 1e6 one-byte chunks (a rescanning or re-concatenating splitter would not finish)", () => {
    const n = 1_000_000;
    const decoder = new NdjsonDecoder();
    const quote = Uint8Array.of(0x22);
    const a = Uint8Array.of(0x61);
    const out: NdjsonLine[] = [];
    decoder.push(quote, out);
    for (let i = 0; i < n; i++) decoder.push(a, out);
    decoder.push(quote, out);
    expect(out).toEqual([]);
    decoder.push(Uint8Array.of(0x0a), out);
    expect(out).toHaveLength(1);
    expect((out[0]!.value as string).length).toBe(n);
    expect(out[0]!.line).toBe(1);
  });

  it("parses 1e5 lines fed one byte at a time through a stream", async () => {
    const n = 100_000;
    const data = bytes("7\n".repeat(n));
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < data.length) controller.enqueue(data.subarray(i, ++i));
        else controller.close();
      },
    });
    let count = 0;
    let last = 0;
    for await (const { value, line } of readNdjson(stream)) {
      if (value === 7) count++;
      last = line;
    }
    expect(count).toBe(n);
    expect(last).toBe(n);
  });
});
