/**
 * Every failure the client reports is an {@link ArpError}: a wire error answered by a server
 * ({@link ArpApiError}) or a local one (transport, timeout, validation, protocol). Each class has a
 * stable string `code`; `instanceof` works across the ESM and CJS builds through a brand
 * (`brand` and `brandCheck` of `@arp/model`). No message
 * or property ever carries the bearer token: requests are described by method and URL only.
 */
import type { ErrorEnvelope, ValidationIssue } from "@arp/model";
import { type ArpWireErrorCode, brand, brandCheck, formatIssues } from "@arp/model";

/** The codes the client gives its own failures (`ArpTransportError`, `ArpTimeoutError`, ...). */
export type ArpLocalErrorCode =
  | "transport_error"
  | "timeout"
  | "stream_idle_timeout"
  | "validation_failed"
  | "protocol_error";

/** An error's `code`: ours, a server's, `http_<status>` for an error body that is no envelope, or any other string. */
export type ArpErrorCode = ArpLocalErrorCode | ArpWireErrorCode | `http_${number}` | (string & {});

/** Which request an error is about: method and URL (never headers, so never the token). */
export interface ArpRequestInfo {
  method: string;
  url: string;
}

interface ErrorInit extends Partial<ArpRequestInfo> {
  cause?: unknown;
}

/** Base class of every error thrown by `@arp/client`. */
export class ArpError extends Error {
  override name = "ArpError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpError");
  /** Stable, machine-readable: `not_found`, `http_502`, `transport_error`, `timeout`, ... */
  readonly code: ArpErrorCode;
  /** HTTP method of the request the error is about, when there was one. */
  readonly method?: string;
  /** URL of the request the error is about, when there was one. */
  readonly url?: string;

  constructor(code: ArpErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    brand(this, "@arp/client.ArpError");
    this.code = code;
    if (init.method !== undefined) this.method = init.method;
    if (init.url !== undefined) this.url = init.url;
  }
}

function where(init: Partial<ArpRequestInfo>): string {
  return init.method && init.url ? ` (${init.method} ${init.url})` : "";
}

/** A non-2xx answer from an ARP service: its `ErrorEnvelope`, or a synthesized one for a non-ARP body. */
export class ArpApiError extends ArpError {
  override name = "ArpApiError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpApiError");

  /** HTTP status code. */
  readonly status: number;
  /** The error's `details` map from the envelope, when present. */
  readonly details?: Record<string, unknown>;
  /** Whether the server says retrying may succeed (`error.retryable`). */
  readonly retryable?: boolean;
  /** The envelope as the server sent it; undefined when the body was not an ARP error envelope. */
  readonly envelope?: ErrorEnvelope;
  /** The first characters of a body that was not an envelope (e.g. a proxy's HTML page). */
  readonly bodyExcerpt?: string;

  constructor(
    status: number,
    init: ArpRequestInfo & { envelope?: ErrorEnvelope; bodyExcerpt?: string; cause?: unknown },
  ) {
    const detail = init.envelope?.error;
    const code = detail?.code ?? `http_${status}`;
    const message =
      detail?.message ?? (init.bodyExcerpt ? `HTTP ${status}: ${init.bodyExcerpt}` : `HTTP ${status}`);
    super(code, `${message}${where(init)}`, init);
    brand(this, "@arp/client.ArpApiError");
    this.status = status;
    if (detail?.details !== undefined) this.details = detail.details;
    if (detail?.retryable !== undefined) this.retryable = detail.retryable;
    if (init.envelope !== undefined) this.envelope = init.envelope;
    if (init.bodyExcerpt !== undefined) this.bodyExcerpt = init.bodyExcerpt;
  }
}

/** The request never got an answer: DNS, refused or reset connection, TLS, CORS, ... */
export class ArpTransportError extends ArpError {
  override name = "ArpTransportError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpTransportError");

  constructor(message: string, init: ErrorInit = {}) {
    super("transport_error", `${message}${where(init)}`, init);
    brand(this, "@arp/client.ArpTransportError");
  }
}

/**
 * A deadline passed. `phase: "call"` (code `timeout`): the request, all its attempts included, took
 * longer than `timeoutMs` (for a stream: the wait for its headers). `phase: "stream_idle"` (code
 * `stream_idle_timeout`): an event stream brought no new event for `idleTimeoutMs`.
 */
export class ArpTimeoutError extends ArpError {
  override name = "ArpTimeoutError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpTimeoutError");

  declare readonly code: "timeout" | "stream_idle_timeout";
  readonly timeoutMs: number;
  readonly phase: "call" | "stream_idle";
  constructor(timeoutMs: number, init: ErrorInit & { phase?: "call" | "stream_idle" } = {}) {
    const idle = init.phase === "stream_idle";
    super(
      idle ? "stream_idle_timeout" : "timeout",
      `${idle ? "no new event" : "no answer"} within ${timeoutMs} ms${where(init)}`,
      init,
    );
    brand(this, "@arp/client.ArpTimeoutError");
    this.timeoutMs = timeoutMs;
    this.phase = idle ? "stream_idle" : "call";
  }
}

/** A body did not match its schema: a request before sending, or a response or event when validated. */
export class ArpValidationError extends ArpError {
  override name = "ArpValidationError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpValidationError");

  /** Which document was checked. */
  readonly direction: "request" | "response" | "event";
  /** The schema it was checked against (`RunStartRequest`, `Run`, `RunEvent`, ...). */
  readonly schema: string;
  /** Every issue: JSON pointer, message, keyword. */
  readonly errors: readonly ValidationIssue[];
  constructor(
    direction: "request" | "response" | "event",
    schema: string,
    errors: readonly ValidationIssue[],
    init: ErrorInit = {},
  ) {
    super("validation_failed", `invalid ${direction} ${schema}: ${formatIssues(errors)}${where(init)}`, init);
    brand(this, "@arp/client.ArpValidationError");
    this.direction = direction;
    this.schema = schema;
    this.errors = errors;
  }
}

/** The server broke the protocol: a malformed NDJSON line, a wrong content type, a bad JSON body. */
export class ArpProtocolError extends ArpError {
  override name = "ArpProtocolError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/client.ArpProtocolError");

  /** 1-based line number in an NDJSON stream, when the error is about a line. */
  readonly line?: number;
  constructor(message: string, init: ErrorInit & { line?: number } = {}) {
    super(
      "protocol_error",
      `${init.line === undefined ? "" : `line ${init.line}: `}${message}${where(init)}`,
      init,
    );
    brand(this, "@arp/client.ArpProtocolError");
    if (init.line !== undefined) this.line = init.line;
  }
}
