/**
 * Auth under attack: the JWT attack matrix, end to end through `listen()`, with real keys (jose), a
 * real JWKS on loopback, and a second "attacker" server that tokens' headers point to and that must
 * never be asked anything. Every refused request must be an ARP ErrorEnvelope (401 with
 * `WWW-Authenticate`), no handler that needs a token may run, no token may be echoed in an answer or
 * a log line, and the server must keep serving afterwards. The README's "Auth under attack"
 * paragraph states what this file proves.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type * as T from "@arp/model";
import express from "express";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createRouter } from "../src/express.js";
import { type ArpRequest, getPrincipal, type ServerOptions } from "../src/index.js";
import {
  type AlgKey,
  makeAlgKey,
  rawGet,
  type ScriptedServer,
  signRaw,
  startScriptedServer,
} from "./support/attack.js";
import {
  expectEnvelope,
  type RawResponse,
  type RecordingLogger,
  recordingLogger,
  request,
  useServers,
} from "./support/http.js";
import {
  hs256WithPublicKey,
  type JwksServer,
  makeKey,
  now,
  startJwksServer,
  unsignedToken,
} from "./support/jwks.js";
import { TestRunGateway } from "./support/services.js";

const servers = useServers();

/** Records every handler call (op name, principal), so that tests can say none ran. */
class Spy extends TestRunGateway {
  readonly seen: { op: string; sub?: string | undefined }[] = [];
  #record(op: string): void {
    this.seen.push({ op, sub: getPrincipal()?.sub });
  }
  override startRun(req: ArpRequest<T.RunStartRequest>): T.Run | Promise<T.Run> {
    this.#record("startRun");
    return super.startRun(req);
  }
  override getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    this.#record("getRun");
    return super.getRun(req);
  }
  override cancelRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
    this.#record("cancelRun");
    return super.cancelRun(req);
  }
  override streamRunEvents(req: ArpRequest<undefined, { run_id: string }>) {
    this.#record("streamRunEvents");
    return super.streamRunEvents(req);
  }
  override health(_req: ArpRequest): T.Health {
    this.#record("health");
    return { status: "ok", time: "2026-01-15T09:30:00Z" };
  }
}

// Keys: the service's RSA and EC keys, and the attacker's, all made once.
let rsa: AlgKey;
let ec: AlgKey;
let attackerRsa: AlgKey;
let attackerEc: AlgKey;
beforeAll(async () => {
  rsa = await makeAlgKey("key-1", "RS256");
  ec = await makeAlgKey("ec-1", "ES256");
  attackerRsa = await makeAlgKey("evil-1", "RS256");
  attackerEc = await makeAlgKey("evil-ec", "ES256");
});

let attacker: ScriptedServer;
let logger: RecordingLogger;
let gateway: Spy;
let url: string;
/** Every token a test sent, to check that none comes back in an answer or a log line. */
let sent: string[];
let answers: RawResponse[];

beforeEach(async () => {
  sent = [];
  answers = [];
  logger = recordingLogger();
  // The attacker's server serves its own JWKS and a "certificate": it must never be asked.
  attacker = await startScriptedServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [attackerRsa.jwk, attackerEc.jwk] }));
  });
  servers.onCleanup(() => attacker.close());
});

afterEach(() => {
  // Whatever the test did: the attacker was never contacted, and no token leaked.
  expect(attacker.connections()).toBe(0);
  const logged = JSON.stringify([logger.warnings, logger.errors, logger.debugs]);
  for (const token of sent) {
    const [header, payload, signature] = token.split(".");
    for (const part of [payload, signature, header]) {
      if (!part || part.length < 8) continue;
      for (const res of answers) {
        expect(res.text).not.toContain(part);
        expect(JSON.stringify(res.headers)).not.toContain(part);
      }
      expect(logged).not.toContain(part);
    }
  }
});

async function start(auth: NonNullable<ServerOptions["auth"]>): Promise<void> {
  gateway = new Spy({ auth, logger });
  url = (await servers.listen(gateway)).url;
}

/** Sends `token` to a protected operation; records both for the leak check. */
async function send(token: string, path = "/v1/runs/run_1"): Promise<RawResponse> {
  sent.push(token);
  const res = await request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  answers.push(res);
  return res;
}

/** Asserts a 401 `unauthorized` envelope with the matching `WWW-Authenticate`; returns the message. */
function expect401(res: RawResponse, message?: string): string {
  const error = expectEnvelope(res, 401, "unauthorized");
  expect(res.headers["www-authenticate"]).toBe(
    `Bearer error="invalid_token", error_description="${error.message}"`,
  );
  if (message !== undefined) expect(error.message).toBe(message);
  return error.message;
}

/** The server still works: health without a token, a valid token reaches the handler (404: no run). */
async function expectStillServing(token: string): Promise<void> {
  expect((await request(`${url}/v1/health`)).status).toBe(200);
  expectEnvelope(await send(token), 404, "not_found");
}

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: "mallory",
  iat: now(),
  exp: now() + 300,
  ...extra,
});

const protectedOps = () => gateway.seen.filter((s) => s.op !== "health");

// ---------------------------------------------------------------------------------------------------

describe("critical headers (crit)", () => {
  let jwks: JwksServer;
  beforeEach(async () => {
    jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    await start({ mode: "required", jwksUri: jwks.jwksUri });
  });

  it.each([
    [
      "an unknown critical parameter",
      { crit: ["urn:example:must-understand"], "urn:example:must-understand": 1 },
    ],
    ["two unknown critical parameters", { crit: ["a-ext", "b-ext"], "a-ext": 1, "b-ext": 2 }],
    ["a critical parameter that is absent", { crit: ["missing-ext"] }],
    ["an empty crit list", { crit: [] }],
    ["crit that is not a list", { crit: "urn:x" }],
    ["crit naming a registered parameter (kid)", { crit: ["kid"] }],
    ["b64: false (an unencoded payload) marked critical", { crit: ["b64"], b64: false }],
  ])("%s, well signed by the configured key: 401 'Invalid token'", async (_, extra) => {
    const token = signRaw(rsa, { alg: "RS256", typ: "JWT", kid: rsa.kid, ...extra }, claims());
    expect401(await send(token), "Invalid token");
    expect(protectedOps()).toEqual([]);
  });

  it("the same token without crit is accepted (the control)", async () => {
    const token = signRaw(
      rsa,
      { alg: "RS256", typ: "JWT", kid: rsa.kid, "urn:example:ignored": 1 },
      claims(),
    );
    expectEnvelope(await send(token), 404, "not_found");
    expect(gateway.seen).toEqual([{ op: "getRun", sub: "mallory" }]);
  });
});

describe("key-location headers (jku, x5u, jwk, x5c, kid) never lead anywhere but the configured JWKS", () => {
  let jwks: JwksServer;
  beforeEach(async () => {
    jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    await start({ mode: "required", jwksUri: jwks.jwksUri });
  });

  const tricks = (): [string, Record<string, unknown>][] => {
    const evil = attacker.origin;
    return [
      ["jku at the attacker's JWKS", { jku: `${evil}/jwks.json` }],
      ["jku on the JWKS host but another path", { jku: `${jwks.origin}/other.json` }],
      ["x5u at the attacker's certificate", { x5u: `${evil}/cert.pem` }],
      ["jwk: the attacker's public key embedded", { jwk: attackerRsa.jwk }],
      ["x5c: a certificate chain", { x5c: [Buffer.from("not a certificate").toString("base64")] }],
      ["x5t / x5t#S256 thumbprints", { x5t: "AAAA", "x5t#S256": "AAAA" }],
      ["kid as the attacker's URL", { kid: `${evil}/jwks.json` }],
      ["kid as a path", { kid: "../../../../attacker/jwks.json" }],
      ["kid as an encoded path", { kid: "%2e%2e%2f%2e%2e%2fjwks.json" }],
      ["kid with a query", { kid: "/jwks.json?kid=evil-1" }],
      ["kid with a NUL", { kid: "key-1\u0000evil" }],
      ["kid as a file URL", { kid: "file:///etc/passwd" }],
      ["kid that is not a string", { kid: { $ref: `${evil}/jwks.json` } }],
    ];
  };

  it("signed by the attacker's key: 401, the attacker's server never asked, one fetch of the configured JWKS", async () => {
    for (const [name, extra] of tricks()) {
      for (const kid of [attackerRsa.kid, rsa.kid]) {
        const token = signRaw(attackerRsa, { alg: "RS256", typ: "JWT", kid, ...extra }, claims());
        const message = expect401(await send(token));
        expect([name, message]).toEqual([name, "Invalid token"]);
      }
    }
    expect(protectedOps()).toEqual([]);
    expect(attacker.requests).toEqual([]);
    // The first token fetched the set; unknown kids within jose's 30 s cooldown fetch nothing more.
    expect([...jwks.hits]).toEqual([["/jwks.json", 1]]);
  });

  it("an EC token with the attacker's key in jwk, allowed ES256: still 401, still no contact", async () => {
    await start({ mode: "required", jwksUri: jwks.jwksUri, algorithms: ["RS256", "ES256"] });
    const token = signRaw(
      attackerEc,
      { alg: "ES256", jwk: attackerEc.jwk, jku: `${attacker.origin}/` },
      claims(),
    );
    expect401(await send(token), "Invalid token");
  });

  it("signed by the configured key, with the same headers: accepted on that key alone, headers ignored", async () => {
    for (const [, extra] of tricks()) {
      if ("kid" in extra) continue; // the kid must name the key
      const token = signRaw(rsa, { alg: "RS256", typ: "JWT", kid: rsa.kid, ...extra }, claims());
      expectEnvelope(await send(token), 404, "not_found");
    }
    expect(attacker.requests).toEqual([]);
  });

  it("a JWKS that redirects to the attacker is not followed: 401 'Unable to fetch JWKS'", async () => {
    const redirecting = await startScriptedServer((_req, res) => {
      res.writeHead(302, { location: `${attacker.origin}/jwks.json` }).end();
    });
    servers.onCleanup(() => redirecting.close());
    await start({ mode: "required", jwksUri: `${redirecting.origin}/jwks.json` });
    expect401(
      await send(signRaw(attackerRsa, { alg: "RS256", kid: attackerRsa.kid }, claims())),
      "Unable to fetch JWKS",
    );
    expect(redirecting.requests).toEqual(["GET /jwks.json"]);
  });
});

describe("keys of the wrong type, algorithms not allowed", () => {
  let jwks: JwksServer;
  beforeEach(async () => {
    jwks = await startJwksServer([]);
    servers.onCleanup(() => jwks.close());
  });
  const serve = async (keys: unknown[], algorithms?: string[]) => {
    jwks.setJwksBody({ keys });
    await start({ mode: "required", jwksUri: jwks.jwksUri, ...(algorithms ? { algorithms } : {}) });
  };

  it("an RSA token against an EC JWKS, and an EC token against an RSA JWKS (both algorithms allowed)", async () => {
    await serve([ec.jwk], ["RS256", "ES256"]);
    expect401(await send(signRaw(rsa, { alg: "RS256", kid: ec.kid }, claims())), "Invalid token");
    // An RS256 header over an EC signature, naming the EC key.
    expect401(await send(signRaw(ec, { alg: "RS256", kid: ec.kid }, claims())), "Invalid token");
    await serve([rsa.jwk], ["RS256", "ES256"]);
    expect401(await send(signRaw(ec, { alg: "ES256", kid: rsa.kid }, claims())), "Invalid token");
    expect401(await send(signRaw(rsa, { alg: "ES256", kid: rsa.kid }, claims())), "Invalid token");
    expect(protectedOps()).toEqual([]);
  });

  it("an EC key on another curve (P-384 served, ES256 sent)", async () => {
    const p384 = await makeAlgKey("ec-384", "ES384");
    await serve([{ ...p384.jwk, alg: undefined }], ["ES256", "ES384"]);
    expect401(await send(signRaw(ec, { alg: "ES256", kid: p384.kid }, claims())), "Invalid token");
  });

  it("HS256 keyed with the public key (PEM, or the JWK's n), and a symmetric key in the JWKS", async () => {
    await serve([rsa.jwk, { kty: "oct", kid: "hmac-1", k: Buffer.from("secret").toString("base64url") }]);
    const legacy = await makeKey(rsa.kid);
    jwks.setJwksBody({
      keys: [legacy.jwk, { kty: "oct", kid: "hmac-1", k: Buffer.from("secret").toString("base64url") }],
    });
    expect401(await send(await hs256WithPublicKey(legacy, claims())), "Invalid token");
    const { createHmac } = await import("node:crypto");
    const hs = (kid: string, secret: Buffer | string) => {
      const input = `${Buffer.from(JSON.stringify({ alg: "HS256", kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}`;
      return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
    };
    expect401(await send(hs(legacy.kid, Buffer.from(legacy.jwk.n!, "base64url"))), "Invalid token");
    expect401(await send(hs("hmac-1", "secret")), "Invalid token");
    expect(protectedOps()).toEqual([]);
  });

  it.each(["none", "None", "NONE", "nOnE"])(
    "alg %s, with and without a signature: 401, no JWKS fetch",
    async (alg) => {
      await serve([rsa.jwk]);
      const unsigned = unsignedToken(claims(), rsa.kid).replace(
        /^[^.]+/,
        Buffer.from(JSON.stringify({ alg, kid: rsa.kid })).toString("base64url"),
      );
      const withSignature = `${unsigned}${signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims()).split(".")[2]}`;
      expect401(await send(unsigned), "Invalid token");
      expect401(await send(withSignature), "Invalid token");
      expect(jwks.hits.size).toBe(0);
    },
  );

  it("well signed but with an algorithm outside the allow list (RS384, PS256, ES256 against RS256): no JWKS fetch", async () => {
    await serve([{ ...rsa.jwk, alg: undefined }]);
    for (const alg of ["RS384", "RS512", "PS256"]) {
      expect401(await send(signRaw(rsa, { alg, kid: rsa.kid }, claims(), alg)), "Invalid token");
    }
    expect401(await send(signRaw(ec, { alg: "ES256", kid: rsa.kid }, claims())), "Invalid token");
    expect(jwks.hits.size).toBe(0);
    // The control: RS256 with the same key passes.
    await expectStillServing(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims()));
  });

  it.each([
    ["use: enc", { use: "enc" }],
    ["alg: RS512 (the token says RS256)", { alg: "RS512" }],
    ["alg: PS256 (the token says RS256)", { alg: "PS256" }],
    ["key_ops: [encrypt]", { key_ops: ["encrypt"] }],
    ["key_ops: [sign] (a private key's)", { key_ops: ["sign"] }],
    ["key_ops: [] ", { key_ops: [] }],
  ])("a JWKS key whose %s: a valid RS256 signature under it is refused", async (_, override) => {
    await serve([{ ...rsa.jwk, ...override }], ["RS256", "RS512", "PS256"]);
    expect401(await send(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims())), "Invalid token");
    expect(protectedOps()).toEqual([]);
  });

  it("the controls: key_ops [verify] and no use at all are accepted", async () => {
    await serve([{ ...rsa.jwk, key_ops: ["verify"], use: undefined }]);
    await expectStillServing(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims()));
  });
});

describe("a hostile JWKS endpoint: slow, huge, garbage", () => {
  const token = () => signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims());

  it("one that never answers: every request answered 401 within the fetch timeout, with one connection", async () => {
    const stuck = await startScriptedServer(() => {});
    servers.onCleanup(() => stuck.close());
    await start({ mode: "required", jwksUri: `${stuck.origin}/jwks.json`, fetchTimeoutMs: 300 });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => send(token())));
    expect(Date.now() - started).toBeLessThan(10_000); // not the test's deadline: the fetch was cut
    for (const res of results) expect401(res, "Unable to fetch JWKS");
    expect(stuck.connections()).toBe(1);
    expect(protectedOps()).toEqual([]);
  });

  it("one that sends its headers, then a byte every 50 ms: 401 within the fetch timeout", async () => {
    const trickle = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"keys":[');
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    servers.onCleanup(() => trickle.close());
    await start({ mode: "required", jwksUri: `${trickle.origin}/jwks.json`, fetchTimeoutMs: 300 });
    const started = Date.now();
    expect401(await send(token()), "Unable to fetch JWKS");
    expect(Date.now() - started).toBeLessThan(10_000); // not the test's deadline: the fetch was cut
  });

  const huge = (bytes: number) => JSON.stringify({ keys: [rsa.jwk], padding: "x".repeat(bytes) });

  it.each([
    ["with a content-length", true],
    ["chunked, no content-length", false],
  ])("one that answers a 2 MiB set %s: 401 at the size limit (1 MiB by default)", async (_, withLength) => {
    const big = huge(2 * 1024 * 1024);
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        ...(withLength ? { "content-length": Buffer.byteLength(big) } : {}),
      });
      res.end(big);
    });
    servers.onCleanup(() => server.close());
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json` });
    expect401(await send(token()), "Unable to fetch JWKS");
  });

  it("one that streams without end: cut at the size limit, long before the fetch timeout", async () => {
    const chunk = Buffer.alloc(64 * 1024, " ");
    const endless = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"keys":[');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    servers.onCleanup(() => endless.close());
    await start({ mode: "required", jwksUri: `${endless.origin}/jwks.json`, fetchTimeoutMs: 10_000 });
    const started = Date.now();
    expect401(await send(token()), "Unable to fetch JWKS");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("one that answers a gzip bomb (a valid set once inflated, 16 MiB): the inflated bytes count, 401", async () => {
    const { gzipSync } = await import("node:zlib");
    const inflated = `{"keys":[${JSON.stringify(rsa.jwk)}],"x":"${"a".repeat(16 * 1024 * 1024)}"}`;
    const bomb = gzipSync(inflated);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(bomb);
    });
    servers.onCleanup(() => server.close());
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json` });
    expect401(await send(token()), "Unable to fetch JWKS");
    // With a limit above its inflated size the same answer is a usable set: the limit is what refused it.
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json`, fetchMaxBytes: 32 * 1024 * 1024 });
    await expectStillServing(token());
  });

  it("fetchMaxBytes sets the limit: a set just under it is used, just over it refused", async () => {
    let body = huge(1000);
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    servers.onCleanup(() => server.close());
    const limit = Buffer.byteLength(body);
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json`, fetchMaxBytes: limit });
    await expectStillServing(token());
    body = huge(1001);
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json`, fetchMaxBytes: limit });
    expect401(await send(token()), "Unable to fetch JWKS");
  });

  it("an OIDC discovery document over the size limit is not read either: 401, the JWKS never fetched", async () => {
    const idp = await startScriptedServer((req, res) => {
      if (req.url === "/jwks.json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [rsa.jwk] }));
        return;
      }
      const document = { issuer: "x", jwks_uri: `${idp.origin}/jwks.json`, padding: "x".repeat(2048) };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
    });
    servers.onCleanup(() => idp.close());
    await start({
      mode: "required",
      oidcDiscoveryUrl: `${idp.origin}/.well-known/openid-configuration`,
      fetchMaxBytes: 1024,
    });
    expect401(await send(token()), "Unable to fetch JWKS");
    expect(idp.requests).toEqual(["GET /.well-known/openid-configuration"]);
    // With room for it, the same document leads to the keys.
    await start({ mode: "required", oidcDiscoveryUrl: `${idp.origin}/.well-known/openid-configuration` });
    await expectStillServing(token());
  });

  it.each([
    ["not JSON", "<html>it works</html>", "Unable to fetch JWKS"],
    ["JSON null", "null", "Unable to fetch JWKS"],
    ["a JSON array", "[]", "Unable to fetch JWKS"],
    ["JSON without keys", '{"issuer":"x"}', "Unable to fetch JWKS"],
    ["keys that is not a list", '{"keys":"key-1"}', "Unable to fetch JWKS"],
    ["keys that are not objects", '{"keys":[1,"two",null]}', "Unable to fetch JWKS"],
    ["a key without kty", '{"keys":[{"kid":"key-1"}]}', "Invalid token"],
    ["a key of an unknown kty", '{"keys":[{"kid":"key-1","kty":"XYZ"}]}', "Invalid token"],
    [
      "an RSA key whose n is garbage",
      '{"keys":[{"kid":"key-1","kty":"RSA","n":"!!","e":"AQAB"}]}',
      "Invalid token",
    ],
    ["an RSA key without n", '{"keys":[{"kid":"key-1","kty":"RSA","e":"AQAB"}]}', "Unable to fetch JWKS"],
    ["an empty body", "", "Unable to fetch JWKS"],
    ["a truncated set", '{"keys":[{"kid":"key-1",', "Unable to fetch JWKS"],
    ["bytes that are not UTF-8", Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), "Unable to fetch JWKS"],
  ])("one that answers %s: 401 %s, never a 500", async (_, body, message) => {
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    servers.onCleanup(() => server.close());
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json` });
    expect401(await send(token()), message);
    expect401(await send(token()), message); // and again, from the cache or the backoff
    expect(protectedOps()).toEqual([]);
    expect(logger.errors).toEqual([]);
  });

  it("one whose set holds a private key: refused, the private key never used", async () => {
    const { exportJWK } = await import("jose");
    const privateJwk = { ...(await exportJWK(rsa.privateKey)), kid: rsa.kid, alg: "RS256", use: "sig" };
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [privateJwk] }));
    });
    servers.onCleanup(() => server.close());
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json` });
    expect401(await send(token()));
    expect(protectedOps()).toEqual([]);
  });

  it.each([
    [500, "server error"],
    [404, "not found"],
    [204, ""],
    [301, ""],
  ])("one that answers %i: 401 'Unable to fetch JWKS'", async (status, body) => {
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(status, status === 301 ? { location: `${attacker.origin}/` } : {}).end(body);
    });
    servers.onCleanup(() => server.close());
    await start({ mode: "required", jwksUri: `${server.origin}/jwks.json` });
    expect401(await send(token()), "Unable to fetch JWKS");
  });
});

describe("repeated invalid tokens do not fetch the JWKS per request", () => {
  let jwks: JwksServer;
  beforeEach(async () => {
    jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    await start({ mode: "required", jwksUri: jwks.jwksUri });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** `count` requests, `concurrency` at a time, each with a token from `make(i)`. */
  async function flood(count: number, make: (i: number) => string, concurrency = 50): Promise<void> {
    for (let i = 0; i < count; i += concurrency) {
      const batch = Array.from({ length: Math.min(concurrency, count - i) }, (_, j) => {
        const token = make(i + j);
        return request(`${url}/v1/runs/run_1`, { headers: { authorization: `Bearer ${token}` } });
      });
      for (const res of await Promise.all(batch)) expect(res.status).toBe(401);
    }
  }

  it("1,000 tokens with unknown kids: one fetch; one more per 30 s cooldown, however many tokens", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const unknownKid = (i: number) => signRaw(attackerRsa, { alg: "RS256", kid: `kid-${i}` }, claims());
    await flood(1000, unknownKid);
    expect(jwks.hits.get("/jwks.json")).toBe(1);
    vi.setSystemTime(Date.now() + 29_000);
    await flood(100, unknownKid);
    expect(jwks.hits.get("/jwks.json")).toBe(1);
    vi.setSystemTime(Date.now() + 1_001); // the cooldown has run out: one refetch (key rotation)
    await flood(1000, unknownKid);
    expect(jwks.hits.get("/jwks.json")).toBe(2);
    expect(protectedOps()).toEqual([]);
    // And a valid token still passes, from the cache.
    await expectStillServing(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims()));
    expect(jwks.hits.get("/jwks.json")).toBe(2);
  });

  it("1,000 forged tokens under the real kid, and 1,000 without a kid: one fetch in all", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    await flood(1000, () => signRaw(attackerRsa, { alg: "RS256", kid: rsa.kid }, claims()));
    await flood(1000, () => signRaw(attackerRsa, { alg: "RS256" }, claims()));
    expect(jwks.hits.get("/jwks.json")).toBe(1);
  });

  it("a JWKS answering 200 with garbage: the backoff doubles (1 s, 2 s, 4 s ...), it does not stay at 1 s", async () => {
    jwks.setJwksBody({ not: "a key set" });
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const unknownKid = (i: number) => signRaw(attackerRsa, { alg: "RS256", kid: `kid-${i}` }, claims());
    const fetches = () => jwks.hits.get("/jwks.json") ?? 0;
    await flood(200, unknownKid);
    expect(fetches()).toBe(1);
    const seen: number[] = [];
    // Step the clock 1 s at a time for 15 s, flooding at each step.
    for (let s = 1; s <= 15; s++) {
      vi.setSystemTime(Date.now() + 1_000);
      await flood(20, unknownKid, 20);
      seen.push(fetches());
    }
    // Fetches at 1 s, 3 s (1 + 2), 7 s (+4) and 15 s (+8): 5 in all, not 16.
    expect(fetches()).toBe(5);
    expect(seen).toEqual([2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5]);
  });
});

/** Path tricks on the exempt routes, sent without a token (absolute-form targets included). */
const TRICKS = [
  "/v1/health/../runs",
  "/v1/health/../runs/run_1",
  "/v1/health/..%2Fruns%2Frun_1",
  "/v1/health%2F..%2Fruns%2Frun_1",
  "/v1/health%2F..",
  "/v1/health%2f%2e%2e",
  "/v1/health/",
  "/v1/health//",
  "//v1/health",
  "/v1//health",
  "/./v1/health",
  "/v1/./health",
  "/v1/health/.",
  "/v1/HEALTH",
  "/V1/health",
  "/v1/Health",
  "/v1/health;x",
  "/v1/health;/../runs/run_1",
  "/v1/health?x",
  "/v1/health?/../runs/run_1",
  "/v1/health#/../runs/run_1",
  "/v1/%68ealth",
  "/v1/health%00",
  "/v1/health%20",
  "/v1/health%2e",
  "/v1/health\\..\\runs\\run_1",
  "/v1/%2e%2e/v1/health",
  "/v1/health/%2e%2e/runs/run_1",
  "/v1/health/%252e%252e/runs/run_1",
  "/v1/runs/run_1/../../health",
  "/v1/runs/../health",
  "/v1/runs/%2e%2e/health",
  "/v1/runs/%2E%2E%2Fhealth",
  "/v1/runs/..%2f..%2fv1%2fhealth",
  "/v1/runs/run_1;/v1/health",
  "/v1/runs/run_1?/v1/health",
  "/v1/runs/run_1#/v1/health",
  "/v1/runs/run_1%3F/v1/health",
  "/v1/runs/run_1%23/v1/health",
  "/v1/runs/%2Fv1%2Fhealth",
  "/v1/runs/run_1/events?x=/v1/health",
  "/v1/version/../runs/run_1",
  "/v1/version%2F..%2Fruns%2Frun_1",
  "http://evil.example/v1/health/../runs/run_1",
  "http://127.0.0.1/v1/runs/run_1?/v1/health",
  "/v1/runs/run_1:cancel?/v1/health",
];

describe("exempt paths cannot be widened by path tricks", () => {
  let jwks: JwksServer;
  let valid: string;
  beforeEach(async () => {
    jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    valid = signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims());
  });

  /** Each trick without a token: the exempt operation itself (200), or a refusal envelope. */
  async function matrix(): Promise<Record<string, string>> {
    const outcomes: Record<string, string> = {};
    for (const path of TRICKS) {
      const before = gateway.seen.length;
      const res = await rawGet(url, path);
      answers.push(res);
      const ran = gateway.seen.slice(before).map((s) => s.op);
      if (res.status === 200) {
        // health (recorded) or version (not recorded); nothing else.
        expect([path, ran.every((op) => op === "health")]).toEqual([path, true]);
        const body = res.json() as Record<string, unknown>;
        expect([path, "status" in body || "version" in body || "service_name" in body]).toEqual([path, true]);
        outcomes[path] = `200 ${ran[0] ?? "version"}`;
      } else {
        expect([path, [400, 401, 404, 405].includes(res.status), ran]).toEqual([path, true, []]);
        const code = (res.json() as { error?: { code?: string } }).error?.code ?? "";
        expectEnvelope(res, res.status, code);
        if (res.status === 401) expect(code).toBe("unauthorized");
        outcomes[path] = `${res.status} ${code}`;
      }
    }
    expect(protectedOps()).toEqual([]);
    if (process.env.ARP_PRINT_AUTH_MATRIX) console.log(outcomes);
    return outcomes;
  }

  it("by the operation table (the default): each is the exempt route itself or needs a token", async () => {
    await start({ mode: "required", jwksUri: jwks.jwksUri });
    await matrix();
    // The tricks that do reach a protected route need the token, and work with it.
    expectEnvelope(await rawGet(url, "/v1/runs/%2E%2E%2Fhealth"), 401, "unauthorized");
    expectEnvelope(await send(valid, "/v1/runs/%2E%2E%2Fhealth"), 404, "not_found");
    expect(protectedOps()).toEqual([{ op: "getRun", sub: "mallory" }]);
  });

  it("by an explicit exemptPaths list: the same, and an encoded spelling of a listed path is not exempt", async () => {
    await start({
      mode: "required",
      jwksUri: jwks.jwksUri,
      exemptPaths: ["/v1/health", "/v1/version", "/v1/runs/run_open"],
    });
    await matrix();
    for (const path of [
      "/v1/runs/run%5Fopen",
      "/v1/runs/%72un_open",
      "/v1/runs/run_open%00",
      "/v1/runs/run_open/",
      "/v1/runs/RUN_OPEN",
      "/v1/runs/run_open/events",
      "/v1/runs/run_open:cancel",
      "/v1/runs/./run_open",
      "/v1/runs/run_1/../run_open",
    ]) {
      const res = await rawGet(url, path);
      answers.push(res);
      expect([path, [401, 404, 405].includes(res.status)]).toEqual([path, true]);
    }
    expect(protectedOps()).toEqual([]);
    // The listed path itself is open (a 404 from the handler: there is no such run).
    expectEnvelope(await rawGet(url, "/v1/runs/run_open"), 404, "not_found");
    expectEnvelope(await rawGet(url, "/v1/runs/run_open?x=1"), 404, "not_found");
    expect(protectedOps()).toEqual([
      { op: "getRun", sub: undefined },
      { op: "getRun", sub: undefined },
    ]);
  });
});

describe("exempt paths through Express (mounted at /arp)", () => {
  it("the same tricks under the mount: the exempt route itself or a token needed", async () => {
    const jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    gateway = new Spy({ auth: { mode: "required", jwksUri: jwks.jwksUri }, logger });
    const app = express();
    app.use("/arp", createRouter(gateway));
    const server = await new Promise<Server>((resolve) => {
      const s: Server = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    servers.onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const prefix of ["/arp", "/ARP", "/arp/", "//arp", "/arp/.", "/x/../arp"]) {
      for (const trick of TRICKS) {
        if (!trick.startsWith("/")) continue;
        const before = gateway.seen.length;
        const res = await rawGet(url, `${prefix}${trick}`);
        answers.push(res);
        const ran = gateway.seen.slice(before).map((s) => s.op);
        // 200: health (or version); otherwise a refusal, ours or Express's own 404 outside the mount.
        if (res.status === 200)
          expect([prefix, trick, ran.every((op) => op === "health")]).toEqual([prefix, trick, true]);
        else
          expect([prefix, trick, [400, 401, 404, 405].includes(res.status)]).toEqual([prefix, trick, true]);
      }
    }
    expect(protectedOps()).toEqual([]);
    expectEnvelope(await rawGet(url, "/arp/v1/runs/run_1"), 401, "unauthorized");
    expect((await rawGet(url, "/arp/v1/health")).status).toBe(200);
  });
});

describe("after the whole matrix the server still serves", () => {
  it("a well-signed token with __proto__ claims: accepted, but nothing is polluted or inherited", async () => {
    const jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk] });
    servers.onCleanup(() => jwks.close());
    await start({ mode: "required", jwksUri: jwks.jwksUri });
    // JSON.parse makes "__proto__" an own property, so that it is signed as written.
    const payload = JSON.parse(
      `{"sub":"mallory","exp":${now() + 300},"__proto__":{"admin":true,"sub":"root"},"constructor":{"prototype":{"admin":true}}}`,
    ) as Record<string, unknown>;
    expectEnvelope(await send(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, payload)), 404, "not_found");
    expect(gateway.seen).toEqual([{ op: "getRun", sub: "mallory" }]);
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it("a burst of every kind of bad token, concurrently, then a valid one", async () => {
    const jwks = await startJwksServer([]);
    jwks.setJwksBody({ keys: [rsa.jwk, ec.jwk] });
    servers.onCleanup(() => jwks.close());
    await start({ mode: "required", jwksUri: jwks.jwksUri, algorithms: ["RS256", "ES256"] });
    const bad = [
      "",
      ".",
      "..",
      "...",
      "a.b.c",
      `${"A".repeat(8000)}.${"B".repeat(8000)}.C`,
      signRaw(rsa, { alg: "RS256", kid: rsa.kid, crit: ["x"], x: 1 }, claims()),
      signRaw(attackerRsa, { alg: "RS256", kid: rsa.kid, jku: `${attacker.origin}/` }, claims()),
      signRaw(ec, { alg: "ES256", kid: ec.kid }, claims({ exp: now() - 3600 })),
      signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims({ nbf: now() + 3600 })),
      `${signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims())}x`,
      `${Buffer.from(JSON.stringify({ alg: "RS256" })).toString("base64url")}.e30.`,
      `${Buffer.from("[]").toString("base64url")}.e30.AA`,
      // Headers of the wrong shape: alg not a string, prototype pollution attempts.
      signRaw(rsa, { alg: 256, kid: rsa.kid }, claims()),
      signRaw(rsa, { alg: ["RS256"], kid: rsa.kid }, claims()),
      `${Buffer.from('{"__proto__":{"alg":"none"}}').toString("base64url")}.e30.`,
      `${Buffer.from('{"alg":"RS256","kid":"key-1","__proto__":{"kid":"x"},"constructor":{"prototype":{"alg":"none"}}}').toString("base64url")}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}.AA`,
      `${Buffer.from('{"alg":"RS256","kid":"key-1"}').toString("base64url")}.${Buffer.from("not json").toString("base64url")}.AA`,
    ];
    const results = await Promise.all(bad.filter((t) => t !== "").map((t) => send(t)));
    for (const res of results) expect401(res);
    await expectStillServing(signRaw(ec, { alg: "ES256", kid: ec.kid }, claims()));
    await expectStillServing(signRaw(rsa, { alg: "RS256", kid: rsa.kid }, claims()));
    expect(logger.errors).toEqual([]);
  });
});
