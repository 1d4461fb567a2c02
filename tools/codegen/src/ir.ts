/**
 * The intermediate model: what the emitters need to know about the spec, with every `$ref`
 * resolved to a name. Building it is where the spec is checked for things the generator cannot
 * express; each such case fails generation with a message naming the file.
 */
import { RESERVED_TYPE_NAMES, X_NDJSON_ITEM, X_OPTIONAL } from "./config.js";
import {
  isObject,
  type Json,
  type JsonObject,
  type LoadedSpec,
  openApiRefToSchemaFile,
  SpecLoadError,
  schemaId,
} from "./load.js";

export type TypeNode =
  | { kind: "ref"; name: string }
  | { kind: "string"; enum?: string[]; format?: string }
  | { kind: "integer" | "number"; minimum?: number; maximum?: number }
  | { kind: "boolean" }
  | { kind: "unknown" }
  | { kind: "array"; items: TypeNode; minItems?: number }
  | { kind: "object"; properties: PropertyIR[]; additional: TypeNode | false; patternKeys: string[] };

export interface PropertyIR {
  name: string;
  required: boolean;
  description?: string;
  type: TypeNode;
}

export interface NamedSchemaIR {
  /** Exported TypeScript name: the title, unless it shadows a JavaScript global. */
  name: string;
  title: string;
  /** Path below `schemas/`. */
  file: string;
  /** JSON pointer inside the file; "" for the file's root schema. */
  pointer: string;
  /** Canonical id, with `#pointer` for schemas nested in a file. */
  id: string;
  description?: string;
  type: TypeNode;
}

export interface ParamIR {
  name: string;
  required: boolean;
  /** Named schema of the value, when the spec refers to one (`NodeKind`); else a plain string. */
  schema?: string;
  description?: string;
}

export type ResponseIR =
  | { status: number; kind: "json"; schema: string; array: boolean }
  | { status: number; kind: "ndjson"; itemSchema: string }
  | { status: number; kind: "empty" };

export interface OperationIR {
  /** As written in the spec: `start_run`. */
  operationId: string;
  /** Method name: `startRun`. */
  name: string;
  method: "GET" | "POST";
  path: string;
  summary: string;
  description?: string;
  /** In the order they appear in the path. */
  pathParams: ParamIR[];
  queryParams: ParamIR[];
  requestBody?: { schema: string; required: boolean };
  response: ResponseIR;
  conformance: "required" | "optional";
  auth: "bearer" | "none";
}

export interface ServiceIR {
  /** From the file name: `run-gateway`. */
  key: string;
  /** `RunGateway`, the stem of `RunGatewayClient` and `BaseRunGatewayServer`. */
  name: string;
  title: string;
  description?: string;
  file: string;
  operations: OperationIR[];
}

export interface SpecIR {
  hash: string;
  schemas: NamedSchemaIR[];
  services: ServiceIR[];
}

/** Keywords the type and validator emitters understand; anything else fails generation. */
const SUPPORTED_KEYWORDS = new Set([
  "$id",
  "$ref",
  "$comment",
  "title",
  "description",
  "examples",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "patternProperties",
  "items",
  "enum",
  "format",
  "minimum",
  "maximum",
  "minItems",
]);

export function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** `RunGateway` → `RUN_GATEWAY`. */
export function constantCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export function camelCase(text: string): string {
  const p = pascalCase(text);
  return p[0]!.toLowerCase() + p.slice(1);
}

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

function fail(where: string, message: string): never {
  throw new SpecLoadError(`${where}: ${message}`);
}

function str(value: Json | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Builds the schema half of the IR. */
function buildSchemas(spec: LoadedSpec): NamedSchemaIR[] {
  const named = new Map<string, NamedSchemaIR>(); // by id
  const byName = new Map<string, NamedSchemaIR>();

  // Names are decided before any type is converted, so refs can be resolved in any order.
  const pending: { entry: NamedSchemaIR; node: JsonObject }[] = [];
  const register = (file: string, pointer: string, node: JsonObject): NamedSchemaIR => {
    const where = `schemas/${file}${pointer ? `#${pointer}` : ""}`;
    const title = str(node.title) ?? fail(where, "every schema file needs a title (it names the type)");
    let name = pascalCase(title);
    if (RESERVED_TYPE_NAMES.has(name)) {
      if (pointer) fail(where, `title "${title}" shadows a JavaScript global`);
      name = pascalCase(
        file
          .split("/")
          .pop()!
          .replace(/\.schema\.json$/, ""),
      );
    }
    const clash = byName.get(name);
    if (clash) fail(where, `type name ${name} is already used by schemas/${clash.file}`);
    const id = schemaId(file) + (pointer ? `#${pointer}` : "");
    const entry: NamedSchemaIR = {
      name,
      title,
      file,
      pointer,
      id,
      ...(str(node.description) ? { description: str(node.description) } : {}),
      type: { kind: "unknown" },
    };
    named.set(id, entry);
    byName.set(name, entry);
    pending.push({ entry, node });
    return entry;
  };

  // Register every titled sub-schema of a file, so that it becomes a named type too.
  const scan = (file: string, pointer: string, node: Json, isRoot: boolean): void => {
    if (!isObject(node)) return;
    if (!isRoot && typeof node.title === "string") register(file, pointer, node);
    const sub = (key: string, child: Json) => scan(file, `${pointer}/${escapePointer(key)}`, child, false);
    if (isObject(node.properties))
      for (const [k, v] of Object.entries(node.properties))
        scan(file, `${pointer}/properties/${escapePointer(k)}`, v, false);
    if (isObject(node.patternProperties))
      for (const [k, v] of Object.entries(node.patternProperties))
        scan(file, `${pointer}/patternProperties/${escapePointer(k)}`, v, false);
    if (node.items !== undefined) sub("items", node.items);
    if (isObject(node.additionalProperties)) sub("additionalProperties", node.additionalProperties);
  };

  for (const { file, schema } of spec.schemas) {
    register(file, "", schema);
    scan(file, "", schema, true);
  }

  const convert = (node: Json, file: string, pointer: string): TypeNode => {
    const where = `schemas/${file}${pointer ? `#${pointer}` : ""}`;
    const child = (suffix: string, value: Json) => convert(value, file, `${pointer}/${suffix}`);
    if (node === true) return { kind: "unknown" };
    if (!isObject(node)) fail(where, "a schema must be an object or true");
    for (const key of Object.keys(node)) {
      if (!SUPPORTED_KEYWORDS.has(key) && !key.startsWith("x-"))
        fail(where, `keyword "${key}" is not supported by the generator`);
    }
    if (typeof node.$ref === "string") {
      const target = named.get(node.$ref) ?? fail(where, `$ref ${node.$ref} does not name a titled schema`);
      return { kind: "ref", name: target.name };
    }
    // A titled schema nested in a file is a named type of its own (registered by scan()).
    const nested = pointer ? named.get(`${schemaId(file)}#${pointer}`) : undefined;
    if (nested && typeof node.title === "string" && !converting.has(nested.id))
      return { kind: "ref", name: nested.name };
    switch (node.type) {
      case undefined:
        if (Object.keys(node).some((k) => !["title", "description", "$comment", "examples"].includes(k)))
          fail(where, "a schema without a type must be empty (any value)");
        return { kind: "unknown" };
      case "string": {
        const out: TypeNode = { kind: "string" };
        if (node.enum !== undefined) {
          if (!Array.isArray(node.enum) || !node.enum.every((v) => typeof v === "string"))
            fail(where, "enum values must be strings");
          out.enum = node.enum as string[];
        }
        if (typeof node.format === "string") out.format = node.format;
        return out;
      }
      case "integer":
      case "number":
        return {
          kind: node.type,
          ...(typeof node.minimum === "number" ? { minimum: node.minimum } : {}),
          ...(typeof node.maximum === "number" ? { maximum: node.maximum } : {}),
        };
      case "boolean":
        return { kind: "boolean" };
      case "array":
        if (node.items === undefined) fail(where, "arrays need items");
        return {
          kind: "array",
          items: child("items", node.items),
          ...(typeof node.minItems === "number" ? { minItems: node.minItems } : {}),
        };
      case "object": {
        const required = Array.isArray(node.required) ? (node.required as string[]) : [];
        const props = isObject(node.properties) ? node.properties : {};
        for (const r of required) if (!(r in props)) fail(where, `required property "${r}" is not declared`);
        const properties: PropertyIR[] = Object.entries(props).map(([name, value]) => {
          const description = isObject(value) ? str(value.description) : undefined;
          return {
            name,
            required: required.includes(name),
            ...(description ? { description } : {}),
            type: child(`properties/${escapePointer(name)}`, value),
          };
        });
        const ap = node.additionalProperties;
        const additional: TypeNode | false =
          ap === false
            ? false
            : ap === undefined || ap === true
              ? { kind: "unknown" }
              : child("additionalProperties", ap);
        const patternKeys = isObject(node.patternProperties) ? Object.keys(node.patternProperties) : [];
        return { kind: "object", properties, additional, patternKeys };
      }
      default:
        return fail(where, `type ${JSON.stringify(node.type)} is not supported by the generator`);
    }
  };

  // While a named schema's own body is converted, its title must not turn it into a ref to itself.
  const converting = new Set<string>();
  for (const { entry, node } of pending) {
    converting.add(entry.id);
    entry.type = convert(node, entry.file, entry.pointer);
    converting.delete(entry.id);
  }
  return [...named.values()];
}

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Builds the service half of the IR from the OpenAPI documents. */
function buildServices(spec: LoadedSpec, schemas: NamedSchemaIR[]): ServiceIR[] {
  const byFile = new Map(schemas.filter((s) => s.pointer === "").map((s) => [s.file, s.name]));

  return spec.openapi.map(({ file, doc }) => {
    const where = `openapi/${file}`;
    const components =
      isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};

    // A schema reference in an operation: `#/components/schemas/X` whose entry points at a file.
    const schemaName = (node: Json, at: string): string => {
      if (!isObject(node) || typeof node.$ref !== "string") fail(at, "expected a $ref to a schema");
      let ref = node.$ref;
      if (ref.startsWith("#/components/schemas/")) {
        const entry = components[ref.slice("#/components/schemas/".length)];
        if (!isObject(entry) || typeof entry.$ref !== "string")
          fail(at, `${ref} is not a component that names a schema file`);
        ref = entry.$ref;
      }
      const target = openApiRefToSchemaFile(ref) ?? fail(at, `cannot resolve ${ref}`);
      return byFile.get(target) ?? fail(at, `${ref} names no schema file`);
    };

    const docSecurity = Array.isArray(doc.security) ? doc.security : [];
    const operations: OperationIR[] = [];
    const paths = isObject(doc.paths) ? doc.paths : fail(where, "no paths");
    for (const [path, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const at = `${where} ${method.toUpperCase()} ${path}`;
        if (method !== "get" && method !== "post") fail(at, "only GET and POST operations are supported");
        const operationId = str(op.operationId) ?? fail(at, "operationId is required");

        const params = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => {
          if (!isObject(p)) fail(at, "parameter must be an object");
          const name = str(p.name) ?? fail(at, "parameter without name");
          const schema =
            isObject(p.schema) && typeof p.schema.$ref === "string" ? schemaName(p.schema, at) : undefined;
          if (!schema && !(isObject(p.schema) && p.schema.type === "string"))
            fail(at, `parameter ${name}: only string parameters or schema refs are supported`);
          const param: ParamIR & { in: string } = {
            name,
            in: str(p.in) ?? "",
            required: p.required === true,
            ...(schema ? { schema } : {}),
            ...(str(p.description) ? { description: str(p.description) } : {}),
          };
          return param;
        });
        const pathOrder = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
        const pathParams = pathOrder.map((n) => {
          const p =
            params.find((q) => q.in === "path" && q.name === n) ??
            fail(at, `path parameter {${n}} is not declared`);
          if (!p.required) fail(at, `path parameter ${n} must be required`);
          const { in: _in, ...rest } = p;
          return rest;
        });
        const queryParams = params.filter((p) => p.in === "query").map(({ in: _in, ...rest }) => rest);
        const unknownIn = params.find((p) => p.in !== "query" && p.in !== "path");
        if (unknownIn) fail(at, `parameter ${unknownIn.name} in "${unknownIn.in}" is not supported`);

        let requestBody: OperationIR["requestBody"];
        if (isObject(op.requestBody)) {
          const content = isObject(op.requestBody.content) ? op.requestBody.content : {};
          const media = content["application/json"];
          if (!isObject(media) || Object.keys(content).length !== 1)
            fail(at, "request bodies must be application/json only");
          requestBody = {
            schema: schemaName(media.schema ?? null, at),
            required: op.requestBody.required === true,
          };
        }

        const responses = isObject(op.responses) ? op.responses : fail(at, "no responses");
        const successCodes = Object.keys(responses).filter((c) => /^2\d\d$/.test(c));
        if (successCodes.length !== 1) fail(at, "exactly one 2xx response is supported");
        const status = Number(successCodes[0]);
        const success = responses[successCodes[0]!];
        const content = isObject(success) && isObject(success.content) ? success.content : undefined;
        let response: ResponseIR;
        if (!content) {
          response = { status, kind: "empty" };
        } else if (isObject(content["application/json"])) {
          const schema = content["application/json"].schema;
          if (isObject(schema) && schema.type === "array") {
            response = { status, kind: "json", schema: schemaName(schema.items ?? null, at), array: true };
          } else {
            response = { status, kind: "json", schema: schemaName(schema ?? null, at), array: false };
          }
        } else if (isObject(content["application/x-ndjson"])) {
          const item = str(content["application/x-ndjson"][X_NDJSON_ITEM]);
          if (!item)
            fail(at, `an application/x-ndjson response must name its line schema with ${X_NDJSON_ITEM}`);
          const target = openApiRefToSchemaFile(item)!;
          response = {
            status,
            kind: "ndjson",
            itemSchema: byFile.get(target) ?? fail(at, `${X_NDJSON_ITEM}: no schema file ${item}`),
          };
        } else {
          fail(at, `unsupported success media type: ${Object.keys(content).join(", ")}`);
        }

        const security = Array.isArray(op.security) ? op.security : docSecurity;
        operations.push({
          operationId,
          name: camelCase(operationId),
          method: method.toUpperCase() as "GET" | "POST",
          path,
          summary: str(op.summary) ?? operationId,
          ...(str(op.description) ? { description: str(op.description) } : {}),
          pathParams,
          queryParams,
          ...(requestBody ? { requestBody } : {}),
          response,
          conformance: op[X_OPTIONAL] === true ? "optional" : "required",
          auth: security.length === 0 ? "none" : "bearer",
        });
      }
    }
    const info = isObject(doc.info) ? doc.info : {};
    const key = file.replace(/\.openapi\.yaml$/, "");
    return {
      key,
      name: pascalCase(key),
      title: str(info.title) ?? key,
      ...(str(info.description) ? { description: str(info.description) } : {}),
      file,
      operations,
    };
  });
}

export function buildIR(spec: LoadedSpec): SpecIR {
  const schemas = buildSchemas(spec);
  return { hash: spec.hash, schemas, services: buildServices(spec, schemas) };
}
