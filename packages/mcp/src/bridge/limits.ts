/** The bridge's limits: every one has a default here, an option, a README row and a test. */

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULTS = {
  /** Time to start a server and finish MCP's `initialize`, ms. */
  connectTimeoutMs: 30_000,
  /** Time for each `tools/list` page, ms. */
  listTimeoutMs: 30_000,
  /** Tools kept per server; the ones beyond are ignored, with a warning. */
  maxTools: 1_000,
  /** `tools/list` pages followed per listing (a server whose cursor never ends is cut there). */
  maxToolPages: 100,
  /** Least time between the end of one `tools/list` listing and the next (`list_changed` coalesced), ms. */
  minListIntervalMs: 1_000,
  /** Time one `tools/call` may take, ms (0: no limit of its own; a node run's deadline still applies). */
  callTimeoutMs: 0,
  /** First wait before reconnecting to a server that went away, ms; doubles with each failure. */
  reconnectInitialDelayMs: 500,
  /** Longest wait between reconnect attempts, ms. */
  reconnectMaxDelayMs: 30_000,
  /** How often a connected server is pinged to notice that it went away, ms (0: never). */
  pingIntervalMs: 15_000,
  /** Time for a ping's answer, ms; no answer in time counts as a lost connection. */
  pingTimeoutMs: 10_000,
  /** Time to end an HTTP server's session (`DELETE`) when the bridge closes, ms; then it is dropped. */
  closeTimeoutMs: 2_000,
  /** Largest outputs of one node run, as UTF-8 bytes of JSON. */
  maxOutputBytes: 1024 * 1024,
  /** Longest tool error text (or transport error message) quoted in a node run's error. */
  maxErrorTextLength: 2_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULTS]: number };

/** A whole number in [min, max], else a RangeError naming the option. */
export function wholeNumber(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return n;
}

/** The limits with `given` over the defaults, each checked. */
export function resolveLimits(given: Partial<Record<keyof Limits, number | undefined>> = {}): Limits {
  const ms = (name: keyof Limits, min = 0) =>
    wholeNumber(name, given[name], DEFAULTS[name], min, MAX_TIMER_MS);
  const count = (name: keyof Limits) => wholeNumber(name, given[name], DEFAULTS[name], 1);
  const limits: Limits = {
    connectTimeoutMs: ms("connectTimeoutMs", 1),
    listTimeoutMs: ms("listTimeoutMs", 1),
    maxTools: count("maxTools"),
    maxToolPages: count("maxToolPages"),
    minListIntervalMs: ms("minListIntervalMs"),
    callTimeoutMs: ms("callTimeoutMs"),
    reconnectInitialDelayMs: ms("reconnectInitialDelayMs", 1),
    reconnectMaxDelayMs: ms("reconnectMaxDelayMs", 1),
    pingIntervalMs: ms("pingIntervalMs"),
    pingTimeoutMs: ms("pingTimeoutMs", 1),
    closeTimeoutMs: ms("closeTimeoutMs", 1),
    maxOutputBytes: count("maxOutputBytes"),
    maxErrorTextLength: count("maxErrorTextLength"),
  };
  if (limits.reconnectMaxDelayMs < limits.reconnectInitialDelayMs) {
    throw new RangeError("reconnectMaxDelayMs must be at least reconnectInitialDelayMs");
  }
  return limits;
}

/** The wait before reconnect attempt `attempt` (0 first): doubling, capped, minus up to 20% jitter. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - 0.2 * random()));
}
