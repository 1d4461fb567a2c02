/**
 * `@arp/server/fetch` called directly with web `Request`s: the same pipeline as `listen()` answers
 * (routing, validation, body limits, content types, CORS, auth with a real JWKS, error envelopes),
 * and the `Response`'s body is a stream that honours backpressure, the write-stall limit, a client
 * that goes away (`request.signal`, or the body cancelled) and `close()`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type * as T from "@arp/model";
import { type ErrorEnvelope, validate } from "@arp/model";
import { afterEach, describe, expect, it } from "vitest";
import { createFetchHandler } from "../src/fetch.js";
import { type ArpRequest, ArpServerError, getPrincipal, type ServerOptions } from "../src/index.js";
import { deferred, recordingLogger } from "./support/http.js";
import { makeKey, signToken, startJwksServer } from "./support/jwks.js";
import {
  TestNodeRegistry,
  TestRunCoordinator,
  TestRunGateway,
  vector,
  withDefaults,
} from "./support/services.js";

const BASE = "http://arp.test";
const RUN = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const EVENTS = `/v1/runs/${RUN}/events`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

/** Asserts an ARP error answer: status, `application/json`, a valid ErrorEnvelope with `code`. */
async function envelope(res: Response, status: number, code: string): Promise<ErrorEnvelope["error"]> {
  expect({ status: res.status, type: res.headers.get("content-type") }).toEqual({
    status,
    type: "application/json",
  });
  const body = (await res.json()) as ErrorEnvelope;
  const result = validate("ErrorEnvelope", body);
  expect(result.ok ? [] : result.errors).toEqual([]);
  expect(body.error.code).toBe(code);
  return body.error;
}

const event = (seq: number, pad?: string): T.RunEvent => ({
  run_id: RUN,
  seq,
  type: "atomic_executed",
  time: "2026-01-15T09:30:00Z",
  ...(pad === undefined ? {} : { data: { pad } }),
});

type StreamImpl = (req: ArpRequest<undefined, { run_id: string }>) => AsyncIterable<T.RunEvent>;

function streaming(impl: StreamImpl, options?: ServerOptions) {
  class Streaming extends TestRunCoordinator {
    override streamRunEvents(req: ArpRequest<undefined, { run_id: string }>): AsyncIterable<T.RunEvent> {
      return impl(req);
    }
  }
  return createFetchHandler(new Streaming(withDefaults(options)));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(10);
}

describe("answers as listen() does", () => {
  it("health, and a started run that can be read back", async () => {
    const handle = createFetchHandler(new TestRunGateway());
    const health = await handle(new Request(`${BASE}/v1/health`));
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toBe("application/json");
    expect(((await health.json()) as T.Health).status).toBe("ok");
    const started = await handle(post("/v1/runs", JSON.stringify(vector("RunStartRequest", "full"))));
    expect(started.status).toBe(200);
    const run = (await started.json()) as T.Run;
    expect(validate("Run", run).ok).toBe(true);
    const read = await handle(new Request(`${BASE}/v1/runs/${run.run_id}`));
    expect(((await read.json()) as T.Run).run_id).toBe(run.run_id);
  });

  it("a body that breaks the schema: 400 invalid_request with the issues", async () => {
    const handle = createFetchHandler(new TestRunGateway());
    const res = await handle(post("/v1/runs", JSON.stringify({ ...vector("RunStartRequest"), run_id: 42 })));
    const error = await envelope(res, 400, "invalid_request");
    expect(error.details?.errors).toEqual([expect.objectContaining({ pointer: "/run_id" })]);
  });

  it("a handler's ArpServerError is its envelope; unknown routes 404, wrong methods 405 with Allow", async () => {
    const handle = createFetchHandler(new TestRunGateway());
    await envelope(await handle(new Request(`${BASE}/v1/runs/run_nope`)), 404, "not_found");
    await envelope(await handle(new Request(`${BASE}/v2/nothing`)), 404, "not_found");
    const wrong = await handle(new Request(`${BASE}/v1/runs`, { method: "PUT", body: "{}" }));
    expect(wrong.headers.get("allow")).toBe("POST");
    await envelope(wrong, 405, "method_not_allowed");
  });

  it("the query reaches the handler as sent: a valid one is read, an invalid one is 400", async () => {
    const handle = createFetchHandler(new TestNodeRegistry());
    const atomic = await handle(new Request(`${BASE}/v1/node-types?kind=atomic`));
    expect(atomic.status).toBe(200);
    const kinds = ((await atomic.json()) as T.NodeType[]).map((t) => t.kind);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(["atomic"]));
    const bogus = await envelope(
      await handle(new Request(`${BASE}/v1/node-types?kind=bogus`)),
      400,
      "invalid_request",
    );
    expect(bogus.details?.errors).toEqual([expect.objectContaining({ pointer: "/kind" })]);
  });

  it("anything else a handler throws: 500 internal_error, the message only in the log", async () => {
    const logger = recordingLogger();
    class Failing extends TestRunGateway {
      override getRun(): T.Run {
        throw new Error("secret detail");
      }
    }
    const handle = createFetchHandler(new Failing({ logger }));
    const error = await envelope(await handle(new Request(`${BASE}/v1/runs/run_1`)), 500, "internal_error");
    expect(error.message).toBe("internal server error");
    expect(logger.errors.map((e) => e.message)).toEqual(["unhandled error in handler"]);
  });

  it("body limits: 413 by content-length and by the bytes of a streamed body, without a connection header", async () => {
    const handle = createFetchHandler(new TestRunGateway({ bodyLimit: 100 }));
    const big = JSON.stringify({ ...vector("RunStartRequest"), extensions: { pad: "x".repeat(200) } });
    const declared = await handle(post("/v1/runs", big));
    expect(declared.headers.get("connection")).toBeNull(); // the host's to manage
    await envelope(declared, 413, "payload_too_large");
    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 30) controller.enqueue(bytes.subarray(i, i + 30));
        controller.close();
      },
    });
    const streamed = await handle(
      new Request(`${BASE}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chunked,
        duplex: "half",
      } as RequestInit),
    );
    await envelope(streamed, 413, "payload_too_large");
  });

  it("415 for a body that is not JSON, 400 for bad JSON, too deep JSON and bytes that are not UTF-8", async () => {
    const handle = createFetchHandler(new TestRunGateway({ maxJsonDepth: 4 }));
    await envelope(
      await handle(post("/v1/runs", "{}", { "content-type": "text/plain" })),
      415,
      "unsupported_media_type",
    );
    await envelope(await handle(post("/v1/runs", "{")), 400, "invalid_json");
    const deep = await envelope(await handle(post("/v1/runs", "[[[[[[]]]]]]")), 400, "invalid_request");
    expect(deep.details).toEqual({ max_depth: 4 });
    const latin1 = new Request(`${BASE}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x22, 0xe9, 0x22]),
    });
    await envelope(await handle(latin1), 400, "invalid_json");
  });

  it("CORS: a preflight is answered 204, an allowed origin's answer carries the headers", async () => {
    const handle = createFetchHandler(new TestRunGateway({ cors: { origins: ["https://app.test"] } }));
    const preflight = await handle(
      new Request(`${BASE}/v1/runs`, {
        method: "OPTIONS",
        headers: { origin: "https://app.test", "access-control-request-method": "POST" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.test");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, POST");
    const health = await handle(
      new Request(`${BASE}/v1/health`, { headers: { origin: "https://app.test" } }),
    );
    expect(health.headers.get("access-control-allow-origin")).toBe("https://app.test");
    expect(health.headers.get("vary")).toBe("Origin");
  });

  it("JWT auth with a real JWKS: 401 with WWW-Authenticate without a token, the claims with one", async () => {
    const key = await makeKey("key-1");
    const jwks = await startJwksServer([key]);
    cleanups.push(() => jwks.close());
    const principals: unknown[] = [];
    class Recording extends TestRunGateway {
      override getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run {
        principals.push(req.principal, getPrincipal());
        return { ...vector("Run"), run_id: req.params.run_id };
      }
    }
    const handle = createFetchHandler(new Recording({ auth: { mode: "required", jwksUri: jwks.jwksUri } }));
    const anonymous = await handle(new Request(`${BASE}/v1/runs/run_1`));
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_request"/);
    await envelope(anonymous, 401, "unauthorized");
    const token = await signToken(key, { sub: "alice" });
    const res = await handle(
      new Request(`${BASE}/v1/runs/run_1`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(res.status).toBe(200);
    expect(principals).toEqual([
      expect.objectContaining({ sub: "alice" }),
      expect.objectContaining({ sub: "alice" }),
    ]);
  });

  it("an answer that cannot be written (a header value Headers refuses) is a 500 envelope, not a rejection", async () => {
    const logger = recordingLogger();
    class BadHeader extends TestRunGateway {
      override getRun(): T.Run {
        throw new ArpServerError({
          status: 409,
          code: "conflict",
          message: "no",
          headers: { "x-bad": "a\nb" },
        });
      }
    }
    const handle = createFetchHandler(new BadHeader({ logger }));
    const res = await handle(new Request(`${BASE}/v1/runs/run_1`));
    expect(res.headers.get("x-bad")).toBeNull();
    await envelope(res, 500, "internal_error");
  });

  it("refuses what is not an ARP service with a TypeError", () => {
    expect(() => createFetchHandler({} as never)).toThrow(TypeError);
    expect(() => createFetchHandler(null as never)).toThrow(/expects an ARP service/);
  });
});

describe("the client going away", () => {
  it("request.signal aborting aborts req.signal of a handler still at work", async () => {
    const seen = deferred<AbortSignal>();
    class Slow extends TestRunGateway {
      override async getRun(req: ArpRequest<undefined, { run_id: string }>): Promise<T.Run> {
        seen.resolve(req.signal);
        await new Promise((resolve) => req.signal.addEventListener("abort", resolve));
        throw req.signal.reason;
      }
    }
    const logger = recordingLogger();
    const handle = createFetchHandler(new Slow({ logger }));
    const client = new AbortController();
    const answer = handle(new Request(`${BASE}/v1/runs/run_1`, { signal: client.signal }));
    const signal = await seen.promise;
    expect(signal.aborted).toBe(false);
    client.abort();
    await answer; // resolves (a host drops it: nobody is there to read it)
    expect(signal.aborted).toBe(true);
    expect(logger.errors).toEqual([]);
  });

  it("cancelling the response body ends the stream: req.signal aborts, the generator is finalized", async () => {
    const finalized = deferred();
    let signal: AbortSignal | undefined;
    const handle = streaming(async function* (req) {
      signal = req.signal;
      try {
        for (let seq = 0; ; seq++) {
          yield event(seq);
          await sleep(5);
        }
      } finally {
        finalized.resolve();
      }
    });
    const res = await handle(new Request(`${BASE}${EVENTS}`));
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(JSON.parse(new TextDecoder().decode(first.value).split("\n")[0]!)).toEqual(event(0));
    await reader.cancel();
    await finalized.promise;
    expect(signal?.aborted).toBe(true);
  });
});

describe("streams and request.signal", () => {
  it("request.signal aborting mid-stream: req.signal aborts, the generator is finalized, the body just ends", async () => {
    const finalized = deferred();
    let signal: AbortSignal | undefined;
    const handle = streaming(async function* (req) {
      signal = req.signal;
      try {
        for (let seq = 0; ; seq++) {
          yield event(seq);
          await sleep(5);
        }
      } finally {
        finalized.resolve();
      }
    });
    const client = new AbortController();
    const res = await handle(new Request(`${BASE}${EVENTS}`, { signal: client.signal }));
    const text = res.text();
    await sleep(50);
    client.abort();
    await finalized.promise;
    expect(signal?.aborted).toBe(true);
    // Quietly ended (nobody reads it any more): a host has no error to log for a departure.
    expect((await text).split("\n").filter(Boolean).length).toBeGreaterThan(0);
  });
});

describe("streams", () => {
  it("backpressure: the generator waits while the body is not read, and goes on when it is", async () => {
    const pad = "x".repeat(8 * 1024);
    let produced = 0;
    const TOTAL = 50;
    const handle = streaming(async function* () {
      for (let seq = 0; seq < TOTAL; seq++) {
        produced++;
        yield event(seq, pad);
      }
    });
    const res = await handle(new Request(`${BASE}${EVENTS}`));
    await sleep(200);
    // 16 KiB of unread body: a few events, never the whole stream.
    expect(produced).toBeLessThan(6);
    const text = await res.text();
    expect(text.split("\n").filter(Boolean)).toHaveLength(TOTAL);
    expect(produced).toBe(TOTAL);
  });

  it("a body not read for streamWriteTimeoutMs is cut: req.signal aborts, the body errors, a warning", async () => {
    const logger = recordingLogger();
    const finalized = deferred();
    let signal: AbortSignal | undefined;
    const handle = streaming(
      async function* (req) {
        signal = req.signal;
        try {
          for (let seq = 0; ; seq++) yield event(seq, "x".repeat(64 * 1024));
        } finally {
          finalized.resolve();
        }
      },
      { streamWriteTimeoutMs: 200, logger },
    );
    const res = await handle(new Request(`${BASE}${EVENTS}`));
    await finalized.promise;
    expect((signal?.reason as Error | undefined)?.message).toBe("stream write timed out after 200 ms");
    expect(logger.warnings.map((w) => w.message)).toEqual([
      "stream_run_events: stream cut, a write waited 200 ms for the client to read",
    ]);
    await expect(res.text()).rejects.toThrow();
  });

  it("a generator that fails half-way: what was written is read, then the body errors (never a clean end)", async () => {
    const logger = recordingLogger();
    const handle = streaming(
      async function* () {
        yield event(0);
        yield event(1);
        throw new Error("backend lost");
      },
      { logger },
    );
    const res = await handle(new Request(`${BASE}${EVENTS}`));
    expect(res.status).toBe(200);
    await until(() => logger.errors.length > 0); // failed before a byte of the body was read
    const reader = res.body!.getReader();
    let text = "";
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        text += new TextDecoder().decode(value);
      }
    })().catch((err: unknown) => err);
    expect(text).toBe(`${JSON.stringify(event(0))}\n${JSON.stringify(event(1))}\n`);
    expect(failure).toBeInstanceOf(Error);
    expect(logger.errors[0]?.message).toBe("stream_run_events failed while streaming");
  });

  it("close() ends open streams cleanly (generator returned), and any stream started after it at once", async () => {
    const finalized = deferred();
    const handle = streaming(async function* (req) {
      try {
        for (let seq = 0; !req.signal.aborted; seq++) {
          yield event(seq);
          await sleep(5);
        }
      } finally {
        finalized.resolve();
      }
    });
    const res = await handle(new Request(`${BASE}${EVENTS}`));
    const text = res.text();
    await sleep(50);
    handle.close();
    await finalized.promise;
    const lines = (await text).split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!)).toEqual(event(0));
    const later = await handle(new Request(`${BASE}${EVENTS}`));
    expect(later.status).toBe(200);
    expect((await later.text()).split("\n").filter(Boolean).length).toBeLessThanOrEqual(1);
  });
});
