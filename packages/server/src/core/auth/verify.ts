/**
 * JWT bearer verification: the ARP security profiles' 401 answers, as the Python server
 * (`arp-standard-server`) gives them, from resolved settings (`settings.ts`). Which requests need a
 * token at all is `exempt.ts`'s question.
 */
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey, jwtVerify } from "jose";
import { AuthConfigError, type AuthSettings, repr, settingNames } from "./settings.js";

/** The verified token's claims (or `{ sub }` for the dev and anonymous principals). */
export type Principal = Record<string, unknown> & { sub?: string };

export type AuthResult =
  | { ok: true; principal: Principal | undefined }
  | {
      ok: false;
      status: 401;
      error: "invalid_request" | "invalid_token";
      message: string;
      /** The `WWW-Authenticate` header value. */
      challenge: string;
    };

type Failure = Extract<AuthResult, { ok: false }>;

function failure(error: Failure["error"], message: string): Failure {
  const description = message.replaceAll('"', '\\"');
  return Object.freeze({
    ok: false,
    status: 401,
    error,
    message,
    challenge: `Bearer error="${error}", error_description="${description}"`,
  });
}

// Shared, frozen answers: nothing is allocated for them per request.
/** The answer for an exempt request: no principal. */
export const EXEMPT: AuthResult = Object.freeze({ ok: true, principal: undefined });
const MISSING = failure("invalid_request", "Missing Authorization header");
const BAD_HEADER = failure("invalid_request", "Invalid Authorization header");
const EXPIRED = failure("invalid_token", "Token expired");
const BAD_AUDIENCE = failure("invalid_token", "Invalid token audience");
const BAD_ISSUER = failure("invalid_token", "Invalid token issuer");
const NOT_YET_VALID = failure("invalid_token", "Token not yet valid");
const NO_JWKS = failure("invalid_token", "Unable to fetch JWKS");
const INVALID = failure("invalid_token", "Invalid token");

function principalResult(sub: string): AuthResult {
  return Object.freeze({ ok: true as const, principal: Object.freeze({ sub }) });
}

/** Python's `header.strip().split()` giving exactly `["bearer" (any case), token]`. */
const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/** Marks a failure to get the keys (discovery or JWKS), as opposed to a bad token. */
class JwksUnavailable extends Error {}

/** A fetch not made: an earlier one failed, and the backoff has not run out. */
class BackingOff extends Error {}

/** The first wait after a failed fetch; it doubles with each further failure, up to `fetchBackoffMaxMs`. */
const FIRST_BACKOFF_MS = 1000;

/**
 * jose's JWKS refresh limits, stated here rather than left to its defaults: after a successful fetch a
 * token whose `kid` is not in the set refetches it only once this cooldown has run out (key rotation
 * is picked up within 30 s; a flood of unknown `kid`s costs at most one fetch per 30 s), and a set
 * older than the maximum age is refetched before use.
 */
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

/** jose errors that come from choosing a key in a fetched set: the token's fault, not the JWKS's. */
const KEY_SELECTION_ERRORS = new Set([
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_NOT_SUPPORTED",
]);

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

function classify(error: unknown): Failure {
  if (error instanceof JwksUnavailable) return NO_JWKS;
  const code = codeOf(error);
  if (code === "ERR_JWT_EXPIRED") return EXPIRED;
  if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED") {
    const { claim, reason } = error as { claim?: unknown; reason?: unknown };
    // A missing claim is "Invalid token", as PyJWT's MissingRequiredClaimError.
    if (reason === "check_failed") {
      if (claim === "aud") return BAD_AUDIENCE;
      if (claim === "iss") return BAD_ISSUER;
      if (claim === "nbf") return NOT_YET_VALID;
    }
  }
  return INVALID;
}

function httpUrl(value: string, name: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new AuthConfigError(`Invalid ${name}: ${repr(value)} (expected an http(s) URL)`);
  }
  return url;
}

/**
 * `response`'s body as UTF-8 JSON, reading at most `maxBytes` of it: a larger body (by its
 * `content-length`, or as it arrives) is cancelled and throws, so that a huge or endless JWKS or
 * discovery document costs at most that much memory. The fetch's abort signal (the timeout) also
 * bounds the time spent reading.
 */
async function readJson(response: Response, maxBytes: number, what: string): Promise<unknown> {
  const tooLarge = () => new Error(`${what} is larger than ${maxBytes} bytes`);
  if (Number(response.headers.get("content-length")) > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  // Not UTF-8, or not JSON: both throw.
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
}

/** jose's test of a JWK set (`{ keys: [objects] }`), made before a fetch counts as a success. */
function isJwkSet(value: unknown): boolean {
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(value)) return false;
  const keys = (value as { keys?: unknown }).keys;
  return Array.isArray(keys) && keys.every(isObject);
}

async function fetchJwksUri(url: URL, timeoutMs: number, maxBytes: number): Promise<URL> {
  // (Not through jose: this is the discovery document.)
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    // Bounds the body too, not only the headers.
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`OIDC discovery answered ${response.status}`);
  }
  const document: unknown = await readJson(response, maxBytes, "OIDC discovery document");
  const jwksUri =
    typeof document === "object" && document !== null
      ? (document as { jwks_uri?: unknown }).jwks_uri
      : undefined;
  if (typeof jwksUri !== "string" || jwksUri.trim() === "") {
    throw new Error("OIDC discovery document missing jwks_uri");
  }
  const parsed = new URL(jwksUri.trim());
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("jwks_uri is not http(s)");
  return parsed;
}

type RemoteKeys = ReturnType<typeof createRemoteJWKSet>;

/** Authenticates requests by the resolved settings. One per server; caches discovery and keys. */
export class Authenticator {
  readonly settings: AuthSettings;
  readonly #dev: AuthResult;
  readonly #anonymous: AuthResult | undefined;
  readonly #discoveryUrl: URL | undefined;
  readonly #verifyOptions: {
    algorithms: string[];
    clockTolerance: number;
    requiredClaims?: string[];
    issuer?: string;
    audience?: string | string[];
  };
  readonly #getKey: JWTVerifyGetKey;
  #keys: RemoteKeys | undefined;
  #discovery: Promise<RemoteKeys> | undefined;
  /** Consecutive failed fetches (discovery or JWKS), and the time (ms) before which none is made. */
  #failures = 0;
  #retryAt = 0;
  #lastFailure: unknown;

  /** @throws AuthConfigError when mode is not `disabled` and there is no usable JWKS source. */
  constructor(settings: AuthSettings) {
    this.settings = settings;
    this.#dev = principalResult(settings.devSubject);
    this.#anonymous = settings.mode === "optional" ? principalResult(settings.anonymousSubject) : undefined;
    const { issuer, audience } = settings;
    this.#verifyOptions = {
      algorithms: [...settings.algorithms],
      clockTolerance: settings.clockSkewSeconds,
      // A missing exp is then "Invalid token" (ERR_JWT_CLAIM_VALIDATION_FAILED, reason "missing").
      ...(settings.requireExp ? { requiredClaims: ["exp"] } : {}),
      ...(issuer === undefined ? {} : { issuer }),
      ...(audience === undefined
        ? {}
        : { audience: typeof audience === "string" ? audience : [...audience] }),
    };
    this.#getKey = (header, token) => this.#resolveKey(header, token);

    if (settings.mode === "disabled") return;
    const names = settingNames(settings);
    if (settings.jwksUri !== undefined) {
      this.#keys = this.#remote(httpUrl(settings.jwksUri, names.jwksUri));
    } else if (settings.oidcDiscoveryUrl !== undefined) {
      this.#discoveryUrl = httpUrl(settings.oidcDiscoveryUrl, names.oidcDiscoveryUrl);
    } else if (issuer !== undefined) {
      this.#discoveryUrl = httpUrl(
        `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`,
        names.issuer,
      );
    } else {
      throw new AuthConfigError(`JWT auth requires ${names.source}`);
    }
  }

  /**
   * Authenticates a request that is not exempt (see `exempt.ts`) by its `authorization` header (the
   * raw value, or undefined). Never throws; never waits longer than the fetch timeout per fetch
   * (discovery, then JWKS). Answers at once (no promise) when there is no token to verify, so that
   * the common cases cost no await.
   */
  authenticate(authorization: string | undefined): AuthResult | Promise<AuthResult> {
    if (this.settings.mode === "disabled") return this.#dev;
    // An empty header counts as missing, as Python's `if not auth_header`.
    if (!authorization) return this.#anonymous ?? MISSING;
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) return BAD_HEADER;
    return this.#verify(token);
  }

  async #verify(token: string): Promise<AuthResult> {
    try {
      const { payload } = await jwtVerify(token, this.#getKey, this.#verifyOptions);
      return { ok: true, principal: payload as Principal };
    } catch (error) {
      return classify(error);
    }
  }

  async #resolveKey(...args: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const keys = this.#keys ?? (await this.#discover());
    try {
      return await keys(...args);
    } catch (error) {
      if (KEY_SELECTION_ERRORS.has(codeOf(error) as string)) throw error;
      // Tokens waiting on the same fetch share its error: one failure, counted once.
      if (!(error instanceof BackingOff) && error !== this.#lastFailure) {
        this.#lastFailure = error;
        this.#failed();
      }
      throw new JwksUnavailable("JWKS", { cause: error });
    }
  }

  /**
   * Throws (no fetch) while backing off. jose does not remember a failed JWKS fetch (its cooldown
   * starts only after a successful one), so without this every token with an unknown `kid`, or
   * every token at all before the first success, would fetch while the endpoint is failing.
   */
  #gate(): void {
    if (this.#failures > 0 && Date.now() < this.#retryAt) throw new BackingOff("backing off");
  }

  #failed(): void {
    this.#failures++;
    const wait = Math.min(
      this.settings.fetchBackoffMaxMs,
      FIRST_BACKOFF_MS * 2 ** Math.min(this.#failures - 1, 30),
    );
    this.#retryAt = Date.now() + wait;
  }

  /**
   * Lazy, so that an unreachable issuer answers 401 rather than failing start-up; retried after a
   * failure, once the backoff has run out.
   */
  #discover(): Promise<RemoteKeys> {
    if (this.#discovery) return this.#discovery;
    try {
      this.#gate();
    } catch (error) {
      return Promise.reject(new JwksUnavailable("OIDC discovery", { cause: error }));
    }
    this.#discovery = fetchJwksUri(
      this.#discoveryUrl!,
      this.settings.fetchTimeoutMs,
      this.settings.fetchMaxBytes,
    ).then(
      (jwksUri) => {
        this.#failures = 0;
        this.#keys = this.#remote(jwksUri);
        return this.#keys;
      },
      (error: unknown) => {
        this.#discovery = undefined;
        this.#failed();
        throw new JwksUnavailable("OIDC discovery", { cause: error });
      },
    );
    return this.#discovery;
  }

  #remote(url: URL): RemoteKeys {
    // jose caches the set and refetches on an unknown `kid` (at most once per JWKS_COOLDOWN_MS after a
    // success): key rotation. Its fetches go through the backoff gate; a set it holds keeps verifying
    // meanwhile. At most one fetch is in flight: concurrent tokens wait on the same one.
    const maxBytes = this.settings.fetchMaxBytes;
    return createRemoteJWKSet(url, {
      timeoutDuration: this.settings.fetchTimeoutMs,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      [customFetch]: async (href, init) => {
        this.#gate();
        // jose passes `redirect: "manual"` (a redirect is a failure, never followed) and the timeout.
        const response = await fetch(href, init);
        if (response.status !== 200) {
          await response.body?.cancel().catch(() => {});
          return response; // jose fails it
        }
        // Read here, within the size limit, and checked: only a usable set resets the backoff, so
        // that an endpoint answering 200 with garbage backs off as one that is down does.
        const jwks = await readJson(response, maxBytes, "JWKS");
        if (!isJwkSet(jwks)) throw new Error("the JWKS is not a JWK set");
        this.#failures = 0;
        return Response.json(jwks);
      },
    });
  }
}
