import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const specRoot = join(repoRoot, "spec/v1");
export const referenceRoot = resolve(repoRoot, "../shared/reference/arp-standard/spec/v1");
export const hasReference = existsSync(referenceRoot);
if (!hasReference) {
  console.warn(
    `reference spec not found at ${referenceRoot}: tests against the published ARP contract are skipped`,
  );
}

export interface Vector {
  /** Path below the vectors folder, `/`-separated. */
  path: string;
  /** Schema file below `schemas/` it maps to. */
  schemaFile: string;
  data: unknown;
}

/** Every `*.json` vector below `dir`, mapped to its schema file (flat or folder layout). */
export function readVectors(dir: string, schemaFiles: ReadonlySet<string>): Vector[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => f.split(sep).join("/"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((path) => {
      const flat = path.replace(/\.json$/, ".schema.json");
      const folder = path.replace(/\/[^/]+\.json$/, ".schema.json");
      const schemaFile = schemaFiles.has(flat) ? flat : folder;
      if (!schemaFiles.has(schemaFile)) throw new Error(`${path}: maps to no schema`);
      return { path, schemaFile, data: JSON.parse(readFileSync(join(dir, path), "utf8")) };
    });
}
