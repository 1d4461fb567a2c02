/**
 * The run viewer's workflows for a stack's MCP tools: one per node type of the `McpBridge`
 * (`bridge.nodeTypes()`), which the viewer's server puts in `config.json` (`workflows`) and the page
 * lists under "MCP tools" after its built-in workflows. Each starts a run whose root is that tool,
 * with a starting input made from its input schema (see {@link startingInput}) to edit in the
 * request box. A tool's description is the MCP server's text, untrusted: it is cut to one short
 * line here, and the page writes it as text, never as HTML.
 */
import type { NodeType } from "@arp/model";
import type { Workflow } from "./page/workflows.js";

/** The picker's group for the MCP tools. */
export const MCP_GROUP = "MCP tools";
/** At most this many MCP tools are offered (the first by node type id); the rest can be pasted. */
export const MAX_MCP_WORKFLOWS = 200;
/** A tool's description is cut to this many characters in its label (`…` marks the cut). */
export const MAX_DESCRIPTION_CHARS = 80;
/** Objects nested deeper than this in a starting input are left empty (`{}`). */
const MAX_DEPTH = 4;

/**
 * `text` as one line of at most `max` characters: control and format characters (newlines, tabs,
 * bidirectional overrides, zero-width characters) become spaces or go, runs of spaces become one,
 * and a longer text is cut at `max` code points, with `…`.
 */
export function oneLine(text: string, max = MAX_DESCRIPTION_CHARS): string {
  const flat = text
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, " ")
    .replace(/\p{Cf}/gu, "")
    .replace(/\s+/gu, " ")
    .trim();
  const chars = [...flat];
  return chars.length <= max
    ? flat
    : `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A placeholder for a value of `schema`, to be edited, and not promised to be valid: its `default`,
 * else its `const`, else its first `enum` value, else by its `type` (the first that is not `null`,
 * or an object's when it has `properties`): `""`, `0` (a number's `minimum` when it has one),
 * `false`, `[]`, `null`, and an object with its `required` properties, each filled the same way.
 * `anyOf`/`oneOf` take their first branch; anything else (`$ref`, no type) is `null`.
 */
function placeholder(schema: unknown, depth: number): unknown {
  if (!isObject(schema)) return null; // `true` / `false` schemas
  if ("default" in schema) return structuredClone(schema.default);
  if ("const" in schema) return structuredClone(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return structuredClone(schema.enum[0]);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type =
    types.find((t) => t !== "null") ?? types[0] ?? (isObject(schema.properties) ? "object" : undefined);
  switch (type) {
    case "string":
      return "";
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "integer":
      return typeof schema.minimum === "number" ? Math.ceil(schema.minimum) : 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return objectPlaceholder(schema, depth);
    case "null":
      return null;
    default: {
      const branches = Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf;
      return Array.isArray(branches) && branches.length > 0 ? placeholder(branches[0], depth) : null;
    }
  }
}

function objectPlaceholder(schema: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth >= MAX_DEPTH || !Array.isArray(schema.required)) return out;
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const name of schema.required) {
    if (typeof name !== "string" || name === "__proto__") continue;
    out[name] = placeholder(Object.hasOwn(properties, name) ? properties[name] : undefined, depth + 1);
  }
  return out;
}

/**
 * The starting input of a run of a node type with `inputSchema`: an object with the schema's
 * required properties, each a type-appropriate placeholder (`{ "a": 0, "b": 0 }` for two required
 * numbers); `{}` when it requires none, or is not an object's schema.
 */
export function startingInput(inputSchema: unknown): Record<string, unknown> {
  const value = placeholder(inputSchema, 0);
  return isObject(value) ? value : {};
}

/** One workflow per MCP node type, by node type id (at most {@link MAX_MCP_WORKFLOWS}). */
export function mcpWorkflows(nodeTypes: readonly NodeType[]): Workflow[] {
  return [...nodeTypes]
    .sort((a, b) => (a.node_type_id < b.node_type_id ? -1 : a.node_type_id > b.node_type_id ? 1 : 0))
    .slice(0, MAX_MCP_WORKFLOWS)
    .map((t) => {
      const description = oneLine(t.description ?? "");
      return {
        id: `${t.node_type_id}@${t.version}`,
        label: description === "" ? t.node_type_id : `${t.node_type_id} — ${description}`,
        group: MCP_GROUP,
        request: {
          root_node_type_ref: { node_type_id: t.node_type_id, version: t.version },
          input: startingInput(t.input_schema),
        },
      };
    });
}
