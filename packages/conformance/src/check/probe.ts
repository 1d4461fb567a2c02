/**
 * One HTTP exchange with a service under test, recorded for the report. Strict on purpose: the body
 * is read as the service sent it (no leniency for nulls or quoted NDJSON), JSON is parsed only as
 * JSON, and nothing is retried except a transport error (no answer at all).
 *
 * The recorded request never carries a credential: `Authorization`, `Cookie` and `*-api-key`-style
 * header values are replaced by `<redacted>`.
 */

/** The most bytes of a response body the probe keeps (a longer body is cut, and says so). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The most characters of a body the report shows. */
export const MAX_EXCERPT_CHARS = 2048;

export interface RecordedRequest {
  method: string;
  url: string;
  /** The headers sent, credentials redacted. */
  headers: Record<string, string>;
  /** The body sent (an excerpt), or null. */
  body: string | null;
}

export interface RecordedResponse {
  status: number;
  /** The `Content-Type` header as sent, or null. */
  content_type: string | null;
  /** At most {@link MAX_EXCERPT_CHARS} characters of the body. */
  body: string;
  /** True when `body` is shorter than what the service sent. */
  body_truncated: boolean;
}

/** What the report shows of one exchange. */
export interface Exchange {
  request: RecordedRequest;
  /** Null when no answer came (a transport error or a timeout before the headers). */
  response: RecordedResponse | null;
  /** Why there is no (complete) answer: `timeout after 5 s`, `connect ECONNREFUSED ...`. */
  error: string | null;
  /** How many times the request was sent (more than one only after transport errors). */
  attempts: number;
  duration_ms: number;
}

/** What a check reads: the exchange plus the whole body and, when it is JSON, the parsed value. */
export interface ProbeResult {
  exchange: Exchange;
  /** The body as text (up to {@link MAX_BODY_BYTES}); empty without a response. */
  text: string;
  /** True when the body parsed as JSON (whatever the content type said); `json` is then the value. */
  isJson: boolean;
  json: unknown;
  /** The media type of the response, lower case, without parameters (`application/json`), or null. */
  mediaType: string | null;
}

export interface ProbeRequest {
  method: string;
  url: string;
  /** Extra headers for this request (added after the options' headers). */
  headers?: Readonly<Record<string, string>>;
  /** A value to send as JSON (`Content-Type: application/json`), or undefined for no body. */
  json?: unknown;
}

export interface ProbeOptions {
  /** Headers sent on every request (`Authorization: Bearer ...`). */
  headers?: Readonly<Record<string, string>>;
  /** Deadline of one attempt, headers and body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** How many times to send again after a transport error (never after an answer). Default 0. */
  retries?: number;
}

const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key)$|token|secret/i;

export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    out[key] = SECRET_HEADERS.test(key) ? "<redacted>" : value;
  }
  return out;
}

function excerpt(text: string): { body: string; truncated: boolean } {
  return text.length > MAX_EXCERPT_CHARS
    ? { body: text.slice(0, MAX_EXCERPT_CHARS), truncated: true }
    : { body: text, truncated: false };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return `${err.message}: ${cause.message}`;
  return err.message;
}

/** Reads at most {@link MAX_BODY_BYTES}; resolves what it has when the body is cut short. */
async function readBody(response: Response): Promise<{ text: string; cut: boolean; error: string | null }> {
  if (response.body === null) return { text: "", cut: false, error: null };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  let error: string | null = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size >= MAX_BODY_BYTES) {
        cut = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } catch (err) {
    error = describe(err);
  }
  const bytes = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES);
  return { text: new TextDecoder("utf-8").decode(bytes), cut, error };
}

function secondsOf(ms: number): string {
  return `${ms / 1000} s`;
}

/**
 * Sends `request` once (and again, up to `retries` times, after a transport error) and records
 * what happened. Never throws for anything the service does.
 */
export async function probe(request: ProbeRequest, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 0;
  const headers: Record<string, string> = {
    accept: "application/json",
    ...options.headers,
    ...request.headers,
  };
  let body: string | undefined;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers["content-type"] = "application/json";
  }
  const recorded: RecordedRequest = {
    method: request.method,
    url: request.url,
    headers: redactHeaders(headers),
    body: body === undefined ? null : excerpt(body).body,
  };
  const started = performance.now();
  let attempts = 0;
  let lastError = "";
  while (attempts <= retries) {
    attempts++;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: request.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: controller.signal,
          redirect: "manual",
        });
      } catch (err) {
        lastError = timedOut ? `no answer within ${secondsOf(timeoutMs)}` : describe(err);
        // A timeout is not retried: the service may still be working on the request.
        if (timedOut) break;
        continue;
      }
      const read = await readBody(response);
      const contentType = response.headers.get("content-type");
      const mediaType = contentType === null ? null : (contentType.split(";")[0] ?? "").trim().toLowerCase();
      let isJson = false;
      let json: unknown;
      try {
        json = JSON.parse(read.text);
        isJson = true;
      } catch {
        json = undefined;
      }
      const shown = excerpt(read.text);
      const error =
        read.error === null
          ? read.cut
            ? `body longer than ${MAX_BODY_BYTES} bytes: cut`
            : null
          : timedOut
            ? `body not complete within ${secondsOf(timeoutMs)}`
            : `body not complete: ${read.error}`;
      return {
        exchange: {
          request: recorded,
          response: {
            status: response.status,
            content_type: contentType,
            body: shown.body,
            body_truncated: shown.truncated || read.cut,
          },
          error,
          attempts,
          duration_ms: Math.round(performance.now() - started),
        },
        text: read.text,
        isJson,
        json,
        mediaType,
      };
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    exchange: {
      request: recorded,
      response: null,
      error: lastError,
      attempts,
      duration_ms: Math.round(performance.now() - started),
    },
    text: "",
    isJson: false,
    json: undefined,
    mediaType: null,
  };
}
