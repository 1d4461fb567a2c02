/**
 * Loads a spec tree (`<root>/openapi/*.openapi.yaml`, `<root>/schemas/**\/*.schema.json`) from disk,
 * gives every schema a canonical `$id` and rewrites every relative `$ref` to that absolute form, so
 * later stages never deal with file-relative paths again.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { SCHEMA_ID_BASE } from "./config.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface LoadedSchema {
  /** Path below `schemas/`, with `/` separators: `core/run.schema.json`. */
  file: string;
  /** Canonical id: `SCHEMA_ID_BASE + file`. */
  id: string;
  /** The schema with `$id` set and every `$ref` absolute. */
  schema: JsonObject;
}

export interface LoadedOpenApi {
  /** File name below `openapi/`: `run-gateway.openapi.yaml`. */
  file: string;
  doc: JsonObject;
}

export interface LoadedSpec {
  root: string;
  schemas: LoadedSchema[];
  openapi: LoadedOpenApi[];
  /** sha256 of every input file (path and bytes), sorted: it changes exactly when the output may. */
  hash: string;
}

export class SpecLoadError extends Error {
  override name = "SpecLoadError";
}

function listFiles(dir: string, suffix: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    throw new SpecLoadError(`spec folder not found: ${dir}`);
  }
  return entries
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.split(sep).join("/"))
    .sort();
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Canonical id of a schema file path below `schemas/`. */
export function schemaId(file: string): string {
  return SCHEMA_ID_BASE + file;
}

/** Resolves a `$ref` written in `fromFile` (a path below `schemas/`) to a canonical id. */
function absoluteRef(ref: string, fromFile: string): string {
  if (ref.startsWith("#")) return schemaId(fromFile) + ref;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  const [path = "", fragment] = ref.split("#", 2);
  const target = posix.normalize(posix.join(posix.dirname(fromFile), path));
  return schemaId(target) + (fragment === undefined ? "" : `#${fragment}`);
}

function rewriteRefs(node: Json, fromFile: string): Json {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, fromFile));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === "$ref" && typeof value === "string"
        ? absoluteRef(value, fromFile)
        : rewriteRefs(value, fromFile);
  }
  return out;
}

function readJson(path: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new SpecLoadError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new SpecLoadError(`${path}: a schema file must hold a JSON object`);
  return parsed;
}

/** Loads `root` (a `spec/v1` folder). */
export function loadSpec(root: string): LoadedSpec {
  const hash = createHash("sha256");
  const schemas: LoadedSchema[] = listFiles(join(root, "schemas"), ".schema.json").map((file) => {
    const path = join(root, "schemas", file);
    hash.update(`schemas/${file}\0`).update(readFileSync(path)).update("\0");
    const raw = readJson(path);
    if ("$id" in raw) throw new SpecLoadError(`${path}: schemas must not set $id; the loader assigns it`);
    const schema = rewriteRefs(raw, file) as JsonObject;
    return { file, id: schemaId(file), schema: { $id: schemaId(file), ...schema } };
  });
  const openapi: LoadedOpenApi[] = listFiles(join(root, "openapi"), ".openapi.yaml").map((file) => {
    const path = join(root, "openapi", file);
    const text = readFileSync(path, "utf8");
    hash.update(`openapi/${file}\0`).update(text).update("\0");
    const doc: unknown = parseYaml(text);
    if (!isObject(doc)) throw new SpecLoadError(`${path}: not an OpenAPI document`);
    return { file, doc };
  });
  if (schemas.length === 0) throw new SpecLoadError(`no *.schema.json files below ${join(root, "schemas")}`);
  if (openapi.length === 0) throw new SpecLoadError(`no *.openapi.yaml files below ${join(root, "openapi")}`);
  return { root, schemas, openapi, hash: hash.digest("hex") };
}

/**
 * Maps a `$ref` found in an OpenAPI file (relative to `openapi/`) to the schema file it names,
 * as a path below `schemas/`. Returns undefined for local refs (`#/components/...`).
 */
export function openApiRefToSchemaFile(ref: string): string | undefined {
  if (ref.startsWith("#")) return undefined;
  const target = posix.normalize(posix.join("openapi", ref.split("#", 1)[0]!));
  if (!target.startsWith("schemas/")) throw new SpecLoadError(`OpenAPI $ref outside schemas/: ${ref}`);
  return target.slice("schemas/".length);
}

const ANNOTATIONS = new Set(["title", "description", "examples", "$comment"]);
/** Keywords whose values are maps from names to schemas: their keys are names, never keywords. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"]);

/**
 * A copy of `schema` without annotations (`title`, `description`, `examples`, `$comment`) and
 * vendor keys (`x-*`): what a validator needs. A property *named* `description` is kept.
 */
export function stripAnnotations(node: Json, isNameMap = false): Json {
  if (Array.isArray(node)) return node.map((n) => stripAnnotations(n));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isNameMap && (ANNOTATIONS.has(key) || key.startsWith("x-"))) continue;
    out[key] = stripAnnotations(value, !isNameMap && SCHEMA_MAPS.has(key));
  }
  return out;
}

/** Relative path for messages. */
export function displayPath(path: string, from = process.cwd()): string {
  return relative(from, path) || ".";
}

export { isObject };
