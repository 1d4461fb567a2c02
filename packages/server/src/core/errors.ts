/**
 * `ArpServerError` is how a handler answers with an ARP error: throw it (or one of the helpers) and the
 * core writes the `ErrorEnvelope`. Anything else thrown becomes a 500 `internal_error` whose message
 * and stack stay in the server's log, never on the wire.
 */
import { type ArpWireErrorCode, brand, brandCheck, type ErrorEnvelope } from "@arp/model";

/**
 * The `code` of an ARP error envelope: the codes this package answers with (and its helpers throw)
 * complete in editors; any other string is accepted too, for codes of your own.
 */
export type ArpServerErrorCode = ArpWireErrorCode | (string & {});

export interface ArpServerErrorInit {
  status: number;
  code: ArpServerErrorCode;
  message: string;
  details?: Record<string, unknown> | undefined;
  retryable?: boolean | undefined;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`, `Allow`). */
  headers?: Record<string, string> | undefined;
}

export class ArpServerError extends Error {
  override name = "ArpServerError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/server.ArpServerError");
  readonly status: number;
  readonly code: ArpServerErrorCode;
  readonly details?: Record<string, unknown>;
  readonly retryable?: boolean;
  readonly headers?: Record<string, string>;

  constructor(init: ArpServerErrorInit) {
    super(init.message);
    brand(this, "@arp/server.ArpServerError");
    this.status = init.status;
    this.code = init.code;
    if (init.details !== undefined) this.details = init.details;
    if (init.retryable !== undefined) this.retryable = init.retryable;
    if (init.headers !== undefined) this.headers = init.headers;
  }

  /** The body to send. */
  toEnvelope(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
        ...(this.retryable === undefined ? {} : { retryable: this.retryable }),
      },
    };
  }
}

/** What the helpers (`notFound(message, extra)`, ...) take besides the message. */
export type ArpServerErrorExtra = Pick<ArpServerErrorInit, "details" | "retryable" | "headers">;
const make =
  (status: number, code: ArpServerErrorCode) =>
  (message: string, extra: ArpServerErrorExtra = {}) =>
    new ArpServerError({ status, code, message, ...extra });

/** 400 `invalid_request`: the request is well-formed HTTP but not acceptable. */
export const badRequest = make(400, "invalid_request");
/** 401 `unauthorized`. */
export const unauthorized = make(401, "unauthorized");
/** 403 `forbidden`: authenticated, but not allowed. */
export const forbidden = make(403, "forbidden");
/** 404 `not_found`: e.g. no run with that id. */
export const notFound = make(404, "not_found");
/** 409 `conflict`: e.g. a `run_id` that already exists. */
export const conflict = make(409, "conflict");
/** 501 `not_implemented`: the default of the optional operations. */
export const notImplemented = make(501, "not_implemented");
/** 503 `unavailable`, retryable: the service is overloaded or shutting down. */
export const unavailable = (message: string, extra: ArpServerErrorExtra = {}) =>
  new ArpServerError({
    status: 503,
    code: "unavailable",
    message,
    ...extra,
    retryable: extra.retryable ?? true,
  });
