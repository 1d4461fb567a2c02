/**
 * Hosting: `listen()` (URL, host, timeouts, a port in use), `handler()` in a plain
 * `http.createServer`, graceful `close()` (open streams end, in-flight requests finish, new
 * connections are refused, the forced path after `timeoutMs`), and CORS (off by default, allowlist,
 * wildcard, preflight).
 */
import { createServer, get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { ArpTransportError, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { describe, expect, it } from "vitest";
import type { ArpRequest, CorsOptions } from "../src/index.js";
import { deferred, expectEnvelope, recordingLogger, request, useServers } from "./support/http.js";
import { TestRunGateway, vector } from "./support/services.js";

const servers = useServers();

/** Resolves true when `res` ended cleanly, false when the connection was cut. */
const ended = (res: IncomingMessage): Promise<boolean> =>
  new Promise((resolve) => {
    res.resume();
    res.on("end", () => resolve(res.complete));
    res.on("error", () => resolve(false));
    res.on("close", () => resolve(res.complete));
  });

const openStream = (url: string): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    get(url, { agent: false }, resolve).on("error", reject);
  });

describe("listen()", () => {
  it("binds 127.0.0.1 on a port the OS chooses and returns its URL", async () => {
    const running = await servers.listen(new TestRunGateway());
    const { address, port } = running.server.address() as AddressInfo;
    expect(address).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${port}`);
    expect(running.server.listening).toBe(true);
  });

  it("sets timeouts against slow clients", async () => {
    const { server } = await servers.listen(new TestRunGateway());
    expect({
      headersTimeout: server.headersTimeout,
      requestTimeout: server.requestTimeout,
      keepAliveTimeout: server.keepAliveTimeout,
    }).toEqual({ headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 });
  });

  it("honours host (an IPv6 URL is bracketed) and port", async () => {
    const gateway = new TestRunGateway();
    const running = await gateway.listen({ host: "::1", port: 0 });
    servers.onCleanup(() => running.close());
    const { port } = running.server.address() as AddressInfo;
    expect(running.url).toBe(`http://[::1]:${port}`);
    expect(await new RunGatewayClient({ baseUrl: running.url }).health()).toMatchObject({ status: "ok" });

    // The same port again: rejected (EADDRINUSE), nothing left listening.
    const error = await new TestRunGateway().listen({ host: "::1", port }).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
  });

  it("one service instance can listen twice; each RunningServer serves the same state", async () => {
    const gateway = new TestRunGateway();
    const a = await servers.listen(gateway);
    const b = await servers.listen(gateway);
    const run = await new RunGatewayClient({ baseUrl: a.url }).startRun(vector("RunStartRequest"));
    expect(await new RunGatewayClient({ baseUrl: b.url }).getRun(run.run_id)).toEqual(run);
  });
});

describe("handler()", () => {
  it("serves from a plain http.createServer", async () => {
    const gateway = new TestRunGateway({ serviceName: "plain" });
    const server = createServer(gateway.handler());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RunGatewayClient({ baseUrl: url, retry: false });
    expect((await client.version()).service_name).toBe("plain");
    const run = await client.startRun(vector("RunStartRequest"));
    expect(await client.cancelRun(run.run_id)).toMatchObject({ state: "canceled" });
    const events = [];
    for await (const e of client.streamRunEvents(run.run_id)) events.push(e.type);
    expect(events).toEqual(["run_started", "node_run_assigned", "run_completed"]);
    expectEnvelope(await request(`${url}/v1/nope`), 404, "not_found");
  });
});

describe("close()", () => {
  /**
   * A stream and an in-flight request are open when close() is called: the stream must end cleanly
   * (its generator finalized), the request must complete, close() must resolve after it, and new
   * connections must be refused. `origin` is sent with both requests (CORS allows it).
   */
  async function gracefulClose(timeoutMs: number, origin?: string): Promise<void> {
    const streamFinalized = deferred();
    const inflightEntered = deferred();
    const inflightGate = deferred();
    class Busy extends TestRunGateway {
      override async *streamRunEvents(
        req: ArpRequest<undefined, { run_id: string }>,
      ): AsyncIterable<T.RunEvent> {
        try {
          yield { run_id: req.params.run_id, seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" };
          await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
        } finally {
          streamFinalized.resolve();
        }
      }
      override async getRun(req: ArpRequest<undefined, { run_id: string }>): Promise<T.Run> {
        inflightEntered.resolve();
        await inflightGate.promise;
        return { run_id: req.params.run_id, state: "running", root_node_run_id: "nr" };
      }
    }
    const running = await new Busy({ cors: { origins: ["https://app.example.com"] } }).listen();
    servers.onCleanup(() => running.close({ timeoutMs: 10 }));
    const headers = origin ? { origin } : {};

    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${running.url}/v1/runs/run_1/events`, { agent: false, headers }, resolve).on("error", reject);
    });
    const streamEnded = ended(stream);
    const inflight = request(`${running.url}/v1/runs/run_1`, { headers });
    inflight.catch(() => undefined);
    await inflightEntered.promise;

    let closed = false;
    const closing = running.close({ timeoutMs }).then(() => {
      closed = true;
    });

    expect(await streamEnded).toBe(true); // a clean end, not a cut connection
    await streamFinalized.promise;
    expect(running.server.listening).toBe(false);
    expect(closed).toBe(false); // still waiting for the in-flight request

    inflightGate.resolve();
    const res = await inflight;
    expect([res.status, (res.json() as T.Run).run_id]).toEqual([200, "run_1"]);
    await closing;
    expect(closed).toBe(true);

    const refused = await request(`${running.url}/v1/health`).catch((e: unknown) => e);
    expect((refused as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    const viaClient = await new RunGatewayClient({ baseUrl: running.url, retry: false })
      .health()
      .catch((e: unknown) => e);
    expect(viaClient).toBeInstanceOf(ArpTransportError);
  }

  // Passes only because the allowed Origin makes the CORS code call res.setHeader() first: see below.
  it("ends open streams, lets in-flight requests finish, resolves, then refuses connections (CORS request)", async () => {
    await gracefulClose(60_000, "https://app.example.com");
  });

  // BUG (src/core/server.ts:466, #close): open streams are found by `res.getHeader("content-type")
  // === "application/x-ndjson"`, but #respond (line 422) sets that header with `res.writeHead(status,
  // {...})`, which does not store headers readable by getHeader() unless res.setHeader() ran before
  // (as the CORS code does for an allowed Origin). So without CORS, close() does not end open streams:
  // it waits `timeoutMs` (default 10 s) and then cuts them. Fix: record streaming responses in a Set
  // (or check res.getHeader after using setHeader).
  it("ends open streams, lets in-flight requests finish, resolves, then refuses connections", async () => {
    await gracefulClose(200);
  });

  it("finalizes an open stream's generator (at the latest after timeoutMs)", async () => {
    const finalized = deferred();
    class Live extends TestRunGateway {
      override async *streamRunEvents(
        req: ArpRequest<undefined, { run_id: string }>,
      ): AsyncIterable<T.RunEvent> {
        try {
          yield { run_id: req.params.run_id, seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" };
          await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
        } finally {
          finalized.resolve();
        }
      }
    }
    const running = await new Live().listen();
    const stream = await openStream(`${running.url}/v1/runs/run_1/events`);
    const streamEnded = ended(stream);
    await running.close({ timeoutMs: 20 });
    await finalized.promise;
    await streamEnded;
    expect(running.server.listening).toBe(false);
  });

  // BUG (src/core/server.ts:190-192 and #close): the in-flight map and `#closing` belong to the
  // service instance, not to the RunningServer, so close() of one listener aborts the open streams
  // (and every request signal it sees as a stream) served by another listener of the same instance.
  // The allowed Origin is sent so that the stream is recognised at all (see the bug above). Fix: keep
  // the in-flight set per http.Server (e.g. a WeakMap keyed by `req.socket.server`).
  it("close() of one listener leaves the streams of another listener of the same service alone", async () => {
    const entered = deferred<AbortSignal>();
    class Live extends TestRunGateway {
      override async *streamRunEvents(
        req: ArpRequest<undefined, { run_id: string }>,
      ): AsyncIterable<T.RunEvent> {
        entered.resolve(req.signal);
        yield { run_id: req.params.run_id, seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" };
        await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
      }
    }
    const gateway = new Live({ cors: { origins: ["https://app.example.com"] } });
    const a = await servers.listen(gateway);
    const b = await servers.listen(gateway);
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      get(
        `${b.url}/v1/runs/run_1/events`,
        { agent: false, headers: { origin: "https://app.example.com" } },
        resolve,
      ).on("error", reject);
    });
    stream.resume();
    const signal = await entered.promise;
    await a.close(); // the streams it would end are aborted before it resolves
    expect(b.server.listening).toBe(true);
    expect(signal.aborted).toBe(false);
  });

  it("closes idle keep-alive connections at once", async () => {
    const running = await new TestRunGateway().listen();
    // fetch keeps its connection alive in a pool; close() must not wait for keepAliveTimeout.
    const client = new RunGatewayClient({ baseUrl: running.url });
    await client.health();
    await client.version();
    await running.close({ timeoutMs: 60_000 }); // the test's own timeout would catch a hang
    expect(running.server.listening).toBe(false);
  });

  it("after timeoutMs, destroys what is left: the stuck request's signal aborts", async () => {
    const entered = deferred<AbortSignal>();
    class Stuck extends TestRunGateway {
      override async getRun(req: ArpRequest<undefined, { run_id: string }>): Promise<T.Run> {
        entered.resolve(req.signal);
        await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
        throw new Error("gone");
      }
    }
    const running = await new Stuck({ logger: recordingLogger() }).listen();
    const pending = request(`${running.url}/v1/runs/run_1`).catch((e: unknown) => e);
    const signal = await entered.promise;
    await running.close({ timeoutMs: 20 });
    await new Promise((resolve) =>
      signal.aborted ? resolve(undefined) : signal.addEventListener("abort", resolve),
    );
    expect(signal.aborted).toBe(true);
    expect(((await pending) as NodeJS.ErrnoException).code).toBe("ECONNRESET");
  });

  // BUG (src/core/server.ts, #close): `closeIdleConnections()` only closes connections that have
  // served a request; a connection that is open but has not sent one (Node 20's fetch opens such a
  // spare connection after an aborted request, e.g. after `break` out of an @arp/client stream) is
  // neither idle nor in flight, so close() waits the full `timeoutMs` (default 10 s) for it. Fix:
  // track sockets and destroy those without a request in progress.
  it("does not wait for a connection that never sent a request", async () => {
    const running = await new TestRunGateway().listen();
    const socket: Socket = connect((running.server.address() as AddressInfo).port, "127.0.0.1");
    servers.onCleanup(() => {
      socket.destroy();
      return running.close({ timeoutMs: 10 });
    });
    await new Promise((resolve) => socket.once("connect", resolve));
    const started = Date.now();
    await running.close({ timeoutMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s grace
  }, 30_000);
});

describe("CORS", () => {
  const APP = "https://app.example.com";

  async function cors(options?: CorsOptions) {
    return (await servers.listen(new TestRunGateway(options ? { cors: options } : {}))).url;
  }

  const preflight = (url: string, origin: string) =>
    request(`${url}/v1/runs`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("is off by default: no Access-Control-* headers, and no preflight", async () => {
    const url = await cors();
    const res = await request(`${url}/v1/health`, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    const pre = await preflight(url, APP);
    expectEnvelope(pre, 405, "method_not_allowed");
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("with an allowlist: an allowed origin gets ACAO (with Vary: Origin) and a 204 preflight", async () => {
    const url = await cors({ origins: [APP, "http://localhost:5173"] });
    const res = await request(`${url}/v1/health`, { headers: { origin: APP } });
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(res.headers.vary).toBe("Origin");

    const pre = await preflight(url, APP);
    expect(pre.status).toBe(204);
    expect(pre.text).toBe("");
    expect(pre.headers["access-control-allow-origin"]).toBe(APP);
    expect(pre.headers["access-control-allow-methods"]).toBe("GET, POST");
    expect(pre.headers["access-control-allow-headers"]?.split(/,\s*/)).toEqual(
      expect.arrayContaining(["authorization", "content-type", "traceparent"]),
    );
    expect(pre.headers["access-control-max-age"]).toBe("600");

    // Error answers carry it too, so that the browser lets the app read the envelope.
    const missing = await request(`${url}/v1/runs/nope`, { headers: { origin: APP } });
    expectEnvelope(missing, 404, "not_found");
    expect(missing.headers["access-control-allow-origin"]).toBe(APP);
  });

  it("with an allowlist: a disallowed origin gets no CORS headers and no preflight", async () => {
    const url = await cors({ origins: [APP] });
    const res = await request(`${url}/v1/health`, { headers: { origin: "https://evil.example.com" } });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    const pre = await preflight(url, "https://evil.example.com");
    expect(pre.status).toBe(405);
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    // Origins match exactly: no prefix, suffix or case games.
    for (const origin of [`${APP}.evil.com`, "https://APP.example.com", `${APP}/`, "null"]) {
      const r = await request(`${url}/v1/health`, { headers: { origin } });
      expect(r.headers["access-control-allow-origin"], origin).toBeUndefined();
    }
  });

  it("'*' allows every origin; maxAgeSeconds sets the preflight cache", async () => {
    const url = await cors({ origins: "*", maxAgeSeconds: 60 });
    const res = await request(`${url}/v1/health`, { headers: { origin: "https://anyone.example" } });
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    const pre = await preflight(url, "https://anyone.example");
    expect([pre.status, pre.headers["access-control-max-age"]]).toEqual([204, "60"]);
  });

  it("a preflight needs no token, even with auth required", async () => {
    const gateway = new TestRunGateway({
      cors: { origins: [APP] },
      auth: { mode: "required", jwksUri: "http://127.0.0.1:9/jwks.json" },
    });
    const { url } = await servers.listen(gateway);
    expect((await preflight(url, APP)).status).toBe(204);
    const res = await request(`${url}/v1/runs`, {
      method: "POST",
      body: vector("RunStartRequest"),
      headers: { origin: APP },
    });
    expectEnvelope(res, 401, "unauthorized");
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
  });
});
