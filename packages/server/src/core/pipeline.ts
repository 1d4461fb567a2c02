/**
 * The request pipeline: route → CORS → authenticate → parameters → body → validate → handler →
 * validate the response → answer (JSON, nothing, or an NDJSON stream), with every failure answered
 * as an ARP error envelope. Each job lives in its own module (router, cors, auth/*, body, checks,
 * respond, ndjson); this one only sequences them for one request (`Exchange`).
 *
 * Why callbacks rather than one `async` function: a request whose auth needs no token check and whose
 * handler answers synchronously runs here without creating a single promise. On Node 20 every promise
 * also runs the `AsyncLocalStorage` hooks behind `getPrincipal()`, so await-per-step made the
 * machinery cost more than the work (bench/server.bench.ts). Each step continues synchronously when it
 * can and through `.then` when it must.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { Exemption } from "./auth/exempt.js";
import { type Authenticator, type AuthResult, EXEMPT, type Principal } from "./auth/verify.js";
import { type BodySink, readJsonBody } from "./body.js";
import { checkRequest, type ResponseChecks, readQuery } from "./checks.js";
import type { Cors } from "./cors.js";
import { ArpServerError, badRequest } from "./errors.js";
import type { Logger } from "./logger.js";
import { FIRST_EVENT_GRACE_MS, firstStep, iteratorOf, startNdjson, writeNdjson } from "./ndjson.js";
import type { InFlight, Registry } from "./registry.js";
import { HandlerRequest, principalStore } from "./request.js";
import { ContractViolation, errorText, send, sendError } from "./respond.js";
import type { Route, Router } from "./router.js";
import type { RequestSide, ResponseSide } from "./transport.js";

/** The parts a service is served with; resolved once, by the server's constructor. */
export interface PipelineParts {
  /** The object whose methods (named after the operationIds) handle the operations. */
  readonly implementation: object;
  readonly router: Router;
  readonly authenticator: Authenticator;
  readonly exempt: Exemption;
  readonly bodyLimit: number;
  readonly maxJsonDepth: number;
  readonly responses: ResponseChecks;
  readonly cors: Cors | undefined;
  readonly logger: Logger;
  /** How long a stream's write may wait for a client that reads nothing (0: no limit). */
  readonly streamWriteTimeoutMs: number;
}

type Handler = (this: object, req: HandlerRequest) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/** Serves requests for one service. */
export class Pipeline {
  readonly parts: PipelineParts;

  constructor(parts: PipelineParts) {
    this.parts = parts;
  }

  /** Handles one request to completion, then calls `done` (if given). Never throws. */
  serve(req: RequestSide, res: ResponseSide, registry: Registry, done?: () => void): void {
    const exchange = new Exchange(this.parts, req, res, registry, done);
    registry.start(exchange);
    exchange.start();
  }
}

/** One request, from its headers to the end of its response. */
class Exchange implements InFlight, BodySink {
  readonly #parts: PipelineParts;
  readonly req: RequestSide;
  readonly res: ResponseSide;
  readonly #registry: Registry;
  readonly #done: (() => void) | undefined;
  #route!: Route;
  #params!: Record<string, string>;
  #principal: Principal | undefined;
  #body: unknown;
  /** `req.signal`'s controller: created on first use, as most handlers never look. */
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #aborted = false;
  #finished = false;

  constructor(
    parts: PipelineParts,
    req: RequestSide,
    res: ResponseSide,
    registry: Registry,
    done: (() => void) | undefined,
  ) {
    this.#parts = parts;
    this.req = req;
    this.res = res;
    this.#registry = registry;
    this.#done = done;
  }

  // ---------------------------------------------------------------------------------------------
  // The request's lifetime (InFlight)

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
      else this.#watchDeparture();
    }
    return this.#controller.signal;
  }

  /**
   * Calls `#closed` once the client has gone, also when it went before this was asked (an async
   * authentication, the first-event grace). The response's 'close' alone misses one way to go: Node
   * emits it only for the response its connection is writing, so a pipelined response queued behind
   * another gets no 'close' when the connection drops, and its stream would never learn the client
   * left. The connection's own 'close' covers that. Whichever comes first ends the other watch, so
   * that a keep-alive connection collects nothing.
   */
  #watchDeparture(): void {
    const res = this.res;
    const socket = this.req.socket;
    if (res.destroyed || socket?.destroyed) {
      this.#closed();
      return;
    }
    const onClose = () => {
      res.off("close", onClose);
      unwatch?.();
      this.#closed();
    };
    res.once("close", onClose);
    const unwatch = socket ? onConnectionClose(socket, onClose) : undefined;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** The response closed: if it did not finish, the client went away (or it was destroyed). */
  #closed(): void {
    if (!this.res.writableFinished) this.abort(new Error("client disconnected"));
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  // ---------------------------------------------------------------------------------------------
  // The steps, in order

  start(): void {
    try {
      const { req, res } = this;
      const parts = this.#parts;
      let url = req.url ?? "/";
      if (url.charCodeAt(0) !== 0x2f) url = originForm(url); // e.g. `GET http://host/v1/health`
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const method = req.method ?? "GET";
      // RFC 9112 §3.2: an HTTP/1.1 request without a Host header, or with more than one, is a 400
      // (listen() turns Node's own check off, whose answer is an empty 400, so that this one is an
      // ErrorEnvelope; Node itself keeps the first of several Host headers).
      if (req.headers.host === undefined) {
        if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1)
          throw badHost("the request has no Host header");
      } else if (repeats(req.rawHeaders, "host")) {
        throw badHost("the request has more than one Host header");
      }
      if (parts.cors?.answer(req, method, res)) {
        this.#finish(); // a preflight, answered
        return;
      }

      const match = parts.router.match(method, path);
      if (match.kind === "not_found")
        throw new ArpServerError({ status: 404, code: "not_found", message: `no route for ${path}` });
      if (match.kind === "method_not_allowed") {
        throw new ArpServerError({
          status: 405,
          code: "method_not_allowed",
          message: `${method} is not allowed on ${path}`,
          headers: { allow: match.allow.join(", ") },
        });
      }
      if (match.kind === "bad_path") throw badRequest(match.message);
      this.#route = match.route;
      this.#params = match.params;
      const query = q === -1 ? undefined : url.slice(q + 1);

      if (req.headers.authorization !== undefined && repeats(req.rawHeaders, "authorization")) {
        throw badRequest("the request has more than one Authorization header");
      }
      const result = parts.exempt(match.route.op, path)
        ? EXEMPT
        : parts.authenticator.authenticate(req.headers.authorization);
      if (isThenable(result)) {
        result.then(
          (r) => {
            try {
              this.#authenticated(r, query);
            } catch (err) {
              this.#fail(err);
            }
          },
          (err: unknown) => this.#fail(err),
        );
      } else {
        this.#authenticated(result, query);
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  #authenticated(auth: AuthResult, query: string | undefined): void {
    if (!auth.ok) {
      throw new ArpServerError({
        status: 401,
        code: "unauthorized",
        message: auth.message,
        headers: { "www-authenticate": auth.challenge },
      });
    }
    this.#principal = auth.principal;
    const { op, checks } = this.#route;
    if (checks.query.length > 0) readQuery(checks.query, query, this.#params);
    if (op.requestBody) {
      readJsonBody(this.req, this.#parts, this);
      return;
    }
    if (!this.req.readableEnded) this.req.resume(); // a body on an operation that takes none is ignored, not left unread
    this.#invoke();
  }

  /** BodySink: the body was read and parsed. */
  bodyRead(data: unknown): void {
    try {
      const { op, checks } = this.#route;
      checkRequest(checks.request!, op.requestBody!.schema, data, "request body");
      this.#body = data;
      this.#invoke();
    } catch (err) {
      this.#fail(err);
    }
  }

  /** BodySink: the body was refused (size, depth, encoding, JSON). */
  bodyFailed(error: unknown): void {
    this.#fail(error);
  }

  /** BodySink: the upload broke off (the client went away): nothing to answer, nothing to report. */
  bodyAborted(error: unknown): void {
    if (this.#finished) return;
    this.#gone(error);
  }

  #invoke(): void {
    // The handler and the whole response run in the principal's context, so that `getPrincipal()`
    // also works after an `await` and inside an `async *` stream handler, whose body runs only as its
    // events are pulled. `run` with a synchronous callback creates no promise.
    principalStore.run(this.#principal, invokeIn, this);
  }

  /** Calls the implementation's method (inside the principal's context). */
  call(): void {
    let result: unknown;
    try {
      const op = this.#route.op;
      const request = new HandlerRequest(
        this,
        op,
        this.req.headers,
        this.#body,
        this.#params,
        this.#principal,
      );
      const implementation = this.#parts.implementation;
      result = (implementation as Record<string, Handler>)[op.name]!.call(implementation, request);
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#respond(value),
        (err: unknown) => this.#fail(err),
      );
    } else {
      this.#respond(result);
    }
  }

  #respond(result: unknown): void {
    const { op, checks } = this.#route;
    const spec = op.response;
    try {
      if (spec.kind === "empty") {
        send(this.res, spec.status, undefined);
      } else if (spec.kind === "json") {
        if (!this.#parts.responses.check(op, checks, spec.schema, result, spec.array)) {
          throw new ContractViolation();
        }
        send(this.res, spec.status, result);
      } else {
        this.#stream(spec.status, spec.itemSchema, result).then(
          () => this.#finish(),
          (err: unknown) => this.#fail(err),
        );
        return;
      }
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#finish();
  }

  async #stream(status: number, itemSchema: string, result: unknown): Promise<void> {
    const { op, checks } = this.#route;
    const { logger, responses } = this.#parts;
    const iterator = iteratorOf(result);
    if (iterator === undefined) {
      logger.error(`${op.operationId} must return an AsyncIterable of ${itemSchema}`);
      throw new ContractViolation();
    }
    let first: Awaited<ReturnType<typeof firstStep>> | undefined = await firstStep(
      iterator,
      FIRST_EVENT_GRACE_MS,
    );
    startNdjson(this.res, status);
    const signal = this.signal; // aborted when the client goes away
    this.#registry.streaming(this);
    const writeTimeoutMs = this.#parts.streamWriteTimeoutMs;
    const written = writeNdjson(this.res, iterator, first, {
      signal,
      writeTimeoutMs,
      check: (event) => {
        if (!responses.check(op, checks, itemSchema, event)) throw new ContractViolation();
      },
      stalled: () => {
        // The reason is set before the connection goes, so the handler sees this one, not a disconnect.
        this.abort(new Error(`stream write timed out after ${writeTimeoutMs} ms`));
        this.res.destroy();
        logger.warn(
          `${op.operationId}: stream cut, a write waited ${writeTimeoutMs} ms for the client to read`,
          {
            method: this.req.method,
            url: this.req.url,
          },
        );
      },
    });
    first = undefined; // this frame lives as long as the stream: it must not keep the first event
    await written
      .catch((err: unknown) => {
        // Headers are gone: the stream was cut (writeNdjson closed it); only the log can tell why.
        if (!(err instanceof ContractViolation)) {
          logger.error(`${op.operationId} failed while streaming`, { error: errorText(err) });
        }
      })
      .finally(() => this.#registry.ended(this));
  }

  /** Answers a failure of any step with an error envelope. Never throws. */
  #fail(err: unknown): void {
    if (this.#finished) return; // e.g. a late socket error on a request already answered
    if (this.#aborted && (err === this.#abortReason || isAbortError(err))) {
      this.#gone(err); // the handler stopped because the client went away, as it should
      return;
    }
    sendError(this.req, this.res, err, this.#parts.logger);
    this.#finish();
  }

  /** The client went away: not a server failure, so at most a debug line (without the query). */
  #gone(err: unknown): void {
    const url = this.req.url ?? "/";
    const q = url.indexOf("?");
    this.#parts.logger.debug?.("client went away before the response", {
      method: this.req.method,
      path: q === -1 ? url : url.slice(0, q),
      reason: err instanceof Error ? err.message : String(err),
    });
    this.res.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#done?.();
  }
}

/** `http://host/path?query` (absolute-form, RFC 9112 §3.2.2) as `/path?query`; anything else as it is. */
function originForm(target: string): string {
  const authority = ABSOLUTE_FORM.exec(target);
  if (authority === null) return target;
  const rest = target.slice(authority[0].length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/** Whether the header `name` (lowercase) occurs more than once in `raw` (`req.rawHeaders`). */
function repeats(raw: readonly string[], name: string): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const header = raw[i]!;
    if (header.length === name.length && header.toLowerCase() === name) {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}

/** A 400 about the Host header; the connection is closed (as Node's own answer does). */
function badHost(message: string): ArpServerError {
  return new ArpServerError({
    status: 400,
    code: "invalid_request",
    message,
    headers: { connection: "close" },
  });
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/** What to call when a connection closes: one listener per connection, however many requests it pipelines. */
const connectionWatchers = new WeakMap<Socket, Set<() => void>>();

/** Calls `onClose` when `socket` (open) closes; returns what cancels that. */
function onConnectionClose(socket: Socket, onClose: () => void): () => void {
  const watchers = connectionWatchers.get(socket) ?? watchConnection(socket);
  watchers.add(onClose);
  return () => watchers.delete(onClose);
}

function watchConnection(socket: Socket): Set<() => void> {
  const watchers = new Set<() => void>();
  connectionWatchers.set(socket, watchers);
  socket.once("close", () => {
    connectionWatchers.delete(socket);
    for (const watcher of watchers) watcher();
  });
  return watchers;
}

/** `principalStore.run`'s callback: a plain function, so that no closure is made per request. */
function invokeIn(exchange: Exchange): void {
  exchange.call();
}
