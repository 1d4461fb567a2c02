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
  /** The response's headers (`WWW-Authenticate`, ...), or null without a response. */
  headers: Headers | null;
}

export interface ProbeRequest {
  method: string;
  url: string;
  /**
   * Headers for this request, over the options' headers (names compared case-insensitively); a
   * null value removes the header (the auth probes drop the user's `Authorization`).
   */
  headers?: Readonly<Record<string, string | null>>;
  /** A value to send as JSON (`Content-Type: application/json`), or undefined for no body. */
  json?: unknown;
}

export interface ProbeOptions {
  /** Headers sent on every request (`Authorization: Bearer ...`). */
  headers?: Readonly<Record<string, string>>;
  /** Deadline of one attempt, headers and body included. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** How many times to send again after a transport error (never after an answer). Default 0. */
  retries?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key)$|token|secret/i;

export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    out[key] = SECRET_HEADERS.test(key) ? "<redacted>" : value;
  }
  return out;
}

/**
 * Header layers merged by name, case-insensitively, later layers winning (fetch would otherwise
 * join `Authorization` and `authorization` into one comma-separated value); null removes a header.
 */
export function mergeHeaders(
  ...layers: (Readonly<Record<string, string | null>> | undefined)[]
): Record<string, string> {
  const byName = new Map<string, [string, string]>();
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer ?? {})) {
      if (value === null) byName.delete(name.toLowerCase());
      else byName.set(name.toLowerCase(), [name, value]);
    }
  }
  return Object.fromEntries(byName.values());
}

export function excerpt(text: string): { body: string; truncated: boolean } {
  return text.length > MAX_EXCERPT_CHARS
    ? { body: text.slice(0, MAX_EXCERPT_CHARS), truncated: true }
    : { body: text, truncated: false };
}

/** An error's message with its cause (`fetch failed: connect ECONNREFUSED ...`). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return `${err.message}: ${cause.message}`;
  return err.message;
}

export function secondsOf(ms: number): string {
  return `${ms / 1000} s`;
}

/** The media type of a `Content-Type`, lower case, without parameters; null without one. */
export function mediaTypeOf(contentType: string | null): string | null {
  return contentType === null ? null : (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/** A request ready to send: merged headers, the serialised body, and what the report shows of it. */
export interface PreparedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  recorded: RecordedRequest;
}

/** `accept` is the default `Accept`; the options' and the request's headers may replace it. */
export function prepareRequest(
  request: ProbeRequest,
  options: ProbeOptions,
  accept: string,
): PreparedRequest {
  const body = request.json === undefined ? undefined : JSON.stringify(request.json);
  const headers = mergeHeaders(
    { accept },
    options.headers,
    request.headers,
    body === undefined ? undefined : { "content-type": "application/json" },
  );
  return {
    method: request.method,
    url: request.url,
    headers,
    body,
    recorded: {
      method: request.method,
      url: request.url,
      headers: redactHeaders(headers),
      body: body === undefined ? null : excerpt(body).body,
    },
  };
}

/** What {@link send} hands a reader: the answer, and whether the deadline has passed. */
export interface Answer {
  response: Response;
  timedOut(): boolean;
}

export type Sent<T> = { attempts: number; read: T } | { attempts: number; read?: undefined; error: string };

/**
 * Sends `prepared` (again, up to `retries` times, after a transport error) and lets `read` consume
 * the answer while the deadline runs. The request is aborted once `read` returns, so a body left
 * unread (a cut body, a stream still open) never holds its socket.
 */
export async function send<T>(
  prepared: PreparedRequest,
  options: ProbeOptions,
  read: (answer: Answer) => Promise<T>,
): Promise<Sent<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? 0;
  let attempts = 0;
  let error = "";
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
        response = await fetch(prepared.url, {
          method: prepared.method,
          headers: prepared.headers,
          ...(prepared.body === undefined ? {} : { body: prepared.body }),
          signal: controller.signal,
          redirect: "manual",
        });
      } catch (err) {
        error = timedOut ? `no answer within ${secondsOf(timeoutMs)}` : describeError(err);
        // A timeout is not retried: the service may still be working on the request.
        if (timedOut) break;
        continue;
      }
      return { attempts, read: await read({ response, timedOut: () => timedOut }) };
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }
  return { attempts, error };
}

/** What the report shows of an answer whose body (as far as it was read) is `text`. */
export function recordResponse(response: Response, text: string, cut: boolean): RecordedResponse {
  const shown = excerpt(text);
  return {
    status: response.status,
    content_type: response.headers.get("content-type"),
    body: shown.body,
    body_truncated: shown.truncated || cut,
  };
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
    error = describeError(err);
  }
  const bytes = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES);
  return { text: new TextDecoder("utf-8").decode(bytes), cut, error };
}

/**
 * Sends `request` once (and again, up to `retries` times, after a transport error) and records
 * what happened. Never throws for anything the service does.
 */
export async function probe(request: ProbeRequest, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prepared = prepareRequest(request, options, "application/json");
  const started = performance.now();
  const sent = await send(prepared, options, async ({ response, timedOut }) => {
    const body = await readBody(response);
    return { response, body, timedOut: timedOut() };
  });
  const duration_ms = (): number => Math.round(performance.now() - started);
  if (sent.read === undefined) {
    return {
      exchange: {
        request: prepared.recorded,
        response: null,
        error: sent.error,
        attempts: sent.attempts,
        duration_ms: duration_ms(),
      },
      text: "",
      isJson: false,
      json: undefined,
      mediaType: null,
      headers: null,
    };
  }
  const { response, body, timedOut } = sent.read;
  let isJson = false;
  let json: unknown;
  try {
    json = JSON.parse(body.text);
    isJson = true;
  } catch {
    json = undefined;
  }
  const error =
    body.error === null
      ? body.cut
        ? `body longer than ${MAX_BODY_BYTES} bytes: cut`
        : null
      : timedOut
        ? `body not complete within ${secondsOf(timeoutMs)}`
        : `body not complete: ${body.error}`;
  return {
    exchange: {
      request: prepared.recorded,
      response: recordResponse(response, body.text, body.cut),
      error,
      attempts: sent.attempts,
      duration_ms: duration_ms(),
    },
    text: body.text,
    isJson,
    json,
    mediaType: mediaTypeOf(response.headers.get("content-type")),
    headers: response.headers,
  };
}
