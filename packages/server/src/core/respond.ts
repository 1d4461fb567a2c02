/**
 * Writing answers: a JSON body (or none) with its length, and the error envelope of any failure.
 * An `ArpServerError` is answered as it says; a contract violation (already logged where it was
 * found) and anything else thrown are a 500 `internal_error`, the latter logged with its stack, and
 * neither says more on the wire.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ArpServerError } from "./errors.js";
import type { Logger } from "./logger.js";

const INTERNAL_ERROR = { error: { code: "internal_error", message: "internal server error" } };

/** Thrown when a response breaks the contract (already logged): answered 500, not logged again. */
export class ContractViolation extends Error {}

/** Sends `body` as JSON (nothing when undefined); cuts the connection if headers went out already. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  const length = String(Buffer.byteLength(text));
  if (headers === undefined) {
    res.writeHead(status, ["content-type", "application/json", "content-length", length]);
  } else {
    res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": length });
  }
  res.end(text);
}

/** Answers `err` with an error envelope. Never throws (a connection that cannot take it is cut). */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger): void {
  try {
    if (err instanceof ArpServerError) {
      send(res, err.status, err.toEnvelope(), err.headers ?? {});
    } else if (err instanceof ContractViolation) {
      // Already logged where it was found; the client learns only that the server failed.
      send(res, 500, INTERNAL_ERROR);
    } else {
      logger.error("unhandled error in handler", {
        method: req.method,
        url: req.url,
        error: errorText(err),
      });
      send(res, 500, INTERNAL_ERROR);
    }
  } catch (sendError) {
    // Nothing more can be said on this connection (e.g. it is gone): cut it.
    res.destroy(sendError instanceof Error ? sendError : undefined);
  }
}

/** An error's stack (or message) for the log. */
export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
