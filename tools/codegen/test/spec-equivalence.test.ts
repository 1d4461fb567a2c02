/**
 * Proves that the project's own contract in `spec/v1` is the same contract as the published
 * ARP Standard v1 (reference copy at `../shared/reference/arp-standard/spec/v1`, relative to the
 * repository root). Prose (`description`, `summary`, `$comment`, `examples`) and vendor
 * extensions (`x-*`, OpenAPI only) are ours and are removed before comparing; everything else
 * must be deep-equal.
 *
 * Set `ARP_REFERENCE_SPEC` to compare against another copy of the reference tree. When the
 * reference folder does not exist (for example in a fresh clone), the equivalence suite is
 * skipped with a warning; the normaliser tests and the checks on our own tree still run.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

type Json = null | boolean | number | string | Json[] | JsonObject;
type JsonObject = { [key: string]: Json };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const ourSpecDir = path.join(repoRoot, "spec", "v1");
const referenceSpecDir = process.env.ARP_REFERENCE_SPEC
  ? path.resolve(process.env.ARP_REFERENCE_SPEC)
  : path.resolve(repoRoot, "../shared/reference/arp-standard/spec/v1");
const referenceExists = existsSync(referenceSpecDir);

if (!referenceExists) {
  console.warn(
    `[spec-equivalence] Reference folder not found at ${referenceSpecDir}; ` +
      "skipping the equivalence test against the published ARP Standard v1.",
  );
}

// ---------------------------------------------------------------------------
// Normaliser
// ---------------------------------------------------------------------------

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clone(value: Json): Json {
  return structuredClone(value);
}

/** Keys that hold prose at a schema position. */
const SCHEMA_PROSE_KEYS = new Set(["description", "$comment", "examples"]);
/** Keys whose value is a map from a name (property name, pattern, definition name) to a schema. */
const SCHEMA_NAME_MAP_KEYS = new Set([
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
]);
/** Keys whose value is a single sub-schema (or, for `items`, possibly an array of schemas). */
const SCHEMA_VALUE_KEYS = new Set([
  "items",
  "additionalProperties",
  "additionalItems",
  "unevaluatedItems",
  "unevaluatedProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "contentSchema",
]);
/** Keys whose value is an array of sub-schemas. */
const SCHEMA_ARRAY_KEYS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);

interface NormaliseOptions {
  /** Also drop `x-*` keys (OpenAPI vendor extensions) at schema positions. */
  readonly stripVendorKeys: boolean;
}

/**
 * Removes prose from a JSON Schema. Only keys at schema positions are considered: the keys
 * of `properties`, `patternProperties` and `$defs` maps are names and are always kept (a
 * property called `description` is part of the contract), and values such as `enum`,
 * `const`, `default` and `required` are copied verbatim.
 */
function normaliseSchema(node: Json, options: NormaliseOptions = { stripVendorKeys: false }): Json {
  if (Array.isArray(node)) {
    // Only reached for the array form of `items`.
    return node.map((item) => normaliseSchema(item, options));
  }
  if (!isObject(node)) {
    return clone(node); // boolean schemas
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_PROSE_KEYS.has(key)) continue;
    if (options.stripVendorKeys && key.startsWith("x-")) continue;
    if (SCHEMA_NAME_MAP_KEYS.has(key) && isObject(value)) {
      const names: JsonObject = {};
      for (const [name, schema] of Object.entries(value)) {
        names[name] = normaliseSchema(schema, options);
      }
      out[key] = names;
    } else if (SCHEMA_VALUE_KEYS.has(key)) {
      out[key] = normaliseSchema(value, options);
    } else if (SCHEMA_ARRAY_KEYS.has(key) && Array.isArray(value)) {
      out[key] = value.map((schema) => normaliseSchema(schema, options));
    } else {
      out[key] = clone(value);
    }
  }
  return out;
}

/** OpenAPI keys whose value is a map keyed by names (paths, status codes, media types, ...). */
const OPENAPI_NAME_MAP_KEYS = new Set([
  "paths",
  "responses",
  "content",
  "headers",
  "links",
  "callbacks",
  "encoding",
  "variables",
  "parameters", // a name map under `components`; an array in operations and path items
  "examples",
  "requestBodies",
  "securitySchemes",
  "scopes",
  "mapping",
]);
/** OpenAPI keys whose value is example or default data, copied verbatim. */
const OPENAPI_DATA_KEYS = new Set(["example", "value", "default", "enum"]);
const OPENAPI_PROSE_KEYS = new Set(["description", "summary"]);
const OPENAPI_SCHEMA_OPTIONS: NormaliseOptions = { stripVendorKeys: true };

function normaliseOpenApiNode(node: Json): Json {
  if (Array.isArray(node)) {
    return node.map((item) => normaliseOpenApiNode(item));
  }
  if (!isObject(node)) {
    return clone(node);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (OPENAPI_PROSE_KEYS.has(key) || key.startsWith("x-")) continue;
    if (key === "schema") {
      out[key] = normaliseSchema(value, OPENAPI_SCHEMA_OPTIONS);
    } else if (key === "schemas" && isObject(value)) {
      const names: JsonObject = {};
      for (const [name, schema] of Object.entries(value)) {
        names[name] = normaliseSchema(schema, OPENAPI_SCHEMA_OPTIONS);
      }
      out[key] = names;
    } else if (key === "security" && Array.isArray(value)) {
      // Security requirement objects are keyed by scheme names: keep them verbatim.
      out[key] = clone(value);
    } else if (OPENAPI_NAME_MAP_KEYS.has(key) && isObject(value)) {
      const names: JsonObject = {};
      for (const [name, item] of Object.entries(value)) {
        names[name] = normaliseOpenApiNode(item);
      }
      out[key] = names;
    } else if (OPENAPI_DATA_KEYS.has(key)) {
      out[key] = clone(value);
    } else {
      out[key] = normaliseOpenApiNode(value);
    }
  }
  return out;
}

/** Removes prose (`description`, `summary`) and every `x-*` vendor extension from an OpenAPI document. */
function normaliseOpenApi(document: Json): Json {
  return normaliseOpenApiNode(document);
}

function formatPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function kindOf(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Describes the first place where `ours` and `theirs` differ, or returns undefined when they are deep-equal. */
function firstDifference(ours: Json, theirs: Json, at = "$"): string | undefined {
  const oursKind = kindOf(ours);
  const theirsKind = kindOf(theirs);
  if (oursKind !== theirsKind) {
    return `${at}: ours is ${oursKind} ${JSON.stringify(ours)}, reference is ${theirsKind} ${JSON.stringify(theirs)}`;
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    const shared = Math.min(ours.length, theirs.length);
    for (let index = 0; index < shared; index++) {
      const difference = firstDifference(ours[index] ?? null, theirs[index] ?? null, formatPath(at, index));
      if (difference !== undefined) return difference;
    }
    if (ours.length !== theirs.length) {
      return `${at}: ours has ${ours.length} items, reference has ${theirs.length}: ours ${JSON.stringify(ours)}, reference ${JSON.stringify(theirs)}`;
    }
    return undefined;
  }
  if (isObject(ours) && isObject(theirs)) {
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort();
    for (const key of keys) {
      const here = formatPath(at, key);
      if (!(key in ours)) return `${here}: missing in ours (reference has ${JSON.stringify(theirs[key])})`;
      if (!(key in theirs)) return `${here}: not in the reference (ours has ${JSON.stringify(ours[key])})`;
      const difference = firstDifference(ours[key] ?? null, theirs[key] ?? null, here);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return ours === theirs
    ? undefined
    : `${at}: ours ${JSON.stringify(ours)}, reference ${JSON.stringify(theirs)}`;
}

// ---------------------------------------------------------------------------
// Spec tree helpers
// ---------------------------------------------------------------------------

/** Files under `root/sub`, as sorted POSIX paths relative to `root/sub`; empty when the folder is absent. */
function listFiles(root: string, sub: string): string[] {
  const base = path.join(root, sub);
  if (!existsSync(base)) return [];
  const found: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else if (entry.isFile()) found.push(relative);
    }
  };
  walk(base, "");
  return found.sort();
}

function readJson(file: string): Json {
  const parsed: Json = JSON.parse(readFileSync(file, "utf8"));
  return parsed;
}

function readYaml(file: string): Json {
  const parsed: Json = YAML.parse(readFileSync(file, "utf8"));
  return parsed;
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

interface OperationEntry {
  readonly file: string;
  readonly path: string;
  readonly method: string;
  readonly operation: JsonObject;
}

function operationsOf(file: string, document: Json): OperationEntry[] {
  const entries: OperationEntry[] = [];
  const paths = isObject(document) ? document.paths : undefined;
  if (!isObject(paths)) return entries;
  for (const [route, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (isObject(operation)) entries.push({ file, path: route, method, operation });
    }
  }
  return entries;
}

function operationLabel(entry: OperationEntry): string {
  return `${entry.file}#${String(entry.operation.operationId)}`;
}

/** Media type objects of every response of an operation, keyed by media type. */
function responseMediaTypes(operation: JsonObject): Array<[string, JsonObject]> {
  const found: Array<[string, JsonObject]> = [];
  const responses = operation.responses;
  if (!isObject(responses)) return found;
  for (const response of Object.values(responses)) {
    if (!isObject(response) || !isObject(response.content)) continue;
    for (const [mediaType, media] of Object.entries(response.content)) {
      if (isObject(media)) found.push([mediaType, media]);
    }
  }
  return found;
}

const ourSchemaFiles = listFiles(ourSpecDir, "schemas");
const ourOpenApiFiles = listFiles(ourSpecDir, "openapi");
const referenceSchemaFiles = listFiles(referenceSpecDir, "schemas");
const referenceOpenApiFiles = listFiles(referenceSpecDir, "openapi");
const union = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])].sort();

const ourOperations = ourOpenApiFiles.flatMap((file) =>
  operationsOf(file, readYaml(path.join(ourSpecDir, "openapi", file))),
);

const EXPECTED_OPTIONAL_OPERATIONS = [
  "atomic-executor.openapi.yaml#cancel_atomic_node_run",
  "composite-executor.openapi.yaml#cancel_composite_node_run",
  "run-coordinator.openapi.yaml#stream_node_run_events",
  "run-coordinator.openapi.yaml#stream_run_events",
  "run-gateway.openapi.yaml#stream_run_events",
];

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe("spec normaliser", () => {
  it("keeps a property named description but strips schema descriptions", () => {
    const schema: Json = {
      title: "NodeType",
      description: "prose",
      type: "object",
      properties: {
        description: { description: "prose about the property", type: "string" },
        kind: { description: "prose", $ref: "node_kind.schema.json" },
      },
    };
    expect(normaliseSchema(schema)).toEqual({
      title: "NodeType",
      type: "object",
      properties: {
        description: { type: "string" },
        kind: { $ref: "node_kind.schema.json" },
      },
    });
  });

  it("strips prose at nested schema positions and keeps data verbatim", () => {
    const schema: Json = {
      type: "object",
      $comment: "note",
      examples: [{ a: 1 }],
      patternProperties: { "^x\\.y$": { description: "any value" } },
      $defs: { examples: { description: "a definition named examples", type: "string" } },
      properties: {
        list: { type: "array", items: { description: "item", type: "object", required: ["description"] } },
        choice: { anyOf: [{ description: "a", type: "string" }, { type: "integer" }] },
      },
      enum: [{ description: "an enum value is data" }],
      default: { description: "a default is data" },
    };
    expect(normaliseSchema(schema)).toEqual({
      type: "object",
      patternProperties: { "^x\\.y$": {} },
      $defs: { examples: { type: "string" } },
      properties: {
        list: { type: "array", items: { type: "object", required: ["description"] } },
        choice: { anyOf: [{ type: "string" }, { type: "integer" }] },
      },
      enum: [{ description: "an enum value is data" }],
      default: { description: "a default is data" },
    });
  });

  it("strips summary, description and x- keys from OpenAPI documents but keeps names", () => {
    const document: Json = {
      openapi: "3.0.3",
      info: { title: "T", description: "prose", version: "v1", "x-logo": "l" },
      paths: {
        "/v1/things": {
          get: {
            summary: "prose",
            description: "prose",
            operationId: "list_things",
            "x-arp-optional": true,
            responses: {
              "200": {
                description: "prose",
                content: {
                  "application/x-ndjson": {
                    schema: { type: "string", description: "prose", "x-note": 1 },
                    "x-arp-ndjson-item": "../schemas/core/run_event.schema.json",
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: "object",
            properties: { description: { type: "string" }, "x-legacy": { type: "string" } },
          },
        },
      },
    };
    expect(normaliseOpenApi(document)).toEqual({
      openapi: "3.0.3",
      info: { title: "T", version: "v1" },
      paths: {
        "/v1/things": {
          get: {
            operationId: "list_things",
            responses: { "200": { content: { "application/x-ndjson": { schema: { type: "string" } } } } },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: "object",
            properties: { description: { type: "string" }, "x-legacy": { type: "string" } },
          },
        },
      },
    });
  });

  it("reports the first differing path of deliberately altered copies", () => {
    const runState = normaliseSchema(readJson(path.join(ourSpecDir, "schemas/core/run_state.schema.json")));
    const alteredEnum = structuredClone(runState);
    if (isObject(alteredEnum) && Array.isArray(alteredEnum.enum)) alteredEnum.enum[1] = "in_progress";
    expect(firstDifference(runState, runState)).toBeUndefined();
    expect(firstDifference(alteredEnum, runState)).toMatch(/^\$\.enum\[1\]: ours "in_progress"/);
    expect(alteredEnum).not.toEqual(runState);

    const createRequest = normaliseSchema(
      readJson(
        path.join(ourSpecDir, "schemas/run_coordinator/node_runs/node_runs_create_request.schema.json"),
      ),
    );
    const alteredRequired = structuredClone(createRequest);
    if (isObject(alteredRequired) && Array.isArray(alteredRequired.required)) alteredRequired.required.pop();
    expect(firstDifference(alteredRequired, createRequest)).toMatch(/^\$\.required: ours has 2 items/);
    expect(alteredRequired).not.toEqual(createRequest);

    const gateway = normaliseOpenApi(readYaml(path.join(ourSpecDir, "openapi/run-gateway.openapi.yaml")));
    const alteredOperation = structuredClone(gateway);
    const startRun =
      isObject(alteredOperation) && isObject(alteredOperation.paths)
        ? alteredOperation.paths["/v1/runs"]
        : undefined;
    if (isObject(startRun) && isObject(startRun.post)) startRun.post.operationId = "begin_run";
    expect(firstDifference(alteredOperation, gateway)).toBe(
      '$.paths["/v1/runs"].post.operationId: ours "begin_run", reference "start_run"',
    );
    expect(alteredOperation).not.toEqual(gateway);
  });
});

describe("spec/v1 vendor extensions", () => {
  it("has OpenAPI operations to check", () => {
    expect(ourOperations.length).toBeGreaterThan(0);
  });

  it("names the item schema of every NDJSON response with x-arp-ndjson-item", () => {
    const ndjson = ourOperations.flatMap((entry) =>
      responseMediaTypes(entry.operation)
        .filter(([mediaType]) => mediaType === "application/x-ndjson")
        .map(([, media]) => ({ entry, media })),
    );
    expect(ndjson.map(({ entry }) => operationLabel(entry)).sort()).toEqual([
      "run-coordinator.openapi.yaml#stream_node_run_events",
      "run-coordinator.openapi.yaml#stream_run_events",
      "run-gateway.openapi.yaml#stream_run_events",
    ]);
    for (const { entry, media } of ndjson) {
      const label = operationLabel(entry);
      expect(media.schema, label).toEqual({ type: "string" });
      const item = media["x-arp-ndjson-item"];
      expect(typeof item, `${label}: x-arp-ndjson-item must be a plain string path`).toBe("string");
      const target = path.resolve(ourSpecDir, "openapi", String(item));
      expect(target.startsWith(path.join(ourSpecDir, "schemas") + path.sep), label).toBe(true);
      expect(existsSync(target), `${label}: ${String(item)} does not exist`).toBe(true);
      const itemSchema = readJson(target);
      expect(isObject(itemSchema) ? itemSchema.title : undefined, label).toBe("RunEvent");
    }
  });

  it("uses x-arp-ndjson-item only on NDJSON media types", () => {
    const misplaced = ourOperations.flatMap((entry) =>
      responseMediaTypes(entry.operation)
        .filter(([mediaType, media]) => mediaType !== "application/x-ndjson" && "x-arp-ndjson-item" in media)
        .map(([mediaType]) => `${operationLabel(entry)} ${mediaType}`),
    );
    expect(misplaced).toEqual([]);
  });

  it("marks exactly the optional operations with x-arp-optional: true", () => {
    const marked = ourOperations.filter((entry) => "x-arp-optional" in entry.operation);
    for (const entry of marked) {
      expect(entry.operation["x-arp-optional"], operationLabel(entry)).toBe(true);
    }
    expect(marked.map(operationLabel).sort()).toEqual(EXPECTED_OPTIONAL_OPERATIONS);
  });
});

describe.skipIf(!referenceExists)(`spec/v1 is equivalent to the reference at ${referenceSpecDir}`, () => {
  it("has the same files under schemas/ and openapi/", () => {
    expect(ourSchemaFiles).toEqual(referenceSchemaFiles);
    expect(ourOpenApiFiles).toEqual(referenceOpenApiFiles);
    expect(ourSchemaFiles.length).toBeGreaterThan(0);
    expect(ourOpenApiFiles.length).toBeGreaterThan(0);
  });

  it.each(union(ourSchemaFiles, referenceSchemaFiles))("schemas/%s defines the same schema", (file) => {
    const oursPath = path.join(ourSpecDir, "schemas", file);
    const theirsPath = path.join(referenceSpecDir, "schemas", file);
    expect(existsSync(oursPath), `schemas/${file} is missing in spec/v1`).toBe(true);
    expect(existsSync(theirsPath), `schemas/${file} is not in the reference`).toBe(true);
    const ours = normaliseSchema(readJson(oursPath));
    const theirs = normaliseSchema(readJson(theirsPath));
    const difference = firstDifference(ours, theirs);
    if (difference !== undefined) expect.fail(`schemas/${file} differs from the reference at ${difference}`);
    expect(ours).toEqual(theirs);
  });

  it.each(union(ourOpenApiFiles, referenceOpenApiFiles))("openapi/%s defines the same API", (file) => {
    const oursPath = path.join(ourSpecDir, "openapi", file);
    const theirsPath = path.join(referenceSpecDir, "openapi", file);
    expect(existsSync(oursPath), `openapi/${file} is missing in spec/v1`).toBe(true);
    expect(existsSync(theirsPath), `openapi/${file} is not in the reference`).toBe(true);
    const ours = normaliseOpenApi(readYaml(oursPath));
    const theirs = normaliseOpenApi(readYaml(theirsPath));
    const difference = firstDifference(ours, theirs);
    if (difference !== undefined) expect.fail(`openapi/${file} differs from the reference at ${difference}`);
    expect(ours).toEqual(theirs);
  });

  it("marks as x-arp-optional exactly the operations the reference summarises as (optional)", () => {
    const referenceOptional = referenceOpenApiFiles
      .flatMap((file) => operationsOf(file, readYaml(path.join(referenceSpecDir, "openapi", file))))
      .filter((entry) => String(entry.operation.summary ?? "").includes("(optional)"))
      .map(operationLabel)
      .sort();
    expect(referenceOptional).toEqual(EXPECTED_OPTIONAL_OPERATIONS);
    const ourOptional = ourOperations
      .filter((entry) => entry.operation["x-arp-optional"] === true)
      .map(operationLabel)
      .sort();
    expect(ourOptional).toEqual(referenceOptional);
  });
});
