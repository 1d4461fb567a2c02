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
  bearerToken?: BearerToken;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use. Default: `globalThis.fetch`, looked up at each request (so msw and polyfills apply). */
  fetch?: typeof fetch;
  /**
   * Bound on a whole call, retries and backoff included (for streams: on each wait for headers), in
   * ms. Default 0 = none of our own, as with fetch (the runtime's limits apply: Node's fetch gives up
   * after 10 s connecting or 300 s waiting for response headers).
   */
  timeoutMs?: number;
  /** Retry policy, or `false` for no retries. */
  retry?: Partial<RetryPolicy> | false;
  /** Validate request bodies and query values before sending (no network call when invalid). Default true. */
  validateRequests?: boolean;
  /**
   * Validate response bodies and stream events against their schemas. Default `"strict"`: ARP v1
   * objects are closed, so a v1 server never sends unknown fields; choose `"off"` to talk to a server
   * that is ahead of this SDK's spec version (new fields then pass through untyped).
   */
  validateResponses?: "off" | "strict";
  /** `User-Agent` header. Default `arp-ts-client/<version>`, except in browsers, which send their own. */
  userAgent?: string;
  /** Middleware hooks, called in order. */
  hooks?: ClientHooks | readonly ClientHooks[];
  /** Backoff clock (tests inject one). Default: setTimeout, cancelled by the call's signal. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Randomness for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Per-call settings; the last argument of every client method. */
export interface CallOptions {
  /** Abort the call: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
  /** Declare a POST safe to repeat, so it may be retried (GETs and cancels always are). */
  idempotent?: boolean;
  /** Overrides the client's retry policy for this call. */
  retry?: Partial<RetryPolicy> | false;
}

/** Options of the NDJSON event streams (`streamRunEvents`, `streamNodeRunEvents`). */
export interface StreamOptions extends CallOptions {
  /**
   * Reconnect when the connection ends before the run is terminal, skipping events already yielded
   * (by `seq`). Default true. Works with servers that stream live and with servers that answer a
   * snapshot and close (then it polls with backoff until `run_completed`).
   */
  resume?: boolean;
}
