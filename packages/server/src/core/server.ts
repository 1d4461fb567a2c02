/**
 * The base class behind every generated service class: its options, the default `health` and
 * `version`, and the ways to host it (`listen()`, `handler()`, `handle()`, and `[OPEN_HOST]` for
 * `@arp/server/fetch`). Each request goes through the one hand-written pipeline (pipeline.ts,
 * sequencing routing, CORS, authentication, body limits and content types, validation, dispatch,
 * error envelopes, NDJSON streaming) driven by the operation tables of `@arp/model`; `listen()`'s
 * connections are tracked for graceful shutdown (registry.ts). It depends on `node:http` only;
 * Express support lives in `express.ts`, the fetch adapter in `fetch.ts`.
 */
import {
  createServer,
  type IncomingMessage,
  maxHeaderSize as nodeMaxHeaderSize,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Health, ServiceSpec, VersionInfo } from "@arp/model";
import { exemption } from "./auth/exempt.js";
import { type AuthOptions, resolveAuthSettings } from "./auth/settings.js";
import { Authenticator } from "./auth/verify.js";
import { ResponseChecks, type ResponseValidation } from "./checks.js";
import { Cors, type CorsOptions } from "./cors.js";
import { OPEN_HOST, type ServiceHost } from "./host.js";
import { defaultLogger, type Logger } from "./logger.js";
import { clientErrorHandler } from "./malformed.js";
import { Pipeline } from "./pipeline.js";
import { Registry } from "./registry.js";
import type { ArpRequest } from "./request.js";
import { Router } from "./router.js";

export interface ServerOptions {
  /** `service_name` of `GET /v1/version`. Default: the service key (`run-gateway`, ...). */
  serviceName?: string | undefined;
  /** `service_version` of `GET /v1/version`. Default `0.0.0`. */
  serviceVersion?: string | undefined;
  /** JWT bearer auth. Default: from the `ARP_AUTH_*` environment variables, `required` when unset. */
  auth?: AuthOptions | undefined;
  /** Largest accepted request body, bytes. Default 1 MiB (a larger one is answered 413). */
  bodyLimit?: number | undefined;
  /**
   * Deepest accepted nesting of arrays and objects in a request body (`[]` is 1, `{"a":[]}` 2).
   * Default 64 (the ARP schemas nest under 10 deep; open maps get room). A deeper body is answered
   * 400 `invalid_request` before any handler sees it.
   */
  maxJsonDepth?: number | undefined;
  /** CORS for browser clients: off by default. */
  cors?: CorsOptions | undefined;
  /**
   * Check responses and stream events against their schemas. Default `"strict"`: an invalid response
   * is a bug, answered 500 (a stream is cut) and logged. `"warn"` logs and sends it; `"off"` skips.
   */
  validateResponses?: ResponseValidation | undefined;
  /**
   * How long one write of an event stream may wait for a client that reads nothing, milliseconds.
   * When it expires, the connection is destroyed (the client sees the stream cut), `req.signal`
   * aborts, the generator is returned and a warning is logged. Default 30 s; 0 or `Infinity`: no limit.
   */
  streamWriteTimeoutMs?: number | undefined;
  /** Where warnings and errors (and, if it has `debug`, routine events) go. Default: one line each on stderr. */
  logger?: Logger | undefined;
  /** Environment the auth settings are read from when `auth` is not given. Default `process.env`. */
  env?: Record<string, string | undefined> | undefined;
}

export interface ListenOptions {
  /** Default 0: a free port chosen by the OS (see `url`). */
  port?: number | undefined;
  /** Default `127.0.0.1`. */
  host?: string | undefined;
  /** How long a client may take to send a request's headers, ms; then 408. Default 20 s; 0: no limit. */
  headersTimeoutMs?: number | undefined;
  /** How long a client may take to send a whole request (headers and body), ms; then 408. Default 60 s; 0: no limit. */
  requestTimeoutMs?: number | undefined;
  /** How long an idle keep-alive connection stays open, ms. Default 5 s; 0: no limit. */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * Largest accepted request head (request line and headers), bytes; larger: 431. Default Node's
   * (16 KiB unless `--max-http-header-size` says otherwise).
   */
  maxHeaderSize?: number | undefined;
  /**
   * Most header lines read of one request; the ones beyond are ignored (Node's behaviour). Default
   * 2000 (Node's); 0: no limit.
   */
  maxHeadersCount?: number | undefined;
  /**
   * Most open connections; one beyond is closed at once, before a byte is read (the client sees the
   * connection reset or closed, and may retry), and a warning is logged (at most every 10 s).
   * Default 10,000; 0: no limit.
   */
  maxConnections?: number | undefined;
  /**
   * Most requests one keep-alive connection carries: the last one's response says
   * `Connection: close`, and the connection closes after it. Default 0: no limit, as Node's; a client
   * that ignores `Connection: close` (some load generators and proxies) gets Node's bare 503 for
   * every request past the limit on that connection.
   */
  maxRequestsPerSocket?: number | undefined;
  /**
   * How many connections the kernel may hold that the server has not accepted yet (`listen`'s
   * backlog), for a burst that arrives faster than the event loop accepts. Default 4096 (Node's is
   * 511: 1,000 clients connecting at once to a busy process overflowed it, and the clients waited
   * seconds for their SYN to be retried); the kernel caps it (Linux: `net.core.somaxconn`).
   */
  backlog?: number | undefined;
}

export interface CloseOptions {
  /**
   * How long in-flight requests may take to finish, ms; then their connections are destroyed.
   * Default 10 s; 0: at once; `Infinity`: no limit (wait for every one).
   */
  timeoutMs?: number | undefined;
}

export interface RunningServer {
  /** `http://host:port`, ready for a client's `baseUrl`. */
  url: string;
  server: Server;
  /**
   * Stops accepting connections (new ones are refused), ends open event streams, lets in-flight
   * requests finish (their responses say `Connection: close`), closes each connection once its last
   * response is sent, then resolves. After `timeoutMs` (default 10 s; `Infinity`: never) the
   * remaining connections are destroyed. Rejects with a `RangeError` for a `timeoutMs` below 0.
   */
  close(options?: CloseOptions): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_STREAM_WRITE_TIMEOUT_MS = 30_000;

/** A duration option: a number >= 0 (or `Infinity`), else a `RangeError` naming the option. */
function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `${name} must be a number of milliseconds >= 0 (0 or Infinity: no limit), not ${value}`,
    );
  }
  return value;
}

const DEFAULT_MAX_JSON_DEPTH = 64;
const DEFAULT_MAX_CONNECTIONS = 10_000;
const DEFAULT_BACKLOG = 4_096;
/** None: Node answers past the limit with bare 503s to clients that ignore `Connection: close`. */
const DEFAULT_MAX_REQUESTS_PER_SOCKET = 0;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** How often a full server says so, at most. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * A `drop` listener (a connection refused over `maxConnections`): a warning at the first one, then at
 * most one every 10 s, with the number refused since the last.
 */
function dropWarning(logger: Logger, maxConnections: number): () => void {
  let dropped = 0;
  let last = -Infinity;
  return () => {
    dropped++;
    const now = Date.now();
    if (now - last < DROP_WARNING_INTERVAL_MS) return;
    last = now;
    logger.warn("connection refused: the server has maxConnections open", {
      max_connections: maxConnections,
      refused: dropped,
    });
    dropped = 0;
  };
}

/** `value` when it is a whole number >= `min`, else `fallback` when undefined; otherwise a RangeError. */
function whole(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min} (got ${value})`);
  }
  return value;
}

/**
 * How often Node checks `headersTimeout` and `requestTimeout`: they fire only on a check, and Node's
 * default interval (30 s) made a 20 s headers timeout 30 s. Every second, or a quarter of the
 * shorter timeout when that is under 4 s.
 */
function checkingInterval(headersTimeout: number, requestTimeout: number): number {
  const shortest = Math.min(headersTimeout || Infinity, requestTimeout || Infinity);
  return Math.max(10, Math.min(1_000, Math.floor(shortest / 4)));
}

/**
 * Base of the generated service classes (`BaseRunGatewayServer`, ...). Subclasses implement the
 * operations as methods named after their operationIds (`startRun(req)`); this class does the rest.
 */
export abstract class ArpServerBase {
  readonly service: ServiceSpec;
  readonly #pipeline: Pipeline;
  readonly #serviceName: string;
  readonly #serviceVersion: string;
  readonly #logger: Logger;
  /** Requests of `handle()` callers that are not a `listen()` server (handler(), Express). */
  readonly #registry = new Registry();

  constructor(service: ServiceSpec, options: ServerOptions = {}) {
    this.service = service;
    // Plain-JS subclasses get no compile error for a missing method: fail here, listing them all.
    const self = this as unknown as Record<string, unknown>;
    const operations = Object.values(service.operations);
    const missing = operations
      .filter((op) => op.conformance === "required" && typeof self[op.name] !== "function")
      .map((op) => op.name);
    if (missing.length > 0) {
      throw new TypeError(
        `${new.target.name || "The service class"} does not implement ${missing.join(", ")}: required by ARP v1 (${service.title})`,
      );
    }
    const auth = resolveAuthSettings(options.auth, options.env ?? process.env);
    const logger = options.logger ?? defaultLogger;
    this.#pipeline = new Pipeline({
      implementation: this,
      router: Router.of(service),
      authenticator: new Authenticator(auth),
      exempt: exemption(auth.exemptPaths),
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      maxJsonDepth: whole("maxJsonDepth", options.maxJsonDepth, DEFAULT_MAX_JSON_DEPTH, 1),
      responses: new ResponseChecks(options.validateResponses ?? "strict", logger),
      cors: options.cors === undefined ? undefined : new Cors(options.cors),
      logger,
      streamWriteTimeoutMs: duration(
        "streamWriteTimeoutMs",
        options.streamWriteTimeoutMs,
        DEFAULT_STREAM_WRITE_TIMEOUT_MS,
      ),
    });
    this.#logger = logger;
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
    return (req, res) => this.#pipeline.serve(req, res, this.#registry);
  }

  /** Handles one request to completion; never rejects (every failure is answered or logged). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => this.#pipeline.serve(req, res, this.#registry, resolve));
  }

  /** A host of its own for another transport (`createFetchHandler` of `@arp/server/fetch`). */
  [OPEN_HOST](): ServiceHost {
    const pipeline = this.#pipeline;
    const registry = new Registry();
    return {
      serve: (req, res) => pipeline.serve(req, res, registry),
      endStreams: () => registry.endStreams(),
    };
  }

  /**
   * Starts a `node:http` server for this service. Timeouts guard against slow clients (by default
   * headers must arrive within 20 s and the whole request within 60 s, else 408; idle keep-alive
   * connections close after 5 s), at most `maxConnections` (10,000) are open at once, and a request
   * Node's parser rejects (malformed, headers over `maxHeaderSize`, too slow) is answered with an
   * `ErrorEnvelope`.
   * @throws RangeError for a timeout or size that is not a whole number, or a headers timeout longer
   * than the request timeout.
   */
  async listen(options: ListenOptions = {}): Promise<RunningServer> {
    const headersTimeout = whole("headersTimeoutMs", options.headersTimeoutMs, 20_000, 0);
    const requestTimeout = whole("requestTimeoutMs", options.requestTimeoutMs, 60_000, 0);
    const keepAliveTimeout = whole("keepAliveTimeoutMs", options.keepAliveTimeoutMs, 5_000, 0);
    const maxHeaderSize = whole("maxHeaderSize", options.maxHeaderSize, nodeMaxHeaderSize, 1);
    const maxHeadersCount = whole("maxHeadersCount", options.maxHeadersCount, 2_000, 0);
    const maxConnections = whole("maxConnections", options.maxConnections, DEFAULT_MAX_CONNECTIONS, 0);
    const backlog = whole("backlog", options.backlog, DEFAULT_BACKLOG, 1);
    const maxRequestsPerSocket = whole(
      "maxRequestsPerSocket",
      options.maxRequestsPerSocket,
      DEFAULT_MAX_REQUESTS_PER_SOCKET,
      0,
    );
    if (requestTimeout > 0 && headersTimeout > requestTimeout) {
      throw new RangeError(
        `headersTimeoutMs (${headersTimeout}) must not be longer than requestTimeoutMs (${requestTimeout})`,
      );
    }
    const registry = new Registry();
    const pipeline = this.#pipeline;
    const server = createServer(
      {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout,
        maxHeaderSize,
        // The pipeline answers a missing Host with an ErrorEnvelope; Node's own answer has no body.
        requireHostHeader: false,
        connectionsCheckingInterval: checkingInterval(headersTimeout, requestTimeout),
      },
      (req, res) => pipeline.serve(req, res, registry),
    );
    // Node's own: 0 is its "no limit" for these two (null for maxHeadersCount).
    server.maxHeadersCount = maxHeadersCount === 0 ? null : maxHeadersCount;
    server.maxRequestsPerSocket = maxRequestsPerSocket;
    if (maxConnections > 0) {
      server.maxConnections = maxConnections;
      server.on("drop", dropWarning(this.#logger, maxConnections));
    }
    server.on("connection", (socket) => registry.connected(socket));
    server.on("clientError", clientErrorHandler(this.#logger, maxHeaderSize));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1", backlog }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
      url: `http://${host}:${address.port}`,
      server,
      close: async (closeOptions = {}) =>
        registry.close(
          server,
          duration("timeoutMs", closeOptions.timeoutMs, DEFAULT_CLOSE_TIMEOUT_MS),
          requestTimeout,
        ),
    };
  }
}
