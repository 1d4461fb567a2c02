/**
 * The retry policy: what is retried (statuses, network errors, `retryable` envelopes), which calls
 * are safe to repeat (GETs, cancels, keyed POSTs, `idempotent: true`), backoff with jitter through
 * an injected clock, `Retry-After`, bounded attempts, configuration and `retry: false`, and the
 * timeout bounding the whole call. No test waits: `sleep` is a fake that records the delays.
 */
import { delay, HttpResponse, http, type JsonBodyType } from "msw";
import { describe, expect, it } from "vitest";
import {
  ArpApiError,
  ArpTimeoutError,
  ArpTransportError,
  AtomicExecutorClient,
  type ClientOptions,
  DEFAULT_RETRY_POLICY,
  PdpClient,
  RunCoordinatorClient,
  RunGatewayClient,
} from "../src/index.js";
import { envelope, fakeSleep, fixture, rejection, useServer } from "./support/server.js";

const { server, recorder } = useServer();

const BASE = "https://retry.arp.test";

type Answer = number | "network" | { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * Answers the requests to `method path` in turn with `answers` (a status answers with an envelope,
 * or the `success` body for 2xx; "network" fails the connection); the last answer repeats.
 */
function sequence(method: "get" | "post", path: string, answers: Answer[], success: () => unknown): void {
  let i = 0;
  server.use(
    http[method](`${BASE}${path}`, () => {
      const answer = answers[Math.min(i++, answers.length - 1)]!;
      if (answer === "network") return HttpResponse.error();
      const { status, body, headers } = typeof answer === "number" ? { status: answer } : answer;
      if (status === 204) return new HttpResponse(null, { status, headers });
      const payload = body ?? (status < 300 ? success() : envelope(`http_${status}`, `answered ${status}`));
      return HttpResponse.json(payload as JsonBodyType, { status, headers });
    }),
  );
}

const RUN = () => fixture("Run", "minimal");

function clients(options: Partial<ClientOptions> = {}) {
  const clock = fakeSleep();
  const config: ClientOptions = {
    baseUrl: BASE,
    bearerToken: "tok_retry_123456",
    sleep: clock.sleep,
    random: () => 0.5,
    ...options,
  };
  return {
    delays: clock.delays,
    gateway: new RunGatewayClient(config),
    coordinator: new RunCoordinatorClient(config),
    atomic: new AtomicExecutorClient(config),
    pdp: new PdpClient(config),
  };
}

describe("the default policy", () => {
  it("is 3 attempts, 200 ms doubling up to 5 s, full jitter, 429/502/503/504, Retry-After up to 60 s", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 3,
      baseDelayMs: 200,
      maxDelayMs: 5_000,
      retryStatuses: [429, 502, 503, 504],
      respectRetryAfter: true,
      maxRetryAfterMs: 60_000,
      jitter: "full",
    });
  });

  it.each([429, 502, 503, 504])("retries %i, then succeeds", async (status) => {
    sequence("get", "/v1/runs/:id", [status, status, 200], RUN);
    const { gateway, delays } = clients();
    expect(await gateway.getRun("run_1")).toEqual(RUN());
    expect(recorder.count).toBe(3);
    // Full jitter with random() = 0.5: half of 200 ms, then half of 400 ms.
    expect(delays).toEqual([100, 200]);
  });

  it.each([400, 401, 403, 404, 409, 500, 501])("does not retry %i", async (status) => {
    sequence("get", "/v1/runs/:id", [status, 200], RUN);
    const { gateway, delays } = clients();
    const e = (await rejection(gateway.getRun("run_1"))) as ArpApiError;
    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(status);
    expect(recorder.count).toBe(1);
    expect(delays).toEqual([]);
  });

  it("retries any status whose envelope says `retryable: true`", async () => {
    sequence(
      "get",
      "/v1/runs/:id",
      [{ status: 500, body: envelope("internal", "transient", { retryable: true }) }, 200],
      RUN,
    );
    const { gateway } = clients();
    expect(await gateway.getRun("run_1")).toEqual(RUN());
    expect(recorder.count).toBe(2);
  });

  it("does not retry an envelope with `retryable: false` on a non-retry status", async () => {
    sequence(
      "get",
      "/v1/runs/:id",
      [{ status: 500, body: envelope("internal", "permanent", { retryable: false }) }, 200],
      RUN,
    );
    const { gateway } = clients();
    expect(await rejection(gateway.getRun("run_1"))).toBeInstanceOf(ArpApiError);
    expect(recorder.count).toBe(1);
  });

  it("does not retry a retry status (503) when the envelope says `retryable: false`: the server wins", async () => {
    sequence(
      "get",
      "/v1/runs/:id",
      [{ status: 503, body: envelope("draining", "shutting down for good", { retryable: false }) }, 200],
      RUN,
    );
    const { gateway } = clients();
    const err = await rejection(gateway.getRun("run_1"));
    expect(err).toMatchObject({ status: 503, code: "draining", retryable: false });
    expect(recorder.count).toBe(1);
  });

  it("retries network errors", async () => {
    sequence("get", "/v1/runs/:id", ["network", "network", 200], RUN);
    const { gateway, delays } = clients();
    expect(await gateway.getRun("run_1")).toEqual(RUN());
    expect(recorder.count).toBe(3);
    expect(delays).toEqual([100, 200]);
  });

  it("is bounded: after maxAttempts the last failure is thrown", async () => {
    sequence("get", "/v1/runs/:id", [502, 502, 503], RUN);
    const { gateway, delays } = clients();
    const e = (await rejection(gateway.getRun("run_1"))) as ArpApiError;
    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(503);
    expect(recorder.count).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it("is bounded for network errors too", async () => {
    sequence("get", "/v1/runs/:id", ["network"], RUN);
    const { gateway } = clients();
    expect(await rejection(gateway.getRun("run_1"))).toBeInstanceOf(ArpTransportError);
    expect(recorder.count).toBe(3);
  });
});

describe("backoff", () => {
  it("doubles from baseDelayMs, capped at maxDelayMs, exactly with jitter: none", async () => {
    sequence("get", "/v1/runs/:id", [503], RUN);
    const { gateway, delays } = clients({
      retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 500, jitter: "none" },
    });
    await rejection(gateway.getRun("run_1"));
    expect(recorder.count).toBe(6);
    expect(delays).toEqual([100, 200, 400, 500, 500]);
  });

  it("draws each delay in [0, computed) with full jitter", async () => {
    sequence("get", "/v1/runs/:id", [503], RUN);
    const draws = [0, 0.999, 0.25];
    const { gateway, delays } = clients({ retry: { maxAttempts: 4 }, random: () => draws.shift() ?? 0 });
    await rejection(gateway.getRun("run_1"));
    expect(delays).toEqual([0, 399, 200]);
  });

  it("hands the clock the call's signal, so a backoff can be cut short", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const signals: AbortSignal[] = [];
    const { gateway } = clients({
      sleep: async (_ms, signal) => {
        signals.push(signal);
      },
    });
    await gateway.getRun("run_1");
    expect(signals).toHaveLength(1);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
  });
});

describe("Retry-After", () => {
  it("waits the seconds it says, instead of the backoff", async () => {
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": "7" } }, 200], RUN);
    const { gateway, delays } = clients();
    expect(await gateway.getRun("run_1")).toEqual(RUN());
    expect(delays).toEqual([7_000]);
  });

  it("waits until an HTTP date", async () => {
    const at = new Date(Date.now() + 10_000).toUTCString(); // second precision
    sequence("get", "/v1/runs/:id", [{ status: 429, headers: { "retry-after": at } }, 200], RUN);
    const { gateway, delays } = clients();
    await gateway.getRun("run_1");
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(8_000);
    expect(delays[0]).toBeLessThanOrEqual(10_000);
  });

  it("treats a date in the past as no wait", async () => {
    const at = new Date(Date.now() - 60_000).toUTCString();
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": at } }, 200], RUN);
    const { gateway, delays } = clients();
    await gateway.getRun("run_1");
    expect(delays).toEqual([0]);
  });

  it("falls back to the backoff when the header is not understood", async () => {
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": "soon" } }, 200], RUN);
    const { gateway, delays } = clients();
    await gateway.getRun("run_1");
    expect(delays).toEqual([100]);
  });

  it("is ignored with respectRetryAfter: false", async () => {
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": "7" } }, 200], RUN);
    const { gateway, delays } = clients({ retry: { respectRetryAfter: false } });
    await gateway.getRun("run_1");
    expect(delays).toEqual([100]);
  });

  it("longer than maxRetryAfterMs: not waited, the error is thrown at once", async () => {
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": "120" } }, 200], RUN);
    const { gateway, delays } = clients();
    const e = (await rejection(gateway.getRun("run_1"))) as ArpApiError;
    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(503);
    expect(recorder.count).toBe(1);
    expect(delays).toEqual([]);
  });

  it("honours a configured maxRetryAfterMs (HTTP date beyond it)", async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    sequence("get", "/v1/runs/:id", [{ status: 429, headers: { "retry-after": at } }, 200], RUN);
    const { gateway, delays } = clients({ retry: { maxRetryAfterMs: 5_000 } });
    expect(await rejection(gateway.getRun("run_1"))).toBeInstanceOf(ArpApiError);
    expect(recorder.count).toBe(1);
    expect(delays).toEqual([]);
  });
});

describe("only calls that are safe to repeat", () => {
  it("a POST without an idempotency key is sent once", async () => {
    sequence("post", "/v1/runs", [503, 200], RUN);
    const { gateway } = clients();
    const e = (await rejection(gateway.startRun(fixture("RunStartRequest", "minimal")))) as ArpApiError;
    expect(e.status).toBe(503);
    expect(recorder.count).toBe(1);
  });

  it("a POST is not retried after a network error either (it may have been received)", async () => {
    sequence("post", "/v1/policy:decide", ["network", 200], () => fixture("PolicyDecision", "minimal"));
    const { pdp } = clients();
    expect(await rejection(pdp.decidePolicy(fixture("PolicyDecisionRequest", "minimal")))).toBeInstanceOf(
      ArpTransportError,
    );
    expect(recorder.count).toBe(1);
  });

  it("startRun with a caller-chosen run_id is retried, with the same body", async () => {
    sequence("post", "/v1/runs", [503, "network", 200], RUN);
    const { gateway } = clients();
    const body = fixture("RunStartRequest", "full");
    expect(body.run_id).toBeTypeOf("string");
    expect(await gateway.startRun(body)).toEqual(RUN());
    const sent = await recorder.all();
    expect(sent).toHaveLength(3);
    for (const request of sent) expect(request.json).toEqual(body);
  });

  it("startRun: a 409 for the duplicate run_id is surfaced, not looped on", async () => {
    sequence(
      "post",
      "/v1/runs",
      [
        503,
        { status: 409, body: envelope("conflict", "run already exists", { details: { run_id: "run_1" } }) },
      ],
      RUN,
    );
    const { gateway } = clients({ retry: { maxAttempts: 10 } });
    const e = (await rejection(gateway.startRun(fixture("RunStartRequest", "full")))) as ArpApiError;
    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(409);
    expect(e.code).toBe("conflict");
    expect(recorder.count).toBe(2);
  });

  it("createNodeRuns is retried when every node run has an idempotency_key", async () => {
    const body = fixture("NodeRunsCreateRequest", "full");
    body.node_runs = body.node_runs.map((spec, i) => ({ ...spec, idempotency_key: `key-${i}` }));
    sequence("post", "/v1/node-runs", [502, 200], () => fixture("NodeRunsCreateResponse", "minimal"));
    const { coordinator } = clients();
    expect(await coordinator.createNodeRuns(body)).toEqual(fixture("NodeRunsCreateResponse", "minimal"));
    expect(recorder.count).toBe(2);
  });

  it.each([
    ["one node run lacks a key", "full"],
    ["no node run has a key", "minimal"],
  ] as const)("createNodeRuns is sent once when %s", async (_why, variant) => {
    const body = fixture("NodeRunsCreateRequest", variant);
    expect(body.node_runs.every((r) => typeof r.idempotency_key === "string")).toBe(false);
    sequence("post", "/v1/node-runs", [502, 200], () => fixture("NodeRunsCreateResponse", "minimal"));
    const { coordinator } = clients();
    expect(await rejection(coordinator.createNodeRuns(body))).toBeInstanceOf(ArpApiError);
    expect(recorder.count).toBe(1);
  });

  it("cancels are retried (POST /v1/runs/{id}:cancel, and the 204 cancels)", async () => {
    sequence("post", "/v1/runs/:id", [503, 200], RUN);
    sequence("post", "/v1/atomic-node-runs/:id", ["network", 204], RUN);
    const { gateway, atomic } = clients();
    expect(await gateway.cancelRun("run_1")).toEqual(RUN());
    expect(await atomic.cancelAtomicNodeRun("nr_1")).toBeUndefined();
    const sent = await recorder.all();
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/runs/run_1:cancel",
      "POST /v1/runs/run_1:cancel",
      "POST /v1/atomic-node-runs/nr_1:cancel",
      "POST /v1/atomic-node-runs/nr_1:cancel",
    ]);
  });

  it("{ idempotent: true } makes any POST retryable", async () => {
    sequence("post", "/v1/policy:decide", [503, 200], () => fixture("PolicyDecision", "minimal"));
    const { pdp } = clients();
    const decision = await pdp.decidePolicy(fixture("PolicyDecisionRequest", "minimal"), {
      idempotent: true,
    });
    expect(decision).toEqual(fixture("PolicyDecision", "minimal"));
    expect(recorder.count).toBe(2);
  });

  it("{ idempotent: false } stops even a GET or a keyed startRun from being repeated", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    sequence("post", "/v1/runs", [503, 200], RUN);
    const { gateway } = clients();
    await rejection(gateway.getRun("run_1", { idempotent: false }));
    await rejection(gateway.startRun(fixture("RunStartRequest", "full"), { idempotent: false }));
    expect(recorder.count).toBe(2);
  });
});

describe("configuration", () => {
  it("retry: false on the client: one attempt", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const { gateway, delays } = clients({ retry: false });
    expect(await rejection(gateway.getRun("run_1"))).toBeInstanceOf(ArpApiError);
    expect(recorder.count).toBe(1);
    expect(delays).toEqual([]);
  });

  it("retry: false on one call", async () => {
    sequence("get", "/v1/runs/:id", ["network", 200], RUN);
    const { gateway } = clients();
    expect(await rejection(gateway.getRun("run_1", { retry: false }))).toBeInstanceOf(ArpTransportError);
    expect(recorder.count).toBe(1);
  });

  it("a per-call policy overrides the client's, field by field", async () => {
    sequence("get", "/v1/runs/:id", [500], RUN);
    const { gateway, delays } = clients({ retry: { maxAttempts: 2, baseDelayMs: 10, jitter: "none" } });
    await rejection(gateway.getRun("run_1", { retry: { maxAttempts: 4, retryStatuses: [500] } }));
    expect(recorder.count).toBe(4);
    expect(delays).toEqual([10, 20, 40]);
  });

  it("a per-call policy re-enables retries on a client built with retry: false", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const { gateway } = clients({ retry: false });
    expect(await gateway.getRun("run_1", { retry: { maxAttempts: 2 } })).toEqual(RUN());
    expect(recorder.count).toBe(2);
  });

  it("retryStatuses replaces the default list", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const { gateway } = clients({ retry: { retryStatuses: [500] } });
    expect(await rejection(gateway.getRun("run_1"))).toBeInstanceOf(ArpApiError);
    expect(recorder.count).toBe(1);
  });
});

describe("timeoutMs bounds the whole call, retries and backoff included", () => {
  /** A clock whose every wait lasts until the call's signal aborts. */
  const stuckSleep = (_ms: number, signal: AbortSignal) =>
    new Promise<void>((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });

  it("the deadline cuts a backoff short", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const { gateway } = clients({ sleep: stuckSleep, timeoutMs: 50 });
    const e = await rejection(gateway.getRun("run_1"));
    expect(e).toBeInstanceOf(ArpTimeoutError);
    expect(recorder.count).toBe(1);
  });

  it("the deadline spans attempts: slow answers add up", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, async () => {
        await delay(30);
        return HttpResponse.json(envelope("unavailable", "busy"), { status: 503 });
      }),
    );
    const { gateway } = clients({ timeoutMs: 80, retry: { maxAttempts: 10 } });
    const started = Date.now();
    const e = await rejection(gateway.getRun("run_1"));
    expect(e).toBeInstanceOf(ArpTimeoutError);
    expect(recorder.count).toBeGreaterThanOrEqual(2);
    expect(recorder.count).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(10_000); // (the attempt count above is the sharp test)
  });

  it("the default clock also stops at the deadline (Retry-After: 30 s, timeoutMs: 50)", async () => {
    sequence("get", "/v1/runs/:id", [{ status: 503, headers: { "retry-after": "30" } }, 200], RUN);
    const client = new RunGatewayClient({ baseUrl: BASE, timeoutMs: 50 });
    const started = Date.now();
    expect(await rejection(client.getRun("run_1"))).toBeInstanceOf(ArpTimeoutError);
    expect(Date.now() - started).toBeLessThan(10_000); // not the 30 s Retry-After
  });

  it("the caller's abort during a backoff rejects with its reason", async () => {
    sequence("get", "/v1/runs/:id", [503, 200], RUN);
    const controller = new AbortController();
    const reason = new Error("stop");
    const { gateway } = clients({
      sleep: (ms, signal) => {
        controller.abort(reason);
        return stuckSleep(ms, signal);
      },
    });
    expect(await rejection(gateway.getRun("run_1", { signal: controller.signal }))).toBe(reason);
    expect(recorder.count).toBe(1);
  });
});
