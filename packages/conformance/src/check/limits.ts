/**
 * The bounds of the durations `check` takes (`--timeout`, `--poll-timeout`, `--poll-interval`, and
 * `runConformance()`'s `timeoutMs`, `pollTimeoutMs`, `pollIntervalMs`). Each becomes a `setTimeout`,
 * whose delay is a signed 32-bit number of milliseconds: past 2^31 - 1 ms (about 24.8 days) Node
 * fires it after 1 ms instead, so a huge `--timeout` would time every request out at once. One day
 * is far more than any check needs and well under that.
 */
import { UsageError } from "../errors.js";

/** The longest duration accepted, in seconds (one day). */
export const MAX_DURATION_SECONDS = 86_400;
/** {@link MAX_DURATION_SECONDS} in milliseconds. */
export const MAX_DURATION_MS = MAX_DURATION_SECONDS * 1000;

/**
 * Throws {@link UsageError} unless `value` (milliseconds, named `name` in the message) is a finite
 * number, more than 0 (or at least 0 with `zero`), and at most {@link MAX_DURATION_MS}.
 */
export function checkDurationMs(name: string, value: number, zero = false): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!zero && value === 0)) {
    throw new UsageError(
      `${name} must be a number of milliseconds ${zero ? "≥ 0" : "> 0"}, not ${String(value)}`,
    );
  }
  if (value > MAX_DURATION_MS) {
    throw new UsageError(
      `${name} must be at most ${MAX_DURATION_MS} ms (${MAX_DURATION_SECONDS} s, one day), not ${value}`,
    );
  }
}
