/**
 * One NDJSON stream read for judging, bounded: a GET with `Accept: application/x-ndjson` whose body
 * is split into lines, exactly as sent (no line is trimmed, unquoted or skipped), until the body
 * ends, the deadline passes, or {@link MAX_STREAM_BYTES} / {@link MAX_STREAM_LINES} are reached.
 * The exchange is recorded (and redacted) as {@link probe} records it; the request is always
 * aborted at the end, so a stream the service keeps open does not keep its socket.
 */
import {
  type Answer,
  DEFAULT_TIMEOUT_MS,
  describeError,
  type Exchange,
  mediaTypeOf,
  NOT_UTF8,
  type ProbeOptions,
  prepareRequest,
  recordResponse,
  secondsOf,
  send,
} from "./probe.js";

/** The most bytes of a stream read (a longer stream ends the read with `limit`). */
export const MAX_STREAM_BYTES = 1024 * 1024;
/** The most lines of a stream read (more end the read with `limit`). */
export const MAX_STREAM_LINES = 10_000;

/**
 * Why the read stopped: the body ended (`eof`), the end event came and the read stopped a moment
 * later with the stream still open (`end_event`: a server may keep the connection after it), the
 * deadline passed with the stream still open (`deadline`), a bound was reached (`limit`), or no
 * answer or a broken body (`error`; the exchange's `error` says which).
 */
export type StreamEnd = "eof" | "end_event" | "deadline" | "limit" | "error";

export interface StreamRequest {
  url: string;
  /** Over the options' headers, as in {@link ProbeRequest}: null removes one. */
  headers?: Readonly<Record<string, string | null>>;
}

export interface StreamOptions extends ProbeOptions {
  /** Deadline of the whole read, headers and body: the stream is read until then. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link MAX_STREAM_BYTES}. */
  maxBytes?: number;
  /** Default {@link MAX_STREAM_LINES}. */
  maxLines?: number;
  /**
   * How long the body is read once the headers came (a stream that may follow forever); the
   * headers still have the whole `timeoutMs`. Default: until `timeoutMs`.
   */
  bodyMs?: number;
  /**
   * The stream's end event (`run_completed`): once a line of that type came, the read goes on for
   * {@link END_GRACE_MS} (to see anything sent after it) and then stops with `end_event`.
   */
  endEvent?: string;
}

/** How long a read goes on after the end event, to catch events sent after it. */
export const END_GRACE_MS = 250;

export interface StreamResult {
  exchange: Exchange;
  /** The media type of the response, lower case, without parameters, or null. */
  mediaType: string | null;
  /**
   * The lines, without their `\n`: every complete line, and at `eof` a last one without a newline.
   * A line cut by the deadline or a bound is left out.
   */
  lines: string[];
  ended: StreamEnd;
  /** The body as read (at most `maxBytes`), for judging an answer that is not a stream. */
  text: string;
}

interface Read {
  lines: string[];
  text: string;
  ended: StreamEnd;
  /** Why the read ended early, for the exchange; null at `eof`. */
  why: string | null;
}

/** `reader.read()`, or "time" when `ms` pass first. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<Awaited<ReturnType<typeof reader.read>> | "time"> {
  if (ms === Number.POSITIVE_INFINITY) return reader.read();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const time = new Promise<"time">((resolve) => {
    timer = setTimeout(() => resolve("time"), Math.max(0, ms));
  });
  try {
    return await Promise.race([reader.read(), time]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `line` is a JSON object whose `type` is `type`. */
function isEvent(line: string, type: string): boolean {
  try {
    const value = JSON.parse(line) as { type?: unknown } | null;
    return typeof value === "object" && value !== null && value.type === type;
  } catch {
    return false;
  }
}

async function readLines(
  { response, timedOut }: Answer,
  timeoutMs: number,
  maxBytes: number,
  maxLines: number,
  bodyMs: number,
  endEvent: string | undefined,
): Promise<Read> {
  const lines: string[] = [];
  let text = "";
  if (response.body === null) return { lines, text, ended: "eof", why: null };
  const reader = response.body.getReader();
  // Fatal: a body that is not UTF-8 is the service's fault, not something to paper over with U+FFFD.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  let size = 0;
  const take = (chunk: string): boolean => {
    text += chunk;
    const parts = (pending + chunk).split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) {
      if (lines.length === maxLines) return false;
      lines.push(line);
    }
    return true;
  };
  let stopAt = performance.now() + bodyMs;
  let endSeen = false;
  try {
    for (;;) {
      const next = await readWithin(reader, stopAt - performance.now());
      if (next === "time") {
        await reader.cancel().catch(() => undefined);
        if (endSeen) return { lines, text, ended: "end_event", why: null };
        return {
          lines,
          text,
          ended: "deadline",
          why: `stream still open after ${secondsOf(bodyMs)} of body`,
        };
      }
      const { done, value } = next;
      if (done) {
        take(decoder.decode());
        if (pending !== "") lines.push(pending);
        return { lines, text, ended: "eof", why: null };
      }
      const room = maxBytes - size;
      const bytes = value.byteLength > room ? value.subarray(0, room) : value;
      size += bytes.byteLength;
      const before = lines.length;
      const underLines = take(decoder.decode(bytes, { stream: true }));
      if (!endSeen && endEvent !== undefined && lines.slice(before).some((l) => isEvent(l, endEvent))) {
        endSeen = true;
        stopAt = Math.min(stopAt, performance.now() + END_GRACE_MS);
      }
      if (!underLines || size >= maxBytes) {
        await reader.cancel().catch(() => undefined);
        return {
          lines,
          text,
          ended: "limit",
          why: underLines
            ? `stream longer than ${maxBytes} bytes: read that much`
            : `stream longer than ${maxLines} lines: read that many`,
        };
      }
    }
  } catch (err) {
    if (timedOut()) {
      return { lines, text, ended: "deadline", why: `stream still open after ${secondsOf(timeoutMs)}` };
    }
    const notUtf8 = (err as { code?: unknown }).code === "ERR_ENCODING_INVALID_ENCODED_DATA";
    return {
      lines,
      text,
      ended: "error",
      why: notUtf8 ? NOT_UTF8 : `stream broken: ${describeError(err)}`,
    };
  }
}

/** Reads the stream at `request.url` (see the module comment). Never throws for anything the service does. */
export async function probeStream(
  request: StreamRequest,
  options: StreamOptions = {},
): Promise<StreamResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prepared = prepareRequest(
    {
      method: "GET",
      url: request.url,
      ...(request.headers === undefined ? {} : { headers: request.headers }),
    },
    options,
    "application/x-ndjson",
  );
  const started = performance.now();
  const sent = await send(prepared, { ...options, timeoutMs }, async (answer) => ({
    response: answer.response,
    read: await readLines(
      answer,
      timeoutMs,
      options.maxBytes ?? MAX_STREAM_BYTES,
      options.maxLines ?? MAX_STREAM_LINES,
      options.bodyMs ?? Number.POSITIVE_INFINITY,
      options.endEvent,
    ),
  }));
  const duration_ms = Math.round(performance.now() - started);
  if (sent.read === undefined) {
    return {
      exchange: {
        request: prepared.recorded,
        response: null,
        error: sent.error,
        attempts: sent.attempts,
        duration_ms,
      },
      mediaType: null,
      lines: [],
      ended: "error",
      text: "",
    };
  }
  const { response, read } = sent.read;
  return {
    exchange: {
      request: prepared.recorded,
      response: recordResponse(response, read.text, read.ended !== "eof" && read.ended !== "end_event"),
      error: read.why,
      attempts: sent.attempts,
      duration_ms,
    },
    mediaType: mediaTypeOf(response.headers.get("content-type")),
    lines: read.lines,
    ended: read.ended,
    text: read.text,
  };
}
