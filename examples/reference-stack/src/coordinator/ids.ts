/** Ids and digests: deterministic, so the same input always gives the same id or fingerprint. */
import { createHash } from "node:crypto";
import type * as T from "@arp/model";

/**
 * Node run ids are the run's id and a number: `<run_id>.0` is the root, then `.1`, `.2`, ... in
 * creation order (the run's `node_count`, so two replicas cannot hand out the same one). Unique
 * across runs: the part after the last dot is always a number.
 */
export function nodeRunId(runId: string, n: number): string {
  return `${runId}.${n}`;
}

/** The longest `run_id` and `idempotency_key` the coordinator takes (the store indexes them). */
export const MAX_ID_LENGTH = 256;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `id` cannot be a run id or idempotency key here, or undefined when it can: at most
 * {@link MAX_ID_LENGTH} characters, no control characters, well-formed Unicode (a database keeps
 * ids as text, which holds no NUL, and its driver would turn a lone surrogate into U+FFFD).
 */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (CONTROL.test(id)) return "has a control character";
  if (LONE_SURROGATE.test(id)) return "is not well-formed Unicode (a lone surrogate)";
  return undefined;
}

/** JSON with sorted keys: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A digest of a create spec: equal for a retried request, different for another spec. */
export function fingerprint(spec: T.NodeRunCreateSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}
