/**
 * The requests and connections of one listener (or of `handle()` callers), so that `close()` can
 * end its open streams, close connections as soon as they are idle (also ones that never sent a
 * request), and leave other listeners of the same service alone.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { RequestSide, ResponseSide } from "./transport.js";

/** What the registry needs of a request in flight. */
export interface InFlight {
  readonly req: RequestSide;
  readonly res: ResponseSide;
  /** Ends the request's work (its `req.signal`), e.g. an open stream at shutdown. */
  abort(reason: unknown): void;
}

export class Registry {
  /** Open event streams, ended by `close()`. */
  readonly #streams = new Set<InFlight>();
  /**
   * Each connection of a `listen()` server and the newest request it carried (HTTP/1.1 answers in
   * order, so the connection is idle once that one's response is done). Tracking the newest request
   * costs one `Map.set` per request; the work of waiting for responses is left to `close()`.
   */
  readonly #connections = new Map<Socket, InFlight | undefined>();
  #closing = false;

  connected(socket: Socket): void {
    this.#connections.set(socket, undefined);
    socket.once("close", () => this.#connections.delete(socket));
    if (this.#closing) socket.destroy();
  }

  /** Registers a request (only `listen()` connections are tracked). */
  start(request: InFlight): void {
    const socket = request.req.socket;
    if (socket === null || !this.#connections.has(socket)) return;
    this.#connections.set(socket, request);
    // Pipelined behind one in flight at close(): answered, but the client must not send more.
    if (this.#closing) lastOnConnection(request);
  }

  /** Marks `request` as an open event stream until `ended`. */
  streaming(request: InFlight): void {
    this.#streams.add(request);
    if (this.#closing) request.abort(new Error("server shutting down"));
  }

  ended(request: InFlight): void {
    this.#streams.delete(request);
  }

  /**
   * Ends every open stream (its generator is returned, its response ends cleanly), and every stream
   * started from now on as soon as it starts: a shutdown, also for a host that is not a `Server`.
   */
  endStreams(): void {
    this.#closing = true;
    for (const request of this.#streams) request.abort(new Error("server shutting down"));
  }

  /**
   * `requestTimeoutMs` (0: none) is the listener's: Node stops enforcing it once `server.close()`
   * is called, so a body still arriving then is given that long again, and no longer.
   */
  async close(server: Server, timeoutMs: number, requestTimeoutMs = 0): Promise<void> {
    // Streams would never end by themselves: abort them (their iterators are returned).
    this.endStreams();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Connections go as soon as they are idle: at once when nothing is in flight (idle keep-alive,
    // or never used), else when the last response is done.
    const arriving: InFlight[] = [];
    for (const [socket, newest] of this.#connections) {
      if (newest && !newest.req.complete) arriving.push(newest);
      this.#closeWhenIdle(socket);
    }
    const slow =
      arriving.length > 0 && requestTimeoutMs > 0 && requestTimeoutMs < timeoutMs
        ? setTimeout(() => timedOut(server, arriving), requestTimeoutMs)
        : undefined;
    // setTimeout would fire at once for Infinity or anything over 2^31 - 1 ms: no timer is no limit.
    const timer =
      timeoutMs <= MAX_TIMER_MS ? setTimeout(() => this.#destroyAll(server), timeoutMs) : undefined;
    try {
      await closed;
    } finally {
      clearTimeout(timer);
      clearTimeout(slow);
    }
  }

  /** The grace period is over: every connection goes, whatever it is doing. */
  #destroyAll(server: Server): void {
    server.closeAllConnections();
    for (const socket of this.#connections.keys()) socket.destroy();
  }

  #closeWhenIdle(socket: Socket): void {
    const newest = this.#connections.get(socket);
    if (!newest || newest.res.writableFinished || newest.res.destroyed) {
      socket.destroy();
      return;
    }
    lastOnConnection(newest);
    newest.res.once("close", () => this.#closeWhenIdle(socket));
  }
}

/**
 * What Node's own check would have done to the requests whose body has still not arrived: a
 * `clientError` (answered 408 `request_timeout` where a response can still be written, then closed).
 */
function timedOut(server: Server, requests: InFlight[]): void {
  for (const { req } of requests) {
    if (req.complete || !req.socket || req.socket.destroyed) continue;
    const err = Object.assign(new Error("Request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" });
    server.emit("clientError", err, req.socket);
  }
}

/** The longest delay `setTimeout` takes as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The response of `request` (not sent yet) says `Connection: close`, so that a keep-alive client
 * sends nothing more on a connection that is closed once it is done.
 */
function lastOnConnection(request: InFlight): void {
  if (!request.res.headersSent) request.res.shouldKeepAlive = false;
}
