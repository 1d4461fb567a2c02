/**
 * Writing answers: a JSON body (or none) with its length, and the error envelope of any failure.
 * An `ArpServerError` is answered as it says; a contract violation (already logged where it was
 * found), a body `JSON.stringify` cannot write (too deep, circular, a BigInt) and anything else thrown
 * are a 500 `internal_error` of that request alone, logged, and none says more on the wire.
 */
import { ArpServerError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { RequestSide, ResponseSide } from "./transport.js";

const INTERNAL_ERROR = { error: { code: "internal_error", message: "internal server error" } };

/** Thrown when a response breaks the contract (already logged): answered 500, not logged again. */
export class ContractViolation extends Error {}

/** Thrown by `send` when `JSON.stringify` cannot write the body: answered 500 and logged. */
class Unserializable extends Error {
  override name = "Unserializable";
}

/** Sends `body` as JSON (nothing when undefined); cuts the connection if headers went out already. */
export function send(
  res: ResponseSide,
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
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (err) {
    throw new Unserializable(err instanceof Error ? err.message : String(err));
  }
  if (text === undefined) throw new Unserializable(`a ${typeof body} is not JSON`);
  const length = String(Buffer.byteLength(text));
  if (headers === undefined) {
    res.writeHead(status, ["content-type", "application/json", "content-length", length]);
  } else {
    res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": length });
  }
  res.end(text);
}

/** Answers `err` with an error envelope. Never throws (a connection that cannot take it is cut). */
export function sendError(req: RequestSide, res: ResponseSide, err: unknown, logger: Logger): void {
  try {
    if (err instanceof ArpServerError) {
      try {
        send(res, err.status, err.toEnvelope(), err.headers ?? {});
      } catch (failed) {
        if (!(failed instanceof Unserializable)) throw failed;
        logger.error("error envelope could not be serialised as JSON", {
          method: req.method,
          url: req.url,
          error: failed.message,
        });
        send(res, 500, INTERNAL_ERROR);
      }
    } else if (err instanceof ContractViolation) {
      // Already logged where it was found; the client learns only that the server failed.
      send(res, 500, INTERNAL_ERROR);
    } else if (err instanceof Unserializable) {
      logger.error("response could not be serialised as JSON", {
        method: req.method,
        url: req.url,
        error: err.message,
      });
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
