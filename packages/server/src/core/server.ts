/**
 * The one hand-written HTTP core behind every generated base class: routing, CORS, authentication,
 * body limits and content types, validation, dispatch to the implementation's method, ARP error
 * envelopes, NDJSON streaming and graceful shutdown, all driven by the operation tables of
 * `@arp/model`. It depends on `node:http` only; Express support lives in `express.ts`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type Health,
  type OperationSpec,
  type SchemaName,
  type ServiceSpec,
  type ValidationIssue,
  type VersionInfo,
  validate,
} from "@arp/model";
import { Authenticator, type AuthOptions, type Principal, resolveAuthSettings } from "./auth.js";
import { ArpServerError, badRequest } from "./errors.js";
import { writeNdjson } from "./ndjson.js";
import { Router } from "./router.js";

/** What a handler method receives. */
export interface ArpRequest<Body = undefined, Params = Record<string, never>> {
  /** The validated request body (operations without a body: `undefined`). */
  body: Body;
  /** Path and query parameters by their spec names (`run_id`, `q`, `kind`), validated. */
  params: Params;
  headers: IncomingHttpHeaders;
  /** The token's claims; `{ sub: devSubject }` when auth is disabled; undefined on exempt paths. */
  principal: Principal | undefined;
  /** The W3C `traceparent` header, when present and well-formed. */
  traceparent?: string;
  /** Aborted when the client goes away (or the server shuts down): stop work, release resources. */
  signal: AbortSignal;
  /** The operation being served. */
  operation: OperationSpec;
}

export interface Logger {
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface CorsOptions {
  /** Origins allowed to call the service from a browser (exact match), or `"*"`. */
  origins: readonly string[] | "*";
  /** Preflight cache lifetime. Default 600 s. */
  maxAgeSeconds?: number;
}

export interface ServerOptions {
  /** `service_name` of `GET /v1/version`. Default: the service key (`run-gateway`, ...). */
  serviceName?: string;
  /** `service_version` of `GET /v1/version`. Default `0.0.0`. */
  serviceVersion?: string;
  /** JWT bearer auth. Default: from the `ARP_AUTH_*` environment variables, `required` when unset. */
  auth?: AuthOptions;
  /** Largest accepted request body, bytes. Default 1 MiB (a larger one is answered 413). */
  bodyLimit?: number;
  /** CORS for browser clients: off by default. */
  cors?: CorsOptions;
  /**
   * Check responses and stream events against their schemas. Default `"strict"`: an invalid response
   * is a bug, answered 500 (a stream is cut) and logged. `"warn"` logs and sends it; `"off"` skips.
   */
  validateResponses?: "off" | "warn" | "strict";
  /** Where warnings and errors go. Default: one line each on stderr. */
  logger?: Logger;
  /** Environment the auth settings are read from when `auth` is not given. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

export interface RunningServer {
  /** `http://host:port`, ready for a client's `baseUrl`. */
  url: string;
  server: Server;
  /**
   * Stops accepting connections, ends open event streams, lets in-flight requests finish, then
   * resolves. After `timeoutMs` (default 10 s) the remaining connections are destroyed.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const principalStore = new AsyncLocalStorage<Principal | undefined>();

/** The principal of the request being handled (also `req.principal`), from anywhere in its async call tree. */
export function getPrincipal(): Principal | undefined {
  return principalStore.getStore();
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const defaultLogger: Logger = {
  warn: (message, data) =>
    process.stderr.write(`[arp-server] warn: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    process.stderr.write(`[arp-server] error: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function issueDetails(issues: readonly ValidationIssue[]): {
  errors: { pointer: string; message: string }[];
} {
  return { errors: issues.map((i) => ({ pointer: i.pointer, message: i.message })) };
}

/** Reads the request body, up to `limit` bytes (413 beyond). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume(); // drain the rest without keeping it
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function tooLarge(limit: number): ArpServerError {
  return new ArpServerError({
    status: 413,
    code: "payload_too_large",
    message: `request body exceeds ${limit} bytes`,
  });
}

/**
 * Base of the generated service classes (`BaseRunGatewayServer`, ...). Subclasses implement the
 * operations as methods named after their operationIds (`startRun(req)`); this class does the rest.
 */
export abstract class ArpServerBase {
  readonly service: ServiceSpec;
  readonly #router: Router;
  readonly #auth: Authenticator;
  readonly #logger: Logger;
  readonly #bodyLimit: number;
  readonly #responses: "off" | "warn" | "strict";
  readonly #cors: CorsOptions | undefined;
  readonly #serviceName: string;
  readonly #serviceVersion: string;
  /** Requests of `handle()` callers that are not a `listen()` server (handler(), Express). */
  readonly #registry = new Registry();

  constructor(service: ServiceSpec, options: ServerOptions = {}) {
    this.service = service;
    // Plain-JS subclasses get no compile error for a missing method: fail here, listing them all.
    const self = this as unknown as Record<string, unknown>;
    const missing = Object.values(service.operations)
      .filter((op) => op.conformance === "required" && typeof self[op.name] !== "function")
      .map((op) => op.name);
    if (missing.length > 0) {
      throw new TypeError(
        `${new.target.name || "The service class"} does not implement ${missing.join(", ")}: required by ARP v1 (${service.title})`,
      );
    }
    this.#router = new Router(Object.values(service.operations));
    this.#auth = new Authenticator(resolveAuthSettings(options.auth, options.env ?? process.env));
    this.#logger = options.logger ?? defaultLogger;
    this.#bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.#responses = options.validateResponses ?? "strict";
    this.#cors = options.cors;
    this.#serviceName = options.serviceName ?? service.key;
    this.#serviceVersion = options.serviceVersion ?? "0.0.0";
  }

  /** `GET /v1/health`: `ok` by default. Override to report real checks. */
  health(_req: ArpRequest): Health | Promise<Health> {
    return { status: "ok", time: new Date().toISOString() };
  }

  /** `GET /v1/version`: the constructor's `serviceName`/`serviceVersion`, API `v1`. */
  version(_req: ArpRequest): VersionInfo | Promise<VersionInfo> {
    return {
      service_name: this.#serviceName,
      service_version: this.#serviceVersion,
      supported_api_versions: ["v1"],
    };
  }

  /** A `node:http` request listener: `http.createServer(service.handler())`. */
  handler(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      void this.handle(req, res);
    };
  }

  /** Handles one request to completion; never rejects (every failure is answered or logged). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#serve(req, res, this.#registry);
  }

  async #serve(req: IncomingMessage, res: ServerResponse, registry: Registry): Promise<void> {
    const lifetime = registry.start(req, res);
    try {
      await this.#handle(req, res, lifetime, registry);
    } catch (err) {
      if (err instanceof ArpServerError) {
        send(res, err.status, err.toEnvelope(), err.headers);
      } else if (err instanceof ContractViolation) {
        // Already logged where it was found; the client learns only that the server failed.
        send(res, 500, { error: { code: "internal_error", message: "internal server error" } });
      } else {
        this.#logger.error("unhandled error in handler", {
          method: req.method,
          url: req.url,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        send(res, 500, { error: { code: "internal_error", message: "internal server error" } });
      }
    }
  }

  #corsHeaders(req: IncomingMessage, res: ServerResponse): boolean {
    const cors = this.#cors;
    if (!cors) return false;
    if (cors.origins !== "*") res.setHeader("vary", "Origin"); // the answer depends on the Origin
    const origin = req.headers.origin;
    if (!origin || (cors.origins !== "*" && !cors.origins.includes(origin))) return false;
    res.setHeader("access-control-allow-origin", cors.origins === "*" ? "*" : origin);
    // Let browser code read what the client library needs from error responses.
    res.setHeader("access-control-expose-headers", "retry-after, www-authenticate");
    return true;
  }

  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    lifetime: Lifetime,
    registry: Registry,
  ): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? "GET";
    const cors = this.#corsHeaders(req, res);
    if (method === "OPTIONS" && cors && req.headers["access-control-request-method"]) {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "authorization, content-type, traceparent, user-agent",
        "access-control-max-age": String(this.#cors?.maxAgeSeconds ?? 600),
      });
      res.end();
      return;
    }

    const match = this.#router.match(method, path);
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
    const { op } = match;

    const auth = await this.#auth.authenticate(path, req.headers.authorization);
    if (!auth.ok) {
      throw new ArpServerError({
        status: 401,
        code: "unauthorized",
        message: auth.message,
        headers: { "www-authenticate": auth.challenge },
      });
    }

    const params: Record<string, string> = match.params;
    if (op.queryParams.length > 0 && q !== -1) {
      const query = new URLSearchParams(url.slice(q + 1));
      for (const p of op.queryParams) {
        const value = query.get(p.name);
        if (value === null) continue;
        if (p.schema) this.#checkRequest(p.schema, value, `query parameter ${p.name}`, `/${p.name}`);
        params[p.name] = value;
      }
    }
    for (const p of op.queryParams) {
      if (p.required && params[p.name] === undefined)
        throw badRequest(`query parameter ${p.name} is required`);
    }

    let body: unknown;
    if (op.requestBody) {
      body = await this.#readJson(req, op.requestBody.schema);
    } else if (!req.readableEnded) {
      req.resume(); // a body on an operation that takes none is ignored, not left unread
    }

    const traceparent = req.headers.traceparent;
    const request: ArpRequest<unknown, Record<string, string>> = {
      body,
      params,
      headers: req.headers,
      principal: auth.principal,
      ...(typeof traceparent === "string" && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
      // Created on first use: most handlers never look, and an AbortController per request is
      // a measurable share of a fast request's cost (bench/server.bench.ts).
      get signal() {
        return lifetime.signal;
      },
      operation: op,
    };
    const implementation = (this as unknown as Record<string, (r: typeof request) => unknown>)[op.name]!;
    // The whole response runs in the principal's context, so that `getPrincipal()` also works inside
    // an `async *` stream handler, whose body runs only as its events are pulled.
    await principalStore.run(auth.principal, async () => {
      const result = await implementation.call(this, request);
      await this.#respond(res, op, result, lifetime, registry);
    });
  }

  async #readJson(req: IncomingMessage, schema: SchemaName): Promise<unknown> {
    const preParsed = req as IncomingMessage & { body?: unknown; _body?: boolean };
    // Mounted behind express.json(): the body was already read and parsed (Express 5 leaves
    // `req.body` undefined unless a body parser set it; older parsers also set `_body`).
    if (preParsed.body !== undefined || preParsed._body === true) {
      this.#checkRequest(schema, preParsed.body, "request body");
      return preParsed.body;
    }
    const type = req.headers["content-type"];
    if (!type || !JSON_TYPE.test(type)) {
      throw new ArpServerError({
        status: 415,
        code: "unsupported_media_type",
        message: `request body must be application/json (got ${type ?? "no content-type"})`,
      });
    }
    const raw = await readBody(req, this.#bodyLimit);
    let data: unknown;
    try {
      data = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new ArpServerError({
        status: 400,
        code: "invalid_json",
        message: "request body is not valid JSON",
      });
    }
    this.#checkRequest(schema, data, "request body");
    return data;
  }

  #checkRequest(schema: SchemaName, data: unknown, what: string, pointerPrefix = ""): void {
    const result = validate(schema, data);
    if (!result.ok) {
      const issues = result.errors.map((i) => ({ ...i, pointer: pointerPrefix + i.pointer }));
      throw badRequest(`${what} does not match ${schema}`, { details: issueDetails(issues) });
    }
  }

  /** Validates a response per `validateResponses`; false when it must not be sent (strict). */
  #checkResponse(schema: string, data: unknown, op: OperationSpec, isArray = false): boolean {
    if (this.#responses === "off") return true;
    let issues: ValidationIssue[] = [];
    if (isArray && !Array.isArray(data)) {
      issues = [{ pointer: "", message: "must be of type array", keyword: "type", params: {} }];
    } else {
      for (const [i, item] of (isArray ? (data as unknown[]) : [data]).entries()) {
        const result = validate(schema as SchemaName, item);
        if (!result.ok)
          issues.push(...result.errors.map((e) => ({ ...e, pointer: (isArray ? `/${i}` : "") + e.pointer })));
      }
    }
    if (issues.length === 0) return true;
    this.#logger[this.#responses === "strict" ? "error" : "warn"](
      `${op.operationId} returned a ${schema}${isArray ? "[]" : ""} that does not match the spec`,
      issueDetails(issues),
    );
    return this.#responses !== "strict";
  }

  async #respond(
    res: ServerResponse,
    op: OperationSpec,
    result: unknown,
    lifetime: Lifetime,
    registry: Registry,
  ): Promise<void> {
    const spec = op.response;
    if (spec.kind === "empty") {
      send(res, spec.status, undefined);
      return;
    }
    if (spec.kind === "json") {
      if (!this.#checkResponse(spec.schema, result, op, spec.array)) throw new ContractViolation();
      send(res, spec.status, result);
      return;
    }
    if (!result || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function") {
      this.#logger.error(`${op.operationId} must return an AsyncIterable of ${spec.itemSchema}`);
      throw new ContractViolation();
    }
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    // Wait a moment for the first event before committing to a 200: a handler that fails at once
    // (an unknown run) is then answered with its error envelope rather than a cut stream.
    const first = await firstStep(iterator, FIRST_EVENT_GRACE_MS);
    res.writeHead(spec.status, {
      "content-type": "application/x-ndjson",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.flushHeaders();
    registry.streaming(res);
    await writeNdjson(res, iterator, first, lifetime.signal, (event) => {
      if (!this.#checkResponse(spec.itemSchema, event, op)) throw new ContractViolation();
    }).catch((err: unknown) => {
      // Headers are gone: the stream was cut (writeNdjson closed it); only the log can tell why.
      if (!(err instanceof ContractViolation)) {
        this.#logger.error(`${op.operationId} failed while streaming`, {
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
    });
  }

  /**
   * Starts a `node:http` server for this service. Timeouts guard against slow clients: headers must
   * arrive within 20 s and a request body within 60 s; idle keep-alive connections close after 5 s.
   */
  async listen(options: ListenOptions = {}): Promise<RunningServer> {
    const registry = new Registry();
    const server = createServer(
      { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
      (req, res) => {
        void this.#serve(req, res, registry);
      },
    );
    server.on("connection", (socket) => registry.connected(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
      url: `http://${host}:${address.port}`,
      server,
      close: (closeOptions = {}) => registry.close(server, closeOptions.timeoutMs ?? 10_000),
    };
  }
}

/** Thrown when a response breaks the contract (already logged): answered 500, not logged again. */
class ContractViolation extends Error {}

/** How long a stream handler may take to produce its first event before the 200 is sent. */
const FIRST_EVENT_GRACE_MS = 50;

/** The iterator's first step if it settles within `ms` (a rejection is thrown), else the pending promise. */
async function firstStep(
  iterator: AsyncIterator<unknown>,
  ms: number,
): Promise<IteratorResult<unknown> | Promise<IteratorResult<unknown>>> {
  const step = iterator.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  try {
    const winner = await Promise.race([step, late]);
    return winner === "late" ? step : winner;
  } finally {
    clearTimeout(timer);
  }
}

/** A request's lifetime: its `req.signal`, whose AbortController exists only once someone asks. */
class Lifetime {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * The requests and connections of one listener (or of `handle()` callers), so that `close()` can
 * end its open streams, close connections as soon as they are idle (also ones that never sent a
 * request), and leave other listeners of the same service alone.
 */
class Registry {
  readonly #requests = new Map<ServerResponse, Lifetime>();
  readonly #streams = new Set<ServerResponse>();
  readonly #active = new Map<Socket, number>();
  #closing = false;

  connected(socket: Socket): void {
    this.#active.set(socket, 0);
    socket.once("close", () => this.#active.delete(socket));
    if (this.#closing) socket.destroy();
  }

  /** Registers a request; returns its lifetime (behind `req.signal`). */
  start(req: IncomingMessage, res: ServerResponse): Lifetime {
    const controller = new Lifetime();
    const socket = req.socket;
    this.#requests.set(res, controller);
    if (this.#active.has(socket)) this.#active.set(socket, this.#active.get(socket)! + 1);
    res.once("close", () => {
      this.#requests.delete(res);
      this.#streams.delete(res);
      if (!res.writableFinished) controller.abort(new Error("client disconnected"));
      const left = (this.#active.get(socket) ?? 1) - 1;
      if (this.#active.has(socket)) this.#active.set(socket, left);
      if (this.#closing && left <= 0) socket.destroy();
    });
    return controller;
  }

  /** Marks `res` as an open event stream (ended by `close()`). */
  streaming(res: ServerResponse): void {
    this.#streams.add(res);
    if (this.#closing) this.#requests.get(res)?.abort(new Error("server shutting down"));
  }

  async close(server: Server, timeoutMs: number): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Streams would never end by themselves: abort them (their iterators are returned).
    for (const res of this.#streams) this.#requests.get(res)?.abort(new Error("server shutting down"));
    // Connections without a request in flight (idle keep-alive, or never used) go at once.
    for (const [socket, active] of this.#active) if (active <= 0) socket.destroy();
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }
}
