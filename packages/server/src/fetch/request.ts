/**
 * A web `Request` as the pipeline's request side: its head as Node's parser would give it, and its
 * body as `data`/`end` events read from `request.body` once the pipeline asks for it.
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
  #body: ReadableStream<Uint8Array> | null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #stopped = false;

  constructor(request: Request) {
    super();
    const target = new URL(request.url);
    this.url = target.pathname + target.search;
    this.method = request.method;
    const headers = this.headers;
    for (const [name, value] of request.headers) {
      this.rawHeaders.push(name, value);
      headers[name] = value; // `Headers` joined repeated values already (`a, b`)
    }
    // Hosts put the authority in the URL (and not always in the headers, e.g. HTTP/2's :authority).
    if (headers.host === undefined) {
      headers.host = target.host;
      this.rawHeaders.push("host", target.host);
    }
    this.#body = request.body;
    this.readableEnded = this.complete = request.body === null;
    // Flowing starts when the pipeline listens for data, as a Node request's does.
    this.on("newListener", (event: string) => {
      if (event === "data" && this.#reader === undefined && this.#body !== null && !this.#stopped) {
        this.#reader = this.#body.getReader();
        void this.#flow(this.#reader);
      }
    });
  }

  async #flow(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#stopped) return;
        if (done) {
          this.readableEnded = this.complete = true;
          this.emit("end");
          return;
        }
        this.emit("data", Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (error) {
      // The upload broke off (the client went away); nothing to say when nobody listens any more.
      if (!this.#stopped && this.listenerCount("error") > 0) {
        this.emit("error", error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** The rest of the body is not wanted: cancel it, so the host reads no more of it. */
  #stop(): this {
    if (this.#stopped) return this;
    this.#stopped = true;
    const cancelled = this.#reader ? this.#reader.cancel() : this.#body?.cancel();
    cancelled?.catch(() => undefined);
    return this;
  }

  pause(): this {
    return this.#stop();
  }

  resume(): this {
    return this.#stop();
  }
}
