/** When a failed attempt may be repeated, and how long to wait first. */
import type { OperationSpec } from "@arp/model";
import type { RetryPolicy } from "./options.js";

/**
 * POSTs that carry their own idempotency key, by operationId: repeating them cannot create a
 * second resource. `start_run` with a caller-chosen `run_id` makes the server answer 409 for a
 * duplicate, which the client surfaces rather than retries.
 */
const KEYED_POSTS: Record<string, (body: unknown) => boolean> = {
  start_run: (body) => typeof (body as { run_id?: unknown } | undefined)?.run_id === "string",
  create_node_runs: (body) => {
    const runs = (body as { node_runs?: unknown } | undefined)?.node_runs;
    return (
      Array.isArray(runs) && runs.length > 0 && runs.every((r) => typeof r?.idempotency_key === "string")
    );
  },
};

/** Whether `op` may be sent again after a failure: GETs, cancels, keyed POSTs, or when the caller says so. */
export function isIdempotent(op: OperationSpec, body: unknown, declared: boolean | undefined): boolean {
  if (declared !== undefined) return declared;
  if (op.method === "GET") return true;
  if (op.operationId.startsWith("cancel_")) return true;
  return KEYED_POSTS[op.operationId]?.(body) ?? false;
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
