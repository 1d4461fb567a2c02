/**
 * Reading a response body within a size limit: a server (or a proxy in front of it) that answers a
 * huge or endless body must not make the client buffer without bound. A body whose `content-length`
 * is within the limit is read by the runtime's own `text()` (the common case, and the fastest); one
 * without a length is read chunk by chunk and cancelled as soon as it passes the limit.
 */
import { ArpProtocolError, type ArpRequestInfo } from "./errors.js";

function tooLarge(limit: number, info: ArpRequestInfo): ArpProtocolError {
  return new ArpProtocolError(`response body exceeds ${limit} bytes`, info);
}

/** The body as text; ArpProtocolError when it is longer than `limit` bytes. */
export async function readText(response: Response, limit: number, info: ArpRequestInfo): Promise<string> {
  const declared = response.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared)) {
    if (Number(declared) > limit) {
      // Not awaited: a cancelled branch of a cloned response may never settle (see ndjson.ts).
      response.body?.cancel().catch(() => undefined);
      throw tooLarge(limit, info);
    }
    return response.text();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => undefined);
      throw tooLarge(limit, info);
    }
    text += decoder.decode(value, { stream: true });
  }
}
