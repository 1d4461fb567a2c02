/** Builds the service half of the IR from the OpenAPI documents. */
import {
  X_IDEMPOTENCY_KEY,
  X_IDEMPOTENT,
  X_NDJSON_ITEM,
  X_OPTIONAL,
  X_STREAM_END,
  X_STREAM_SCOPE,
} from "../config.js";
import { isObject, type Json, type LoadedSpec, openApiRefToSchemaFile } from "../load.js";
import { camelCase, pascalCase } from "../names.js";
import { fail, str } from "./fail.js";
import type { NamedSchemaIR, OperationIR, ParamIR, ResponseIR, ServiceIR, TypeNode } from "./types.js";

/** The `x-arp-*` keys an operation object may carry; any other is a typo that would change nothing silently. */
const OPERATION_KEYS = new Set([X_OPTIONAL, X_IDEMPOTENT, X_IDEMPOTENCY_KEY, X_STREAM_SCOPE, X_STREAM_END]);

/**
 * Fails on an `x-arp-*` key the generator does not know, or in a place it is not read: the operation
 * keys on operation objects, `x-arp-ndjson-item` on an `application/x-ndjson` media type, nowhere else.
 */
function checkVendorKeys(node: Json, where: string, path: readonly string[] = []): void {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) checkVendorKeys(item, where, [...path, String(i)]);
    return;
  }
  if (!isObject(node)) return;
  const isOperation = path.length === 3 && path[0] === "paths" && HTTP_METHODS.some((m) => m === path[2]);
  const isNdjsonMedia = path.at(-1) === "application/x-ndjson" && path.at(-2) === "content";
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-arp-")) {
      const allowed = isOperation ? OPERATION_KEYS.has(key) : isNdjsonMedia && key === X_NDJSON_ITEM;
      if (!allowed) fail(`${where} ${path.join("/")}`, `unknown or misplaced vendor key ${key}`);
    }
    checkVendorKeys(value, where, [...path, key]);
  }
}

/** Follows refs until a node that is not one. */
function deref(node: TypeNode, byName: ReadonlyMap<string, NamedSchemaIR>): TypeNode {
  let current = node;
  for (let hops = 0; current.kind === "ref"; hops++) {
    if (hops > 32) throw new Error(`ref cycle at ${current.name}`);
    current = byName.get(current.name)!.type;
  }
  return current;
}

/** The node at `path` below `root` (`*` steps into array items), or a message saying why there is none. */
function resolvePath(
  root: TypeNode,
  path: readonly string[],
  byName: ReadonlyMap<string, NamedSchemaIR>,
): TypeNode | string {
  let node = deref(root, byName);
  for (const segment of path) {
    if (segment === "*") {
      if (node.kind !== "array") return `"*" must step into an array, found ${node.kind}`;
      node = deref(node.items, byName);
      continue;
    }
    if (node.kind !== "object") return `"${segment}" must be a property of an object, found ${node.kind}`;
    const prop = node.properties.find((p) => p.name === segment);
    if (!prop) return `no property "${segment}"`;
    node = deref(prop.type, byName);
  }
  return node;
}

/** The value of `x-arp-idempotency-key` (`/run_id`) as path segments, checked against the body schema. */
function idempotencyKey(
  value: Json | undefined,
  body: OperationIR["requestBody"],
  byName: ReadonlyMap<string, NamedSchemaIR>,
  at: string,
): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.startsWith("/") || value.length < 2)
    fail(at, `${X_IDEMPOTENCY_KEY} must be a path such as /run_id`);
  if (!body) fail(at, `${X_IDEMPOTENCY_KEY} needs a request body`);
  const path = value.slice(1).split("/");
  const target = resolvePath({ kind: "ref", name: body.schema }, path, byName);
  if (typeof target === "string") fail(at, `${X_IDEMPOTENCY_KEY} ${value}: ${target}`);
  if (target.kind !== "string") fail(at, `${X_IDEMPOTENCY_KEY} ${value} must name a string field`);
  return path;
}

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Builds the service half of the IR from the OpenAPI documents. */
export function buildServices(spec: LoadedSpec, schemas: NamedSchemaIR[]): ServiceIR[] {
  const byFile = new Map(schemas.filter((s) => s.pointer === "").map((s) => [s.file, s.name]));
  const byName = new Map(schemas.map((s) => [s.name, s]));

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

    checkVendorKeys(doc, where);
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
        if (op[X_OPTIONAL] !== undefined && op[X_OPTIONAL] !== true)
          fail(at, `${X_OPTIONAL} must be true when present`);

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
            scope: "", // set below, once the path parameters are known
          };
        } else {
          fail(at, `unsupported success media type: ${Object.keys(content).join(", ")}`);
        }

        const security = Array.isArray(op.security) ? op.security : docSecurity;
        const key = idempotencyKey(op[X_IDEMPOTENCY_KEY], requestBody, byName, at);
        if (key && op[X_IDEMPOTENT] !== undefined)
          fail(at, `${X_IDEMPOTENT} and ${X_IDEMPOTENCY_KEY} exclude each other`);
        if (op[X_IDEMPOTENT] !== undefined && op[X_IDEMPOTENT] !== true)
          fail(at, `${X_IDEMPOTENT} must be true when present`);
        if (method === "get" && (key || op[X_IDEMPOTENT] !== undefined))
          fail(at, "GET operations are always safe to repeat: no retry extension is needed");
        const retry: OperationIR["retry"] =
          method === "get" || op[X_IDEMPOTENT] === true ? "safe" : key ? "keyed" : "unsafe";
        if (response.kind === "ndjson") {
          const scope =
            str(op[X_STREAM_SCOPE]) ?? fail(at, `an NDJSON operation must name its ${X_STREAM_SCOPE}`);
          if (!pathParams.some((p) => p.name === scope))
            fail(at, `${X_STREAM_SCOPE} ${scope} is not a path parameter`);
          const item = { kind: "ref", name: response.itemSchema } as const;
          const field = resolvePath(item, [scope], byName);
          if (typeof field === "string" || field.kind !== "string")
            fail(at, `${X_STREAM_SCOPE} ${scope} must be a string field of ${response.itemSchema}`);
          response.scope = scope;
          const end = op[X_STREAM_END];
          if (end !== undefined) {
            const type = resolvePath(item, ["type"], byName);
            if (
              typeof end !== "string" ||
              typeof type === "string" ||
              type.kind !== "string" ||
              !type.enum?.includes(end)
            )
              fail(at, `${X_STREAM_END} must be one of the values of ${response.itemSchema}.type`);
            response.endEvent = end;
          }
        } else if (op[X_STREAM_SCOPE] !== undefined || op[X_STREAM_END] !== undefined) {
          fail(at, `${X_STREAM_SCOPE} and ${X_STREAM_END} belong on NDJSON operations only`);
        }
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
          retry,
          ...(key ? { idempotencyKey: key } : {}),
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
