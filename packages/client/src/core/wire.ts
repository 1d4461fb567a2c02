/**
 * Lenient reading: what the client accepts from the other ARP implementations (the Python SDK's
 * FastAPI servers and the JARVIS stack) that the schemas themselves do not allow. Requests are never
 * touched, and `strictWire: true` turns every leniency here off. Each one is a fallback that runs only
 * after a document failed strict validation, so reading a conforming server costs nothing extra.
 */
import type { CompiledError, CompiledValidator } from "@arp/model";

/** `/a/b~1c` → `["a", "b/c"]` (RFC 6901). */
function segments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * FastAPI (pydantic) serialises every unset optional field as `null` (`"ended_at": null`), which no
 * ARP v1 schema allows. After a failed validation, this deletes each object property whose value is
 * `null` and at which validation failed, then validates again. A `null` in a required property stays
 * an error (the second validation reports it missing, and the caller reports the first result); a
 * `null` that a schema does allow (inside an open map such as `data` or `inputs`) causes no error and is
 * kept. Changes `data` in place: call it only on a document the client parsed itself.
 *
 * Validators stop after `MAX_VALIDATION_ISSUES` errors, so a large document may need several passes:
 * this repeats while a pass drops something (each pass deletes at least one property, so it ends).
 *
 * Returns whether `data` is now valid; `check.errors` then holds the result of the last validation.
 */
export function dropNullOptionals(check: CompiledValidator, data: unknown): boolean {
  while (dropReported(check.errors ?? [], data)) if (check(data)) return true;
  return false;
}

/** Deletes each reported property whose value is `null`; true when one was. */
function dropReported(errors: readonly CompiledError[], data: unknown): boolean {
  let dropped = false;
  for (const error of errors) {
    const path = segments(error.instancePath);
    const key = path.pop();
    if (key === undefined) continue;
    let parent: unknown = data;
    for (const segment of path) {
      parent =
        typeof parent === "object" && parent !== null
          ? (parent as Record<string, unknown>)[segment]
          : undefined;
    }
    if (typeof parent !== "object" || parent === null || Array.isArray(parent)) continue;
    const record = parent as Record<string, unknown>;
    if (Object.hasOwn(record, key) && record[key] === null) {
      delete record[key];
      dropped = true;
    }
  }
  return dropped;
}

/**
 * JARVIS's generated stream endpoints answer `application/json` with one JSON string whose content is
 * the NDJSON text (`"{\"seq\":0,...}\n{\"seq\":1,...}\n"`). True when a stream response looks like
 * that: a JSON media type rather than `application/x-ndjson`.
 */
export function isQuotedNdjson(contentType: string | null): boolean {
  return contentType !== null && /^application\/json\s*(?:;|$)/i.test(contentType);
}
