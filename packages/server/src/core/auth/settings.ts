/**
 * The auth settings: the `auth` option or the `ARP_AUTH_*` environment variables (the Python server's
 * names, defaults and messages), read into one raw shape and validated by one function, so that both
 * sources accept and reject the same things. Token verification is `verify.ts`'s job.
 */

export type AuthMode = "required" | "optional" | "disabled";
export type AuthProfile = "dev-insecure" | "dev-secure-keycloak" | "enterprise";

/** The `auth` server option. When given, the environment is not read. */
export interface AuthOptions {
  /** Default: the profile's mode, else `required`. */
  mode?: AuthMode | undefined;
  /** Shortcut for defaults: `dev-insecure` (auth disabled), `dev-secure-keycloak`, `enterprise`. */
  profile?: AuthProfile | undefined;
  /** Checked when set; also gives the OIDC discovery URL when neither `jwksUri` nor `oidcDiscoveryUrl` is set. */
  issuer?: string | undefined;
  /** Checked when set (a token passes when its `aud` contains any of these). */
  audience?: string | readonly string[] | undefined;
  jwksUri?: string | undefined;
  oidcDiscoveryUrl?: string | undefined;
  /** Allowed JWS algorithms. Default `["RS256"]`. */
  algorithms?: readonly string[] | undefined;
  /** Tolerance for `exp` and `nbf`. Default 60. */
  clockSkewSeconds?: number | undefined;
  /**
   * Paths served without authentication, matched exactly against the request path; replaces the
   * default, which is the operations the spec marks as open (`security: []`: `/v1/health`,
   * `/v1/version`). `[]` exempts nothing.
   */
  exemptPaths?: readonly string[] | undefined;
  /** Subject of the principal when auth is disabled. Default `dev`. */
  devSubject?: string | undefined;
  /** Subject of the principal in optional mode without a token. Default `anonymous`. */
  anonymousSubject?: string | undefined;
  /** Fetch timeout for discovery and JWKS, ms (default 5000). */
  fetchTimeoutMs?: number | undefined;
  /**
   * Reject tokens without an `exp` claim (401 "Invalid token"). Default `true`; env
   * `ARP_AUTH_REQUIRE_EXP`. The Python server accepts them (PyJWT checks `exp` only when present):
   * `false` restores that, for identity providers that issue non-expiring tokens.
   */
  requireExp?: boolean | undefined;
  /**
   * After a failed discovery or JWKS fetch, no new fetch is made for 1 s, doubling with each further
   * failure up to this many ms (default 30000); tokens are answered 401 "Unable to fetch JWKS" meanwhile,
   * except those whose key is already held. `0`: retry on every token.
   */
  fetchBackoffMaxMs?: number | undefined;
  /**
   * The largest JWKS or OIDC discovery document read, in bytes (default 1 MiB): a larger one (by its
   * `content-length`, or as it arrives, counted after decompression) is not read further, and counts
   * as a failed fetch (see `fetchBackoffMaxMs`), as does a JWKS answer that is not a JWK set.
   */
  fetchMaxBytes?: number | undefined;
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
  /** An explicit list of exempt paths; absent: the operation table decides (`auth: "none"`). */
  readonly exemptPaths?: readonly string[];
  readonly devSubject: string;
  readonly anonymousSubject: string;
  readonly fetchTimeoutMs: number;
  readonly requireExp: boolean;
  readonly fetchBackoffMaxMs: number;
  readonly fetchMaxBytes: number;
}

/** A misconfiguration, found at start-up; the message names the variable or option. */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}

const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(["RS256"]);
const DEV_KEYCLOAK_ISSUER = "http://localhost:8080/realms/arp-dev";
const DEFAULT_FETCH_TIMEOUT_MS = 5000;
const DEFAULT_FETCH_BACKOFF_MAX_MS = 30_000;
const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;
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
export interface Names {
  profile: string;
  mode: string;
  issuer: string;
  audience: string;
  jwksUri: string;
  oidcDiscoveryUrl: string;
  algorithms: string;
  clockSkewSeconds: string;
  fetchTimeoutMs: string;
  requireExp: string;
  fetchBackoffMaxMs: string;
  fetchMaxBytes: string;
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
  requireExp: "ARP_AUTH_REQUIRE_EXP",
  fetchBackoffMaxMs: "auth.fetchBackoffMaxMs",
  fetchMaxBytes: "auth.fetchMaxBytes",
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
  requireExp: "auth.requireExp",
  fetchBackoffMaxMs: "auth.fetchBackoffMaxMs",
  fetchMaxBytes: "auth.fetchMaxBytes",
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

/** How the settings' errors name each setting: as their source spelled it. */
export function settingNames(settings: AuthSettings): Names {
  return namesOf.get(settings) ?? BOTH_NAMES;
}

/** Python's `repr()` of a string, so that messages read as the Python server's do. */
export function repr(value: unknown): string {
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

// ---------------------------------------------------------------------------------------------
// The two sources, read into one shape

/** The settings as a source gave them, before defaults and validation. */
interface Raw {
  profile: unknown;
  mode: unknown;
  issuer: string | undefined;
  audience: string | readonly string[] | undefined;
  jwksUri: string | undefined;
  oidcDiscoveryUrl: string | undefined;
  algorithms: readonly unknown[] | undefined;
  clockSkewSeconds: unknown;
  /** How the skew was written, for the message (the variable's text). */
  clockSkewShown?: string;
  fetchTimeoutMs: unknown;
  requireExp: unknown;
  fetchBackoffMaxMs: unknown;
  fetchMaxBytes: unknown;
  exemptPaths: readonly string[] | undefined;
  devSubject: string | undefined;
  anonymousSubject: string | undefined;
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function fromEnv(env: Record<string, string | undefined>): Raw {
  // `||` as in Python's `or`: an empty string is unset.
  const get = (key: string): string | undefined => env[key] || undefined;
  const skewRaw = get("ARP_AUTH_CLOCK_SKEW_SECONDS")?.trim();
  let clockSkewSeconds: number | undefined;
  if (skewRaw !== undefined) {
    // Python's int(): optional sign, digits, single underscores between digits.
    if (!/^[+-]?\d+(?:_\d+)*$/.test(skewRaw)) {
      throw new AuthConfigError(`Invalid ${ENV_NAMES.clockSkewSeconds}: ${repr(skewRaw)}`);
    }
    clockSkewSeconds = Number(skewRaw.replaceAll("_", "")) || 0; // "-0" is 0
  }
  const algorithms = get("ARP_AUTH_ALGORITHMS");
  const exempt = list(get("ARP_AUTH_EXEMPT_PATHS") ?? "");
  return {
    profile: get("ARP_AUTH_PROFILE")?.trim() || undefined,
    mode: get("ARP_AUTH_MODE")?.trim().toLowerCase(),
    issuer: get("ARP_AUTH_ISSUER"),
    audience: text(get("ARP_AUTH_AUDIENCE")) ?? get("ARP_AUTH_SERVICE_ID"),
    jwksUri: get("ARP_AUTH_JWKS_URI"),
    oidcDiscoveryUrl: get("ARP_AUTH_OIDC_DISCOVERY_URL"),
    algorithms: algorithms === undefined ? undefined : list(algorithms),
    clockSkewSeconds,
    ...(skewRaw === undefined ? {} : { clockSkewShown: skewRaw }),
    fetchTimeoutMs: undefined,
    requireExp: get("ARP_AUTH_REQUIRE_EXP"),
    fetchBackoffMaxMs: undefined,
    fetchMaxBytes: undefined,
    // An empty list is unset, as in Python: the default (the operation table) applies.
    exemptPaths: exempt.length > 0 ? exempt : undefined,
    // Not trimmed, as in Python.
    devSubject: get("ARP_AUTH_DEV_SUBJECT"),
    anonymousSubject: get("ARP_AUTH_ANONYMOUS_SUBJECT"),
  };
}

function fromOptions(options: AuthOptions): Raw {
  return {
    profile: options.profile,
    mode: options.mode,
    issuer: options.issuer,
    audience: options.audience,
    jwksUri: options.jwksUri,
    oidcDiscoveryUrl: options.oidcDiscoveryUrl,
    algorithms: options.algorithms,
    clockSkewSeconds: options.clockSkewSeconds,
    fetchTimeoutMs: options.fetchTimeoutMs,
    requireExp: options.requireExp,
    fetchBackoffMaxMs: options.fetchBackoffMaxMs,
    fetchMaxBytes: options.fetchMaxBytes,
    // An explicit list is taken as written: `[]` means no exempt paths.
    exemptPaths: options.exemptPaths,
    devSubject: options.devSubject,
    anonymousSubject: options.anonymousSubject,
  };
}

// ---------------------------------------------------------------------------------------------
// The one validation path

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

function trimmedList(values: readonly unknown[]): string[] {
  return values.map((value) => String(value).trim()).filter((value) => value !== "");
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

/** jose rejects a negative clockTolerance on every token: fail at start-up instead. */
function checkSkew(value: unknown, name: string, shown: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new AuthConfigError(`Invalid ${name}: ${repr(shown)} (expected a non-negative integer of seconds)`);
  }
  return value;
}

/** A positive integer (a timeout in ms, a size in bytes). */
function checkPositive(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new AuthConfigError(`Invalid ${name}: ${repr(value)} (expected a positive integer)`);
  }
  return value;
}

function checkBackoff(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new AuthConfigError(`Invalid ${name}: ${repr(value)} (expected a non-negative integer)`);
  }
  return value;
}

/** A boolean, or (from the environment) `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case. */
function checkFlag(value: unknown, name: string): boolean {
  if (typeof value === "boolean") return value;
  const word = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  if (word === "true" || word === "1" || word === "yes" || word === "on") return true;
  if (word === "false" || word === "0" || word === "no" || word === "off") return false;
  throw new AuthConfigError(`Invalid ${name}: ${repr(value)} (expected true or false)`);
}

function validate(raw: Raw, n: Names): AuthSettings {
  const defaults = profileDefaults(raw.profile, n.profile);
  const mode = checkMode(raw.mode ?? defaults?.mode ?? "required", n.mode);
  const skew = raw.clockSkewSeconds ?? 60;
  const clockSkewSeconds = checkSkew(skew, n.clockSkewSeconds, raw.clockSkewShown ?? skew);
  const fetchTimeoutMs = checkPositive(raw.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, n.fetchTimeoutMs);
  // Secure by default, unlike the Python server (see AuthOptions.requireExp).
  const requireExp = checkFlag(raw.requireExp ?? true, n.requireExp);
  const fetchBackoffMaxMs = checkBackoff(
    raw.fetchBackoffMaxMs ?? DEFAULT_FETCH_BACKOFF_MAX_MS,
    n.fetchBackoffMaxMs,
  );
  const fetchMaxBytes = checkPositive(raw.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES, n.fetchMaxBytes);
  const algorithms = checkAlgorithms(trimmedList(raw.algorithms ?? DEFAULT_ALGORITHMS), n.algorithms);
  const audiences = trimmedList(typeof raw.audience === "string" ? [raw.audience] : (raw.audience ?? []));
  const audience =
    audiences.length === 0 ? undefined : audiences.length === 1 ? audiences[0] : Object.freeze(audiences);
  if (defaults?.profile === "dev-secure-keycloak" && mode !== "disabled" && audience === undefined) {
    throw new AuthConfigError(`Dev-Secure-Keycloak profile requires ${n.audience}`);
  }

  const out: { -readonly [K in keyof AuthSettings]: AuthSettings[K] } = {
    mode,
    issuer: text(raw.issuer) ?? defaults?.issuer,
    audience,
    jwksUri: text(raw.jwksUri),
    oidcDiscoveryUrl: text(raw.oidcDiscoveryUrl),
    algorithms,
    clockSkewSeconds,
    exemptPaths: raw.exemptPaths === undefined ? undefined : Object.freeze([...raw.exemptPaths]),
    devSubject: raw.devSubject || "dev",
    anonymousSubject: raw.anonymousSubject || "anonymous",
    fetchTimeoutMs,
    requireExp,
    fetchBackoffMaxMs,
    fetchMaxBytes,
  };
  // Absent rather than present-and-undefined, so that settings compare and print cleanly.
  for (const key of ["issuer", "audience", "jwksUri", "oidcDiscoveryUrl", "exemptPaths"] as const) {
    if (out[key] === undefined) delete out[key];
  }
  const frozen = Object.freeze(out);
  namesOf.set(frozen, n);
  return frozen;
}

/**
 * Resolves settings: `options` given → from code (profile defaults apply too); `undefined` → from
 * `env` (default `process.env`) exactly as the Python server. Both go through the same validation.
 * @throws AuthConfigError naming the variable or option.
 */
export function resolveAuthSettings(
  options: AuthOptions | undefined,
  env: Record<string, string | undefined> = process.env,
): AuthSettings {
  return options === undefined
    ? validate(fromEnv(env), ENV_NAMES)
    : validate(fromOptions(options), OPTION_NAMES);
}
