/** When a failed attempt may be repeated, and how long to wait first. */
import type { OperationSpec } from "@arp/model";
import type { RetryPolicy } from "./options.js";

/** Whether every field at `path` below `value` is a string (`*` steps into each item of a non-empty array). */
function hasKey(value: unknown, path: readonly string[], at = 0): boolean {
  if (at === path.length) return typeof value === "string";
  if (typeof value !== "object" || value === null) return false;
  if (path[at] === "*") {
    return Array.isArray(value) && value.length > 0 && value.every((item) => hasKey(item, path, at + 1));
  }
  return hasKey((value as Record<string, unknown>)[path[at]!], path, at + 1);
}

/**
 * Whether `op` may be sent again after a failure, as its operation table says: `safe` operations
 * (GETs, cancels) always; `keyed` ones when the body carries its idempotency key, so that a repeat
 * cannot create a second resource (`start_run` with a caller-chosen `run_id` makes the server answer
 * 409 for a duplicate, which the client surfaces rather than retries); or when the caller says so.
 */
export function isIdempotent(op: OperationSpec, body: unknown, declared: boolean | undefined): boolean {
  if (declared !== undefined) return declared;
  if (op.retry === "safe") return true;
  return op.retry === "keyed" && op.idempotencyKey !== undefined && hasKey(body, op.idempotencyKey);
}

/** Exponential backoff before attempt `attempt + 1` (attempt is 1-based), capped, with optional jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const computed = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return policy.jitter === "full" ? Math.floor(random() * computed) : computed;
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The default clock: resolves after `ms`, rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
