/**
 * The golden-vector runner: walks a folder of vectors that must validate and a folder of vectors that
 * must be rejected, maps each file to its schema by path, and records what the validator says. Pure
 * apart from reading files: it writes nothing and never exits.
 */
import { isUtf8 } from "node:buffer";
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatIssues, toIssues, type ValidationIssue } from "@arp/model";
import { UsageError } from "./errors.js";
import type { SchemaValidators } from "./spec-tree.js";

/** What a vector must do: validate (`json_vectors`) or be rejected (`json_vectors_invalid`). */
export type Expectation = "valid" | "invalid";

/** `ok` when the vector did what its folder says; `mismatch` otherwise. */
export type VectorStatus = "ok" | "mismatch";

/** The verdict on one vector file. */
export interface VectorResult {
  /** Path below its vectors folder, `/` separators: `core/run/minimal.json`. */
  path: string;
  /** Absolute path of the file. */
  file: string;
  expected: Expectation;
  /** The schema it was checked against, as a path below `schemas/`: `core/run.schema.json`. */
  schema: string;
  status: VectorStatus;
  /** Every issue the validator reported; empty when the vector validated. */
  issues: ValidationIssue[];
  /**
   * One line: for a mismatch, why (the first issues, or `expected a rejection, but it validated`);
   * for a rejected invalid vector, the reason it was rejected; empty for a valid vector that validated.
   */
  detail: string;
}

export interface RunVectorsOptions {
  /** Schema file → validator: `precompiledValidators()` or `compileSpecTree(dir).validators`. */
  validators: SchemaValidators;
  /** Folder of vectors that must validate; left out, none are run. */
  vectorsDir?: string | undefined;
  /** Folder of vectors that must be rejected; left out, none are run. */
  invalidVectorsDir?: string | undefined;
}

export interface VectorRun {
  /** Valid vectors first, then invalid ones; each folder walked in sorted order. */
  results: VectorResult[];
  passed: number;
  failed: number;
  /**
   * Usage problems (missing or empty folder, a file that maps to no schema, an unreadable or
   * non-JSON file), each naming its path. All are collected; files without a problem still run.
   */
  errors: UsageError[];
}

/**
 * The largest vector file read, bytes (16 MiB; the spec's own are under 10 KB): a larger one is a
 * usage problem, reported without reading it, so a stray dump cannot exhaust memory.
 */
const MAX_VECTOR_BYTES = 16 * 1024 * 1024;

/** Sorted by code point, not locale, so the order is the same on every machine. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every `*.json` file below `dir`, as paths relative to it with `/` separators, sorted. Follows
 * symbolic links (once per real folder); anything that cannot be read is reported, not skipped.
 */
function listVectors(dir: string, errors: UsageError[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (abs: string, rel: string): void => {
    let names: string[];
    try {
      const real = realpathSync(abs);
      if (seen.has(real)) return;
      seen.add(real);
      names = readdirSync(abs).sort(byName);
    } catch (err) {
      errors.push(
        new UsageError(`${abs}: cannot read the folder (${(err as Error).message})`, { path: abs }),
      );
      return;
    }
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === "" ? name : `${rel}/${name}`;
      let isDir: boolean;
      try {
        isDir = statSync(childAbs).isDirectory();
      } catch (err) {
        // A dangling link or a vanished file: only our business when it claims to be a vector.
        if (name.endsWith(".json")) {
          errors.push(
            new UsageError(`${childAbs}: cannot read the vector (${(err as Error).message})`, {
              path: childAbs,
            }),
          );
        }
        continue;
      }
      if (isDir) walk(childAbs, childRel);
      else if (name.endsWith(".json")) out.push(childRel);
    }
  };
  walk(dir, "");
  return out;
}

/**
 * The schema a vector is checked against. `a/b/c.json` maps to `a/b/c.schema.json` when that schema
 * exists, else to `a/b.schema.json` (the folder form: `c.json` is one case of schema `a/b`).
 */
export function schemaFileFor(vectorPath: string, validators: SchemaValidators): string | undefined {
  const stem = vectorPath.slice(0, -".json".length);
  const direct = `${stem}.schema.json`;
  if (validators.has(direct)) return direct;
  const slash = stem.lastIndexOf("/");
  if (slash > 0) {
    const folder = `${stem.slice(0, slash)}.schema.json`;
    if (validators.has(folder)) return folder;
  }
  return undefined;
}

function checkFolder(dir: string): UsageError | undefined {
  try {
    if (statSync(dir).isDirectory()) return undefined;
    return new UsageError(`not a folder: ${dir}`, { path: dir });
  } catch {
    return new UsageError(`folder not found: ${dir}`, { path: dir });
  }
}

function runFolder(
  dirArg: string,
  expected: Expectation,
  validators: SchemaValidators,
  run: VectorRun,
): void {
  const dir = resolve(dirArg);
  const missing = checkFolder(dir);
  if (missing) {
    run.errors.push(missing);
    return;
  }
  const paths = listVectors(dir, run.errors);
  if (paths.length === 0) {
    // A CI job pointed at the wrong folder must not pass by checking nothing.
    run.errors.push(new UsageError(`no *.json vectors below ${dir}`, { path: dir }));
    return;
  }
  for (const path of paths) {
    const file = join(dir, ...path.split("/"));
    const schema = schemaFileFor(path, validators);
    if (schema === undefined) {
      const stem = path.slice(0, -".json".length);
      const tried = [`${stem}.schema.json`];
      if (stem.includes("/")) tried.push(`${stem.slice(0, stem.lastIndexOf("/"))}.schema.json`);
      run.errors.push(
        new UsageError(`${file}: maps to no schema (looked for schemas/${tried.join(" and schemas/")})`, {
          path: file,
        }),
      );
      continue;
    }
    let bytes: Buffer;
    try {
      const size = statSync(file).size;
      if (size > MAX_VECTOR_BYTES) {
        run.errors.push(
          new UsageError(`${file}: the vector is larger than ${MAX_VECTOR_BYTES} bytes (${size})`, {
            path: file,
          }),
        );
        continue;
      }
      bytes = readFileSync(file);
    } catch (err) {
      run.errors.push(
        new UsageError(`${file}: cannot read the vector (${(err as Error).message})`, { path: file }),
      );
      continue;
    }
    // JSON is UTF-8 (RFC 8259 §8.1): decoding other bytes would turn them into U+FFFD silently, and a
    // vector that is not what it says could validate.
    if (!isUtf8(bytes)) {
      run.errors.push(new UsageError(`${file}: not valid UTF-8`, { path: file }));
      continue;
    }
    const text = bytes.toString("utf8");
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      run.errors.push(new UsageError(`${file}: not valid JSON (${(err as Error).message})`, { path: file }));
      continue;
    }
    const validate = validators.get(schema)!;
    const valid = validate(data);
    const issues = valid ? [] : toIssues(validate.errors);
    const ok = valid === (expected === "valid");
    let detail = "";
    if (expected === "invalid")
      detail = valid ? "expected a rejection, but it validated" : formatIssues(issues);
    else if (!valid) detail = formatIssues(issues);
    run.results.push({ path, file, expected, schema, status: ok ? "ok" : "mismatch", issues, detail });
    if (ok) run.passed++;
    else run.failed++;
  }
}

/**
 * Validates every `*.json` vector below `vectorsDir` (each must validate) and below
 * `invalidVectorsDir` (each must be rejected). Other files, such as a README, are ignored.
 */
export function runVectors(options: RunVectorsOptions): VectorRun {
  const run: VectorRun = { results: [], passed: 0, failed: 0, errors: [] };
  const { validators, vectorsDir, invalidVectorsDir } = options;
  if (vectorsDir === undefined && invalidVectorsDir === undefined) {
    run.errors.push(new UsageError("no vectors folder given: pass vectorsDir, invalidVectorsDir or both"));
    return run;
  }
  if (vectorsDir !== undefined) runFolder(vectorsDir, "valid", validators, run);
  if (invalidVectorsDir !== undefined) runFolder(invalidVectorsDir, "invalid", validators, run);
  return run;
}
