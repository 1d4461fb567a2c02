/**
 * Incremental NDJSON (newline-delimited JSON) parsing for the event streams of the ARP services.
 * {@link NdjsonDecoder} is the synchronous, allocation-light hot path (bytes in, parsed lines out);
 * {@link readNdjson} drives it from a `ReadableStream` such as a `fetch` response body. Web APIs
 * only (`TextDecoder`, `ReadableStream`): no Node-only imports, so it runs in browsers, Deno and Bun.
 */
import { ArpProtocolError, type ArpRequestInfo } from "./errors.js";

/** One parsed NDJSON line: the JSON value and its 1-based line number (blank lines are counted). */
export interface NdjsonLine {
  value: unknown;
  line: number;
}

export interface NdjsonOptions {
  /**
   * Longest line accepted, in characters of the decoded text (UTF-16 code units, line end excluded;
   * equal to the byte count for ASCII, never more than it). A longer line throws
   * {@link ArpProtocolError} as soon as it is known to be too long, without waiting for its end, so a
   * server that never sends a newline cannot make the client buffer without bound. Default 16 MiB.
   */
  maxLineLength?: number;
}

/** Default {@link NdjsonOptions.maxLineLength}: 16 MiB. */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

const LF = "\n";
const CR = 13;

/** Empty or whitespace-only. The first-character test keeps `trim()` off the path of real JSON lines. */
function isBlank(text: string): boolean {
  const c = text.charCodeAt(0); // NaN when empty: falls through to trim()
  if (c > 0x20 && c < 0x7f) return false;
  return text.trim() === "";
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * Splits a UTF-8 byte stream into lines and parses each with `JSON.parse`.
 *
 * Each byte is decoded once, by one streaming `TextDecoder` (which also joins multi-byte characters
 * split across chunks and drops a UTF-8 BOM at the very start); only the newly decoded text is
 * searched for newlines; the unfinished last line is kept as a list of pieces joined once, when its
 * newline arrives. The work is therefore linear in the input, whatever the chunk sizes.
 *
 * Line ends are `\n` or `\r\n`; blank lines are skipped but counted; the last line may lack a newline
 * (call {@link end}). Invalid UTF-8 decodes to U+FFFD, as `Response.text()` does.
 *
 * Errors: a line that is not valid JSON, or longer than `maxLineLength`, throws
 * {@link ArpProtocolError} with its `line` (and the request, when given). The lines before it in the
 * same chunk are already in the `out` array passed to {@link push}, so pass your own array to keep
 * them. After an error the decoder is spent: every later call throws the same error.
 */
export class NdjsonDecoder {
  readonly #decoder = new TextDecoder("utf-8");
  readonly #maxLineLength: number;
  readonly #request: ArpRequestInfo | undefined;
  /** Pieces of the unfinished line, and their total length. */
  #pending: string[] = [];
  #pendingLength = 0;
  /** Number of the last line completed (blank ones included). */
  #lineNo = 0;
  #failure: ArpProtocolError | undefined;

  constructor(options: NdjsonOptions & { request?: ArpRequestInfo } = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!(max > 0)) throw new RangeError(`maxLineLength must be positive, got ${max}`);
    this.#maxLineLength = max;
    this.#request = options.request;
  }

  /** Decodes `chunk`, appends every line it completes to `out` (returned; a new array by default). */
  push(chunk: Uint8Array, out: NdjsonLine[] = []): NdjsonLine[] {
    if (this.#failure) throw this.#failure;
    this.#scan(this.#decoder.decode(chunk, { stream: true }), out);
    return out;
  }

  /**
   * Ends the stream: flushes the decoder, appends the last line if it had no trailing newline, and
   * resets the decoder for a new stream (line numbers start again at 1).
   */
  end(out: NdjsonLine[] = []): NdjsonLine[] {
    if (this.#failure) throw this.#failure;
    this.#scan(this.#decoder.decode(), out);
    if (this.#pending.length > 0) {
      const text = this.#pending.join("");
      this.#pending = [];
      this.#pendingLength = 0;
      this.#complete(text, out);
    }
    this.#lineNo = 0;
    return out;
  }

  #scan(text: string, out: NdjsonLine[]): void {
    let start = 0;
    for (let nl = text.indexOf(LF); nl !== -1; nl = text.indexOf(LF, start)) {
      let line: string;
      if (this.#pending.length === 0) {
        line = text.slice(start, nl);
      } else {
        // The only place pieces are joined: once per line, so the copy is linear in its length.
        this.#pending.push(text.slice(0, nl));
        line = this.#pending.join("");
        this.#pending = [];
        this.#pendingLength = 0;
      }
      start = nl + 1;
      this.#complete(line, out);
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.#pending.push(rest);
      this.#pendingLength += rest.length;
      // One extra character of room: it may be the `\r` of a `\r\n` whose `\n` is in the next chunk.
      if (this.#pendingLength > this.#maxLineLength + 1) {
        throw this.#fail(this.#tooLong(this.#lineNo + 1));
      }
    }
  }

  /** One complete line, its line end removed except for a `\r` (whitespace to `JSON.parse`). */
  #complete(text: string, out: NdjsonLine[]): void {
    const line = ++this.#lineNo;
    const length = text.charCodeAt(text.length - 1) === CR ? text.length - 1 : text.length;
    if (length > this.#maxLineLength) throw this.#fail(this.#tooLong(line));
    if (isBlank(text)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw this.#fail(
        new ArpProtocolError(`NDJSON line is not valid JSON: ${excerpt(text)}`, {
          line,
          cause,
          ...this.#request,
        }),
      );
    }
    out.push({ value, line });
  }

  #tooLong(line: number): ArpProtocolError {
    return new ArpProtocolError(`NDJSON line is longer than ${this.#maxLineLength} characters`, {
      line,
      ...this.#request,
    });
  }

  #fail(error: ArpProtocolError): ArpProtocolError {
    this.#failure = error;
    this.#pending = [];
    this.#pendingLength = 0;
    return error;
  }
}

/**
 * Parses an NDJSON byte stream incrementally: yields each JSON value as soon as its line is complete,
 * never buffering the whole body. Handles lines split across chunks (also multi-byte UTF-8 characters
 * split across chunks), \n and \r\n line ends, blank lines (skipped, but counted for line numbers),
 * and a last line without a trailing newline. A line that is not valid JSON throws ArpProtocolError
 * with its line number (and the request, when `request` is given); the values before it are yielded
 * first. Stops cleanly: when the consumer breaks out of the loop (the generator's return()), or on
 * error, the reader is released and the stream cancelled (so the HTTP connection is closed).
 *
 * An error of the stream itself (a `reader.read()` rejection, e.g. a connection reset) propagates
 * unchanged: the caller knows whether it is a transport failure and which error to wrap it in.
 */
export async function* readNdjson(
  body: ReadableStream<Uint8Array>,
  request?: ArpRequestInfo,
  options: NdjsonOptions = {},
): AsyncGenerator<NdjsonLine, void, undefined> {
  const decoder = new NdjsonDecoder(request ? { ...options, request } : options);
  const reader = body.getReader();
  const lines: NdjsonLine[] = [];
  let finished = false;
  let reason: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let failed = false;
      let failure: unknown;
      try {
        if (done) decoder.end(lines);
        else decoder.push(value, lines);
      } catch (error) {
        failed = true;
        failure = error;
      }
      // Hand out the lines completed before a bad one, then throw.
      for (let i = 0; i < lines.length; i++) yield lines[i]!;
      lines.length = 0;
      if (failed) {
        reason = failure;
        throw failure;
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    if (finished) {
      reader.releaseLock();
    } else {
      // Early exit (break, error, throw()): cancel so the source stops and its connection closes.
      // Not awaited: when the response was cloned (a logging hook, a caching fetch, msw), cancelling
      // one branch settles only once the other is consumed too, which may be never.
      reader.cancel(reason).catch(() => {}); // an errored stream rejects with its own error, already thrown
      reader.releaseLock();
    }
  }
}

/**
 * Reads a stream body that a server sent as `application/json`. JARVIS sends one JSON string whose
 * content is the NDJSON text: the whole body is one JSON value, read through the same line limit, and
 * its string is split and parsed as NDJSON. A body that is NDJSON after all, only mislabelled (a
 * FastAPI `StreamingResponse(media_type="application/json")`), has objects on its lines: they are
 * taken as they are.
 */
export async function* readQuotedNdjson(
  body: ReadableStream<Uint8Array>,
  request?: ArpRequestInfo,
  options: NdjsonOptions = {},
): AsyncGenerator<NdjsonLine, void, undefined> {
  for await (const entry of readNdjson(body, request, options)) {
    if (typeof entry.value !== "string") {
      yield entry;
      continue;
    }
    const decoder = new NdjsonDecoder(request ? { ...options, request } : options);
    const lines = decoder.end(decoder.push(new TextEncoder().encode(entry.value)));
    for (const line of lines) yield line;
  }
}
