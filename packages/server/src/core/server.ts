/**
 * The base class behind every generated service class: its options, the default `health` and
 * `version`, and the ways to host it (`listen()`, `handler()`, `handle()`). Each request goes through
 * the one hand-written pipeline (pipeline.ts: routing, CORS, authentication, body limits and content
 * types, validation, dispatch, error envelopes, NDJSON streaming) driven by the operation tables of
 * `@arp/model`; `listen()`'s connections are tracked for graceful shutdown (registry.ts). It depends
 * on `node:http` only; Express support lives in `express.ts`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Health, ServiceSpec, VersionInfo } from "@arp/model";
import { Authenticator, type AuthOptions, resolveAuthSettings } from "./auth.js";
import {
  type ArpRequest,
  type CorsOptions,
  type Logger,
  Pipeline,
  type ResponseValidation,
} from "./pipeline.js";
import { Registry } from "./registry.js";
import { Router } from "./router.js";

export { type ArpRequest, type CorsOptions, getPrincipal, type Logger } from "./pipeline.js";

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
  validateResponses?: ResponseValidation;
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

const DEFAULT_BODY_LIMIT = 1024 * 1024;

const defaultLogger: Logger = {
  warn: (message, data) =>
    process.stderr.write(`[arp-server] warn: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    process.stderr.write(`[arp-server] error: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};

/**
 * Base of the generated service classes (`BaseRunGatewayServer`, ...). Subclasses implement the
 * operations as methods named after their operationIds (`startRun(req)`); this class does the rest.
 */
export abstract class ArpServerBase {
  readonly service: ServiceSpec;
  readonly #pipeline: Pipeline;
  readonly #serviceName: string;
  readonly #serviceVersion: string;
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
    this.#pipeline = new Pipeline(
      {
        implementation: this,
        router: new Router(operations),
        auth: new Authenticator(resolveAuthSettings(options.auth, options.env ?? process.env)),
        logger: options.logger ?? defaultLogger,
        bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
        responses: options.validateResponses ?? "strict",
        cors: options.cors,
      },
      operations,
    );
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

  /**
   * Starts a `node:http` server for this service. Timeouts guard against slow clients: headers must
   * arrive within 20 s and a request body within 60 s; idle keep-alive connections close after 5 s.
   */
  async listen(options: ListenOptions = {}): Promise<RunningServer> {
    const registry = new Registry();
    const pipeline = this.#pipeline;
    const server = createServer(
      { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
      (req, res) => pipeline.serve(req, res, registry),
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
