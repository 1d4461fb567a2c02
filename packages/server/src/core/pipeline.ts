/**
 * The request pipeline: route → CORS → authenticate → parameters → body → validate → handler →
 * validate the response → answer (JSON, nothing, or an NDJSON stream), with every failure answered
 * as an ARP error envelope.
 *
 * Why callbacks rather than one `async` function: a request whose auth needs no token check and whose
 * handler answers synchronously runs here without creating a single promise. On Node 20 every promise
 * also runs the `AsyncLocalStorage` hooks behind `getPrincipal()`, so await-per-step made the
 * machinery cost more than the work (bench/server.bench.ts). Each step continues synchronously when it
 * can and through `.then` when it must.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import {
  arrayIssues,
  type CompiledValidator,
  type OperationSpec,
  type OperationValidators,
  operationValidators,
  toIssues,
  type ValidationIssue,
} from "@arp/model";
import type { Authenticator, AuthResult, Principal } from "./auth.js";
import { ArpServerError, badRequest } from "./errors.js";
import { writeNdjson } from "./ndjson.js";
import type { InFlight, Registry } from "./registry.js";
import type { Router } from "./router.js";

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

export type ResponseValidation = "off" | "warn" | "strict";

/** Everything the pipeline needs of a service; one per service instance. */
export interface PipelineSettings {
  /** The object whose methods (named after the operationIds) handle the operations. */
  implementation: object;
  router: Router;
  auth: Authenticator;
  logger: Logger;
  bodyLimit: number;
  responses: ResponseValidation;
  cors: CorsOptions | undefined;
}

const principalStore = new AsyncLocalStorage<Principal | undefined>();

/** The principal of the request being handled (also `req.principal`), from anywhere in its async call tree. */
export function getPrincipal(): Principal | undefined {
  return principalStore.getStore();
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const INTERNAL_ERROR = { error: { code: "internal_error", message: "internal server error" } };

/** How long a stream handler may take to produce its first event before the 200 is sent. */
const FIRST_EVENT_GRACE_MS = 50;

/** Thrown when a response breaks the contract (already logged): answered 500, not logged again. */
class ContractViolation extends Error {}

function issueDetails(issues: readonly ValidationIssue[]): {
  errors: { pointer: string; message: string }[];
} {
  return { errors: issues.map((i) => ({ pointer: i.pointer, message: i.message })) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
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
  const length = String(Buffer.byteLength(text));
  if (headers === undefined) {
    res.writeHead(status, ["content-type", "application/json", "content-length", length]);
  } else {
    res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": length });
  }
  res.end(text);
}

function tooLarge(limit: number): ArpServerError {
  return new ArpServerError({
    status: 413,
    code: "payload_too_large",
    message: `request body exceeds ${limit} bytes`,
  });
}

/** The checks of one operation, looked up once. */
interface Plan extends OperationValidators {
  query: { name: string; schema: string; required: boolean; check: CompiledValidator | undefined }[];
}

/** Serves requests for one service. */
export class Pipeline {
  readonly settings: PipelineSettings;
  readonly #plans = new Map<OperationSpec, Plan>();

  constructor(settings: PipelineSettings, operations: readonly OperationSpec[]) {
    this.settings = settings;
    for (const op of operations) {
      this.#plans.set(op, {
        ...operationValidators(op),
        query: op.queryParams.map((p) => ({
          name: p.name,
          schema: p.schema ?? "",
          required: p.required,
          check: p.validate,
        })),
      });
    }
  }

  /** Handles one request to completion, then calls `done` (if given). Never throws. */
  serve(req: IncomingMessage, res: ServerResponse, registry: Registry, done?: () => void): void {
    const exchange = new Exchange(this, req, res, registry, done);
    registry.start(exchange);
    exchange.start();
  }

  /** The checks of `op`, one of the service's operations. */
  plan(op: OperationSpec): Plan {
    return this.#plans.get(op)!;
  }
}

/** One request, from its headers to the end of its response. */
class Exchange implements InFlight {
  readonly #pipeline: Pipeline;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly #registry: Registry;
  readonly #done: (() => void) | undefined;
  #op!: OperationSpec;
  #plan!: Plan;
  #params!: Record<string, string>;
  #principal: Principal | undefined;
  #body: unknown;
  /** `req.signal`'s controller: created on first use, as most handlers never look. */
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #aborted = false;
  #finished = false;

  constructor(
    pipeline: Pipeline,
    req: IncomingMessage,
    res: ServerResponse,
    registry: Registry,
    done: (() => void) | undefined,
  ) {
    this.#pipeline = pipeline;
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
      const res = this.res;
      if (this.#aborted) this.#controller.abort(this.#abortReason);
      else if (res.destroyed) this.#closed();
      else res.once("close", () => this.#closed());
    }
    return this.#controller.signal;
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

  // ---------------------------------------------------------------------------------------------
  // The steps, in order

  start(): void {
    try {
      const { req, res } = this;
      const { router, auth } = this.#pipeline.settings;
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const method = req.method ?? "GET";
      const cors = this.#corsHeaders();
      if (method === "OPTIONS" && cors && req.headers["access-control-request-method"]) {
        res.writeHead(204, {
          "access-control-allow-methods": "GET, POST",
          "access-control-allow-headers": "authorization, content-type, traceparent, user-agent",
          "access-control-max-age": String(this.#pipeline.settings.cors?.maxAgeSeconds ?? 600),
        });
        res.end();
        this.#finish();
        return;
      }

      const match = router.match(method, path);
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
      this.#op = match.op;
      this.#plan = this.#pipeline.plan(match.op);
      this.#params = match.params;
      const query = q === -1 ? undefined : url.slice(q + 1);

      const result = auth.authenticate(path, req.headers.authorization);
      if (isThenable(result)) {
        result.then(
          (r) => this.#guarded(this.#authenticated, r, query),
          (err: unknown) => this.#fail(err),
        );
      } else {
        this.#authenticated(result, query);
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Runs a step that may throw, answering the error. */
  #guarded<A, B>(step: (this: Exchange, a: A, b: B) => void, a: A, b: B): void {
    try {
      step.call(this, a, b);
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

    const params = this.#params;
    const queryParams = this.#plan.query;
    if (queryParams.length > 0) {
      const search = query === undefined ? undefined : new URLSearchParams(query);
      for (const p of queryParams) {
        const value = search?.get(p.name) ?? null;
        if (value === null) continue;
        if (p.check) checkRequest(p.check, p.schema, value, `query parameter ${p.name}`, `/${p.name}`);
        params[p.name] = value;
      }
      for (const p of queryParams) {
        if (p.required && params[p.name] === undefined)
          throw badRequest(`query parameter ${p.name} is required`);
      }
    }

    const schema = this.#op.requestBody?.schema;
    if (schema) {
      this.#readBody(schema);
      return;
    }
    if (!this.req.readableEnded) this.req.resume(); // a body on an operation that takes none is ignored, not left unread
    this.#invoke();
  }

  #readBody(schema: string): void {
    const req = this.req as IncomingMessage & { body?: unknown; _body?: boolean };
    // Mounted behind express.json(): the body was already read and parsed (Express 5 leaves
    // `req.body` undefined unless a body parser set it; older parsers also set `_body`).
    if (req.body !== undefined || req._body === true) {
      this.#parsed(schema, req.body);
      return;
    }
    const type = req.headers["content-type"];
    if (!type || !JSON_TYPE.test(type)) {
      throw new ArpServerError({
        status: 415,
        code: "unsupported_media_type",
        message: `request body must be application/json (got ${type ?? "no content-type"})`,
      });
    }
    const limit = this.#pipeline.settings.bodyLimit;
    if (Number(req.headers["content-length"]) > limit) throw tooLarge(limit);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        req.resume(); // drain the rest without keeping it
        this.#fail(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let data: unknown;
      try {
        data = JSON.parse(raw.toString("utf8"));
      } catch {
        this.#fail(
          new ArpServerError({
            status: 400,
            code: "invalid_json",
            message: "request body is not valid JSON",
          }),
        );
        return;
      }
      this.#guarded(this.#parsed, schema, data);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", (err) => this.#fail(err));
  }

  #parsed(schema: string, data: unknown): void {
    checkRequest(this.#plan.request!, schema, data, "request body");
    this.#body = data;
    this.#invoke();
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
      const traceparent = this.req.headers.traceparent;
      const request = new HandlerRequest(
        this,
        this.#body,
        this.#params,
        this.#principal,
        typeof traceparent === "string" && TRACEPARENT.test(traceparent) ? traceparent : undefined,
      );
      const implementation = this.#pipeline.settings.implementation as Record<
        string,
        (r: HandlerRequest) => unknown
      >;
      result = implementation[this.#op.name]!.call(implementation, request);
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

  get operation(): OperationSpec {
    return this.#op;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  #respond(result: unknown): void {
    const spec = this.#op.response;
    try {
      if (spec.kind === "empty") {
        send(this.res, spec.status, undefined);
      } else if (spec.kind === "json") {
        if (!this.#checkResponse(spec.schema, result, spec.array)) throw new ContractViolation();
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

  /** Validates a response per `validateResponses`; false when it must not be sent (strict). */
  #checkResponse(schema: string, data: unknown, isArray = false): boolean {
    const mode = this.#pipeline.settings.responses;
    if (mode === "off") return true;
    const check = this.#plan.response!;
    let issues: ValidationIssue[] | undefined;
    if (!isArray) {
      if (check(data)) return true;
      issues = toIssues(check.errors);
    } else {
      issues = arrayIssues(check, data);
      if (!issues) return true;
    }
    this.#pipeline.settings.logger[mode === "strict" ? "error" : "warn"](
      `${this.#op.operationId} returned a ${schema}${isArray ? "[]" : ""} that does not match the spec`,
      issueDetails(issues),
    );
    return mode !== "strict";
  }

  async #stream(status: number, itemSchema: string, result: unknown): Promise<void> {
    const op = this.#op;
    const logger = this.#pipeline.settings.logger;
    if (!result || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function") {
      logger.error(`${op.operationId} must return an AsyncIterable of ${itemSchema}`);
      throw new ContractViolation();
    }
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    // Wait a moment for the first event before committing to a 200: a handler that fails at once
    // (an unknown run) is then answered with its error envelope rather than a cut stream.
    const first = await firstStep(iterator, FIRST_EVENT_GRACE_MS);
    const res = this.res;
    res.writeHead(status, {
      "content-type": "application/x-ndjson",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.flushHeaders();
    const signal = this.signal; // aborted when the client goes away
    this.#registry.streaming(this);
    await writeNdjson(res, iterator, first, signal, (event) => {
      if (!this.#checkResponse(itemSchema, event)) throw new ContractViolation();
    })
      .catch((err: unknown) => {
        // Headers are gone: the stream was cut (writeNdjson closed it); only the log can tell why.
        if (!(err instanceof ContractViolation)) {
          logger.error(`${op.operationId} failed while streaming`, {
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          });
        }
      })
      .finally(() => this.#registry.ended(this));
  }

  /** Answers a failure of any step with an error envelope. Never throws. */
  #fail(err: unknown): void {
    if (this.#finished) return; // e.g. a late socket error on a request already answered
    try {
      if (err instanceof ArpServerError) {
        send(this.res, err.status, err.toEnvelope(), err.headers ?? {});
      } else if (err instanceof ContractViolation) {
        // Already logged where it was found; the client learns only that the server failed.
        send(this.res, 500, INTERNAL_ERROR);
      } else {
        this.#pipeline.settings.logger.error("unhandled error in handler", {
          method: this.req.method,
          url: this.req.url,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        send(this.res, 500, INTERNAL_ERROR);
      }
    } catch (sendError) {
      // Nothing more can be said on this connection (e.g. it is gone): cut it.
      this.res.destroy(sendError instanceof Error ? sendError : undefined);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#done?.();
  }

  #corsHeaders(): boolean {
    const cors = this.#pipeline.settings.cors;
    if (!cors) return false;
    const { req, res } = this;
    if (cors.origins !== "*") res.setHeader("vary", "Origin"); // the answer depends on the Origin
    const origin = req.headers.origin;
    if (!origin || (cors.origins !== "*" && !cors.origins.includes(origin))) return false;
    res.setHeader("access-control-allow-origin", cors.origins === "*" ? "*" : origin);
    // Let browser code read what the client library needs from error responses.
    res.setHeader("access-control-expose-headers", "retry-after, www-authenticate");
    return true;
  }
}

/** `principalStore.run`'s callback: a plain function, so that no closure is made per request. */
function invokeIn(exchange: Exchange): void {
  exchange.call();
}

function checkRequest(
  check: CompiledValidator,
  schema: string,
  data: unknown,
  what: string,
  pointerPrefix = "",
): void {
  if (check(data)) return;
  const issues = toIssues(check.errors).map((i) => ({ ...i, pointer: pointerPrefix + i.pointer }));
  throw badRequest(`${what} does not match ${schema}`, { details: issueDetails(issues) });
}

/** The `ArpRequest` handed to a handler; `signal` is made on first use. */
class HandlerRequest implements ArpRequest<unknown, Record<string, string>> {
  readonly #exchange: Exchange;
  body: unknown;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  principal: Principal | undefined;
  declare traceparent?: string;
  operation: OperationSpec;

  constructor(
    exchange: Exchange,
    body: unknown,
    params: Record<string, string>,
    principal: Principal | undefined,
    traceparent: string | undefined,
  ) {
    this.#exchange = exchange;
    this.body = body;
    this.params = params;
    this.headers = exchange.headers;
    this.principal = principal;
    if (traceparent !== undefined) this.traceparent = traceparent;
    this.operation = exchange.operation;
  }

  get signal(): AbortSignal {
    return this.#exchange.signal;
  }
}

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
