/**
 * What a `listen()` server answers when Node's HTTP parser rejects a request before the pipeline sees
 * it (`clientError`): a malformed request line or header (400), headers over `maxHeaderSize` (431),
 * a request that did not arrive within `headersTimeoutMs`/`requestTimeoutMs` (408), oversized chunk
 * extensions (413). Where a response can still be written (the socket is writable and no response
 * of this connection has started), it is an `ErrorEnvelope` in `application/json` with
 * `Connection: close`; then the connection is closed. Node's own answers have an empty body.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "./logger.js";

interface Answer {
  status: number;
  code: string;
  message: string;
}

function answerFor(code: string | undefined, maxHeaderSize: number): Answer {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        code: "headers_too_large",
        message: `request headers exceed ${maxHeaderSize} bytes`,
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, code: "request_timeout", message: "the request did not arrive in time" };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, code: "payload_too_large", message: "chunk extensions too large" };
    default:
      return { status: 400, code: "invalid_request", message: "malformed HTTP request" };
  }
}

/** The raw bytes of an error answer (the HTTP parser is out of the picture: written by hand). */
export function clientErrorResponse(answer: Answer): string {
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    "connection: close\r\n\r\n" +
    body
  );
}

/** A `clientError` listener for a server whose headers are limited to `maxHeaderSize` bytes. */
export function clientErrorHandler(
  logger: Logger,
  maxHeaderSize: number,
): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    // The response of this connection that is in flight, if any (as Node's own handler checks).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    // The client went away (a reset, or the connection ended mid-request), or nothing can be said.
    const gone = err.code === "ECONNRESET" || err.code === "HPE_INVALID_EOF_STATE";
    if (gone || !socket.writable || inFlight?.headersSent === true) {
      logger.debug?.("connection closed on a client error", { code: err.code, reason: err.message });
      socket.destroy();
      return;
    }
    const answer = answerFor(err.code, maxHeaderSize);
    logger.debug?.(`malformed request answered ${answer.status}`, { code: err.code, reason: err.message });
    socket.end(clientErrorResponse(answer), () => socket.destroy());
  };
}
