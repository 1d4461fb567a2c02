/**
 * A raw HTTP/1.1 exchange for hostile-input tests: writes exact bytes on a fresh loopback connection
 * (optionally split into pieces, optionally half-closing after them: a truncated upload) and reads
 * back the first response, bounded in time. Nothing is normalised: the bytes are the request.
 */
import { connect } from "node:net";

export interface WireAnswer {
  /** 0 when the connection closed without a response. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

export interface WireOptions {
  /** Split the bytes at these offsets and write each piece on its own (as separate TCP writes). */
  splits?: readonly number[];
  /** Half-close the connection after writing (the request may be incomplete: a truncated body). */
  endAfterWrite?: boolean;
  /** The bound on one exchange, ms: past it the promise rejects ("the server hung"). */
  timeoutMs: number;
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers };
}

/** The body of a chunked response once complete, else undefined. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends `bytes` to `port` on 127.0.0.1 and resolves with the first response: as soon as it is complete
 * (by `content-length`, chunked framing, or the server closing), or its head when it is a 2xx stream
 * (`application/x-ndjson`: a live stream may not end). Rejects only when `timeoutMs` passes.
 */
export function exchange(port: number, bytes: Buffer, options: WireOptions): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let received = Buffer.alloc(0);
    let done = false;
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    const finish = (answer: Omit<WireAnswer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answer, ms: performance.now() - started });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(new Error(`no complete answer within ${options.timeoutMs} ms (got ${received.length} bytes)`));
    }, options.timeoutMs);
    const tryComplete = (closed: boolean) => {
      const split = received.indexOf("\r\n\r\n");
      if (split === -1) {
        if (closed) finish({ status: 0, headers: {}, body: received });
        return;
      }
      const { status, headers } = parseHead(received.subarray(0, split).toString("latin1"));
      const rest = received.subarray(split + 4);
      if (status >= 200 && status < 300 && headers["content-type"]?.startsWith("application/x-ndjson")) {
        finish({ status, headers, body: rest });
        return;
      }
      const length = headers["content-length"];
      if (length !== undefined) {
        if (rest.length >= Number(length))
          finish({ status, headers, body: rest.subarray(0, Number(length)) });
        else if (closed) finish({ status, headers, body: rest });
        return;
      }
      if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
        const body = dechunk(rest);
        if (body !== undefined) finish({ status, headers, body });
        else if (closed) finish({ status, headers, body: rest });
        return;
      }
      if (closed || status === 204 || status === 304) finish({ status, headers, body: rest });
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryComplete(false);
    });
    socket.on("error", () => {}); // a reset after (or instead of) the answer: `close` follows
    socket.on("close", () => tryComplete(true));
    socket.on("connect", () => {
      const cuts = [...(options.splits ?? [])].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        if (cut > from) socket.write(bytes.subarray(from, cut));
        from = cut;
      }
      if (options.endAfterWrite) socket.end();
    });
  });
}
