/**
 * Spec trees on disk: find the `v1` folder a user points at, and compile its JSON Schemas at run time
 * with the same format checks as the precompiled validators of `@arp/model`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { type CompiledValidator, formatValidators, SCHEMA_FILES, SCHEMAS } from "@arp/model";
import { Ajv2020 } from "ajv/dist/2020.js";
import { UsageError } from "./errors.js";

/** Schema file (path below `schemas/`, `/` separators, e.g. `core/run.schema.json`) → its validator. */
export type SchemaValidators = ReadonlyMap<string, CompiledValidator>;

/** A spec tree compiled at run time. */
export interface CompiledSpecTree {
  /** The `v1` folder (absolute): it holds `schemas/` and, usually, `conformance/`. */
  root: string;
  validators: SchemaValidators;
  /** What ajv warned about while compiling (e.g. an unknown `format`, which it then ignores). */
  warnings: string[];
}

/**
 * The `$id` given to each schema file, so relative `$ref`s resolve between files. The `.invalid`
 * top-level domain is reserved (RFC 2606): these ids name schemas, they are never fetched. Same base
 * as the code generator's.
 */
const SCHEMA_ID_BASE = "https://arp.invalid/spec/v1/schemas/";

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Finds the spec tree at or below `dir`: `dir` itself when it holds `schemas/` (a `v1` folder),
 * else `dir/v1`, else `dir/spec/v1` (a repository root). Returns the absolute path of that folder;
 * throws a {@link UsageError} naming `dir` when none of the three holds `schemas/`.
 */
export function locateSpecRoot(dir: string): string {
  const abs = resolve(dir);
  if (!isDirectory(abs)) throw new UsageError(`spec path not found: ${abs}`, { path: abs });
  for (const candidate of [abs, join(abs, "v1"), join(abs, "spec", "v1")]) {
    if (isDirectory(join(candidate, "schemas"))) return candidate;
  }
  throw new UsageError(
    `no ARP spec tree at ${abs}: expected schemas/ in it (a v1 folder), v1/schemas/, or spec/v1/schemas/ (a repository root)`,
    { path: abs },
  );
}

/** The bundled spec's precompiled validators (from `@arp/model`), keyed like a compiled tree. */
export function precompiledValidators(): SchemaValidators {
  const map = new Map<string, CompiledValidator>();
  for (const [file, name] of Object.entries(SCHEMA_FILES)) map.set(file, SCHEMAS[name].validate);
  return map;
}

function listSchemaFiles(schemasDir: string): string[] {
  return (readdirSync(schemasDir, { recursive: true, encoding: "utf8" }) as string[])
    .filter((f) => f.endsWith(".schema.json"))
    .map((f) => f.split(sep).join("/"))
    .sort();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Compiles every `schemas/**\/*.schema.json` of the spec tree at `dir` (any form
 * {@link locateSpecRoot} accepts) with ajv (draft 2020-12, all errors, `date-time` and `uri`
 * asserted exactly as `@arp/model` asserts them).
 *
 * Throws a {@link UsageError} listing every problem (in `problems`, each naming its file) when a
 * file is not JSON, is not a schema object, or does not compile (e.g. a `$ref` to a missing file).
 */
export function compileSpecTree(dir: string): CompiledSpecTree {
  const root = locateSpecRoot(dir);
  const schemasDir = join(root, "schemas");
  const warnings: string[] = [];
  const ajv = new Ajv2020({
    allErrors: true,
    // Foreign trees may carry vendor keywords (`x-*`): accept them rather than refuse the tree.
    strict: false,
    // `toIssues` from `@arp/model` writes the messages from keyword and params.
    messages: false,
    // Keep ajv off the console: its warnings are returned to the caller instead.
    logger: {
      log: () => {},
      warn: (...args: unknown[]) => void warnings.push(args.map(String).join(" ")),
      error: (...args: unknown[]) => void warnings.push(args.map(String).join(" ")),
    },
  });
  for (const [name, check] of Object.entries(formatValidators)) ajv.addFormat(name, check);

  const problems: UsageError[] = [];
  const files = listSchemaFiles(schemasDir);
  if (files.length === 0) {
    throw new UsageError(`no *.schema.json files below ${schemasDir}`, { path: schemasDir });
  }

  const added: string[] = [];
  for (const file of files) {
    const path = join(schemasDir, file);
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      problems.push(new UsageError(`${path}: cannot read the schema (${messageOf(err)})`, { path }));
      continue;
    }
    if (!isObject(schema)) {
      problems.push(new UsageError(`${path}: a schema file must hold a JSON object`, { path }));
      continue;
    }
    const id = SCHEMA_ID_BASE + file;
    try {
      // A schema that sets its own `$id` keeps it (its relative `$ref`s resolve against it); the
      // key still lets every other file reach it by path.
      ajv.addSchema("$id" in schema ? schema : { $id: id, ...schema }, id);
      added.push(file);
    } catch (err) {
      problems.push(new UsageError(`${path}: not a valid schema (${messageOf(err)})`, { path }));
    }
  }

  const validators = new Map<string, CompiledValidator>();
  for (const file of added) {
    const path = join(schemasDir, file);
    try {
      const validate = ajv.getSchema(SCHEMA_ID_BASE + file);
      if (!validate) throw new Error("ajv returned no validator");
      validators.set(file, validate as CompiledValidator);
    } catch (err) {
      problems.push(new UsageError(`${path}: does not compile (${messageOf(err)})`, { path }));
    }
  }

  if (problems.length > 0) {
    throw new UsageError(
      `spec tree ${root} has ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${problems[0]!.message}`,
      { path: root, problems },
    );
  }
  return { root, validators, warnings };
}
