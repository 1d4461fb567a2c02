/**
 * Invalid request bodies derived from the request schema itself, for the `check` command's
 * "rejects invalid bodies" checks.
 *
 * Given a schema file of the spec tree and a document that is valid against it (the schema's golden
 * vector, `conformance/json_vectors/<group>/<name>/full.json` or `minimal.json`), it returns a list of
 * {@link Mutation}s: each one's `body` is that document with exactly one change, breaking exactly one
 * constraint, so a conforming service must answer it with a 4xx error envelope.
 *
 * What it derives, walking the document and its schema together (`$ref`s between files resolved,
 * nested objects, array items and the values of maps whose `additionalProperties` is a schema
 * included), for every value present in the document:
 *
 * - `required`: a required property removed;
 * - `type`: the value replaced by one of another JSON type (which one is the seeded choice), except
 *   where the value is restricted by `enum` (the `enum` mutation covers it);
 * - `enum`: a string outside the enum;
 * - `format`: a string the format rejects (`date-time`, `uri`: the formats `@arp/model` asserts);
 * - `pattern`: a string the `pattern` rejects, or, in an object whose keys are restricted by
 *   `patternProperties` with `additionalProperties: false` (the `extensions` maps), a key matching no
 *   pattern (validators report that one with keyword `additionalProperties`: see `keyword`);
 * - `additionalProperties`: an unknown property added to an object with `additionalProperties: false`
 *   (never to an open map, `additionalProperties: true` or absent);
 * - `minimum` / `maximum`: a number just outside the bound;
 * - `minItems`: an array cut to one item fewer than the bound.
 *
 * Where an array's items or a map's values share one schema, each mutation is derived once per
 * position in the shape (the first item or value that has it), so a long array does not flood the list.
 *
 * Stable ids: `<constraint>--<pointer>` (`required--/root_node_type_ref/version`, `type--(root)`),
 * mirroring the invalid golden vectors' `<keyword>--<where>` names. The list is in document order.
 *
 * Deterministic: the only arbitrary choice (the wrong-typed value) is drawn from a hash of the seed
 * and the mutation's id, so it does not depend on the other mutations; the default seed is
 * {@link DEFAULT_MUTATION_SEED}. At most {@link DEFAULT_MUTATION_LIMIT} mutations are returned per body
 * (option `limit`): when there are more, they are taken round-robin over the constraint kinds (in the
 * order of {@link MUTATION_CONSTRAINTS}), each kind in document order, so every kind the body offers
 * is kept; the selection does not depend on the seed.
 *
 * Pure: reading files is left to {@link readSchemaDocuments} and {@link readStartingDocument}.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, sep } from "node:path";
import { formatValidators, SCHEMAS, type SchemaName } from "@arp/model";
import { UsageError } from "../errors.js";
import { locateSpecRoot } from "../spec-tree.js";

/** The constraint kinds, in the order the cap takes them round-robin. */
export const MUTATION_CONSTRAINTS = [
  "required",
  "type",
  "enum",
  "pattern",
  "format",
  "additionalProperties",
  "minimum",
  "maximum",
  "minItems",
] as const;

export type MutationConstraint = (typeof MUTATION_CONSTRAINTS)[number];

/** The seed used when none is given: reports are stable run to run. */
export const DEFAULT_MUTATION_SEED = 1;

/** The most mutations returned for one body when no `limit` is given. */
export const DEFAULT_MUTATION_LIMIT = 40;

/** One invalid body: the valid document with exactly one change. */
export interface Mutation {
  /** Stable: `<constraint>--<pointer>` (`(root)` for the empty pointer). */
  id: string;
  constraint: MutationConstraint;
  /**
   * JSON pointer (RFC 6901) of the change, as a validator reports it: the removed property for
   * `required`, the added key for `additionalProperties` and key `pattern`s, else the changed value.
   */
  pointer: string;
  /** The JSON Schema keyword a validator reports: `constraint`, except `additionalProperties` for a key `pattern`. */
  keyword: string;
  /** One sentence: what was changed and why it is invalid. */
  description: string;
  body: unknown;
}

export interface MutateOptions {
  /** Seed of the arbitrary choices (default {@link DEFAULT_MUTATION_SEED}). */
  seed?: number;
  /** Most mutations returned (default {@link DEFAULT_MUTATION_LIMIT}); `Infinity` for all. */
  limit?: number;
}

/** Schema file (below `schemas/`, `/` separators: `core/run.schema.json`) → its parsed JSON. */
export type SchemaDocuments = ReadonlyMap<string, unknown>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObject = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads every `schemas/**\/*.schema.json` of the spec tree at `dir` (any form `locateSpecRoot`
 * accepts). Throws a {@link UsageError} naming the file when one is not JSON.
 */
export function readSchemaDocuments(dir: string): SchemaDocuments {
  const schemasDir = join(locateSpecRoot(dir), "schemas");
  const files = (readdirSync(schemasDir, { recursive: true, encoding: "utf8" }) as string[])
    .filter((f) => f.endsWith(".schema.json"))
    .map((f) => f.split(sep).join("/"))
    .sort();
  const out = new Map<string, unknown>();
  for (const file of files) {
    const path = join(schemasDir, file);
    try {
      out.set(file, JSON.parse(readFileSync(path, "utf8")));
    } catch (err) {
      throw new UsageError(
        `${path}: cannot read the schema (${err instanceof Error ? err.message : String(err)})`,
        {
          path,
        },
      );
    }
  }
  return out;
}

/**
 * The golden vector of a schema file, to start mutating from: `conformance/json_vectors/<group>/<name>/`
 * `full.json`, else `minimal.json` there, else `<group>/<name>.json`. Undefined when there is none.
 */
export function readStartingDocument(
  dir: string,
  schemaFile: string,
): { path: string; document: unknown } | undefined {
  const base = join(
    locateSpecRoot(dir),
    "conformance",
    "json_vectors",
    ...schemaFile.replace(/\.schema\.json$/, "").split("/"),
  );
  for (const path of [join(base, "full.json"), join(base, "minimal.json"), `${base}.json`]) {
    if (existsSync(path)) return { path, document: JSON.parse(readFileSync(path, "utf8")) };
  }
  return undefined;
}

/**
 * The mutations of a named request schema (`RunStartRequest`) of the spec tree at `dir`, starting
 * from its golden vector. Throws a {@link UsageError} when the schema has no golden vector.
 */
export function invalidBodiesFor(dir: string, name: SchemaName, options: MutateOptions = {}): Mutation[] {
  const file = SCHEMAS[name].file;
  const start = readStartingDocument(dir, file);
  if (!start) throw new UsageError(`no golden vector for ${file} in ${dir}`, { path: dir });
  return deriveMutations(readSchemaDocuments(dir), file, start.document, options);
}

// ---------------------------------------------------------------------------------------------

/** 32-bit FNV-1a of `text`. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function escapeSegment(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

function pointerOf(path: readonly string[]): string {
  return path.map((s) => `/${escapeSegment(s)}`).join("");
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Whether `value` is of JSON Schema type `type`. */
function hasType(value: unknown, type: string): boolean {
  if (type === "integer") return Number.isInteger(value);
  return jsonType(value) === type;
}

function typesOf(schema: SchemaObject): string[] | undefined {
  const t = schema.type;
  if (typeof t === "string") return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === "string");
  return undefined;
}

/** Values of other JSON types, in a fixed order; the seed picks one that the schema's `type` refuses. */
const WRONG_TYPED: readonly Json[] = ["not the right type", 42, 1.5, true, null, [], {}];

/** A string no `enum` in the spec holds. */
const NOT_IN_ENUM = "not_a_listed_value";

const WRONG_FORMAT: Readonly<Record<string, readonly string[]>> = {
  "date-time": ["not-a-date-time", "2024-01-01"],
  uri: ["not a uri", "relative/path"],
};

const PATTERN_BREAKERS: readonly string[] = ["", " ", "!", "~~", "0", "a", "A", "a.b", "not namespaced"];

/** Keys tried, in order, for a key that matches no `patternProperties` pattern. */
const BAD_KEYS: readonly string[] = ["unnamespaced", "-", " ", "~"];

const UNKNOWN_PROPERTY = "conformance_unknown_property";

interface Context {
  docs: SchemaDocuments;
  seed: number;
  out: Mutation[];
  seen: Set<string>;
  root: unknown;
}

/** `schema` with its `$ref` chain followed (siblings of `$ref` kept), and the file it now lives in. */
function deref(schema: unknown, file: string, docs: SchemaDocuments): { schema: unknown; file: string } {
  let current = schema;
  let currentFile = file;
  for (let hops = 0; isObject(current) && typeof current.$ref === "string"; hops++) {
    if (hops > 64) throw new Error(`$ref cycle at ${currentFile}`);
    const ref = current.$ref;
    if (ref.includes("#")) throw new Error(`${currentFile}: $ref ${ref} (fragments are not supported)`);
    const target = posix.normalize(posix.join(posix.dirname(currentFile), ref));
    const doc = docs.get(target);
    if (doc === undefined) throw new Error(`${currentFile}: $ref ${ref} names a missing file (${target})`);
    const { $ref: _ref, ...siblings } = current;
    current = isObject(doc) ? { ...doc, ...siblings } : doc;
    currentFile = target;
  }
  return { schema: current, file: currentFile };
}

/** A deep copy of the root document with `change` applied to the container of `path`'s last segment. */
function changed(
  root: unknown,
  path: readonly string[],
  change: (parent: Record<string, unknown> | unknown[], key: string) => void,
): unknown {
  const copy = structuredClone(root);
  if (path.length === 0) throw new Error("changed() needs a non-empty path");
  let parent: unknown = copy;
  for (const segment of path.slice(0, -1)) {
    parent = Array.isArray(parent) ? parent[Number(segment)] : (parent as Record<string, unknown>)[segment];
  }
  change(parent as Record<string, unknown> | unknown[], path[path.length - 1]!);
  return copy;
}

function replaced(root: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return structuredClone(value);
  return changed(root, path, (parent, key) => {
    if (Array.isArray(parent)) parent[Number(key)] = structuredClone(value);
    else parent[key] = structuredClone(value);
  });
}

function add(
  ctx: Context,
  constraint: MutationConstraint,
  path: readonly string[],
  shape: string,
  body: unknown,
  description: string,
  keyword: string = constraint,
): void {
  const dedupe = `${constraint}\0${shape}`;
  if (ctx.seen.has(dedupe)) return;
  ctx.seen.add(dedupe);
  const pointer = pointerOf(path);
  ctx.out.push({
    id: `${constraint}--${pointer || "(root)"}`,
    constraint,
    pointer,
    keyword,
    description,
    body,
  });
}

function where(path: readonly string[]): string {
  return path.length === 0 ? "the body" : `\`${pointerOf(path)}\``;
}

function walk(
  ctx: Context,
  value: unknown,
  rawSchema: unknown,
  rawFile: string,
  path: string[],
  shape: string,
): void {
  const { schema, file } = deref(rawSchema, rawFile, ctx.docs);
  if (!isObject(schema)) return; // `true`, or no schema: anything goes

  const types = typesOf(schema);
  const enumValues = Array.isArray(schema.enum) ? schema.enum : undefined;

  // type: a value of another JSON type (the seeded choice)
  if (types && !enumValues) {
    const wrong = WRONG_TYPED.filter((v) => !types.some((t) => hasType(v, t)));
    if (wrong.length > 0) {
      const id = `type--${pointerOf(path) || "(root)"}`;
      const pick = wrong[hash32(`${ctx.seed}:${id}`) % wrong.length]!;
      add(
        ctx,
        "type",
        path,
        shape,
        replaced(ctx.root, path, pick),
        `${where(path)} is ${JSON.stringify(pick)}, not of type ${types.join(" or ")}`,
      );
    }
  }

  // enum: a value outside the list
  if (enumValues && !enumValues.includes(NOT_IN_ENUM)) {
    add(
      ctx,
      "enum",
      path,
      shape,
      replaced(ctx.root, path, NOT_IN_ENUM),
      `${where(path)} is ${JSON.stringify(NOT_IN_ENUM)}, not one of the enum`,
    );
  }

  if (typeof value === "string") {
    const format = typeof schema.format === "string" ? schema.format : undefined;
    const check = format ? formatValidators[format as keyof typeof formatValidators] : undefined;
    if (format && check && !enumValues) {
      const bad = [...(WRONG_FORMAT[format] ?? []), `not a valid ${format}`, ""].find((s) => !check(s));
      if (bad !== undefined) {
        add(
          ctx,
          "format",
          path,
          shape,
          replaced(ctx.root, path, bad),
          `${where(path)} is ${JSON.stringify(bad)}, not a valid ${format}`,
        );
      }
    }
    if (typeof schema.pattern === "string" && !enumValues) {
      const re = new RegExp(schema.pattern, "u");
      const formatOk = (s: string) => !check || check(s);
      const bad = PATTERN_BREAKERS.find((s) => !re.test(s) && formatOk(s));
      if (bad !== undefined) {
        add(
          ctx,
          "pattern",
          path,
          shape,
          replaced(ctx.root, path, bad),
          `${where(path)} is ${JSON.stringify(bad)}, which does not match ${schema.pattern}`,
        );
      }
    }
  }

  if (typeof value === "number") {
    const integer = types?.includes("integer") === true && !types.includes("number");
    if (typeof schema.minimum === "number") {
      const below = integer ? Math.ceil(schema.minimum) - 1 : schema.minimum - 1;
      add(
        ctx,
        "minimum",
        path,
        shape,
        replaced(ctx.root, path, below),
        `${where(path)} is ${below}, below the minimum ${schema.minimum}`,
      );
    }
    if (typeof schema.maximum === "number") {
      const above = integer ? Math.floor(schema.maximum) + 1 : schema.maximum + 1;
      add(
        ctx,
        "maximum",
        path,
        shape,
        replaced(ctx.root, path, above),
        `${where(path)} is ${above}, above the maximum ${schema.maximum}`,
      );
    }
  }

  if (Array.isArray(value)) {
    const min = schema.minItems;
    if (typeof min === "number" && min >= 1 && value.length >= min) {
      const cut = value.slice(0, min - 1);
      add(
        ctx,
        "minItems",
        path,
        shape,
        replaced(ctx.root, path, cut),
        `${where(path)} has ${cut.length} item${cut.length === 1 ? "" : "s"}, fewer than the minimum ${min}`,
      );
    }
    if (schema.items !== undefined) {
      value.forEach((item, i) => {
        walk(ctx, item, schema.items, file, [...path, String(i)], `${shape}/*`);
      });
    }
    return;
  }

  if (!isObject(value)) return;
  const properties = isObject(schema.properties) ? schema.properties : {};
  const patterns = isObject(schema.patternProperties) ? Object.entries(schema.patternProperties) : [];
  const compiled = patterns.map(([p, s]) => [new RegExp(p, "u"), s] as const);

  // required: each required property removed
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name !== "string" || !(name in value)) continue;
      const at = [...path, name];
      add(
        ctx,
        "required",
        at,
        `${shape}/${escapeSegment(name)}`,
        changed(ctx.root, at, (parent, key) => {
          delete (parent as Record<string, unknown>)[key];
        }),
        `${where(at)} removed (required)`,
      );
    }
  }

  // additionalProperties: false → an unknown property, or a key that matches no pattern
  if (schema.additionalProperties === false) {
    if (compiled.length > 0) {
      const key = BAD_KEYS.find(
        (k) => !(k in value) && !(k in properties) && compiled.every(([re]) => !re.test(k)),
      );
      if (key !== undefined) {
        const at = [...path, key];
        add(
          ctx,
          "pattern",
          at,
          `${shape}/!key`,
          replaced(ctx.root, at, "x"),
          `${where(at)} added: the key matches no pattern of ${patterns.map(([p]) => p).join(", ")}`,
          "additionalProperties",
        );
      }
    } else {
      let key = UNKNOWN_PROPERTY;
      while (key in properties || key in value) key += "_";
      const at = [...path, key];
      add(
        ctx,
        "additionalProperties",
        at,
        `${shape}/!key`,
        replaced(ctx.root, at, true),
        `${where(at)} added: not a property of this object`,
      );
    }
  }

  // children, in document order
  for (const [key, child] of Object.entries(value)) {
    const at = [...path, key];
    if (key in properties) {
      walk(ctx, child, properties[key], file, at, `${shape}/${escapeSegment(key)}`);
      continue;
    }
    const matched = compiled.filter(([re]) => re.test(key));
    if (matched.length === 1) walk(ctx, child, matched[0]![1], file, at, `${shape}/*`);
    else if (matched.length === 0 && isObject(schema.additionalProperties)) {
      walk(ctx, child, schema.additionalProperties, file, at, `${shape}/*`);
    }
  }
}

/** The first `limit` of `all`, taken round-robin over the constraint kinds, returned in `all`'s order. */
function capped(all: Mutation[], limit: number): Mutation[] {
  if (all.length <= limit) return all;
  const byKind = MUTATION_CONSTRAINTS.map((kind) => all.filter((m) => m.constraint === kind));
  const chosen = new Set<Mutation>();
  for (let round = 0; chosen.size < limit; round++) {
    for (const list of byKind) {
      const m = list[round];
      if (m && chosen.size < limit) chosen.add(m);
    }
  }
  return all.filter((m) => chosen.has(m));
}

/**
 * The mutations of `start` (a document valid against `schemaFile`): see the module comment.
 * `schemaFile` is a key of `docs` (`run_gateway/runs/run_start_request.schema.json`).
 */
export function deriveMutations(
  docs: SchemaDocuments,
  schemaFile: string,
  start: unknown,
  options: MutateOptions = {},
): Mutation[] {
  const schema = docs.get(schemaFile);
  if (schema === undefined) throw new Error(`no schema file ${schemaFile}`);
  const limit = options.limit ?? DEFAULT_MUTATION_LIMIT;
  const ctx: Context = {
    docs,
    seed: options.seed ?? DEFAULT_MUTATION_SEED,
    out: [],
    seen: new Set(),
    root: start,
  };
  walk(ctx, start, schema, schemaFile, [], "");
  return capped(ctx.out, limit);
}
