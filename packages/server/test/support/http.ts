/**
 * What the server tests share: servers on OS-chosen loopback ports closed after each test, a raw
 * `node:http` request (exact headers, bodies and methods, no client-side validation), an
 * ErrorEnvelope assertion, a logger that records, and a deferred promise to gate generators.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { type ErrorEnvelope, validate } from "@arp/model";
import { afterEach, expect } from "vitest";
import type { ArpServerBase, Logger, RunningServer } from "../../src/index.js";

/** `listen()` on port 0; every server started through it is closed after each test. */
export function useServers(): {
  listen(service: ArpServerBase): Promise<RunningServer>;
  /** Registers something else to close after the test (a plain `http.Server`, a JWKS server). */
  onCleanup(close: () => Promise<void> | void): void;
} {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });
  return {
    async listen(service) {
      const running = await service.listen({ port: 0 });
      cleanups.push(() => running.close({ timeoutMs: 250 }));
      return running;
    },
    onCleanup(close) {
      cleanups.push(close);
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

export interface RawRequest {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** An object is sent as JSON (with `content-type: application/json` unless headers say otherwise). */
  body?: string | Buffer | object;
  /** Send the body with `transfer-encoding: chunked` (no content-length), in chunks of this many bytes. */
  chunkSize?: number;
}

/** One request on its own connection (no agent, no pooling), read to the end. */
export function request(url: string, init: RawRequest = {}): Promise<RawResponse> {
  const headers: OutgoingHttpHeaders = { ...init.headers };
  let body: string | Buffer | undefined;
  if (typeof init.body === "string" || Buffer.isBuffer(init.body)) body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    if (init.chunkSize !== undefined && body !== undefined) {
      const bytes = Buffer.from(body);
      for (let i = 0; i < bytes.length; i += init.chunkSize) req.write(bytes.subarray(i, i + init.chunkSize));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Asserts an ARP error answer: status, `application/json`, a valid ErrorEnvelope with `code`. */
export function expectEnvelope(res: RawResponse, status: number, code: string): ErrorEnvelope["error"] {
  expect({ status: res.status, type: res.headers["content-type"] }).toEqual({
    status,
    type: "application/json",
  });
  const body = res.json();
  const result = validate("ErrorEnvelope", body);
  expect(result.ok ? [] : result.errors).toEqual([]);
  const error = (body as ErrorEnvelope).error;
  expect(error.code).toBe(code);
  return error;
}

export interface RecordingLogger extends Logger {
  warnings: { message: string; data?: Record<string, unknown> }[];
  errors: { message: string; data?: Record<string, unknown> }[];
  debugs: { message: string; data?: Record<string, unknown> }[];
}

export function recordingLogger(): RecordingLogger {
  const warnings: RecordingLogger["warnings"] = [];
  const errors: RecordingLogger["errors"] = [];
  const debugs: RecordingLogger["debugs"] = [];
  return {
    warnings,
    errors,
    debugs,
    warn: (message, data) => warnings.push({ message, ...(data ? { data } : {}) }),
    error: (message, data) => errors.push({ message, ...(data ? { data } : {}) }),
    debug: (message, data) => debugs.push({ message, ...(data ? { data } : {}) }),
  };
}

export interface RawExchange {
  /** Everything the server sent, as text. */
  text: string;
  /** The status of the first response, 0 when none came. */
  status: number;
  /** Milliseconds from connecting until the server closed the connection. */
  ms: number;
}

/**
 * Writes `data` (raw HTTP, as bytes on the wire) on a fresh connection to `url`'s host and port,
 * and resolves with what came back once the server closes the connection (or after `endAfterMs`,
 * when this side ends it).
 */
export function rawExchange(url: string, data: string | Buffer, endAfterMs?: number): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(data));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {}); // a reset after the answer still ends the exchange
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      resolve({ text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), ms: Date.now() - started });
    });
    if (endAfterMs !== undefined) setTimeout(() => socket.end(), endAfterMs);
    socket.setTimeout(20_000, () => reject(new Error("the server did not close the connection")));
  });
}

/** The parts of a raw HTTP/1.1 response: its status, lowercased headers and body. */
export function parseRaw(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const head = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? "" : text.slice(split + 4);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(" ")[1] ?? 0),
    headers,
    text: body,
    json: () => JSON.parse(body),
  };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  settled: boolean;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const d = {
    promise: new Promise<T>((r) => {
      resolve = r;
    }),
    settled: false,
    resolve(value: T) {
      d.settled = true;
      resolve(value);
    },
  };
  return d;
}
