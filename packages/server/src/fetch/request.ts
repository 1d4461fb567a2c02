/**
 * A web `Request` as the pipeline's request side: its head as Node's parser would give it, and its
 * body as `data`/`end` events once the pipeline asks for it (never before: the pipeline answers 413
 * and 415 from the headers alone). A body whose length is declared is read with `arrayBuffer()` (the
 * host frames it by that length, and the pipeline refused a declared length over the limit already;
 * hosts read it fastest so, without a web stream); one of unknown length is read from `request.body`
 * chunk by chunk, so that the limit cuts it off as soon as the bytes pass it. A GET or HEAD has no
 * body, and `request.body` is not touched for it (some Node hosts build a whole web `Request` for it).
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { RequestSide } from "../core/transport.js";

export class FetchRequestSide extends EventEmitter implements RequestSide {
  readonly url: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders = {};
  readonly rawHeaders: string[] = [];
  // A fetch host parsed the request (HTTP/1.1 or 2 alike): what the pipeline checks of the version
  // (a missing Host) is settled below, from the URL the host made of it.
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** No connection of its own to watch: the host's `request.signal` tells of a departure. */
  readonly socket = null;
  readableEnded: boolean;
  complete: boolean;
  readonly #request: Request;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #reading = false;
  #stopped = false;

  constructor(request: Request) {
    super();
    // `scheme://authority/path?query` (a Request's URL is absolute): the path and query as sent,
    // without a URL parse (which would also normalise what the router judges as it came).
    const href = request.url;
    const authority = href.indexOf("://") + 3;
    const slash = href.indexOf("/", authority);
    this.url = slash === -1 ? "/" : href.slice(slash);
    this.method = request.method;
    const headers = this.headers;
    for (const [name, value] of request.headers) {
      this.rawHeaders.push(name, value);
      headers[name] = value; // `Headers` joined repeated values already (`a, b`)
    }
    // Hosts put the authority in the URL (and not always in the headers, e.g. HTTP/2's :authority).
    if (headers.host === undefined) {
      const host = href.slice(authority, slash === -1 ? undefined : slash);
      headers.host = host;
      this.rawHeaders.push("host", host);
    }
    this.#request = request;
    this.readableEnded = this.complete = this.method === "GET" || this.method === "HEAD";
    // Flowing starts when the pipeline listens for data, as a Node request's does.
    this.on("newListener", (event: string) => {
      if (event !== "data" || this.#reading || this.#stopped || this.readableEnded) return;
      this.#reading = true;
      void (headers["content-length"] === undefined ? this.#flow() : this.#whole());
    });
  }

  #ended(): void {
    this.readableEnded = this.complete = true;
    this.emit("end");
  }

  async #whole(): Promise<void> {
    try {
      const body = await this.#request.arrayBuffer();
      if (this.#stopped) return;
      if (body.byteLength > 0) this.emit("data", Buffer.from(body));
      this.#ended();
    } catch (error) {
      this.#broke(error);
    }
  }

  async #flow(): Promise<void> {
    const body = this.#request.body;
    if (body === null) {
      this.#ended();
      return;
    }
    const reader = body.getReader();
    this.#reader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#stopped) return;
        if (done) {
          this.#ended();
          return;
        }
        this.emit("data", Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (error) {
      this.#broke(error);
    }
  }

  /** The upload broke off (the client went away); nothing to say when nobody listens any more. */
  #broke(error: unknown): void {
    if (!this.#stopped && this.listenerCount("error") > 0) {
      this.emit("error", error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The rest of the body is not wanted: cancel it, so the host reads no more of it. */
  #stop(): this {
    if (this.#stopped || this.readableEnded) return this;
    this.#stopped = true;
    if (this.#reader) this.#reader.cancel().catch(() => undefined);
    else if (!this.#reading) this.#request.body?.cancel().catch(() => undefined);
    return this;
  }

  pause(): this {
    return this.#stop();
  }

  /** A body on an operation that takes none: discarded (left alone when the headers say there is none). */
  resume(): this {
    const { headers } = this;
    const length = headers["content-length"];
    if (length === "0" || (length === undefined && headers["transfer-encoding"] === undefined)) return this;
    return this.#stop();
  }
}
