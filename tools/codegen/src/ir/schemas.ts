/** Builds the schema half of the IR from the JSON Schema files. */
import { RESERVED_TYPE_NAMES } from "../config.js";
import { isObject, type Json, type JsonObject, type LoadedSpec, schemaId } from "../load.js";
import { pascalCase } from "../names.js";
import { fail, str } from "./fail.js";
import type { NamedSchemaIR, PropertyIR, TypeNode } from "./types.js";

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

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Builds the schema half of the IR. */
export function buildSchemas(spec: LoadedSpec): NamedSchemaIR[] {
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
