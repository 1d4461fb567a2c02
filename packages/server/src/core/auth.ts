/**
 * JWT bearer authentication: the ARP security profiles, with the same `ARP_AUTH_*` environment
 * variables, defaults and 401 answers as the Python server (`arp-standard-server`).
 */
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";

export type AuthMode = "required" | "optional" | "disabled";
export type AuthProfile = "dev-insecure" | "dev-secure-keycloak" | "enterprise";
/** The verified token's claims (or `{ sub }` for the dev and anonymous principals). */
export type Principal = Record<string, unknown> & { sub?: string };

/** The `auth` server option. When given, the environment is not read. */
export interface AuthOptions {
  /** Default: the profile's mode, else `required`. */
  mode?: AuthMode;
  /** Shortcut for defaults: `dev-insecure` (auth disabled), `dev-secure-keycloak`, `enterprise`. */
  profile?: AuthProfile;
  /** Checked when set; also gives the OIDC discovery URL when neither `jwksUri` nor `oidcDiscoveryUrl` is set. */
  issuer?: string;
  /** Checked when set (a token passes when its `aud` contains any of these). */
  audience?: string | string[];
  jwksUri?: string;
  oidcDiscoveryUrl?: string;
  /** Allowed JWS algorithms. Default `["RS256"]`. */
  algorithms?: string[];
  /** Tolerance for `exp` and `nbf`. Default 60. */
  clockSkewSeconds?: number;
  /** Paths served without authentication. Default `["/v1/health", "/v1/version"]`; `[]` exempts nothing. */
  exemptPaths?: string[];
  /** Subject of the principal when auth is disabled. Default `dev`. */
  devSubject?: string;
  /** Subject of the principal in optional mode without a token. Default `anonymous`. */
  anonymousSubject?: string;
  /** Fetch timeout for discovery and JWKS, ms (default 5000). */
  fetchTimeoutMs?: number;
}

/** Resolved settings (frozen). */
export interface AuthSettings {
  readonly mode: AuthMode;
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  readonly jwksUri?: string;
  readonly oidcDiscoveryUrl?: string;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly exemptPaths: readonly string[];
  readonly devSubject: string;
  readonly anonymousSubject: string;
  readonly fetchTimeoutMs: number;
}

/** A misconfiguration, found at start-up; the message names the variable or option. */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}

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

const DEFAULT_EXEMPT_PATHS: readonly string[] = Object.freeze(["/v1/health", "/v1/version"]);
const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(["RS256"]);
const DEV_KEYCLOAK_ISSUER = "http://localhost:8080/realms/arp-dev";
const DEFAULT_FETCH_TIMEOUT_MS = 5000;
/** Asymmetric JWS algorithms jose can verify with a JWKS key; anything else would reject every token. */
const JWKS_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "ML-DSA-44",
  "ML-DSA-65",
  "ML-DSA-87",
]);

/** What each setting is called where it came from, so that errors name it. */
interface Names {
  profile: string;
  mode: string;
  issuer: string;
  audience: string;
  jwksUri: string;
  oidcDiscoveryUrl: string;
  algorithms: string;
  clockSkewSeconds: string;
  fetchTimeoutMs: string;
  source: string;
}
const ENV_NAMES: Names = {
  profile: "ARP_AUTH_PROFILE",
  mode: "ARP_AUTH_MODE",
  issuer: "ARP_AUTH_ISSUER",
  audience: "ARP_AUTH_AUDIENCE or ARP_AUTH_SERVICE_ID",
  jwksUri: "ARP_AUTH_JWKS_URI",
  oidcDiscoveryUrl: "ARP_AUTH_OIDC_DISCOVERY_URL",
  algorithms: "ARP_AUTH_ALGORITHMS",
  clockSkewSeconds: "ARP_AUTH_CLOCK_SKEW_SECONDS",
  fetchTimeoutMs: "auth.fetchTimeoutMs",
  source:
    "ARP_AUTH_JWKS_URI or ARP_AUTH_ISSUER/ARP_AUTH_OIDC_DISCOVERY_URL when ARP_AUTH_MODE is not 'disabled'",
};
const OPTION_NAMES: Names = {
  profile: "auth.profile",
  mode: "auth.mode",
  issuer: "auth.issuer",
  audience: "auth.audience",
  jwksUri: "auth.jwksUri",
  oidcDiscoveryUrl: "auth.oidcDiscoveryUrl",
  algorithms: "auth.algorithms",
  clockSkewSeconds: "auth.clockSkewSeconds",
  fetchTimeoutMs: "auth.fetchTimeoutMs",
  source: "auth.jwksUri or auth.issuer/auth.oidcDiscoveryUrl when auth.mode is not 'disabled'",
};
/** Settings built by hand (not by resolveAuthSettings) get both spellings. */
const BOTH_NAMES = Object.fromEntries(
  (Object.keys(ENV_NAMES) as (keyof Names)[]).map((key) => [
    key,
    `${ENV_NAMES[key]} (option ${OPTION_NAMES[key]})`,
  ]),
) as unknown as Names;
const namesOf = new WeakMap<AuthSettings, Names>();

/** Python's `repr()` of a string, so that messages read as the Python server's do. */
function repr(value: unknown): string {
  if (typeof value !== "string") return String(value);
  const q = value.includes("'") && !value.includes('"') ? '"' : "'";
  const body = value
    .replace(/\\/g, "\\\\")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replaceAll(q, `\\${q}`);
  return `${q}${body}${q}`;
}

interface ProfileDefaults {
  profile: AuthProfile;
  mode: AuthMode;
  issuer?: string;
}

function profileDefaults(raw: unknown, name: string): ProfileDefaults | undefined {
  if (raw === undefined) return undefined;
  const profile = typeof raw === "string" ? raw.trim().toLowerCase().replaceAll("_", "-") : "";
  switch (profile) {
    case "dev-insecure":
    case "dev":
      return { profile: "dev-insecure", mode: "disabled" };
    case "dev-secure-keycloak":
    case "dev-secure":
    case "keycloak":
      return { profile: "dev-secure-keycloak", mode: "required", issuer: DEV_KEYCLOAK_ISSUER };
    case "enterprise":
    case "prod":
    case "production":
      return { profile: "enterprise", mode: "required" };
    default:
      throw new AuthConfigError(`Invalid ${name}: ${repr(raw)}`);
  }
}

function checkMode(mode: unknown, name: string): AuthMode {
  if (mode === "required" || mode === "optional" || mode === "disabled") return mode;
  throw new AuthConfigError(`Invalid ${name}: ${repr(mode)}`);
}

/** Trimmed; empty means unset. */
function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function checkAlgorithms(algorithms: string[], name: string): readonly string[] {
  if (algorithms.length === 0) {
    throw new AuthConfigError(`${name} must include at least one algorithm (for example: RS256)`);
  }
  for (const alg of algorithms) {
    if (!JWKS_ALGORITHMS.has(alg)) {
      throw new AuthConfigError(
        `Invalid ${name}: ${repr(alg)} is not an asymmetric JWS algorithm (one of ${[...JWKS_ALGORITHMS].join(", ")})`,
      );
    }
  }
  return Object.freeze(algorithms);
}

function keycloakNeedsAudience(
  defaults: ProfileDefaults | undefined,
  mode: AuthMode,
  audience: unknown,
  name: string,
): void {
  if (defaults?.profile === "dev-secure-keycloak" && mode !== "disabled" && audience === undefined) {
    throw new AuthConfigError(`Dev-Secure-Keycloak profile requires ${name}`);
  }
}

function fromEnv(env: Record<string, string | undefined>): AuthSettings {
  // `||` as in Python's `or`: an empty string is unset.
  const get = (key: string): string | undefined => env[key] || undefined;
  const profileRaw = get("ARP_AUTH_PROFILE")?.trim();
  const defaults = profileDefaults(profileRaw || undefined, ENV_NAMES.profile);
  const mode = checkMode(
    (get("ARP_AUTH_MODE") ?? defaults?.mode ?? "required").trim().toLowerCase(),
    ENV_NAMES.mode,
  );

  const skewRaw = (get("ARP_AUTH_CLOCK_SKEW_SECONDS") ?? "60").trim();
  // Python's int(): optional sign, digits, single underscores between digits.
  if (!/^[+-]?\d+(?:_\d+)*$/.test(skewRaw)) {
    throw new AuthConfigError(`Invalid ${ENV_NAMES.clockSkewSeconds}: ${repr(skewRaw)}`);
  }
  const clockSkewSeconds = Number(skewRaw.replaceAll("_", "")) || 0; // "-0" is 0
  checkSkew(clockSkewSeconds, ENV_NAMES.clockSkewSeconds, skewRaw);

  const algorithms = checkAlgorithms(list(get("ARP_AUTH_ALGORITHMS") ?? "RS256"), ENV_NAMES.algorithms);
  const exempt = list(get("ARP_AUTH_EXEMPT_PATHS") ?? "");
  const issuer = text(get("ARP_AUTH_ISSUER")) ?? defaults?.issuer;
  const audience = text(get("ARP_AUTH_AUDIENCE")) ?? text(get("ARP_AUTH_SERVICE_ID"));
  keycloakNeedsAudience(defaults, mode, audience, ENV_NAMES.audience);

  return settings(
    {
      mode,
      issuer,
      audience,
      jwksUri: text(get("ARP_AUTH_JWKS_URI")),
      oidcDiscoveryUrl: text(get("ARP_AUTH_OIDC_DISCOVERY_URL")),
      algorithms,
      clockSkewSeconds,
      exemptPaths: exempt.length > 0 ? Object.freeze(exempt) : DEFAULT_EXEMPT_PATHS,
      // Not trimmed, as in Python.
      devSubject: get("ARP_AUTH_DEV_SUBJECT") ?? "dev",
      anonymousSubject: get("ARP_AUTH_ANONYMOUS_SUBJECT") ?? "anonymous",
      fetchTimeoutMs: DEFAULT_FETCH_TIMEOUT_MS,
    },
    ENV_NAMES,
  );
}

/** jose rejects a negative clockTolerance on every token: fail at start-up instead. */
function checkSkew(value: unknown, name: string, shown: unknown = value): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new AuthConfigError(`Invalid ${name}: ${repr(shown)} (expected a non-negative integer of seconds)`);
  }
}

function fromOptions(options: AuthOptions): AuthSettings {
  const n = OPTION_NAMES;
  const defaults = profileDefaults(options.profile, n.profile);
  const mode = checkMode(options.mode ?? defaults?.mode ?? "required", n.mode);
  const clockSkewSeconds = options.clockSkewSeconds ?? 60;
  checkSkew(clockSkewSeconds, n.clockSkewSeconds);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!Number.isSafeInteger(fetchTimeoutMs) || fetchTimeoutMs <= 0) {
    throw new AuthConfigError(
      `Invalid ${n.fetchTimeoutMs}: ${repr(fetchTimeoutMs)} (expected a positive integer)`,
    );
  }
  const algorithms = checkAlgorithms(
    (options.algorithms ?? DEFAULT_ALGORITHMS).map((alg) => String(alg).trim()).filter((alg) => alg !== ""),
    n.algorithms,
  );
  const audienceList = (typeof options.audience === "string" ? [options.audience] : (options.audience ?? []))
    .map((aud) => String(aud).trim())
    .filter((aud) => aud !== "");
  const audience =
    audienceList.length === 0
      ? undefined
      : audienceList.length === 1
        ? audienceList[0]
        : Object.freeze(audienceList);
  keycloakNeedsAudience(defaults, mode, audience, n.audience);

  return settings(
    {
      mode,
      issuer: text(options.issuer) ?? defaults?.issuer,
      audience,
      jwksUri: text(options.jwksUri),
      oidcDiscoveryUrl: text(options.oidcDiscoveryUrl),
      algorithms,
      clockSkewSeconds,
      // An explicit list is taken as written: `[]` means no exempt paths.
      exemptPaths: Object.freeze([...(options.exemptPaths ?? DEFAULT_EXEMPT_PATHS)]),
      devSubject: options.devSubject || "dev",
      anonymousSubject: options.anonymousSubject || "anonymous",
      fetchTimeoutMs,
    },
    n,
  );
}

function settings(all: AuthSettings, names: Names): AuthSettings {
  const out: { -readonly [K in keyof AuthSettings]: AuthSettings[K] } = { ...all };
  // Absent rather than present-and-undefined, so that settings compare and print cleanly.
  for (const key of ["issuer", "audience", "jwksUri", "oidcDiscoveryUrl"] as const) {
    if (out[key] === undefined) delete out[key];
  }
  const frozen = Object.freeze(out);
  namesOf.set(frozen, names);
  return frozen;
}

/**
 * Resolves settings: `options` given → from code (profile defaults apply too; same validation);
 * `undefined` → from `env` (default `process.env`) exactly as the Python server.
 * @throws AuthConfigError naming the variable or option.
 */
export function resolveAuthSettings(
  options: AuthOptions | undefined,
  env: Record<string, string | undefined> = process.env,
): AuthSettings {
  return options === undefined ? fromEnv(env) : fromOptions(options);
}

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
const EXEMPT: AuthResult = Object.freeze({ ok: true, principal: undefined });
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

async function fetchJwksUri(url: URL, timeoutMs: number): Promise<URL> {
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    // Bounds the body too, not only the headers.
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`OIDC discovery answered ${response.status}`);
  }
  const document: unknown = await response.json();
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
  readonly #exempt: ReadonlySet<string>;
  readonly #dev: AuthResult;
  readonly #anonymous: AuthResult | undefined;
  readonly #discoveryUrl: URL | undefined;
  readonly #verifyOptions: {
    algorithms: string[];
    clockTolerance: number;
    issuer?: string;
    audience?: string | string[];
  };
  readonly #getKey: JWTVerifyGetKey;
  #keys: RemoteKeys | undefined;
  #discovery: Promise<RemoteKeys> | undefined;

  /** @throws AuthConfigError when mode is not `disabled` and there is no usable JWKS source. */
  constructor(settings: AuthSettings) {
    this.settings = settings;
    this.#exempt = new Set(settings.exemptPaths);
    this.#dev = principalResult(settings.devSubject);
    this.#anonymous = settings.mode === "optional" ? principalResult(settings.anonymousSubject) : undefined;
    const { issuer, audience } = settings;
    this.#verifyOptions = {
      algorithms: [...settings.algorithms],
      clockTolerance: settings.clockSkewSeconds,
      ...(issuer === undefined ? {} : { issuer }),
      ...(audience === undefined
        ? {}
        : { audience: typeof audience === "string" ? audience : [...audience] }),
    };
    this.#getKey = (header, token) => this.#resolveKey(header, token);

    if (settings.mode === "disabled") return;
    const names = namesOf.get(settings) ?? BOTH_NAMES;
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
   * `path` is the request path without query; `authorization` the raw header value or undefined.
   * Never throws; never waits longer than the fetch timeout per fetch (discovery, then JWKS). Answers
   * at once (no promise) when there is no token to verify, so that the common cases cost no await.
   */
  authenticate(path: string, authorization: string | undefined): AuthResult | Promise<AuthResult> {
    if (this.#exempt.has(path)) return EXEMPT;
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
      throw KEY_SELECTION_ERRORS.has(codeOf(error) as string)
        ? error
        : new JwksUnavailable("JWKS", { cause: error });
    }
  }

  /** Lazy, so that an unreachable issuer answers 401 rather than failing start-up; retried after a failure. */
  #discover(): Promise<RemoteKeys> {
    this.#discovery ??= fetchJwksUri(this.#discoveryUrl!, this.settings.fetchTimeoutMs).then(
      (jwksUri) => {
        this.#keys = this.#remote(jwksUri);
        return this.#keys;
      },
      (error: unknown) => {
        this.#discovery = undefined;
        throw new JwksUnavailable("OIDC discovery", { cause: error });
      },
    );
    return this.#discovery;
  }

  #remote(url: URL): RemoteKeys {
    // jose caches the set and refetches on an unknown `kid` (at most every 30 s): key rotation.
    return createRemoteJWKSet(url, { timeoutDuration: this.settings.fetchTimeoutMs });
  }
}
