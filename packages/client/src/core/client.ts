/**
 * The one hand-written HTTP core behind every generated client class: URL building, auth, hooks,
 * validation, timeouts, retries, error envelopes and NDJSON event streams, all driven by the
 * operation tables of `@arp/model`.
 */
import {
  arrayIssues,
  type CompiledValidator,
  type ErrorEnvelope,
  isErrorEnvelope,
  type OperationSpec,
  type OperationValidators,
  operationValidators,
  type ParamSpec,
  type RunEvent,
  type SchemaName,
  toIssues,
} from "@arp/model";
import { readText } from "./body.js";
import {
  ArpApiError,
  ArpError,
  ArpProtocolError,
  type ArpRequestInfo,
  ArpTimeoutError,
  ArpTransportError,
  ArpValidationError,
} from "./errors.js";
import { IdleWatch, MAX_TIMER_MS } from "./idle.js";
import { type NdjsonLine, readNdjson, readQuotedNdjson } from "./ndjson.js";
import {
  type CallOptions,
  type ClientHooks,
  type ClientOptions,
  DEFAULT_RETRY_POLICY,
  type HookRequest,
  type RetryOptions,
  type RetryPolicy,
  type StreamOptions,
} from "./options.js";
import { backoffMs, sleep as defaultSleep, isIdempotent, retryAfterMs } from "./retry.js";
import { dropNullOptionals, isQuotedNdjson } from "./wire.js";

/**
 * What the streaming methods return: iterate it with `for await`; `break` (or `return()`) closes the
 * connection.
 */
export type EventStream<E> = AsyncGenerator<E, void, undefined>;

/** The package version, sent in the default User-Agent (a test keeps it equal to package.json). */
export const CLIENT_VERSION = "0.3.7";
/**
 * No deadline of our own by default, as with fetch itself: an Atomic Executor answers
 * `executeAtomicNodeRun` when the work is done, which may take minutes. The runtime's own limits still
 * apply (Node's fetch: 10 s to connect, 300 s to the response headers).
 */
const DEFAULT_TIMEOUT_MS = 0;
const NO_RETRIES: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1 });
/**
 * Browsers identify themselves as `Mozilla/...`; Node (21+), Deno and Bun do not. In a browser the
 * default User-Agent is not sent: Chromium drops it, and a browser that honours it would need the
 * server's CORS policy to allow the header. An explicit `userAgent` option is always sent.
 */
const IN_BROWSER = /^Mozilla\//.test(
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "",
);
const EXCERPT_LENGTH = 200;

/**
 * Unless told otherwise, a stream that polls this long without a new event rejects with
 * ArpTimeoutError (`stream_idle_timeout`), so a `for await` over a run that never finishes cannot poll
 * a snapshot server forever by accident (time on a quiet live connection does not count; idle.ts).
 */
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000;

/** Default `maxResponseBytes`: the largest JSON response body read (32 MiB). */
const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** An error body longer than this is not read as an envelope (its status is still reported). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Handed to a custom `sleep` when nothing can abort the wait. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * A call's lifetime: the caller's signal and the deadline, merged into one signal of the call's own
 * for fetch and backoff. A call that nothing can abort (no signal, no deadline) gets none: a signal
 * costs Node's fetch (undici) several microseconds per request (bench/client.bench.ts). A caller's
 * signal is never handed to fetch as it is: undici's listener on it stays until the request is
 * garbage-collected, so one long-lived signal (an app's shutdown signal) given to thousands of calls
 * piled up listeners and Node's "MaxListenersExceededWarning"; ours is removed when the call ends.
 * Streams always get a signal of their own, to close the connection when the consumer stops early.
 */
class CallScope {
  readonly #controller: AbortController | undefined;
  readonly #caller: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The signal fetch and backoff observe; undefined when nothing can abort the call. */
  readonly signal: AbortSignal | undefined;

  constructor(caller: AbortSignal | undefined, timeoutMs: number, info: ArpRequestInfo, own = false) {
    this.#caller = caller;
    if (!own && caller === undefined && !(timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY)) {
      this.signal = undefined;
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    this.signal = controller.signal;
    if (caller?.aborted) controller.abort(caller.reason);
    else if (caller) {
      this.#onAbort = () => controller.abort(caller.reason);
      caller.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY) {
      this.#timer = setTimeout(
        () => controller.abort(new ArpTimeoutError(timeoutMs, info)),
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    }
  }

  /** Stops the deadline (a stream got its headers: reading it may take as long as the run does). */
  stopDeadline(): void {
    clearTimeout(this.#timer);
  }

  /**
   * Ends the scope: stops the deadline and releases the caller's signal. With `abortPending`, also
   * aborts whatever still runs on the scope's own signal (a stream left early). A call that completed
   * does not abort: undici would still process the abort for the finished request, a measurable cost
   * on every call (bench/client.bench.ts).
   */
  dispose(abortPending = false): void {
    if (!this.#controller) return;
    clearTimeout(this.#timer);
    if (this.#onAbort) this.#caller?.removeEventListener("abort", this.#onAbort);
    if (abortPending && !this.#controller.signal.aborted) this.#controller.abort();
  }

  /** What to throw for a failure inside the scope: the abort reason, our own error, or a transport error. */
  translate(err: unknown, info: ArpRequestInfo): unknown {
    if (this.signal?.aborted) return this.signal.reason;
    if (err instanceof ArpError) return err;
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const detail = typeof cause?.code === "string" ? cause.code : (err as Error | undefined)?.message;
    return new ArpTransportError(`request failed${detail ? `: ${detail}` : ""}`, { ...info, cause: err });
  }
}

/** What the onError hooks and redaction need to know about a failed call. */
interface FailureContext {
  request?: HookRequest;
  token?: string;
}

/** Replaces the token in every string, array item, value and key of `value` (a server may echo it). */
function redactDeep<T>(value: T, token: string): T {
  if (typeof value === "string") return value.split(token).join("[redacted]") as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, token)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [redactDeep(k, token), redactDeep(v, token)]),
    ) as T;
  }
  return value;
}

/**
 * Removes the bearer token from everything an error exposes: its message and the server-supplied
 * parts (envelope, body excerpt, validation issues). The error is changed in place; its class stays.
 */
function redactError(err: unknown, token: string | undefined): unknown {
  if (!token || !(err instanceof ArpError)) return err;
  const fields = ["message", "envelope", "details", "bodyExcerpt", "errors", "stack"] as const;
  for (const field of fields) {
    const value = (err as unknown as Record<string, unknown>)[field];
    if (value !== undefined)
      Object.defineProperty(err, field, {
        value: redactDeep(value, token),
        writable: false,
        configurable: true,
        enumerable: field !== "stack" && field !== "message",
      });
  }
  return err;
}

/** `base` with the defined values of `overrides` (an `undefined` keeps the base value). */
function withOverrides(base: Readonly<RetryPolicy>, overrides: RetryOptions | undefined): RetryPolicy {
  const policy = { ...base };
  if (overrides) {
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (policy as Record<string, unknown>)[key] = value;
    }
  }
  return policy;
}

// Validators come from the operation tables (never looked up by name): a bundle keeps only those of
// the operations it calls.

/**
 * Throws ArpValidationError unless `data` matches. With `lenient` (reading, unless `strictWire`), a
 * document that fails only because of `null`s in optional properties is accepted with them removed
 * (see wire.ts); the error, when there is one, reports what the server actually sent.
 */
function checkSchema(
  direction: "request" | "response" | "event",
  schema: SchemaName,
  data: unknown,
  info: ArpRequestInfo | (() => ArpRequestInfo),
  check: CompiledValidator,
  lenient = false,
): void {
  if (check(data)) return;
  const issues = toIssues(check.errors);
  if (lenient && dropNullOptionals(check, data)) return;
  throw new ArpValidationError(direction, schema, issues, typeof info === "function" ? info() : info);
}

/** What a call needs of its operation, worked out once per operation rather than on every call. */
interface OperationPlan extends OperationValidators {
  /** The path split around its `{param}`s: `literals[0] + arg + literals[1] + ...`. */
  literals: string[];
  /** For each `{param}` in path order, its index in `op.pathParams` (the argument order). */
  argIndex: number[];
}

const plans = new WeakMap<OperationSpec, OperationPlan>();

function planOf(op: OperationSpec): OperationPlan {
  let plan = plans.get(op);
  if (plan) return plan;
  const literals: string[] = [];
  const argIndex: number[] = [];
  let rest = op.path;
  for (let m = /\{([^}]+)\}/.exec(rest); m; m = /\{([^}]+)\}/.exec(rest)) {
    literals.push(rest.slice(0, m.index));
    argIndex.push(op.pathParams.findIndex((p: ParamSpec) => p.name === m![1]));
    rest = rest.slice(m.index + m[0].length);
  }
  literals.push(rest);
  plan = { ...operationValidators(op), literals, argIndex };
  plans.set(op, plan);
  return plan;
}

/**
 * Base class of the generated clients (`RunGatewayClient`, ...). Its protected methods are the
 * whole HTTP behaviour; the generated subclasses only map typed arguments onto them.
 */
export class ArpClientBase {
  readonly #options: ClientOptions;
  readonly #baseUrl: string;
  readonly #hooks: readonly ClientHooks[];
  readonly #basePolicy: RetryPolicy;
  readonly #userAgent: string | undefined;
  readonly #defaultHeaders: Record<string, string>;
  /** Read what the Python and JARVIS servers send (wire.ts); off with `strictWire`. */
  readonly #lenient: boolean;
  readonly #maxResponseBytes: number;

  constructor(options: ClientOptions) {
    if (
      !options ||
      typeof options.baseUrl !== "string" ||
      !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.baseUrl)
    ) {
      throw new TypeError("ArpClient: `baseUrl` must be an absolute URL such as http://127.0.0.1:8080");
    }
    this.#options = options;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#hooks =
      options.hooks === undefined
        ? []
        : Array.isArray(options.hooks)
          ? options.hooks
          : [options.hooks as ClientHooks];
    const retry = options.retry;
    this.#basePolicy = retry === false ? NO_RETRIES : withOverrides(DEFAULT_RETRY_POLICY, retry);
    this.#userAgent = options.userAgent ?? (IN_BROWSER ? undefined : `arp-ts-client/${CLIENT_VERSION}`);
    this.#lenient = options.strictWire !== true;
    const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!(maxBytes > 0)) throw new RangeError(`maxResponseBytes must be positive, got ${maxBytes}`);
    this.#maxResponseBytes = maxBytes;
    this.#defaultHeaders = Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
  }

  /** The service's base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  #policy(override: RetryOptions | false | undefined): RetryPolicy {
    if (override === undefined) return this.#basePolicy;
    if (override === false) return NO_RETRIES;
    return withOverrides(this.#basePolicy, override);
  }

  #url(
    op: OperationSpec,
    pathArgs: readonly string[],
    options: Record<string, unknown>,
    validateRequest: boolean,
  ): string {
    // Only failures read it: built on demand, not on every call.
    const info = () => ({ method: op.method, url: this.#baseUrl + op.path });
    const { literals, argIndex } = planOf(op);
    let path = literals[0]!;
    for (let i = 0; i < argIndex.length; i++) {
      const param = op.pathParams[argIndex[i]!]!;
      const value = pathArgs[argIndex[i]!];
      if (typeof value !== "string" || value === "") {
        throw new ArpValidationError(
          "request",
          op.operationId,
          [{ pointer: `/${param.name}`, message: "must be a non-empty string", keyword: "type", params: {} }],
          info(),
        );
      }
      // Percent-encoded, so `/`, `:`, `?` and spaces in an id stay inside its one path segment.
      path += encodeURIComponent(value) + literals[i + 1]!;
    }
    if (op.queryParams.length === 0) return this.#baseUrl + path;
    const query = new URLSearchParams();
    for (const param of op.queryParams) {
      const value = options[param.name];
      if (value === undefined) continue;
      if (validateRequest && param.schema && param.validate)
        checkSchema("request", param.schema, value, info, param.validate);
      else if (validateRequest && typeof value !== "string") {
        throw new ArpValidationError(
          "request",
          op.operationId,
          [{ pointer: `/${param.name}`, message: "must be of type string", keyword: "type", params: {} }],
          info(),
        );
      }
      query.append(param.name, String(value));
    }
    const qs = query.toString();
    return `${this.#baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  /** The request headers: defaults, then the client's, then the call's; the token last. Names lower-cased. */
  #headers(
    op: OperationSpec,
    hasBody: boolean,
    call: CallOptions,
    token: string | undefined,
  ): Record<string, string> {
    const ndjson = op.response.kind === "ndjson";
    const headers: Record<string, string> = {
      accept: ndjson ? "application/x-ndjson" : "application/json",
    };
    if (hasBody) headers["content-type"] = "application/json";
    if (this.#userAgent) headers["user-agent"] = this.#userAgent;
    Object.assign(headers, this.#defaultHeaders);
    if (call.headers) for (const [k, v] of Object.entries(call.headers)) headers[k.toLowerCase()] = v;
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  /** The token for `op`: none for open operations; a token function is called (and awaited) each time. */
  #token(op: OperationSpec): string | undefined | Promise<string | undefined> {
    const source = this.#options.bearerToken;
    if (op.auth !== "bearer" || source === undefined) return undefined;
    return typeof source === "function" ? source() : source;
  }

  /**
   * Sends `op` until it succeeds or fails for good (retries, backoff, `Retry-After`), within one
   * scope. Returns the successful response, whose body is still unread. `ctx` records the last
   * request and token, for the onError hooks and for redaction.
   */
  async #send(
    op: OperationSpec,
    url: string,
    body: unknown,
    call: CallOptions,
    scope: CallScope,
    ctx: FailureContext,
  ): Promise<Response> {
    const info = { method: op.method, url };
    const policy = this.#policy(call.retry);
    const idempotent = isIdempotent(op, body, call.idempotent);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const hooks = this.#hooks;
    const wait = (ms: number) =>
      (this.#options.sleep ?? defaultSleep)(ms, scope.signal ?? NEVER_ABORTED).catch((e: unknown) => {
        throw scope.translate(e, info);
      });
    const backoff = (attempt: number) => backoffMs(policy, attempt, this.#options.random ?? Math.random);
    for (let attempt = 1; ; attempt++) {
      const pending = this.#token(op);
      const token = typeof pending === "object" ? await pending : pending; // no await for a static token
      if (token !== undefined) ctx.token = token;
      const plain = this.#headers(op, payload !== undefined, call, token);
      // With hooks, a Headers object they may change; without, fetch takes the plain record as is.
      let request: HookRequest | undefined;
      if (hooks.length > 0) {
        request = { operation: op, method: op.method, url, headers: new Headers(plain), attempt };
        ctx.request = request;
        for (const h of hooks) await h.onRequest?.(request);
      }
      const init: RequestInit = { method: op.method, headers: request ? request.headers : plain };
      if (payload !== undefined) init.body = payload;
      if (scope.signal) init.signal = scope.signal;
      const fetchImpl = this.#options.fetch ?? globalThis.fetch;
      let response: Response;
      try {
        response = await fetchImpl(url, init);
      } catch (err) {
        const failure = scope.translate(err, info);
        if (failure instanceof ArpTransportError && idempotent && attempt < policy.maxAttempts) {
          await wait(backoff(attempt));
          continue;
        }
        throw failure;
      }
      if (request) {
        try {
          for (const h of hooks) await h.onResponse?.(request, response);
        } catch (err) {
          // The body will never be read: release the connection (the scope may have no signal to abort).
          response.body?.cancel().catch(() => undefined);
          throw err;
        }
      }
      if (response.ok) return response;

      const error = await this.#apiError(response, info, scope);
      // The server's own `retryable` wins over the status list, both ways.
      const retryable = error.retryable ?? policy.retryStatuses.includes(response.status);
      if (idempotent && retryable && attempt < policy.maxAttempts) {
        const after = policy.respectRetryAfter
          ? retryAfterMs(response.headers.get("retry-after"))
          : undefined;
        if (after !== undefined && after > policy.maxRetryAfterMs) throw error;
        await wait(after ?? backoff(attempt));
        continue;
      }
      throw error;
    }
  }

  /** Tells the onError hooks about a call that failed for good; returns the (redacted) error to throw. */
  async #failed(err: unknown, ctx: FailureContext): Promise<unknown> {
    const failure = redactError(err, ctx.token);
    for (const h of this.#hooks) await h.onError?.(ctx.request, failure);
    return failure;
  }

  async #apiError(response: Response, info: ArpRequestInfo, scope: CallScope): Promise<ArpApiError> {
    let text = "";
    try {
      text = await readText(response, MAX_ERROR_BODY_BYTES, info);
    } catch (err) {
      // A body too long for an envelope, or a connection lost while reading it: the status still counts.
      const failure = err instanceof ArpProtocolError ? err : scope.translate(err, info);
      if (!(failure instanceof ArpTransportError) && !(failure instanceof ArpProtocolError)) throw failure;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isErrorEnvelope(parsed) || (this.#lenient && dropNullOptionals(isErrorEnvelope, parsed))) {
      return new ArpApiError(response.status, {
        ...info,
        envelope: parsed as ErrorEnvelope,
      });
    }
    const excerpt = text.replace(/\s+/g, " ").trim().slice(0, EXCERPT_LENGTH);
    return new ArpApiError(response.status, { ...info, ...(excerpt ? { bodyExcerpt: excerpt } : {}) });
  }

  /** Calls a JSON or empty-bodied operation. The generated methods are one line over this. */
  protected async call<R>(
    op: OperationSpec,
    pathArgs: readonly string[],
    body: unknown,
    options: CallOptions = {},
  ): Promise<R> {
    const ctx: FailureContext = {};
    let scope: CallScope | undefined;
    let completed = false; // a completed call has nothing left to abort
    try {
      const validateRequest = this.#options.validateRequests !== false;
      // Query parameters travel in the options object, under their spec names (`q`, `kind`, `version`).
      const url = this.#url(op, pathArgs, options as Record<string, unknown>, validateRequest);
      const info = { method: op.method, url };
      const plan = planOf(op);
      if (op.requestBody && validateRequest)
        checkSchema("request", op.requestBody.schema, body, info, op.requestBody.validate);
      scope = new CallScope(
        options.signal,
        options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        info,
      );
      const response = await this.#send(op, url, body, options, scope, ctx);
      const spec = op.response;
      if (spec.kind !== "json") {
        // Not awaited: a cancelled branch of a cloned response may never settle (see ndjson.ts).
        response.body?.cancel().catch(() => undefined);
        completed = true;
        return undefined as R;
      }
      let text: string;
      try {
        text = await readText(response, this.#maxResponseBytes, info);
      } catch (err) {
        throw scope.translate(err, info);
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        const type = response.headers.get("content-type") ?? "no content-type";
        throw new ArpProtocolError(`response body is not JSON (${type})`, info);
      }
      if (this.#options.validateResponses !== "off") {
        const check = plan.response!;
        const lenient = this.#lenient;
        if (!spec.array) checkSchema("response", spec.schema, data, info, check, lenient);
        else {
          let issues = arrayIssues(check, data);
          // Leniency item by item; when an item stays invalid, the issues are of what was sent.
          if (
            issues &&
            lenient &&
            Array.isArray(data) &&
            data.every((d) => check(d) || dropNullOptionals(check, d))
          )
            issues = undefined;
          if (issues) throw new ArpValidationError("response", `${spec.schema}[]`, issues, info);
        }
      }
      completed = true;
      return data as R;
    } catch (err) {
      throw await this.#failed(err, ctx);
    } finally {
      scope?.dispose(!completed);
    }
  }

  /**
   * Streams an NDJSON operation as an async iterable of events, parsed incrementally. When and how it
   * ends is the caller's choice ({@link StreamOptions}): after the operation's end event (run streams:
   * `run_completed`), when the server closes a stream that has none, after one connection with
   * `follow: false`, when no new event came for `idleTimeoutMs`, or when the caller's signal aborts.
   * Reconnects skip the events already yielded, by `seq` (whatever number a server starts at).
   */
  protected async *stream(
    op: OperationSpec,
    pathArgs: readonly string[],
    options: StreamOptions = {},
  ): EventStream<RunEvent> {
    const spec = op.response;
    if (spec.kind !== "ndjson") throw new TypeError(`${op.operationId} is not an NDJSON operation`);
    const ctx: FailureContext = {};
    let url: string;
    try {
      url = this.#url(
        op,
        pathArgs,
        options as Record<string, unknown>,
        this.#options.validateRequests !== false,
      );
    } catch (err) {
      throw await this.#failed(err, ctx);
    }
    const info = { method: op.method, url };
    const follow = options.follow !== false;
    const policy = this.#policy(options.retry);
    const pause = this.#options.sleep ?? defaultSleep;
    const random = this.#options.random ?? Math.random;
    const strict = this.#options.validateResponses !== "off";
    const lenient = this.#lenient;
    const eventCheck = spec.validate;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const explicitIdle = options.idleTimeoutMs ?? this.#options.streamIdleTimeoutMs;
    const idle = new IdleWatch(
      options.signal,
      explicitIdle ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      explicitIdle !== undefined,
      info,
    );
    let lastSeq = Number.NEGATIVE_INFINITY;
    let failures = 0; // consecutive dropped connections that brought nothing new
    let polls = 0; // consecutive clean closes that brought nothing new (snapshot servers)

    try {
      for (;;) {
        const scope = new CallScope(idle.signal, timeoutMs, info, true);
        let progressed = false;
        let dropped: unknown;
        try {
          const response = await this.#send(op, url, undefined, options, scope, ctx);
          scope.stopDeadline();
          idle.connected();
          if (!response.body) throw new ArpProtocolError("stream response has no body", info);
          const lines: AsyncGenerator<NdjsonLine, void, undefined> =
            lenient && isQuotedNdjson(response.headers.get("content-type"))
              ? readQuotedNdjson(response.body, info)
              : readNdjson(response.body, info);
          try {
            for await (const { value, line } of lines) {
              if (strict) checkSchema("event", spec.itemSchema, value, info, eventCheck, lenient);
              const event = value as Partial<Record<string, unknown>> | null;
              const seq = event?.seq;
              if (!Number.isInteger(seq) || (seq as number) < 0) {
                throw new ArpProtocolError("event without a non-negative integer `seq`", { ...info, line });
              }
              if ((seq as number) <= lastSeq) continue; // already yielded before a reconnect
              lastSeq = seq as number;
              progressed = true;
              // The consumer's time with the event is not idle time of the server's.
              idle.pause();
              yield value as RunEvent;
              idle.restart();
              if (spec.endEvent !== undefined && event?.type === spec.endEvent) return;
            }
          } catch (err) {
            const failure = scope.translate(err, info);
            if (!(failure instanceof ArpTransportError)) throw failure;
            dropped = failure;
          }
        } catch (err) {
          throw await this.#failed(err, ctx);
        } finally {
          scope.dispose(true);
          idle.disconnected();
        }
        if (!follow) {
          if (dropped) throw await this.#failed(dropped, ctx);
          return;
        }
        if (dropped) {
          failures = progressed ? 0 : failures + 1;
          if (failures >= policy.maxAttempts) throw await this.#failed(dropped, ctx);
        } else {
          // A clean close completes a stream without an end event; before its end event, the server
          // answered a snapshot: poll, backing off while nothing new comes (idleTimeoutMs bounds it).
          if (spec.endEvent === undefined) return;
          polls = progressed ? 0 : polls + 1;
        }
        const delay = backoffMs(policy, Math.max(1, dropped ? failures : polls), random);
        try {
          await pause(delay, idle.signal);
        } catch (err) {
          throw await this.#failed(idle.signal.aborted ? idle.signal.reason : err, ctx);
        }
      }
    } finally {
      idle.dispose();
    }
  }
}
