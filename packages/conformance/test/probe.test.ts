/**
 * The probe and the calls, against raw servers on loopback: retries only for operations safe to
 * repeat, calls that are never memoised, one path templating, redaction by header name, and bodies
 * that must be UTF-8.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type OperationSpec, SERVICES, type ServiceSpec } from "@arp/model";
import { afterEach, describe, expect, it } from "vitest";
import { call, pathFor } from "../src/check/calls.js";
import { isSecretHeader, MAX_BODY_BYTES, mayRetry, probe, redactHeaders } from "../src/check/probe.js";
import type { CheckContext } from "../src/check/runner.js";
import { runConformance } from "../src/index.js";

interface Raw {
  url: string;
  /** Every request the server got: method, path (as sent) and headers. */
  seen: { method: string; url: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

const open: Raw[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Raw> {
  const seen: Raw["seen"] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const raw: Raw = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  open.push(raw);
  return raw;
}

/** Drops the connection without an answer: a transport error for the client. */
const hangUp = (req: IncomingMessage): void => void req.socket.destroy();

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const HEALTH = { status: "ok", time: "2026-01-15T09:30:00Z" };
const VERSION = { service_name: "x", service_version: "1", supported_api_versions: ["v1"] };
const NOT_FOUND = { error: { code: "not_found", message: "no such thing" } };

const gateway: ServiceSpec = SERVICES["run-gateway"];
const op = (name: string): OperationSpec => gateway.operations[name]!;

describe("--retries: only operations safe to repeat are sent again", () => {
  it.each([
    ["GET", undefined, 3],
    ["GET", "safe", 3],
    ["POST", "safe", 3],
    ["POST", undefined, 1],
    ["POST", "keyed", 1],
    ["POST", "unsafe", 1],
  ] as const)("%s with retry %s: sent %i times after transport errors", async (method, retry, times) => {
    const s = await serve(hangUp);
    const result = await probe(
      {
        method,
        url: `${s.url}/v1/runs`,
        json: method === "POST" ? {} : undefined,
        ...(retry ? { retry } : {}),
      },
      { retries: 2, timeoutMs: 2_000 },
    );
    expect(result.exchange.response).toBeNull();
    expect(result.exchange.attempts).toBe(times);
    expect(s.seen.length).toBe(times);
    expect(mayRetry({ method, retry })).toBe(times > 1);
  });

  it("a check run never resends startRun (keyed), and resends cancelRun (safe)", async () => {
    const s = await serve((req, res) => {
      if (req.method === "POST") return hangUp(req);
      if (req.url === "/v1/health") return json(res, 200, HEALTH);
      if (req.url === "/v1/version") return json(res, 200, VERSION);
      json(res, 404, NOT_FOUND);
    });
    const report = await runConformance({
      service: "run-gateway",
      url: s.url,
      tier: "core",
      allowMutations: true,
      retries: 2,
      timeoutMs: 2_000,
    });
    const result = (id: string) => report.results.find((r) => r.check_id === id);
    expect(result("core.startRun.start")?.exchange?.attempts).toBe(1);
    expect(result("core.startRun.start")?.message).toMatch(/^no answer: /);
    expect(result("core.cancelRun.unknown")?.exchange?.attempts).toBe(3);
    // Every POST /v1/runs the checks made reached the server once (the invalid bodies, the starts).
    const starts = s.seen.filter((r) => r.method === "POST" && r.url === "/v1/runs").length;
    const sent = report.results.filter(
      (r) => r.exchange?.request.method === "POST" && r.exchange.request.url === `${s.url}/v1/runs`,
    );
    expect(starts).toBeGreaterThan(0);
    for (const r of sent)
      expect({ id: r.check_id, attempts: r.exchange?.attempts }).toEqual({ id: r.check_id, attempts: 1 });
  });
});

describe("call(): through ctx.send, never the memo", () => {
  function context(url: string): CheckContext {
    return {
      baseUrl: url,
      service: gateway,
      headers: {},
      probe: () => {
        throw new Error("call() must not memoise: it used ctx.probe");
      },
      send: (request) => probe(request, { retries: 1, timeoutMs: 2_000 }),
      stream: () => Promise.reject(new Error("unused")),
      schema: () => {
        throw new Error("unused");
      },
      mutations: undefined,
      step: () => Promise.reject(new Error("unused")),
      cleanup: () => undefined,
    };
  }

  it("each call sends; path parameters and the query are encoded; op.retry decides the retries", async () => {
    const s = await serve((req, res) => (req.method === "POST" ? hangUp(req) : json(res, 404, NOT_FOUND)));
    const ctx = context(s.url);
    const first = await call(ctx, op("getRun"), {
      params: { run_id: "a/b?c d" },
      query: { x: "1&2", y: undefined },
    });
    const second = await call(ctx, op("getRun"), { params: { run_id: "a/b?c d" }, query: { x: "1&2" } });
    expect(first).not.toBe(second);
    expect(s.seen.map((r) => r.url)).toEqual([
      "/v1/runs/a%2Fb%3Fc%20d?x=1%262",
      "/v1/runs/a%2Fb%3Fc%20d?x=1%262",
    ]);
    const start = await call(ctx, op("startRun"), { body: {} });
    expect(start.exchange.attempts).toBe(1);
    const cancel = await call(ctx, op("cancelRun"), { params: { run_id: "r" } });
    expect(cancel.exchange.attempts).toBe(2);
  });

  it("pathFor: one templating, a map or a function of the name; a missing parameter throws", async () => {
    expect(pathFor(op("streamRunEvents"), { run_id: "r/1" })).toBe("/v1/runs/r%2F1/events");
    expect(pathFor(op("cancelRun"), (name) => `${name}-x`)).toBe("/v1/runs/run_id-x:cancel");
    expect(pathFor(op("health"), {})).toBe("/v1/health");
    expect(() => pathFor(op("getRun"), {})).toThrow("no value for path parameter run_id of getRun");
    const s = await serve((_req, res) => json(res, 404, NOT_FOUND));
    await expect(call(context(s.url), op("getRun"))).rejects.toThrow(/no value for path parameter run_id/);
    expect(s.seen).toEqual([]);
  });
});

describe("redaction: a header whose name looks like a credential's is never reported", () => {
  const REDACTED = [
    "Authorization",
    "proxy-authorization",
    "Cookie",
    "X-Api-Key",
    "api-key",
    "apikey",
    "X-Goog-Api-Key",
    "X-Auth-Key",
    "X-Auth-Email-Token",
    "Ocp-Apim-Subscription-Key",
    "X-Amz-Security-Token",
    "X-Session-Id",
    "X-Hub-Signature-256",
    "X-Client-Secret",
    "X-Password",
    "X-Credential",
    "X-CSRF-TOKEN",
    "Idempotency-Key",
  ];
  const SHOWN = [
    "accept",
    "content-type",
    "traceparent",
    "tracestate",
    "x-tenant",
    "user-agent",
    "x-request-id",
  ];

  it.each(REDACTED.map((n) => [n, true]).concat(SHOWN.map((n) => [n, false])) as [string, boolean][])(
    "%s: redacted %s",
    (name, redacted) => {
      expect(redactHeaders({ [name]: "v" })[name]).toBe(redacted ? "<redacted>" : "v");
      expect(isSecretHeader(name)).toBe(redacted);
    },
  );

  it("the service gets every value; the report shows only the harmless ones", async () => {
    const s = await serve((_req, res) => json(res, 200, HEALTH));
    const headers = Object.fromEntries(
      [...REDACTED, "traceparent", "x-tenant"].map((n, i) => [n, `value-${i}-secret`]),
    );
    const result = await probe({ method: "GET", url: `${s.url}/v1/health` }, { headers });
    const recorded = result.exchange.request.headers;
    for (const name of REDACTED) {
      expect(s.seen[0]!.headers[name.toLowerCase()]).toMatch(/^value-\d+-secret$/);
      expect({ name, value: recorded[name] }).toEqual({ name, value: "<redacted>" });
    }
    expect(recorded.traceparent).toMatch(/^value-/);
    expect(recorded["x-tenant"]).toMatch(/^value-/);
    expect(recorded.accept).toBe("application/json");
    expect(JSON.stringify(result.exchange)).not.toMatch(/value-(\d|1[0-7])-secret/);
  });
});

describe("bodies must be UTF-8", () => {
  it("a JSON body with a byte that is not UTF-8 is not JSON, and the exchange says why", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        Buffer.concat([
          Buffer.from('{"status":"ok","time":"2026-01-15T09:30:00Z","x":"'),
          Buffer.from([0xff]),
          Buffer.from('"}'),
        ]),
      );
    });
    const result = await probe({ method: "GET", url: `${s.url}/v1/health` });
    expect(result.isJson).toBe(false);
    expect(result.json).toBeUndefined();
    expect(result.exchange.error).toBe("the body is not valid UTF-8");
    expect(result.exchange.response?.status).toBe(200);
    expect(result.text).toContain('"x":"\uFFFD"');
    // The smoke check reads it as a body that is not JSON.
    const report = await runConformance({ service: "pdp", url: s.url });
    expect(report.results.find((r) => r.check_id === "smoke.health.schema")?.status).toBe("FAIL");
  });

  it("a body cut at the limit in the middle of a character is not blamed for it", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // "é" is two bytes: after the one-byte quote, the cut falls between the two bytes of one.
      res.end(Buffer.from(`"${"é".repeat(MAX_BODY_BYTES)}"`));
    });
    const result = await probe({ method: "GET", url: `${s.url}/v1/health` }, { timeoutMs: 5_000 });
    expect(result.exchange.error).toBe(`body longer than ${MAX_BODY_BYTES} bytes: cut`);
    expect(result.text).not.toContain("\uFFFD");
    expect(result.text.length).toBe(1 + (MAX_BODY_BYTES - 2) / 2);
  });

  it("valid multi-byte UTF-8 is read as sent", async () => {
    const s = await serve((_req, res) => json(res, 200, { text: "Grüße, 世界 🌍" }));
    const result = await probe({ method: "GET", url: s.url });
    expect(result.exchange.error).toBeNull();
    expect(result.json).toEqual({ text: "Grüße, 世界 🌍" });
  });
});
