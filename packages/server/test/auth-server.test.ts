/**
 * JWT bearer auth through the server, end to end: a real JWKS endpoint (`support/jwks.ts`) with keys
 * made in the test, a service with `auth: { mode: "required", jwksUri }`, raw requests and
 * `@arp/client`'s `bearerToken` option. 401 answers carry `WWW-Authenticate` and an `unauthorized`
 * envelope; valid tokens reach the handler as `req.principal` (and `getPrincipal()`); health and
 * version stay open. The Authenticator's own rules are tested in auth.test.ts.
 */
import { ArpApiError, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { RUN_GATEWAY_SERVICE, type ServiceSpec } from "@arp/model";
import type { JWTPayload } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  type ArpRequest,
  ArpServerBase,
  getPrincipal,
  type Principal,
  type RunGatewayRequests,
  type ServerOptions,
} from "../src/index.js";
import { expectEnvelope, request, useServers } from "./support/http.js";
import {
  hs256WithPublicKey,
  type JwksServer,
  makeKey,
  now,
  signToken,
  startJwksServer,
  type TestKey,
  unsignedToken,
} from "./support/jwks.js";
import { TestRunGateway, vector } from "./support/services.js";

const servers = useServers();

/** A gateway that records, per handled request, `req.principal`, `getPrincipal()` and the auth header. */
class Recording extends TestRunGateway {
  readonly seen: { op: string; principal?: Principal; ambient?: Principal; authorization?: string }[] = [];

  #record(req: ArpRequest<unknown, unknown>): void {
    this.seen.push({
      op: req.operation.name,
      ...(req.principal ? { principal: req.principal } : {}),
      ...(getPrincipal() ? { ambient: getPrincipal() } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
  }
  override startRun(req: ArpRequest<T.RunStartRequest>): T.Run | Promise<T.Run> {
    this.#record(req);
    return super.startRun(req);
  }
  override getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    this.#record(req);
    return super.getRun(req);
  }
  override health(req: ArpRequest): T.Health {
    this.#record(req);
    return { status: "ok", time: "2026-01-15T09:30:00Z" };
  }
}

let key: TestKey;
let otherKey: TestKey;
let jwks: JwksServer;
let gateway: Recording;
let url: string;

const CLAIMS: JWTPayload = { sub: "alice", scope: "runs:write runs:read", tenant: "acme" };

async function start(auth: ServerOptions["auth"] = { mode: "required", jwksUri: jwks.jwksUri }) {
  gateway = new Recording({ auth });
  url = (await servers.listen(gateway)).url;
}

beforeEach(async () => {
  key ??= await makeKey("key-1");
  otherKey ??= await makeKey("key-1"); // same kid, different key: a forged signature
  jwks = await startJwksServer([key]);
  servers.onCleanup(() => jwks.close());
  await start();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("required mode", () => {
  it("without a token: 401, WWW-Authenticate, envelope code unauthorized; the handler is not called", async () => {
    const res = await request(`${url}/v1/runs`, { method: "POST", body: vector("RunStartRequest") });
    expect(expectEnvelope(res, 401, "unauthorized").message).toBe("Missing Authorization header");
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer error="invalid_request", error_description="Missing Authorization header"',
    );
    expect(gateway.seen).toEqual([]);
  });

  it.each([
    ["a Basic header", "Basic YWxpY2U6c2VjcmV0", "invalid_request", "Invalid Authorization header"],
    ["a bearer without a token", "Bearer", "invalid_request", "Invalid Authorization header"],
    ["garbage", "Bearer not.a.jwt", "invalid_token", "Invalid token"],
  ])("with %s: 401 %s", async (_, authorization, error, message) => {
    const res = await request(`${url}/v1/runs/run_1`, { headers: { authorization } });
    expect(expectEnvelope(res, 401, "unauthorized").message).toBe(message);
    expect(res.headers["www-authenticate"]).toBe(`Bearer error="${error}", error_description="${message}"`);
  });

  it("with a bad token (forged, unsigned, expired, HS256 confusion): 401 invalid_token, the token not echoed", async () => {
    const tokens: [string, string][] = [
      [await signToken(otherKey, CLAIMS), "Invalid token"],
      [unsignedToken(CLAIMS, key.kid), "Invalid token"],
      [await signToken(key, CLAIMS, { iat: now() - 3600, exp: now() - 600 }), "Token expired"],
      [await hs256WithPublicKey(key, CLAIMS), "Invalid token"],
    ];
    for (const [token, message] of tokens) {
      const res = await request(`${url}/v1/runs/run_1`, { headers: bearer(token) });
      expect(expectEnvelope(res, 401, "unauthorized").message).toBe(message);
      expect(res.headers["www-authenticate"]).toBe(
        `Bearer error="invalid_token", error_description="${message}"`,
      );
      expect(res.text).not.toContain(token.split(".")[1]);
    }
    expect(gateway.seen).toEqual([]);
  });

  it("with a valid token: 200, req.principal and getPrincipal() are the token's claims", async () => {
    const token = await signToken(key, CLAIMS);
    const started = await request(`${url}/v1/runs`, {
      method: "POST",
      body: vector("RunStartRequest"),
      headers: bearer(token),
    });
    expect(started.status).toBe(200);
    const run = started.json() as T.Run;
    const got = await request(`${url}/v1/runs/${run.run_id}`, { headers: bearer(token) });
    expect([got.status, got.json()]).toEqual([200, run]);

    const claims = { ...CLAIMS, iat: expect.any(Number), exp: expect.any(Number) };
    expect(gateway.seen).toEqual([
      { op: "startRun", principal: claims, ambient: claims, authorization: `Bearer ${token}` },
      { op: "getRun", principal: claims, ambient: claims, authorization: `Bearer ${token}` },
    ]);
    expect(gateway.seen[0]?.principal).toBe(gateway.seen[0]?.ambient);
    expect(jwks.hits.get("/jwks.json")).toBe(1); // fetched once, then cached
  });

  it("health and version are exempt: no token needed, a bad one ignored, no principal", async () => {
    for (const headers of [{}, bearer("garbage"), { authorization: "Basic eA==" }]) {
      expect((await request(`${url}/v1/health`, { headers })).status).toBe(200);
      expect((await request(`${url}/v1/version`, { headers })).status).toBe(200);
    }
    expect(gateway.seen.map((s) => s.principal)).toEqual([undefined, undefined, undefined]);
    expect(jwks.hits.size).toBe(0);
  });

  it("routing comes first: an unknown route is 404 and a wrong method 405, even without a token", async () => {
    expectEnvelope(await request(`${url}/v1/nope`), 404, "not_found");
    expectEnvelope(await request(`${url}/v1/runs`), 405, "method_not_allowed");
  });

  it("the JWKS endpoint down: 401 'Unable to fetch JWKS', never a 500", async () => {
    const token = await signToken(key, CLAIMS);
    await jwks.setState("down");
    const res = await request(`${url}/v1/runs/run_1`, { headers: bearer(token) });
    expect(expectEnvelope(res, 401, "unauthorized").message).toBe("Unable to fetch JWKS");
  });
});

describe("limits: a failing JWKS endpoint, tokens without exp", () => {
  it("while the JWKS endpoint fails, 100 forged tokens cause one fetch, not 100", async () => {
    jwks.setJwksBody({ not: "a key set" });
    const forged = await signToken(otherKey, CLAIMS);
    // The clock stands still (only Date is faked: sockets and timers stay real), so the first
    // 1 s backoff cannot run out while a loaded machine serves the 100 requests.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      for (let i = 0; i < 100; i++) {
        const res = await request(`${url}/v1/runs/run_1`, { headers: bearer(forged) });
        expect(expectEnvelope(res, 401, "unauthorized").message).toBe("Unable to fetch JWKS");
      }
      expect(jwks.hits.get("/jwks.json")).toBe(1);
      // Once the backoff has run out, the next token fetches again.
      vi.setSystemTime(Date.now() + 1001);
      await request(`${url}/v1/runs/run_1`, { headers: bearer(forged) });
      expect(jwks.hits.get("/jwks.json")).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    expect(gateway.seen).toEqual([]);
  });

  it("a token without exp: 401 'Invalid token' by default; accepted with requireExp: false", async () => {
    const token = await signToken(key, CLAIMS, { exp: null });
    const res = await request(`${url}/v1/runs/run_1`, { headers: bearer(token) });
    expect(expectEnvelope(res, 401, "unauthorized").message).toBe("Invalid token");
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer error="invalid_token", error_description="Invalid token"',
    );
    await start({ mode: "required", jwksUri: jwks.jwksUri, requireExp: false });
    // Past auth: the handler runs (and answers 404 for the unknown run).
    expectEnvelope(await request(`${url}/v1/runs/run_1`, { headers: bearer(token) }), 404, "not_found");
    expect(gateway.seen.map((s) => s.principal?.sub)).toEqual(["alice"]);
  });
});

describe("@arp/client's bearerToken, end to end", () => {
  it("a static token: every operation that needs auth works, health goes without it", async () => {
    const token = await signToken(key, CLAIMS);
    const client = new RunGatewayClient({ baseUrl: url, bearerToken: token, retry: false });
    const run = await client.startRun(vector("RunStartRequest"));
    expect(await client.getRun(run.run_id)).toEqual(run);
    await client.health();
    expect(gateway.seen.map((s) => [s.op, s.principal?.sub, s.authorization])).toEqual([
      ["startRun", "alice", `Bearer ${token}`],
      ["getRun", "alice", `Bearer ${token}`],
      ["health", undefined, undefined],
    ]);
    // Streams too.
    await client.cancelRun(run.run_id);
    const types: string[] = [];
    for await (const e of client.streamRunEvents(run.run_id)) types.push(e.type);
    expect(types.at(-1)).toBe("run_completed");
  });

  it("a token function is called for each request (a refreshed token is picked up)", async () => {
    const subjects = ["alice", "bob"];
    let calls = 0;
    const client = new RunGatewayClient({
      baseUrl: url,
      retry: false,
      bearerToken: async () => signToken(key, { sub: subjects[calls++ % 2] }),
    });
    const run = await client.startRun(vector("RunStartRequest"));
    await client.getRun(run.run_id);
    expect(calls).toBe(2);
    expect(gateway.seen.map((s) => s.principal?.sub)).toEqual(["alice", "bob"]);
  });

  it("no token or a bad one: ArpApiError 401 unauthorized, without the token in it", async () => {
    const anonymous = new RunGatewayClient({ baseUrl: url, retry: false });
    const missing = await anonymous.getRun("run_1").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ArpApiError);
    expect([(missing as ArpApiError).status, (missing as ArpApiError).code]).toEqual([401, "unauthorized"]);

    const forged = await signToken(otherKey, CLAIMS);
    const bad = await new RunGatewayClient({ baseUrl: url, retry: false, bearerToken: forged })
      .getRun("run_1")
      .catch((e: unknown) => e);
    expect((bad as ArpApiError).code).toBe("unauthorized");
    expect(JSON.stringify({ ...(bad as object), message: (bad as Error).message })).not.toContain(forged);
  });

  it("optional mode: no token is the anonymous principal, a valid token its claims, a bad one 401", async () => {
    await start({ mode: "optional", jwksUri: jwks.jwksUri });
    const token = await signToken(key, CLAIMS);
    await new RunGatewayClient({ baseUrl: url }).startRun(vector("RunStartRequest"));
    await new RunGatewayClient({ baseUrl: url, bearerToken: token }).startRun(vector("RunStartRequest"));
    expect(gateway.seen.map((s) => s.principal?.sub)).toEqual(["anonymous", "alice"]);
    expectEnvelope(
      await request(`${url}/v1/runs/run_0001`, { headers: bearer("garbage") }),
      401,
      "unauthorized",
    );
  });
});

describe("exemption: from the operation table, ARP_AUTH_EXEMPT_PATHS as the override", () => {
  /** A Run Gateway served from `table` (a copy of the real one with one flag changed), recording as `Recording`. */
  class TableGateway extends ArpServerBase {
    readonly inner = new Recording();
    startRun(req: RunGatewayRequests["startRun"]) {
      return this.inner.startRun(req);
    }
    getRun(req: RunGatewayRequests["getRun"]) {
      return this.inner.getRun(req);
    }
    cancelRun(req: RunGatewayRequests["cancelRun"]) {
      return this.inner.cancelRun(req);
    }
  }
  const ops = RUN_GATEWAY_SERVICE.operations;

  it("an operation the table marks open (auth: none) is served without a token; the rest still need one", async () => {
    const table: ServiceSpec = {
      ...RUN_GATEWAY_SERVICE,
      operations: {
        ...ops,
        getRun: { ...ops.getRun!, auth: "none" },
        health: { ...ops.health!, auth: "bearer" },
      },
    };
    const open = new TableGateway(table, { auth: { mode: "required", jwksUri: jwks.jwksUri } });
    const base = (await servers.listen(open)).url;
    const token = await signToken(key, CLAIMS);
    const started = await request(`${base}/v1/runs`, {
      method: "POST",
      body: vector("RunStartRequest"),
      headers: bearer(token),
    });
    expect(started.status).toBe(200);
    const runId = (started.json() as T.Run).run_id;

    const got = await request(`${base}/v1/runs/${runId}`);
    expect(got.status).toBe(200);
    expect(open.inner.seen.at(-1)).toEqual({ op: "getRun" }); // no principal on an exempt operation
    expectEnvelope(await request(`${base}/v1/runs/${runId}:cancel`, { method: "POST" }), 401, "unauthorized");
    expectEnvelope(await request(`${base}/v1/health`), 401, "unauthorized"); // the table says bearer now
    expect((await request(`${base}/v1/health`, { headers: bearer(token) })).status).toBe(200);
  });

  it("ARP_AUTH_EXEMPT_PATHS replaces the table: exactly the listed paths are open, health included", async () => {
    const env = { ARP_AUTH_JWKS_URI: jwks.jwksUri, ARP_AUTH_EXEMPT_PATHS: "/v1/runs/run_open, /v1/version" };
    const gateway = new Recording({ auth: undefined, env });
    const base = (await servers.listen(gateway)).url;
    const token = await signToken(key, CLAIMS);
    for (const run_id of ["run_open", "run_closed"]) {
      const res = await request(`${base}/v1/runs`, {
        method: "POST",
        body: { ...vector("RunStartRequest"), run_id },
        headers: bearer(token),
      });
      expect(res.status).toBe(200);
    }
    expect((await request(`${base}/v1/runs/run_open`)).status).toBe(200);
    expectEnvelope(await request(`${base}/v1/runs/run_closed`), 401, "unauthorized");
    expect((await request(`${base}/v1/version`)).status).toBe(200);
    expectEnvelope(await request(`${base}/v1/health`), 401, "unauthorized"); // not listed: not open
    expect((await request(`${base}/v1/health`, { headers: bearer(token) })).status).toBe(200);
  });

  it("the exemptPaths option does the same from code; [] leaves nothing open", async () => {
    const closed = new Recording({ auth: { mode: "required", jwksUri: jwks.jwksUri, exemptPaths: [] } });
    const base = (await servers.listen(closed)).url;
    expectEnvelope(await request(`${base}/v1/health`), 401, "unauthorized");
    expectEnvelope(await request(`${base}/v1/version`), 401, "unauthorized");
  });
});
