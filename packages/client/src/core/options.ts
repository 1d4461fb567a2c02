/** Everything a client and a single call can be configured with. */
import type { OperationSpec } from "@arp/model";

/** A static token, or a function called before every attempt (so a refreshed token is picked up). */
export type BearerToken = string | (() => string | undefined | Promise<string | undefined>);

export interface RetryPolicy {
  /** Attempts in all, the first included. `1` disables retries. Default 3. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles each time (exponential). Default 200 ms. */
  baseDelayMs: number;
  /** Upper bound of one backoff. Default 5,000 ms. */
  maxDelayMs: number;
  /** Statuses worth another attempt. Default 429, 502, 503, 504 (plus any envelope with `retryable: true`). */
  retryStatuses: readonly number[];
  /** Wait as long as a `Retry-After` header says (seconds or HTTP date). Default true. */
  respectRetryAfter: boolean;
  /** A `Retry-After` longer than this is not waited for: the error is thrown. Default 60,000 ms. */
  maxRetryAfterMs: number;
  /** `full` (default): each backoff is random in [0, computed]; `none`: exactly the computed delay. */
  jitter: "full" | "none";
}

/** Overrides of {@link RetryPolicy}: any subset; an `undefined` value keeps the inherited one. */
export type RetryOptions = { [K in keyof RetryPolicy]?: RetryPolicy[K] | undefined };

/** The defaults every client starts from (frozen: override per client or per call instead). */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  retryStatuses: Object.freeze([429, 502, 503, 504]),
  respectRetryAfter: true,
  maxRetryAfterMs: 60_000,
  jitter: "full",
});

/** What hooks see of a request about to be sent. Hooks may change `headers`. */
export interface HookRequest {
  operation: OperationSpec;
  method: string;
  url: string;
  headers: Headers;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface ClientHooks {
  /** Before each attempt is sent (after auth headers are set): add or change headers, log, trace. */
  onRequest?(request: HookRequest): void | Promise<void>;
  /** After each attempt got an HTTP answer, whatever its status. Do not consume the body. */
  onResponse?(request: HookRequest, response: Response): void | Promise<void>;
  /** When a call fails for good (after retries): log or report. The error is thrown afterwards. */
  onError?(request: HookRequest | undefined, error: unknown): void | Promise<void>;
}

export interface ClientOptions {
  /** Where the service is, e.g. `http://127.0.0.1:8080` (paths such as `/v1/runs` are appended). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` to every operation that requires auth. */
  bearerToken?: BearerToken | undefined;
  /** Sent with every request. */
  headers?: Record<string, string> | undefined;
  /** The fetch to use. Default: `globalThis.fetch`, looked up at each request (so msw and polyfills apply). */
  fetch?: typeof fetch | undefined;
  /**
   * Bound on a whole call, retries and backoff included (for streams: on each wait for headers), in
   * ms. Default 0 = none of our own (`Infinity` too), as with fetch (the runtime's limits apply: Node's
   * fetch gives up after 10 s connecting or 300 s waiting for response headers).
   */
  timeoutMs?: number | undefined;
  /** Retry policy, or `false` for no retries. */
  retry?: RetryOptions | false | undefined;
  /** Validate request bodies and query values before sending (no network call when invalid). Default true. */
  validateRequests?: boolean | undefined;
  /**
   * Validate response bodies and stream events against their schemas. Default `"strict"`: ARP v1
   * objects are closed, so a v1 server never sends unknown fields; choose `"off"` to talk to a server
   * that is ahead of this SDK's spec version (new fields then pass through untyped).
   */
  validateResponses?: "off" | "strict" | undefined;
  /** `User-Agent` header. Default `arp-ts-client/<version>`, except in browsers, which send their own. */
  userAgent?: string | undefined;
  /** Middleware hooks, called in order. */
  hooks?: ClientHooks | readonly ClientHooks[] | undefined;
  /** Backoff clock (tests inject one). Default: setTimeout, cancelled by the call's signal. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** Randomness for jitter, in [0, 1). Default Math.random. */
  random?: (() => number) | undefined;
  /**
   * Default {@link StreamOptions.idleTimeoutMs} of this client's event streams. Unset: 5 minutes of
   * polling without a new event (live connections may stay quiet); `0` or `Infinity`: none.
   */
  streamIdleTimeoutMs?: number | undefined;
  /**
   * Largest JSON response body read, in bytes. Default 32 MiB; a longer one rejects with
   * ArpProtocolError (and its connection is closed) instead of being buffered. Error bodies are read as
   * envelopes up to 64 KiB. Event streams have their own per-line limit (16 MiB).
   */
  maxResponseBytes?: number | undefined;
  /**
   * Read only what the schemas allow. Default `false`: the client also reads what the Python SDK's
   * FastAPI servers and JARVIS really send: `null` in an optional property is read as absent, and a
   * stream answered as `application/json` holding one JSON string of NDJSON text is read as that
   * NDJSON. Requests are always strict.
   */
  strictWire?: boolean | undefined;
}

/** Per-call settings; the last argument of every client method. */
export interface CallOptions {
  /** Abort the call: the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined;
  /** Extra headers for this call. */
  headers?: Record<string, string> | undefined;
  /** Declare a POST safe to repeat, so it may be retried (GETs and cancels always are). */
  idempotent?: boolean | undefined;
  /** Overrides the client's retry policy for this call. */
  retry?: RetryOptions | false | undefined;
}

/**
 * Options of the NDJSON event streams (`streamRunEvents`, `streamNodeRunEvents`). A stream ends, at the
 * latest, at the first of: its end event (run streams: `run_completed`, yielded last); the server
 * closing a stream that has no end event (node-run streams); the end of the first connection with
 * `follow: false`; `idleTimeoutMs` without a new event (rejects with ArpTimeoutError); the caller's
 * `signal` (rejects with its reason); `break`.
 */
export interface StreamOptions extends CallOptions {
  /**
   * Keep reading until the stream is complete. Default true: a connection that ends before the end
   * event (dropped, or a server that answers a snapshot and closes) is reopened with backoff, and the
   * events already yielded (by `seq`) are skipped. After `retry.maxAttempts` consecutive dropped
   * connections that bring nothing new, the stream rejects with the last `ArpTransportError`; clean
   * closes (polling a snapshot server) are bounded by the idle timeout. `false`: read what the server
   * sends on one connection, then end (a dropped connection rejects).
   */
  follow?: boolean | undefined;
  /**
   * No new event for this long rejects the stream with ArpTimeoutError (`code: "stream_idle_timeout"`),
   * live connection or not. It counts across reconnects and backoff, and pauses while your loop body
   * handles an event. Default: the client's `streamIdleTimeoutMs`; without either, 300,000 ms (5
   * minutes) counted only while polling (a quiet live connection is never cut). `0` or `Infinity`: none.
   */
  idleTimeoutMs?: number | undefined;
}
