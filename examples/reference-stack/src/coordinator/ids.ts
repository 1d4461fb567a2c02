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
