/**
 * The pipeline's response side, collected into a web `Response`: a JSON answer (or none) becomes a
 * `Response` with the whole body once `end()` is called; a stream (`flushHeaders()`) becomes one at
 * once, with a `ReadableStream` body fed by `write()`.
 *
 * Backpressure: `write()` returns false once more than {@link STREAM_HIGH_WATER_MARK} bytes wait
 * unread in the body (the host reads it as its connection takes it), and `drain` is emitted when the
 * host has read it down, so the pipeline's stream write-stall timeout works as on a socket. The host
 * cancelling the body (its client went away) is a `close` before the end, as a dropped connection is.
 */
import { EventEmitter } from "node:events";
import type { OutgoingHttpHeaders } from "node:http";
import type { ResponseSide } from "../core/transport.js";

/** How many bytes of a stream may wait unread before `write()` asks to wait (Node's socket default). */
export const STREAM_HIGH_WATER_MARK = 16 * 1024;

/**
 * Headers that are the host's to set: the connection's own (a fetch host manages connections and
 * framing; some refuse them in a `Response`) and the length, which the host takes from the body.
 */
const HOST_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

const encoder = new TextEncoder();

const INTERNAL_ERROR = JSON.stringify({
  error: { code: "internal_error", message: "internal server error" },
});

function internalError(): Response {
  return new Response(INTERNAL_ERROR, { status: 500, headers: { "content-type": "application/json" } });
}

export class FetchResponseSide extends EventEmitter implements ResponseSide {
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  shouldKeepAlive = true;
  /** `writeNdjson` ends "the socket" to cut a failed stream after what was written is read. */
  readonly socket = { end: () => this.#cutAfterFlush() };
  /** Resolves once the head is known (never rejects: see `destroy`). */
  readonly response: Promise<Response>;
  #answer!: (response: Response) => void;
  #status = 200;
  readonly #headers = new Headers();
  #stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  #waitingForDrain = false;
  #cutting = false;
  #closed = false;

  /**
   * `request.signal` is the host's word that the client went away. It is listened to
   * only once the pipeline watches for a departure (a `close` listener: a handler asked for its
   * `req.signal`, or a stream), as `listen()` watches its socket only then.
   */
  constructor(request: Request) {
    super();
    this.response = new Promise((resolve) => {
      this.#answer = resolve;
    });
    const gone = () => this.#departed();
    const watch = (event: string) => {
      if (event !== "close") return;
      this.off("newListener", watch);
      const departure = request.signal;
      if (departure.aborted) gone();
      else {
        departure.addEventListener("abort", gone, { once: true });
        this.once("close", () => departure.removeEventListener("abort", gone));
      }
    };
    this.on("newListener", watch);
  }

  setHeader(name: string, value: string): this {
    if (!this.headersSent) this.#headers.set(name, value);
    return this;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders | string[]): this {
    if (this.headersSent || this.destroyed) return this;
    this.#status = status;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.#header(headers[i]!, headers[i + 1]!);
    } else if (headers !== undefined) {
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined) continue;
        this.#header(name, Array.isArray(value) ? value.join(", ") : String(value));
      }
    }
    this.headersSent = true;
    return this;
  }

  /** Throws a TypeError for a value `Headers` refuses (as Node's writeHead does). */
  #header(name: string, value: string): void {
    if (!HOST_HEADERS.has(name.toLowerCase())) this.#headers.set(name, value);
  }

  /** The stream's head: the `Response` is handed to the host now, its body to follow. */
  flushHeaders(): void {
    if (this.#stream !== undefined || this.destroyed) return;
    this.headersSent = true;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#stream = controller;
        },
        pull: () => this.#pulled(),
        cancel: () => this.#gone(),
      },
      { highWaterMark: STREAM_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    this.#answer(new Response(body, { status: this.#status, headers: this.#headers }));
  }

  write(chunk: string): boolean {
    if (this.destroyed || this.writableFinished || this.#cutting) return false;
    if (this.#stream === undefined) this.flushHeaders();
    const stream = this.#stream!;
    stream.enqueue(encoder.encode(chunk));
    if ((stream.desiredSize ?? 0) > 0) return true;
    this.#waitingForDrain = true;
    return false;
  }

  end(chunk?: string): this {
    if (this.destroyed || this.writableFinished) return this;
    if (this.#stream === undefined) {
      this.headersSent = true;
      this.#answer(new Response(chunk ?? null, { status: this.#status, headers: this.#headers }));
    } else {
      if (chunk !== undefined) this.#stream.enqueue(encoder.encode(chunk));
      this.#stream.close();
    }
    this.writableFinished = true;
    this.#close();
    return this;
  }

  /**
   * Cuts the response. Before its head, a `node:http` server would cut the connection; a fetch host
   * has no way to (Bun and Deno answer a thrown error or `Response.error()` with their own 500 page
   * and log it), so the answer is a 500 `internal_error` envelope, which a host whose client went
   * away drops unsent. After the head, the body errors: the host cuts the response there.
   */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (this.#stream === undefined) {
      if (!this.writableFinished) this.#answer(internalError());
    } else if (!this.writableFinished) {
      // Hosts log this (Bun prints it): say that it is deliberate, and where the reason is.
      this.#stream.error(error ?? new Error("ARP stream cut on purpose (the server's log says why)"));
    }
    this.#close();
    return this;
  }

  /** The host read the body down below the high-water mark. */
  #pulled(): void {
    const stream = this.#stream!;
    if (this.#cutting) {
      if (stream.desiredSize === STREAM_HIGH_WATER_MARK) this.destroy(); // all read: now cut
      return;
    }
    if (this.#waitingForDrain) {
      this.#waitingForDrain = false;
      this.emit("drain");
    }
  }

  /** Cut the stream once the host has read what was written: the client sees it end without a clean end. */
  #cutAfterFlush(): void {
    if (this.destroyed || this.writableFinished) return;
    this.#cutting = true;
    if (this.#stream === undefined || this.#stream.desiredSize === STREAM_HIGH_WATER_MARK) this.destroy();
  }

  /**
   * The host says the client went away (`request.signal`): the response ends quietly, as nobody
   * reads it any more (an errored body would only have the host log an error for a departure).
   */
  #departed(): void {
    if (this.destroyed || this.writableFinished) return;
    this.destroyed = true;
    if (this.#stream === undefined) this.#answer(internalError());
    else {
      try {
        this.#stream.close();
      } catch {
        // already closed or errored by the host: nothing left to end
      }
    }
    this.#close();
  }

  /** The host cancelled the body: its client went away. */
  #gone(): void {
    if (this.writableFinished) return;
    this.destroyed = true;
    this.#close();
  }

  /** `close`, once, after the current step (as Node emits it). */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    queueMicrotask(() => this.emit("close"));
  }
}
