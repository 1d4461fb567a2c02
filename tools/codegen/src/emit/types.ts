/** Emits one TypeScript type per named schema, with doc comments taken from the spec. */
import type { NamedSchemaIR, PropertyIR, TypeNode } from "../ir/index.js";
import { constantCase } from "../names.js";
import { header } from "./header.js";
import { CodeWriter, propertyKey } from "./writer.js";

/** `RunState` → `RUN_STATES`: the exported array of a string enum's values. */
export function enumConstName(typeName: string): string {
  const snake = constantCase(typeName);
  if (/(S|SS|X|CH|SH)$/.test(snake)) return `${snake}ES`;
  if (/[^AEIOU]Y$/.test(snake)) return `${snake.slice(0, -1)}IES`;
  return `${snake}S`;
}

/** Constraint notes that TypeScript cannot express, as JSDoc tags. */
export function constraintTags(type: TypeNode): string | undefined {
  const tags: string[] = [];
  if (type.kind === "string" && type.format) tags.push(`@format ${type.format}`);
  if ((type.kind === "integer" || type.kind === "number") && type.minimum !== undefined)
    tags.push(`@minimum ${type.minimum}`);
  if ((type.kind === "integer" || type.kind === "number") && type.maximum !== undefined)
    tags.push(`@maximum ${type.maximum}`);
  if (type.kind === "integer") tags.push("@integer");
  if (type.kind === "array" && type.minItems !== undefined) tags.push(`@minItems ${type.minItems}`);
  if (type.kind === "object" && type.patternKeys.length > 0)
    tags.push(...type.patternKeys.map((p) => `Keys must match \`${p}\`.`));
  return tags.length ? tags.join("\n") : undefined;
}

/** A type expression; multi-line object literals are written through `w`. */
function writeType(w: CodeWriter, type: TypeNode, prefix: string, suffix: string): void {
  if (type.kind === "object" && type.properties.length > 0) {
    w.block(`${prefix}{`, () => writeMembers(w, type), `}${suffix}`);
    return;
  }
  if (type.kind === "array" && type.items.kind === "object" && type.items.properties.length > 0) {
    writeType(w, type.items, `${prefix}Array<`, `>${suffix}`);
    return;
  }
  w.line(`${prefix}${inlineType(type)}${suffix}`);
}

/** A type expression that fits on one line. */
export function inlineType(type: TypeNode): string {
  switch (type.kind) {
    case "ref":
      return type.name;
    case "string":
      return type.enum ? type.enum.map((v) => JSON.stringify(v)).join(" | ") : "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "unknown":
      return "unknown";
    case "array": {
      const item = inlineType(type.items);
      return /[ |&{]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case "object": {
      const members = type.properties.map(
        (p) => `${propertyKey(p.name)}${p.required ? "" : "?"}: ${inlineType(p.type)}`,
      );
      if (members.length === 0 && type.additional !== false)
        return `Record<string, ${inlineType(type.additional)}>`;
      if (type.additional !== false) members.push(`[key: string]: ${inlineType(type.additional)}`);
      else if (type.patternKeys.length > 0) members.push("[key: string]: unknown");
      return members.length ? `{ ${members.join("; ")} }` : "Record<string, never>";
    }
  }
}

function writeProperty(w: CodeWriter, p: PropertyIR): void {
  w.doc(p.description, constraintTags(p.type));
  writeType(w, p.type, `${propertyKey(p.name)}${p.required ? "" : "?"}: `, ";");
}

function writeMembers(w: CodeWriter, type: Extract<TypeNode, { kind: "object" }>): void {
  for (const p of type.properties) writeProperty(w, p);
  if (type.additional !== false) w.line(`[key: string]: ${inlineType(type.additional)};`);
  else if (type.patternKeys.length > 0) w.line("[key: string]: unknown;");
}

export function writeNamedType(w: CodeWriter, schema: NamedSchemaIR): void {
  const source = `Schema: \`spec/v1/schemas/${schema.file}${schema.pointer ? `#${schema.pointer}` : ""}\``;
  const { type } = schema;
  if (type.kind === "string" && type.enum) {
    const constName = enumConstName(schema.name);
    w.doc(`Every allowed {@link ${schema.name}} value, in spec order.`);
    w.line(`export const ${constName} = ${JSON.stringify(type.enum).replaceAll(",", ", ")} as const;`);
    w.doc(schema.description, source);
    w.line(`export type ${schema.name} = (typeof ${constName})[number];`);
  } else if (type.kind === "object" && (type.properties.length > 0 || type.additional === false)) {
    w.doc(schema.description, source, constraintTags(type));
    w.block(`export interface ${schema.name} {`, () => writeMembers(w, type));
  } else {
    w.doc(schema.description, source, constraintTags(type));
    writeType(w, type, `export type ${schema.name} = `, ";");
  }
}

export function emitTypes(schemas: readonly NamedSchemaIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.doc(
    "TypeScript types for every ARP v1 schema, named from the schema titles.",
    "The schema titled `Error` is exported as `ErrorDetail` so it never shadows the global `Error`.",
  );
  w.line();
  for (const schema of schemas) {
    writeNamedType(w, schema);
    w.line();
  }
  return w.toString();
}
