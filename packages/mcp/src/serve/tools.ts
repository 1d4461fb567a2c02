/**
 * Registry node types → MCP tools, as pure data: one tool per `node_type_id` (its latest version,
 * versions.ts), named by the id, with the node type's schemas made into what MCP requires of a tool.
 * What cannot be a tool is listed with the reason, never thrown.
 */
import type { NodeType, NodeTypeRef } from "@arp/model";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { compareVersions } from "./versions.js";

/** MCP tool names (spec 2025-11-25, "Tool names"): 1 to 128 of `A-Z a-z 0-9 _ - .`. */
export const TOOL_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** The `_meta` key of a tool (and of a call's result) that names the ARP node type behind it. */
export const NODE_TYPE_META_KEY = "arp.dev/node_type";
/** The `_meta` key of a call's result that names the ARP run it started. */
export const RUN_META_KEY = "arp.dev/run";

type JsonObject = Record<string, unknown>;

/** A tool and the node type version calls of it start runs of. */
export interface NodeTypeTool {
  tool: Tool;
  ref: NodeTypeRef;
  /** The node type's `input_schema` as a tool's input schema (an object schema). */
  inputSchema: JsonObject;
  /** The node type's `output_schema`, when it is an object schema (else structured outputs are not checked). */
  outputSchema: JsonObject | undefined;
}

export interface SkippedNodeType {
  node_type_id: string;
  version: string;
  reason: string;
}

export interface ToolSet {
  /** By tool name, in name order. */
  tools: Map<string, NodeTypeTool>;
  skipped: SkippedNodeType[];
}

/**
 * A node type's `input_schema` as an MCP `inputSchema`, which must be `type: "object"`. ARP inputs
 * are always an object (`RunStartRequest.input`), so saying so changes nothing a run accepts:
 * absent → any object; no `type` → the same schema with `type: "object"`; a `type` list with
 * "object" → "object". A `type` without "object" accepts no ARP input at all: `undefined` (skipped).
 */
export function toInputSchema(schema: JsonObject | undefined): JsonObject | undefined {
  if (schema === undefined) return { type: "object" };
  const type = schema.type;
  if (type === "object") return schema;
  if (type === undefined) return { ...schema, type: "object" };
  if (Array.isArray(type) && type.includes("object")) return { ...schema, type: "object" };
  return undefined;
}

/** A node type's `output_schema` as an MCP `outputSchema`: only an explicit object schema qualifies. */
export function toOutputSchema(schema: JsonObject | undefined): JsonObject | undefined {
  return schema !== undefined && schema.type === "object" ? schema : undefined;
}

function describe(nodeType: NodeType): string {
  const what = `ARP ${nodeType.kind} node type ${nodeType.node_type_id}@${nodeType.version}`;
  return nodeType.description === undefined || nodeType.description === ""
    ? what
    : `${nodeType.description} (${what})`;
}

/** The latest version of each node type id, in id order. */
export function latestVersions(nodeTypes: readonly NodeType[]): NodeType[] {
  const latest = new Map<string, NodeType>();
  for (const nodeType of nodeTypes) {
    const seen = latest.get(nodeType.node_type_id);
    if (seen === undefined || compareVersions(nodeType.version, seen.version) > 0)
      latest.set(nodeType.node_type_id, nodeType);
  }
  return [...latest.values()].sort((a, b) => (a.node_type_id < b.node_type_id ? -1 : 1));
}

/** The tools of a registry's node types: at most `maxTools` of them (the first by name). */
export function toolsOf(nodeTypes: readonly NodeType[], maxTools: number): ToolSet {
  const tools = new Map<string, NodeTypeTool>();
  const skipped: SkippedNodeType[] = [];
  for (const nodeType of latestVersions(nodeTypes)) {
    const { node_type_id, version } = nodeType;
    const skip = (reason: string) => skipped.push({ node_type_id, version, reason });
    if (!TOOL_NAME.test(node_type_id)) {
      skip("not a valid MCP tool name (1 to 128 of A-Z a-z 0-9 _ - .)");
      continue;
    }
    const inputSchema = toInputSchema(nodeType.input_schema);
    if (inputSchema === undefined) {
      skip(`input_schema has type ${JSON.stringify(nodeType.input_schema?.type)}: ARP inputs are objects`);
      continue;
    }
    if (tools.size >= maxTools) {
      skip(`more than maxTools (${maxTools}) node types`);
      continue;
    }
    const outputSchema = toOutputSchema(nodeType.output_schema);
    const ref: NodeTypeRef = { node_type_id, version };
    const tool: Tool = {
      name: node_type_id,
      description: describe(nodeType),
      inputSchema: inputSchema as Tool["inputSchema"],
      ...(outputSchema === undefined ? {} : { outputSchema: outputSchema as Tool["outputSchema"] }),
      _meta: { [NODE_TYPE_META_KEY]: { node_type_id, version, kind: nodeType.kind } },
    };
    tools.set(node_type_id, { tool, ref, inputSchema, outputSchema });
  }
  return { tools, skipped };
}
