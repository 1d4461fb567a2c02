import { type OperationSpec, SERVICES } from "@arp/model";
import { decodeProtectedHeader, exportSPKI, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { exemption } from "../src/core/auth/exempt.js";
import {
  AuthConfigError,
  type AuthOptions,
  type AuthSettings,
  resolveAuthSettings,
} from "../src/core/auth/settings.js";
import { Authenticator, type AuthResult } from "../src/core/auth/verify.js";
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

const DEFAULTS = {
  mode: "required",
  algorithms: ["RS256"],
  clockSkewSeconds: 60,
  devSubject: "dev",
  anonymousSubject: "anonymous",
  fetchTimeoutMs: 5000,
  requireExp: true,
  fetchBackoffMaxMs: 30_000,
  fetchMaxBytes: 1024 * 1024,
};

const fromEnv = (env: Record<string, string | undefined>): AuthSettings =>
  resolveAuthSettings(undefined, env);

/** The AuthConfigError thrown by `fn`; fails the test when nothing, or something else, is thrown. */
function configError(fn: () => unknown): AuthConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError);
    return error as AuthConfigError;
  }
  throw new Error("expected an AuthConfigError");
}

describe("resolveAuthSettings from the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("defaults to required mode with the Python server's defaults", () => {
    const settings = fromEnv({});
    expect(settings).toEqual(DEFAULTS);
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.algorithms)).toBe(true);
    expect(settings.exemptPaths).toBeUndefined(); // the operation table decides
    expect(Object.isFrozen(fromEnv({ ARP_AUTH_EXEMPT_PATHS: "/x" }).exemptPaths)).toBe(true);
  });

  it("reads every variable", () => {
    expect(
      fromEnv({
        ARP_AUTH_MODE: " Optional ",
        ARP_AUTH_ISSUER: " https://issuer.example/realms/arp ",
        ARP_AUTH_AUDIENCE: " arp-run-gateway ",
        ARP_AUTH_SERVICE_ID: "ignored-when-audience-is-set",
        ARP_AUTH_JWKS_URI: "https://issuer.example/jwks.json",
        ARP_AUTH_OIDC_DISCOVERY_URL: "https://issuer.example/.well-known/openid-configuration",
        ARP_AUTH_ALGORITHMS: " RS256, ES256 ,,PS512",
        ARP_AUTH_CLOCK_SKEW_SECONDS: " 30 ",
        ARP_AUTH_EXEMPT_PATHS: "/v1/health, /metrics ,",
        ARP_AUTH_DEV_SUBJECT: "developer",
        ARP_AUTH_ANONYMOUS_SUBJECT: "guest",
        ARP_AUTH_REQUIRE_EXP: " False ",
      }),
    ).toEqual({
      mode: "optional",
      issuer: "https://issuer.example/realms/arp",
      audience: "arp-run-gateway",
      jwksUri: "https://issuer.example/jwks.json",
      oidcDiscoveryUrl: "https://issuer.example/.well-known/openid-configuration",
      algorithms: ["RS256", "ES256", "PS512"],
      clockSkewSeconds: 30,
      exemptPaths: ["/v1/health", "/metrics"],
      devSubject: "developer",
      anonymousSubject: "guest",
      fetchTimeoutMs: 5000,
      requireExp: false,
      fetchBackoffMaxMs: 30_000,
      fetchMaxBytes: 1024 * 1024,
    });
  });

  it("takes the audience from ARP_AUTH_SERVICE_ID when ARP_AUTH_AUDIENCE is unset or blank", () => {
    expect(fromEnv({ ARP_AUTH_SERVICE_ID: "svc" }).audience).toBe("svc");
    expect(fromEnv({ ARP_AUTH_AUDIENCE: "  ", ARP_AUTH_SERVICE_ID: " svc " }).audience).toBe("svc");
    expect(fromEnv({ ARP_AUTH_AUDIENCE: "aud", ARP_AUTH_SERVICE_ID: "svc" }).audience).toBe("aud");
  });

  it("treats empty strings as unset", () => {
    const names = [
      "ARP_AUTH_PROFILE",
      "ARP_AUTH_MODE",
      "ARP_AUTH_ISSUER",
      "ARP_AUTH_AUDIENCE",
      "ARP_AUTH_SERVICE_ID",
      "ARP_AUTH_JWKS_URI",
      "ARP_AUTH_OIDC_DISCOVERY_URL",
      "ARP_AUTH_ALGORITHMS",
      "ARP_AUTH_CLOCK_SKEW_SECONDS",
      "ARP_AUTH_EXEMPT_PATHS",
      "ARP_AUTH_DEV_SUBJECT",
      "ARP_AUTH_ANONYMOUS_SUBJECT",
    ];
    expect(fromEnv(Object.fromEntries(names.map((name) => [name, ""])))).toEqual(DEFAULTS);
  });

  it("leaves exemption to the operation table when the list is empty", () => {
    expect(fromEnv({ ARP_AUTH_EXEMPT_PATHS: " , ," }).exemptPaths).toBeUndefined();
  });

  it.each([
    ["+5", 5],
    ["1_000", 1000],
    ["0", 0],
    ["-0", 0],
  ])("parses ARP_AUTH_CLOCK_SKEW_SECONDS=%j as Python's int()", (raw, want) => {
    expect(fromEnv({ ARP_AUTH_CLOCK_SKEW_SECONDS: raw }).clockSkewSeconds).toBe(want);
  });

  it.each([
    ["dev-insecure", "disabled", undefined],
    ["dev", "disabled", undefined],
    [" DEV_INSECURE ", "disabled", undefined],
    ["dev-secure-keycloak", "required", "http://localhost:8080/realms/arp-dev"],
    ["dev-secure", "required", "http://localhost:8080/realms/arp-dev"],
    ["keycloak", "required", "http://localhost:8080/realms/arp-dev"],
    ["Dev_Secure_Keycloak", "required", "http://localhost:8080/realms/arp-dev"],
    ["enterprise", "required", undefined],
    ["prod", "required", undefined],
    ["PRODUCTION", "required", undefined],
  ])("profile %j gives mode %s and issuer %s", (profile, mode, issuer) => {
    const settings = fromEnv({ ARP_AUTH_PROFILE: profile, ARP_AUTH_SERVICE_ID: "svc" });
    expect(settings.mode).toBe(mode);
    expect(settings.issuer).toBe(issuer);
  });

  it("lets ARP_AUTH_MODE and ARP_AUTH_ISSUER override the profile", () => {
    const settings = fromEnv({
      ARP_AUTH_PROFILE: "dev-secure-keycloak",
      ARP_AUTH_MODE: "optional",
      ARP_AUTH_ISSUER: "https://sso.example/realms/x",
      ARP_AUTH_AUDIENCE: "svc",
    });
    expect(settings.mode).toBe("optional");
    expect(settings.issuer).toBe("https://sso.example/realms/x");
    expect(fromEnv({ ARP_AUTH_PROFILE: "dev-insecure", ARP_AUTH_MODE: "required" }).mode).toBe("required");
    expect(fromEnv({ ARP_AUTH_PROFILE: "enterprise", ARP_AUTH_MODE: "disabled" }).mode).toBe("disabled");
  });

  it("does not need an audience for the keycloak profile when auth is disabled", () => {
    expect(fromEnv({ ARP_AUTH_PROFILE: "keycloak", ARP_AUTH_MODE: "disabled" }).mode).toBe("disabled");
  });

  it.each([
    [{ ARP_AUTH_PROFILE: " staging " }, "Invalid ARP_AUTH_PROFILE: 'staging'"],
    [{ ARP_AUTH_PROFILE: "it's" }, `Invalid ARP_AUTH_PROFILE: "it's"`],
    [{ ARP_AUTH_MODE: "sometimes" }, "Invalid ARP_AUTH_MODE: 'sometimes'"],
    [{ ARP_AUTH_MODE: "   " }, "Invalid ARP_AUTH_MODE: ''"],
    [{ ARP_AUTH_CLOCK_SKEW_SECONDS: "abc" }, "Invalid ARP_AUTH_CLOCK_SKEW_SECONDS: 'abc'"],
    [{ ARP_AUTH_REQUIRE_EXP: "maybe" }, "Invalid ARP_AUTH_REQUIRE_EXP: 'maybe' (expected true or false)"],
    [{ ARP_AUTH_CLOCK_SKEW_SECONDS: "1.5" }, "Invalid ARP_AUTH_CLOCK_SKEW_SECONDS: '1.5'"],
    [{ ARP_AUTH_CLOCK_SKEW_SECONDS: "-5" }, "Invalid ARP_AUTH_CLOCK_SKEW_SECONDS: '-5'"],
    [
      { ARP_AUTH_ALGORITHMS: " , ," },
      "ARP_AUTH_ALGORITHMS must include at least one algorithm (for example: RS256)",
    ],
    [{ ARP_AUTH_ALGORITHMS: "RS256,HS256" }, "Invalid ARP_AUTH_ALGORITHMS: 'HS256'"],
    [{ ARP_AUTH_ALGORITHMS: "none" }, "Invalid ARP_AUTH_ALGORITHMS: 'none'"],
    [
      { ARP_AUTH_PROFILE: "dev-secure-keycloak" },
      "Dev-Secure-Keycloak profile requires ARP_AUTH_AUDIENCE or ARP_AUTH_SERVICE_ID",
    ],
  ])("rejects %j naming the variable", (env, message) => {
    expect(configError(() => fromEnv(env)).message).toContain(message);
  });

  it("reads process.env by default", () => {
    vi.stubEnv("ARP_AUTH_MODE", "disabled");
    vi.stubEnv("ARP_AUTH_DEV_SUBJECT", "from-process-env");
    expect(resolveAuthSettings(undefined)).toMatchObject({
      mode: "disabled",
      devSubject: "from-process-env",
    });
  });

  it("ignores the environment when options are given", () => {
    expect(resolveAuthSettings({}, { ARP_AUTH_MODE: "disabled" })).toEqual(DEFAULTS);
  });
});

describe("resolveAuthSettings from code", () => {
  it("has the same defaults", () => {
    expect(resolveAuthSettings({})).toEqual(DEFAULTS);
  });

  it("applies profile defaults, aliases included", () => {
    expect(resolveAuthSettings({ profile: "dev-insecure" }).mode).toBe("disabled");
    expect(resolveAuthSettings({ profile: "dev-secure-keycloak", audience: "svc" })).toMatchObject({
      mode: "required",
      issuer: "http://localhost:8080/realms/arp-dev",
      audience: "svc",
    });
    expect(resolveAuthSettings({ profile: "prod" as AuthOptions["profile"] }).mode).toBe("required");
    expect(resolveAuthSettings({ profile: "dev-insecure", mode: "optional" }).mode).toBe("optional");
  });

  it("takes every option", () => {
    expect(
      resolveAuthSettings({
        mode: "optional",
        issuer: "https://issuer.example",
        audience: ["a", " b "],
        jwksUri: "https://issuer.example/jwks",
        oidcDiscoveryUrl: "https://issuer.example/.well-known/openid-configuration",
        algorithms: ["ES256"],
        clockSkewSeconds: 0,
        exemptPaths: [],
        devSubject: "d",
        anonymousSubject: "a",
        fetchTimeoutMs: 250,
        requireExp: false,
        fetchBackoffMaxMs: 0,
        fetchMaxBytes: 4096,
      }),
    ).toEqual({
      mode: "optional",
      issuer: "https://issuer.example",
      audience: ["a", "b"],
      jwksUri: "https://issuer.example/jwks",
      oidcDiscoveryUrl: "https://issuer.example/.well-known/openid-configuration",
      algorithms: ["ES256"],
      clockSkewSeconds: 0,
      exemptPaths: [],
      devSubject: "d",
      anonymousSubject: "a",
      fetchTimeoutMs: 250,
      requireExp: false,
      fetchBackoffMaxMs: 0,
      fetchMaxBytes: 4096,
    });
  });

  it("treats blank strings and an empty audience list as unset", () => {
    const settings = resolveAuthSettings({ issuer: " ", audience: [], jwksUri: "", devSubject: "" });
    expect(settings).toEqual(DEFAULTS);
  });

  it.each<[AuthOptions, string]>([
    [{ mode: "sometimes" as AuthOptions["mode"] }, "Invalid auth.mode: 'sometimes'"],
    [{ profile: "staging" as AuthOptions["profile"] }, "Invalid auth.profile: 'staging'"],
    [{ clockSkewSeconds: -1 }, "Invalid auth.clockSkewSeconds: -1"],
    [{ clockSkewSeconds: 1.5 }, "Invalid auth.clockSkewSeconds: 1.5"],
    [{ fetchTimeoutMs: 0 }, "Invalid auth.fetchTimeoutMs: 0"],
    [{ fetchMaxBytes: 0 }, "Invalid auth.fetchMaxBytes: 0"],
    [{ fetchMaxBytes: 1.5 }, "Invalid auth.fetchMaxBytes: 1.5"],
    [{ algorithms: [] }, "auth.algorithms must include at least one algorithm"],
    [{ algorithms: ["HS256"] }, "Invalid auth.algorithms: 'HS256'"],
    [{ profile: "dev-secure-keycloak" }, "Dev-Secure-Keycloak profile requires auth.audience"],
  ])("rejects %j naming the option", (options, message) => {
    expect(configError(() => resolveAuthSettings(options)).message).toContain(message);
  });
});

describe("Authenticator construction", () => {
  it("needs a JWKS source unless auth is disabled (the Python message)", () => {
    expect(configError(() => new Authenticator(fromEnv({}))).message).toBe(
      "JWT auth requires ARP_AUTH_JWKS_URI or ARP_AUTH_ISSUER/ARP_AUTH_OIDC_DISCOVERY_URL when ARP_AUTH_MODE is not 'disabled'",
    );
    expect(configError(() => new Authenticator(resolveAuthSettings({ mode: "optional" }))).message).toContain(
      "auth.jwksUri or auth.issuer/auth.oidcDiscoveryUrl",
    );
    expect(new Authenticator(fromEnv({ ARP_AUTH_MODE: "disabled" })).settings.mode).toBe("disabled");
  });

  it("names both spellings for settings built by hand", () => {
    const settings: AuthSettings = { ...DEFAULTS, mode: "required" };
    const { message } = configError(() => new Authenticator(settings));
    expect(message).toContain("ARP_AUTH_JWKS_URI");
    expect(message).toContain("auth.jwksUri");
  });

  it.each([
    [{ ARP_AUTH_JWKS_URI: "not a url" }, "Invalid ARP_AUTH_JWKS_URI: 'not a url'"],
    [{ ARP_AUTH_OIDC_DISCOVERY_URL: "ftp://x/y" }, "Invalid ARP_AUTH_OIDC_DISCOVERY_URL: 'ftp://x/y'"],
    [{ ARP_AUTH_ISSUER: "arp-issuer" }, "Invalid ARP_AUTH_ISSUER"],
  ])("rejects a JWKS source that is not an http(s) URL: %j", (env, message) => {
    expect(configError(() => new Authenticator(fromEnv(env))).message).toContain(message);
  });

  it("takes a non-URL issuer when the JWKS URI is given, and fetches nothing at start-up", () => {
    const auth = new Authenticator(
      fromEnv({ ARP_AUTH_ISSUER: "arp-issuer", ARP_AUTH_JWKS_URI: "http://127.0.0.1:9/" }),
    );
    expect(auth.settings.issuer).toBe("arp-issuer");
    expect(
      new Authenticator(fromEnv({ ARP_AUTH_PROFILE: "keycloak", ARP_AUTH_AUDIENCE: "svc" })),
    ).toBeDefined();
  });
});

type Failure = Extract<AuthResult, { ok: false }>;

function expectFailure(result: AuthResult, error: Failure["error"], message: string): void {
  expect(result).toEqual({
    ok: false,
    status: 401,
    error,
    message,
    challenge: `Bearer error="${error}", error_description="${message}"`,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function expectInvalid(result: AuthResult, message = "Invalid token"): void {
  expectFailure(result, "invalid_token", message);
}

describe("Authenticator against a real JWKS endpoint", () => {
  let key: TestKey;
  let rotated: TestKey;
  let impostor: TestKey;
  let server: JwksServer;
  const ISSUER = "https://issuer.test/realms/arp";
  const AUDIENCE = "arp-run-gateway";
  const claims = { sub: "alice", iss: ISSUER, aud: AUDIENCE, scope: "runs:write" };
  const bearer = (token: string): string => `Bearer ${token}`;

  const authenticator = (options: AuthOptions = {}): Authenticator =>
    new Authenticator(
      resolveAuthSettings({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.jwksUri, ...options }),
    );
  const jwksHits = (): number => server.hits.get("/jwks.json") ?? 0;

  beforeAll(async () => {
    [key, rotated, impostor] = await Promise.all([makeKey("k1"), makeKey("k2"), makeKey("k1")]);
    server = await startJwksServer([key]);
  });
  afterAll(async () => {
    await server.close();
  });

  it("accepts a valid token; the principal is its claims", async () => {
    const iat = now();
    const token = await signToken(key, claims, { iat });
    const result = await authenticator().authenticate(bearer(token));
    expect(result).toEqual({ ok: true, principal: { ...claims, iat, exp: iat + 300 } });
  });

  it("fetches the JWKS once and then serves keys from its cache", async () => {
    const auth = authenticator();
    const before = jwksHits();
    for (let i = 0; i < 3; i++) {
      const result = await auth.authenticate(bearer(await signToken(key, claims)));
      expect(result.ok).toBe(true);
    }
    expect(jwksHits() - before).toBe(1);
  });

  it("checks issuer and audience only when configured", async () => {
    const token = await signToken(key, { sub: "bob" });
    const auth = new Authenticator(resolveAuthSettings({ jwksUri: server.jwksUri }));
    expect(await auth.authenticate(bearer(token))).toMatchObject({
      ok: true,
      principal: { sub: "bob" },
    });
    // Configured but absent from the token: PyJWT's MissingRequiredClaimError, "Invalid token".
    expectInvalid(await authenticator().authenticate(bearer(token)));
  });

  it("accepts a token whose audience list contains a configured audience", async () => {
    const token = await signToken(key, { ...claims, aud: ["other", "svc-b"] });
    const result = await authenticator({ audience: ["svc-a", "svc-b"] }).authenticate(bearer(token));
    expect(result.ok).toBe(true);
  });

  it("rejects an expired token", async () => {
    const token = await signToken(key, claims, { iat: now() - 600, exp: now() - 120 });
    expectInvalid(await authenticator().authenticate(bearer(token)), "Token expired");
  });

  it("rejects a token that is not yet valid", async () => {
    const token = await signToken(key, claims, { nbf: now() + 120 });
    expectInvalid(await authenticator().authenticate(bearer(token)), "Token not yet valid");
  });

  it("tolerates the clock skew (60 s by default) on exp and nbf", async () => {
    const lateExp = await signToken(key, claims, { iat: now() - 600, exp: now() - 30 });
    const earlyNbf = await signToken(key, claims, { nbf: now() + 30 });
    const lenient = authenticator();
    const strict = authenticator({ clockSkewSeconds: 0 });
    expect((await lenient.authenticate(bearer(lateExp))).ok).toBe(true);
    expect((await lenient.authenticate(bearer(earlyNbf))).ok).toBe(true);
    expectInvalid(await strict.authenticate(bearer(lateExp)), "Token expired");
    expectInvalid(await strict.authenticate(bearer(earlyNbf)), "Token not yet valid");
  });

  it("rejects a wrong issuer", async () => {
    const token = await signToken(key, { ...claims, iss: "https://evil.test" });
    expectInvalid(await authenticator().authenticate(bearer(token)), "Invalid token issuer");
  });

  it("rejects a wrong audience", async () => {
    const token = await signToken(key, { ...claims, aud: "another-service" });
    expectInvalid(await authenticator().authenticate(bearer(token)), "Invalid token audience");
  });

  it("rejects a bad signature (another key under the same kid) and a tampered payload", async () => {
    const forged = await signToken(impostor, claims);
    expect(decodeProtectedHeader(forged).kid).toBe(key.kid);
    expectInvalid(await authenticator().authenticate(bearer(forged)));

    const [header, , signature] = (await signToken(key, claims)).split(".");
    const payload = Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url");
    expectInvalid(await authenticator().authenticate(bearer(`${header}.${payload}.${signature}`)));
  });

  it("rejects alg none without fetching keys", async () => {
    const token = unsignedToken(claims, key.kid);
    expect(decodeProtectedHeader(token).alg).toBe("none");
    const before = jwksHits();
    expectInvalid(await authenticator().authenticate(bearer(token)));
    expect(jwksHits()).toBe(before);
  });

  it("rejects HS256 signed with the RSA public key (algorithm confusion)", async () => {
    const token = await hs256WithPublicKey(key, { ...claims, exp: now() + 300 });
    // The token is a real attack: it verifies as HS256 with the public PEM as the secret.
    const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
    await expect(jwtVerify(token, secret, { algorithms: ["HS256"] })).resolves.toBeDefined();
    expectInvalid(await authenticator().authenticate(bearer(token)));
    // Even with HS256 allowed it could not pass: JWKS keys are public keys.
    const settings = { ...resolveAuthSettings({ jwksUri: server.jwksUri }), algorithms: ["RS256", "HS256"] };
    expectInvalid(await new Authenticator(settings).authenticate(bearer(token)));
  });

  it.each(["not-a-jwt", "a.b.c", "a.b", "eyJhbGciOiJSUzI1NiJ9.e30."])(
    "rejects the malformed token %j",
    async (token) => {
      expectInvalid(await authenticator().authenticate(bearer(token)));
    },
  );

  it("rejects an unknown kid without refetching during the cooldown", async () => {
    const auth = authenticator();
    expect((await auth.authenticate(bearer(await signToken(key, claims)))).ok).toBe(true);
    const before = jwksHits();
    const stranger = await signToken(rotated, claims);
    expectInvalid(await auth.authenticate(bearer(stranger)));
    expectInvalid(await auth.authenticate(bearer(stranger)));
    // The set was fetched just now: jose is cooling down and does not refetch.
    expect(jwksHits()).toBe(before);
  });

  it("follows key rotation: after the cooldown a new kid triggers a refetch", async () => {
    const rotation = await startJwksServer([key]);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: rotation.jwksUri }));
      expect((await auth.authenticate(bearer(await signToken(key, claims)))).ok).toBe(true);
      rotation.setKeys([rotated]);
      const fresh = await signToken(rotated, claims);
      // Within jose's 30 s cooldown an unknown kid does not refetch.
      expectInvalid(await auth.authenticate(bearer(fresh)));
      expect(rotation.hits.get("/jwks.json")).toBe(1);

      vi.setSystemTime(Date.now() + 31_000);
      const result = await auth.authenticate(bearer(await signToken(rotated, claims)));
      expect(result).toMatchObject({ ok: true, principal: { sub: "alice" } });
      expect(rotation.hits.get("/jwks.json")).toBe(2);
      // The retired key no longer verifies.
      expectInvalid(await auth.authenticate(bearer(await signToken(key, claims))));
    } finally {
      vi.useRealTimers();
      await rotation.close();
    }
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer  ", "   ", "Token abc", "Bearer\u00a0"])(
    "rejects the malformed header %j",
    async (header) => {
      expectFailure(
        await authenticator().authenticate(header),
        "invalid_request",
        "Invalid Authorization header",
      );
    },
  );

  it("accepts any case of the scheme and surrounding whitespace", async () => {
    const token = await signToken(key, claims);
    expect((await authenticator().authenticate(`bEaReR ${token}`)).ok).toBe(true);
    expect((await authenticator().authenticate(`  Bearer \t ${token}  `)).ok).toBe(true);
  });

  it("answers a missing (or empty, as in Python) header with invalid_request", async () => {
    for (const header of [undefined, ""]) {
      expectFailure(
        await authenticator().authenticate(header),
        "invalid_request",
        "Missing Authorization header",
      );
    }
  });

  it("answers 401 'Unable to fetch JWKS' when the JWKS is down, and recovers when it is back", async () => {
    const flaky = await startJwksServer([key]);
    // The backoff is read off Date: frozen, so that a loaded machine's slow steps cannot outlast it.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: flaky.jwksUri, fetchBackoffMaxMs: 50 }));
      const token = await signToken(key, claims);
      await flaky.setState("down");
      expectInvalid(await auth.authenticate(bearer(token)), "Unable to fetch JWKS");
      await flaky.setState("up");
      // Within the backoff, still 401 without a fetch; after it, the keys are fetched again.
      expectInvalid(await auth.authenticate(bearer(token)), "Unable to fetch JWKS");
      expect(flaky.hits.get("/jwks.json") ?? 0).toBe(0);
      vi.setSystemTime(Date.now() + 60);
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
    } finally {
      vi.useRealTimers();
      await flaky.close();
    }
  });

  it("answers 401 within the fetch timeout when the JWKS hangs", { timeout: 10_000 }, async () => {
    const stuck = await startJwksServer([key]);
    try {
      await stuck.setState("hang");
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: stuck.jwksUri, fetchTimeoutMs: 300 }));
      const result = await auth.authenticate(bearer(await signToken(key, claims)));
      expectInvalid(result, "Unable to fetch JWKS");
      expect(stuck.hits.get("/jwks.json")).toBe(1);
    } finally {
      await stuck.close();
    }
  });

  it("backs off after a failed fetch (up to fetchBackoffMaxMs): one fetch for many tokens", async () => {
    const flaky = await startJwksServer([key]);
    // The backoff is read off Date: frozen, so that a loaded machine's slow requests cannot outlast it.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      flaky.setJwksBody({ not: "a key set" });
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: flaky.jwksUri, fetchBackoffMaxMs: 300 }));
      const forged = await signToken(impostor, claims);
      for (let i = 0; i < 20; i++)
        expectInvalid(await auth.authenticate(bearer(forged)), "Unable to fetch JWKS");
      expect(flaky.hits.get("/jwks.json")).toBe(1);
      // Once the backoff has run out, the next token fetches again (and fails again).
      vi.setSystemTime(Date.now() + 320);
      expectInvalid(await auth.authenticate(bearer(forged)), "Unable to fetch JWKS");
      expect(flaky.hits.get("/jwks.json")).toBe(2);
      // Back up: after the (now doubled, still capped) backoff, tokens verify again.
      flaky.setJwksBody(undefined);
      vi.setSystemTime(Date.now() + 320);
      expect((await auth.authenticate(bearer(await signToken(key, claims)))).ok).toBe(true);
    } finally {
      vi.useRealTimers();
      await flaky.close();
    }
  });

  it("counts one failed fetch once, however many tokens waited on it: the first backoff is 1 s", async () => {
    const flaky = await startJwksServer([key]);
    try {
      flaky.setJwksBody({ not: "a key set" });
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: flaky.jwksUri }));
      const forged = await signToken(impostor, claims);
      const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(bearer(forged))));
      for (const result of results) expectInvalid(result, "Unable to fetch JWKS");
      expect(flaky.hits.get("/jwks.json")).toBe(1);
      await sleep(1_100);
      expectInvalid(await auth.authenticate(bearer(forged)), "Unable to fetch JWKS");
      expect(flaky.hits.get("/jwks.json")).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  it("rejects a token without exp unless requireExp is false (the Python server's behaviour)", async () => {
    const token = await signToken(key, claims, { exp: null });
    expectInvalid(await authenticator().authenticate(bearer(token)), "Invalid token");
    expect((await authenticator({ requireExp: false }).authenticate(bearer(token))).ok).toBe(true);
    const lax = fromEnv({ ARP_AUTH_JWKS_URI: server.jwksUri, ARP_AUTH_REQUIRE_EXP: "0" });
    expect((await new Authenticator(lax).authenticate(bearer(token))).ok).toBe(true);
  });

  it("answers 401 'Unable to fetch JWKS' for a bad JWKS document or a non-200 answer", async () => {
    const broken = await startJwksServer([key]);
    try {
      const token = await signToken(key, claims);
      broken.setJwksBody({ not: "a key set" });
      const auth = new Authenticator(resolveAuthSettings({ jwksUri: broken.jwksUri }));
      expectInvalid(await auth.authenticate(bearer(token)), "Unable to fetch JWKS");
      const missing = new Authenticator(resolveAuthSettings({ jwksUri: `${broken.origin}/missing.json` }));
      expectInvalid(await missing.authenticate(bearer(token)), "Unable to fetch JWKS");
    } finally {
      await broken.close();
    }
  });

  describe("OIDC discovery", () => {
    it("derives the well-known URL from the issuer, once", async () => {
      const idp = await startJwksServer([key]);
      try {
        const auth = new Authenticator(resolveAuthSettings({ issuer: `${idp.origin}/`, audience: AUDIENCE }));
        const token = await signToken(key, { ...claims, iss: `${idp.origin}/` });
        expect(idp.hits.size).toBe(0);
        for (let i = 0; i < 2; i++) {
          expect(await auth.authenticate(bearer(token))).toMatchObject({ ok: true });
        }
        expect(idp.hits.get("/.well-known/openid-configuration")).toBe(1);
        expect(idp.hits.get("/jwks.json")).toBe(1);
      } finally {
        await idp.close();
      }
    });

    it("uses an explicit discovery URL (ARP_AUTH_OIDC_DISCOVERY_URL)", async () => {
      const idp = await startJwksServer([key]);
      try {
        const settings = fromEnv({ ARP_AUTH_OIDC_DISCOVERY_URL: `${idp.origin}/custom/discovery` });
        const result = await new Authenticator(settings).authenticate(bearer(await signToken(key, claims)));
        expect(result.ok).toBe(true);
        expect(idp.hits.get("/custom/discovery")).toBe(1);
        expect(idp.hits.has("/.well-known/openid-configuration")).toBe(false);
      } finally {
        await idp.close();
      }
    });

    it("answers 401 while discovery is down and retries it once the backoff has run out", async () => {
      const idp = await startJwksServer([key]);
      vi.useFakeTimers({ toFake: ["Date"] }); // the backoff's clock, frozen (see above)
      try {
        const auth = new Authenticator(
          resolveAuthSettings({ oidcDiscoveryUrl: idp.discoveryUrl, fetchBackoffMaxMs: 50 }),
        );
        const token = await signToken(key, claims);
        await idp.setState("down");
        expectInvalid(await auth.authenticate(bearer(token)), "Unable to fetch JWKS");
        await idp.setState("up");
        expectInvalid(await auth.authenticate(bearer(token)), "Unable to fetch JWKS");
        expect(idp.hits.get("/.well-known/openid-configuration") ?? 0).toBe(0);
        vi.setSystemTime(Date.now() + 60);
        expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      } finally {
        vi.useRealTimers();
        await idp.close();
      }
    });

    it("answers 401 within the fetch timeout when discovery hangs", { timeout: 10_000 }, async () => {
      const idp = await startJwksServer([key]);
      try {
        await idp.setState("hang");
        const auth = new Authenticator(resolveAuthSettings({ issuer: idp.origin, fetchTimeoutMs: 300 }));
        expectInvalid(await auth.authenticate(bearer(await signToken(key, claims))), "Unable to fetch JWKS");
      } finally {
        await idp.close();
      }
    });

    it("answers 401 when the discovery document has no jwks_uri", async () => {
      // The JWKS document is JSON but not a discovery document.
      const auth = new Authenticator(resolveAuthSettings({ oidcDiscoveryUrl: server.jwksUri }));
      expectInvalid(await auth.authenticate(bearer(await signToken(key, claims))), "Unable to fetch JWKS");
    });
  });

  describe("optional mode", () => {
    it("lets a request without a token through as the anonymous principal", async () => {
      expect(await authenticator({ mode: "optional" }).authenticate(undefined)).toEqual({
        ok: true,
        principal: { sub: "anonymous" },
      });
      const custom = authenticator({ mode: "optional", anonymousSubject: "guest" });
      expect(await custom.authenticate("")).toEqual({ ok: true, principal: { sub: "guest" } });
    });

    it("verifies a token when one is sent", async () => {
      const result = await authenticator({ mode: "optional" }).authenticate(
        bearer(await signToken(key, claims)),
      );
      expect(result).toMatchObject({ ok: true, principal: { sub: "alice", scope: "runs:write" } });
    });

    it("still rejects a bad token or a malformed header", async () => {
      const auth = authenticator({ mode: "optional" });
      expectInvalid(await auth.authenticate(bearer(await signToken(impostor, claims))));
      expectInvalid(
        await auth.authenticate(bearer(await signToken(key, claims, { iat: now() - 900, exp: now() - 600 }))),
        "Token expired",
      );
      expectFailure(await auth.authenticate("Basic abc"), "invalid_request", "Invalid Authorization header");
    });
  });

  describe("disabled mode", () => {
    it("gives every request the dev principal, whatever the header", async () => {
      const auth = new Authenticator(fromEnv({ ARP_AUTH_PROFILE: "dev" }));
      for (const header of [undefined, "Basic abc", "Bearer not-a-jwt"]) {
        expect(await auth.authenticate(header)).toEqual({ ok: true, principal: { sub: "dev" } });
      }
      const custom = new Authenticator(resolveAuthSettings({ mode: "disabled", devSubject: "me" }));
      expect(await custom.authenticate(undefined)).toEqual({
        ok: true,
        principal: { sub: "me" },
      });
    });

    it("shares one frozen result (no work on the hot path)", async () => {
      const auth = new Authenticator(resolveAuthSettings({ mode: "disabled" }));
      const first = await auth.authenticate(undefined);
      expect(await auth.authenticate(undefined)).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      expect(first.ok && Object.isFrozen(first.principal)).toBe(true);
    });
  });
});

describe("exemption: the operation table decides, an explicit path list replaces it", () => {
  const operations: OperationSpec[] = Object.values(SERVICES).flatMap((service) =>
    Object.values(service.operations),
  );
  const byName = (name: string): OperationSpec => operations.find((op) => op.name === name)!;

  it("by default exempts exactly the operations whose spec security is empty (auth: none)", () => {
    const exempt = exemption(resolveAuthSettings({}).exemptPaths);
    const open = new Set(operations.filter((op) => exempt(op, op.path)).map((op) => op.name));
    expect(open).toEqual(new Set(["health", "version"]));
    for (const op of operations) expect(exempt(op, op.path)).toBe(op.auth === "none");
  });

  it("reads the table's flag, not the operation's name or path", () => {
    const exempt = exemption(undefined);
    const startRun = byName("startRun");
    expect(exempt(startRun, "/v1/runs")).toBe(false);
    expect(exempt({ ...startRun, auth: "none" }, "/v1/runs")).toBe(true);
    expect(exempt({ ...byName("health"), auth: "bearer" }, "/v1/health")).toBe(false);
  });

  it("ARP_AUTH_EXEMPT_PATHS replaces the table: exactly the listed request paths are open", () => {
    const settings = fromEnv({ ARP_AUTH_EXEMPT_PATHS: "/v1/runs/run_1, /metrics ," });
    expect(settings.exemptPaths).toEqual(["/v1/runs/run_1", "/metrics"]);
    const exempt = exemption(settings.exemptPaths);
    expect(exempt(byName("getRun"), "/v1/runs/run_1")).toBe(true);
    expect(exempt(byName("getRun"), "/v1/runs/run_2")).toBe(false);
    expect(exempt(byName("health"), "/v1/health")).toBe(false);
    for (const path of ["/v1/runs/run_1/", "/v1/runs/RUN_1", "/v1/runs/run_1x"]) {
      expect(exempt(byName("getRun"), path)).toBe(false);
    }
  });

  it("an empty or blank variable is unset: the table decides", () => {
    for (const value of ["", " , ,"]) {
      const settings = fromEnv({ ARP_AUTH_EXEMPT_PATHS: value });
      expect(settings.exemptPaths).toBeUndefined();
      expect(exemption(settings.exemptPaths)(byName("health"), "/v1/health")).toBe(true);
    }
  });

  it("the exemptPaths option is taken as written: [] exempts nothing", () => {
    const none = exemption(resolveAuthSettings({ exemptPaths: [] }).exemptPaths);
    for (const op of operations) expect(none(op, op.path)).toBe(false);
    const some = exemption(resolveAuthSettings({ exemptPaths: ["/v1/health"] }).exemptPaths);
    expect(some(byName("health"), "/v1/health")).toBe(true);
    expect(some(byName("version"), "/v1/version")).toBe(false);
  });
});
