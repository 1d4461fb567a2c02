/**
 * The spec's golden vectors as test fixtures, in one place for every package's tests: where the spec
 * and the published reference contract are, every vector of a folder mapped to its schema file, and
 * one vector of a schema as a fresh object.
 *
 * Schemas are named by file (`core/run.schema.json`, as in `SCHEMAS[name].file` of `@arp/model`), so
 * this helper does not depend on the package whose tests use it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
/** `spec/v1` of this repository. */
export const specRoot = join(repoRoot, "spec", "v1");
/** The golden vectors that must validate. */
export const vectorsDir = join(specRoot, "conformance", "json_vectors");
/** The golden vectors that must be rejected. */
export const invalidVectorsDir = join(specRoot, "conformance", "json_vectors_invalid");
/** The published ARP Standard's `spec/v1`, when a copy sits beside the clone (`../shared/reference`). */
export const referenceSpecRoot = resolve(repoRoot, "..", "shared", "reference", "arp-standard", "spec", "v1");
/** Whether that reference copy is there; tests against it skip, saying so, when it is not. */
export const hasReference = existsSync(join(referenceSpecRoot, "schemas"));

export interface Vector {
  /** Path below the vectors folder, `/`-separated. */
  path: string;
  /** Schema file below `schemas/` it maps to. */
  schemaFile: string;
  data: unknown;
}

/**
 * Every `*.json` vector below `dir`, sorted, mapped to its schema file: `a/b.json` and
 * `a/b/<case>.json` map to `a/b.schema.json`. Throws on a vector that maps to no schema.
 */
export function readVectors(dir: string, schemaFiles: ReadonlySet<string>): Vector[] {
  return (readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[])
    .map((f) => f.split(sep).join("/"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((path) => {
      const flat = path.replace(/\.json$/, ".schema.json");
      const folder = path.replace(/\/[^/]+\.json$/, ".schema.json");
      const schemaFile = schemaFiles.has(flat) ? flat : folder;
      if (!schemaFiles.has(schemaFile)) throw new Error(`${path}: maps to no schema`);
      return { path, schemaFile, data: JSON.parse(readFileSync(join(dir, path), "utf8")) as unknown };
    });
}

/**
 * One golden vector of a schema, freshly parsed (callers may mutate it):
 * `goldenVector("core/run.schema.json", "full")` reads `json_vectors/core/run/full.json`.
 */
export function goldenVector(schemaFile: string, variant: "minimal" | "full"): unknown {
  if (!schemaFile.endsWith(".schema.json")) throw new Error(`not a schema file: ${schemaFile}`);
  const file = join(vectorsDir, `${schemaFile.slice(0, -".schema.json".length)}`, `${variant}.json`);
  return JSON.parse(readFileSync(file, "utf8")) as unknown;
}
