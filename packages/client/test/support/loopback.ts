/**
 * A real HTTP server on a loopback port chosen by the OS, for tests that need real sockets (NDJSON
 * streams cut mid-line, connections the client must close). Each test scripts the handler; the
 * server records every request and every socket, so a test can assert how many connections the
 * client opened and that a connection was closed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request the server received, with its socket and how it ended. */
export interface Exchange {
  /** 1-based, in order of arrival. */
  readonly index: number;
  readonly method: string;
  /** Path and query, as sent (`/v1/runs/run_1/events`). */
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly socket: Socket;
  /** Settles when the socket this request came on is closed (by either side). */
  readonly socketClosed: Promise<void>;
  /** Settles when the response is done: fully sent, or its connection closed before that. */
  readonly responseClosed: Promise<void>;
  /** Whether the response was fully sent before it closed (false: the connection went first). */
  readonly finished: () => boolean;
}

export type Handler = (exchange: Exchange) => void | Promise<void>;

export interface Loopback {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Every request so far, in order. */
  readonly exchanges: readonly Exchange[];
  /** Sockets accepted so far (each TCP connection once). */
  readonly connections: () => number;
  /**
   * Sockets currently open. Not a measure of leaks on its own: after a response is aborted, undici
   * may open a spare connection to the same origin without sending a request on it.
   */
  readonly openSockets: () => number;
  /** Replaces the handler (default: 404 with an empty body). */
  handle(handler: Handler): void;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1, port 0. Errors thrown by a handler destroy that request's socket. */
export async function startLoopback(handler?: Handler): Promise<Loopback> {
  let current: Handler =
    handler ??
    (({ res }) => {
      res.statusCode = 404;
      res.end();
    });
  const exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();
  const socketClosed = new WeakMap<Socket, Promise<void>>();
  let accepted = 0;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let finished = false;
    const responseClosed = new Promise<void>((resolve) => {
      res.on("finish", () => {
        finished = true;
      });
      res.on("close", () => resolve());
    });
    const exchange: Exchange = {
      index: exchanges.length + 1,
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      req,
      res,
      socket,
      socketClosed: socketClosed.get(socket) ?? Promise.resolve(),
      responseClosed,
      finished: () => finished,
    };
    exchanges.push(exchange);
    Promise.resolve()
      .then(() => current(exchange))
      .catch(() => socket.destroy());
  });
  server.on("connection", (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.setNoDelay(true); // each write leaves at once, so chunk boundaries reach the client
    socketClosed.set(
      socket,
      new Promise<void>((resolve) =>
        socket.on("close", () => {
          sockets.delete(socket);
          resolve();
        }),
      ),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    connections: () => accepted,
    openSockets: () => sockets.size,
    handle(next: Handler): void {
      current = next;
    },
    close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `data` and resolves once it has been handed to the operating system. */
export function write(res: ServerResponse, data: string | Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    res.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Cuts the connection mid-response, as a crashed server or a dropped network would: lets what was
 * written reach the client first, then destroys the socket (the chunked body never gets its end).
 */
export async function cut(res: ServerResponse): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  res.socket?.destroy();
}

/** Rejects after `ms` with a message naming what was awaited, so a broken test fails instead of hanging. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
