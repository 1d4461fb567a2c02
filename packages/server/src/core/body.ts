/**
 * Reads a JSON request body, within limits: `application/json` (or `+json`) only (else 415), at
 * most `limit` bytes (else 413, by `content-length` before reading, or as soon as the bytes
 * counted pass it; the rest is drained, not kept), and valid JSON (else 400 `invalid_json`). A body
 * Express's `express.json()` already parsed is taken as it is.
 */
import type { IncomingMessage } from "node:http";
import { ArpServerError } from "./errors.js";

/** Where the body goes: an object, not closures, so that reading one costs no allocation of its own. */
export interface BodySink {
  /** The parsed body. */
  bodyRead(data: unknown): void;
  /** The body could not be read (an `ArpServerError` to answer, or a socket error). */
  bodyFailed(error: unknown): void;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function tooLarge(limit: number): ArpServerError {
  return new ArpServerError({
    status: 413,
    code: "payload_too_large",
    message: `request body exceeds ${limit} bytes`,
  });
}

/**
 * Reads `req`'s body into `sink`: synchronously when it was parsed already, else as it arrives.
 * @throws ArpServerError (415, 413) when the headers alone rule the body out.
 */
export function readJsonBody(req: IncomingMessage, limit: number, sink: BodySink): void {
  const parsed = req as IncomingMessage & { body?: unknown; _body?: boolean };
  // Mounted behind express.json(): the body was already read and parsed (Express 5 leaves
  // `req.body` undefined unless a body parser set it; older parsers also set `_body`).
  if (parsed.body !== undefined || parsed._body === true) {
    sink.bodyRead(parsed.body);
    return;
  }
  const type = req.headers["content-type"];
  if (!type || !JSON_TYPE.test(type)) {
    throw new ArpServerError({
      status: 415,
      code: "unsupported_media_type",
      message: `request body must be application/json (got ${type ?? "no content-type"})`,
    });
  }
  if (Number(req.headers["content-length"]) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      req.off("data", onData);
      req.off("end", onEnd);
      req.resume(); // drain the rest without keeping it
      sink.bodyFailed(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let data: unknown;
    try {
      data = JSON.parse(raw.toString("utf8"));
    } catch {
      sink.bodyFailed(
        new ArpServerError({ status: 400, code: "invalid_json", message: "request body is not valid JSON" }),
      );
      return;
    }
    sink.bodyRead(data);
  };
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", (err) => sink.bodyFailed(err));
}
