/**
 * The golden vectors against the precompiled validators: every valid vector validates, every invalid
 * one breaks exactly the one constraint its file name announces, and the set covers every schema and
 * every kind of constraint the spec uses.
 */
import { join } from "node:path";
import { hasReference, invalidVectorsDir, readVectors, referenceSpecRoot, vectorsDir } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILES, SCHEMAS, validate } from "../src/index.js";

const files = new Set(Object.keys(SCHEMA_FILES));
const valid = readVectors(vectorsDir, files);
const invalid = readVectors(invalidVectorsDir, files);
if (!hasReference) {
  console.warn(
    `reference spec not found at ${referenceSpecRoot}: tests against the published ARP contract are skipped`,
  );
}

function check(schemaFile: string, data: unknown) {
  const name = SCHEMA_FILES[schemaFile]!;
  return validate(name, data);
}

describe("our golden vectors", () => {
  it.each(valid.map((v) => [v.path, v] as const))("valid %s", (_path, v) => {
    const result = check(v.schemaFile, v.data);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it.each(invalid.map((v) => [v.path, v] as const))(
    "invalid %s breaks exactly its named constraint",
    (path, v) => {
      const result = check(v.schemaFile, v.data);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const named = path.split("/").pop()!.split("--")[0]!;
      expect(result.errors).toHaveLength(1);
      const [issue] = result.errors;
      if (named === "pattern") {
        // The spec's only patterns are the extension-key patterns of `patternProperties`; a key that
        // matches none is reported by the additionalProperties: false beside them.
        expect(issue!.keyword).toBe("additionalProperties");
        expect(issue!.pointer).toMatch(/(^|\/)extensions\/[^/]+$|^\/[^/]+$/);
      } else {
        expect(issue!.keyword).toBe(named);
      }
    },
  );

  it("every schema file has a minimal and a full valid vector and at least three invalid ones", () => {
    for (const file of files) {
      const base = file.replace(/\.schema\.json$/, "");
      const mine = valid.filter((v) => v.schemaFile === file).map((v) => v.path);
      expect(mine, file).toEqual(expect.arrayContaining([`${base}/minimal.json`, `${base}/full.json`]));
      expect(invalid.filter((v) => v.schemaFile === file).length, file).toBeGreaterThanOrEqual(3);
    }
  });

  it("across the set, every kind of constraint the spec uses is broken, also inside nested objects", () => {
    const kinds = new Set(invalid.map((v) => v.path.split("/").pop()!.split("--")[0]!));
    for (const kind of [
      "required",
      "additionalProperties",
      "enum",
      "pattern",
      "format",
      "minimum",
      "maximum",
      "minItems",
      "type",
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    const formats = new Set(
      invalid.flatMap((v) => {
        const r = check(v.schemaFile, v.data);
        return r.ok ? [] : r.errors.filter((e) => e.keyword === "format").map((e) => String(e.params.format));
      }),
    );
    expect([...formats].sort()).toEqual(["date-time", "uri"]);
    const nested = invalid.filter((v) => {
      const r = check(v.schemaFile, v.data);
      return !r.ok && r.errors.some((e) => e.pointer.split("/").length > 3);
    });
    expect(nested.length).toBeGreaterThanOrEqual(10);
  });

  it("named sub-schemas have validators too", () => {
    expect(Object.keys(SCHEMAS)).toEqual(expect.arrayContaining(["NodeRunCreateSpec", "SideEffectClass"]));
  });
});

describe.skipIf(!hasReference)("the published reference vectors", () => {
  const refValid = hasReference
    ? readVectors(join(referenceSpecRoot, "conformance/json_vectors"), files)
    : [];
  const refInvalid = hasReference
    ? readVectors(join(referenceSpecRoot, "conformance/json_vectors_invalid"), files)
    : [];

  it("cover every schema file of theirs", () => {
    expect(refValid.length).toBeGreaterThanOrEqual(48);
    expect(refInvalid.length).toBeGreaterThanOrEqual(48);
  });

  it.each(refValid.map((v) => [v.path, v] as const))("valid %s", (_p, v) => {
    const result = check(v.schemaFile, v.data);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it.each(refInvalid.map((v) => [v.path, v] as const))("invalid %s is rejected", (_p, v) => {
    expect(check(v.schemaFile, v.data).ok).toBe(false);
  });
});
