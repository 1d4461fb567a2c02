/**
 * One HTTP exchange with a service under test, recorded for the report. Strict on purpose: the body
 * is read as the service sent it (no leniency for nulls or quoted NDJSON), it must be UTF-8 (bad
 * bytes are not papered over with U+FFFD), JSON is parsed only as JSON, and nothing is retried
 * except a transport error (no answer at all) of a request that is safe to repeat.
 *
 * The recorded request never carries a credential: the value of every header whose name looks like
 * one (see {@link isSecretHeader}) is replaced by `<redacted>`.
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
  /**
   * The operation table's retry safety (`OperationSpec.retry` of `@arp/model`): whether the request
   * may be sent again after a transport error. Without it, only a GET may. See {@link mayRetry}.
   */
  retry?: "safe" | "keyed" | "unsafe";
}

export interface ProbeOptions {
  /** Headers sent on every request (`Authorization: Bearer ...`). */
  headers?: Readonly<Record<string, string>>;
  /** Deadline of one attempt, headers and body included. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * How many times to send a request that is safe to repeat again after a transport error (never
   * after an answer; see {@link mayRetry}). Default 0.
   */
  retries?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The words that make a header name look like a credential's: `Authorization`,
 * `Proxy-Authorization`, `Cookie`, `X-Api-Key`, `apikey`, `X-Goog-Api-Key`, `X-Auth-Key`,
 * `Ocp-Apim-Subscription-Key`, `X-Amz-Security-Token`, `X-Session-Id`, `X-Hub-Signature-256`, ...
 * Matched anywhere in the name: a harmless header redacted costs a line of the report, a secret
 * shown costs the secret.
 */
export const SECRET_HEADER_WORDS = [
  "key",
  "token",
  "secret",
  "auth",
  "cookie",
  "session",
  "password",
  "signature",
  "credential",
] as const;

const SECRET_HEADER = new RegExp(SECRET_HEADER_WORDS.join("|"), "i");

/** Whether the value of header `name` is never reported: its name contains one of {@link SECRET_HEADER_WORDS}. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    out[key] = isSecretHeader(key) ? "<redacted>" : value;
  }
  return out;
}

/**
 * Whether `request` may be sent again after a transport error: only a `safe` operation (a GET, a
 * cancel: repeating it has the same effect), or a GET outside the operation table (a stream, an
 * unknown route). Never a `keyed` one: it is safe only when its body carries its idempotency key,
 * and the checker cannot know that it does (a fixture may leave the key out, an invalid body lacks
 * it on purpose); never an `unsafe` one. A transport error can come after the service acted (the
 * connection reset while the answer was on its way), so resending those could create a second run.
 */
export function mayRetry(request: Pick<ProbeRequest, "method" | "retry">): boolean {
  return request.retry === undefined ? request.method === "GET" : request.retry === "safe";
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
  /** Whether it may be sent again after a transport error ({@link mayRetry}). */
  retryable: boolean;
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
    retryable: mayRetry(request),
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
 * Sends `prepared` (again, up to `retries` times, after a transport error, when it is
 * `retryable`) and lets `read` consume
 * the answer while the deadline runs. The request is aborted once `read` returns, so a body left
 * unread (a cut body, a stream still open) never holds its socket.
 */
export async function send<T>(
  prepared: PreparedRequest,
  options: ProbeOptions,
  read: (answer: Answer) => Promise<T>,
): Promise<Sent<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = prepared.retryable ? (options.retries ?? 0) : 0;
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

/** The exchange's `error` for a body that is not UTF-8 (its text is then the lossy decoding). */
export const NOT_UTF8 = "the body is not valid UTF-8";

/**
 * `bytes` as UTF-8, strictly: `utf8` is false when they are not UTF-8, and `text` is then the lossy
 * decoding (U+FFFD for each bad sequence), to show. `partial` bytes (a body cut short) may end in
 * the middle of a character: that last incomplete sequence is left out, not judged.
 */
export function decodeUtf8(bytes: Uint8Array, partial: boolean): { text: string; utf8: boolean } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: partial }), utf8: true };
  } catch {
    return { text: new TextDecoder("utf-8").decode(bytes, { stream: partial }), utf8: false };
  }
}

/** Reads at most {@link MAX_BODY_BYTES}; resolves what it has when the body is cut short. */
async function readBody(
  response: Response,
): Promise<{ text: string; utf8: boolean; cut: boolean; error: string | null }> {
  if (response.body === null) return { text: "", utf8: true, cut: false, error: null };
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
  return { ...decodeUtf8(bytes, cut || error !== null), cut, error };
}

/**
 * Sends `request` once (and again, up to `retries` times, after a transport error, when
 * {@link mayRetry}) and records what happened. Never throws for anything the service does. A body
 * that is not UTF-8 is not JSON, whatever it holds: `isJson` is false and the exchange's `error`
 * is {@link NOT_UTF8}.
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
  if (body.utf8) {
    try {
      json = JSON.parse(body.text);
      isJson = true;
    } catch {
      json = undefined;
    }
  }
  const error =
    body.error !== null
      ? timedOut
        ? `body not complete within ${secondsOf(timeoutMs)}`
        : `body not complete: ${body.error}`
      : !body.utf8
        ? NOT_UTF8
        : body.cut
          ? `body longer than ${MAX_BODY_BYTES} bytes: cut`
          : null;
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
