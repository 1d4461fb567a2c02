/**
 * The seam between the pipeline and what carries a request: the parts of a request and of its
 * response the pipeline uses. Node's `IncomingMessage` and `ServerResponse` have them (so `listen()`,
 * `handler()` and Express pass theirs straight in, with no wrapper and no cost); the fetch entry
 * (`fetch.ts`) implements them over a web `Request` and a `Response` it builds. These are types only:
 * the pipeline's code is the same for both, and a use of anything not listed here fails to compile.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

/** The request side: head, body events and flow control. */
export interface RequestSide {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Header names and values in arrival order, alternating (to find a header sent twice). */
  readonly rawHeaders: readonly string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** The connection, when the request has one of its own to watch (`listen()`, `handler()`). */
  readonly socket: Socket | null;
  readonly readableEnded: boolean;
  /** The whole body arrived. */
  readonly complete: boolean;
  /** Discards the rest of the body. */
  resume(): unknown;
  /** Stops reading the body (it will not be answered). */
  pause(): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "data", listener: (chunk: Buffer) => void): unknown;
  off(event: "end", listener: () => void): unknown;
}

/** The response side: one head, then a body written whole (`end`) or in pieces (`write`). */
export interface ResponseSide {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** Everything was written and handed on: a later close is not a departure. */
  readonly writableFinished: boolean;
  /** Whether the connection may carry another request (`listen()`'s shutdown turns it off). */
  shouldKeepAlive: boolean;
  /** What `end()` on it does: flush what was written, then cut (no clean end of the body). */
  readonly socket: { end(): unknown } | null;
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders | string[]): unknown;
  /** Sends the head now (a stream), without waiting for the body. */
  flushHeaders(): void;
  /** False when the body is buffered past its high-water mark: wait for `drain`. */
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  /** Cuts the response at once (and its connection). */
  destroy(error?: Error): unknown;
  on(event: "close" | "drain", listener: () => void): unknown;
  once(event: "close" | "drain", listener: () => void): unknown;
  off(event: "close" | "drain", listener: () => void): unknown;
}
