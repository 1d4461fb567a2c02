/**
 * The mapping between MCP and ARP, as pure functions: a tool is an atomic NodeType, a CallToolResult
 * is a node run's outputs or its error, a failed call is an error with a code that says why.
 */
import { createHash } from "node:crypto";
import type { ErrorDetail, NodeType, SideEffectClass } from "@arp/model";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { SchemaIssue } from "../schema.js";

/** The `error.code` of a failed node run, one per cause (README: "Error codes"). */
export const MCP_ERROR_CODES = {
  /** No tool of a connected server has this `node_type_id@version` (never had, or removed). */
  unknownNodeType: "unknown_node_type",
  /** The inputs do not match the tool's `inputSchema`: the tool is not called. */
  invalidInputs: "invalid_inputs",
  /** The tool ran and answered `isError: true`. */
  toolError: "mcp_tool_error",
  /** `structuredContent` is missing or does not match the tool's `outputSchema`. */
  invalidOutputs: "invalid_outputs",
  /** The outputs are larger than `maxOutputBytes`. */
  outputTooLarge: "mcp_output_too_large",
  /** The server is not connected, or the connection broke during the call (retryable). */
  unavailable: "mcp_unavailable",
  /** The server answered a JSON-RPC error, or something that is not a CallToolResult. */
  protocolError: "mcp_protocol_error",
  /** No answer within `callTimeoutMs` (the request was cancelled at the server). */
  timeout: "mcp_timeout",
  /** `constraints.budgets.max_wall_time_ms` ran out (the request was cancelled at the server). */
  maxWallTimeExceeded: "max_wall_time_exceeded",
} as const;

export type McpErrorCode = (typeof MCP_ERROR_CODES)[keyof typeof MCP_ERROR_CODES];

/** The output schema of a tool that has none: what its node runs answer, `{ content: [...] }`. */
export const CONTENT_OUTPUT_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze({
  type: "object",
  properties: { content: { type: "array", items: { type: "object" } } },
  required: ["content"],
});

// MCP's tool name rule (1 to 128 of A-Z a-z 0-9 _ - .): the server name has no dot, so the tool is
// everything after `mcp.<name>.`, dots included, without ambiguity.
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** `mcp.<server>.<tool>`, or undefined when the tool's name cannot be part of a node type id. */
export function nodeTypeIdOf(server: string, tool: string): string | undefined {
  return TOOL_NAME.test(tool) ? `mcp.${server}.${tool}` : undefined;
}

/**
 * The node type version of a tool: the server's version, with the first 12 hex digits of the
 * SHA-256 of the tool's definition as semver build metadata (`1.2.0+3f9a2c1b7d4e`). Always, not
 * only after a change: a registry stores a version once, so a changed tool needs a new version even
 * when the server's is the same, and a restarted executor finds its earlier publish (409) exactly
 * when the definition is unchanged.
 */
export function nodeTypeVersion(serverVersion: string, definition: unknown): string {
  const hash = createHash("sha256").update(canonicalJson(definition)).digest("hex").slice(0, 12);
  const base = serverVersion.trim() === "" ? "0.0.0" : serverVersion;
  return `${base}${base.includes("+") ? "." : "+"}${hash}`;
}

/** The atomic NodeType of one tool; undefined when its name cannot form a node type id. */
export function toolToNodeType(server: string, serverVersion: string, tool: Tool): NodeType | undefined {
  const node_type_id = nodeTypeIdOf(server, tool.name);
  if (node_type_id === undefined) return undefined;
  const description =
    tool.description ?? tool.title ?? tool.annotations?.title ?? `MCP tool ${tool.name} of server ${server}`;
  const input_schema = tool.inputSchema as Record<string, unknown>;
  const output_schema = (tool.outputSchema as Record<string, unknown> | undefined) ?? {
    ...CONTENT_OUTPUT_SCHEMA,
  };
  const constraints = { gates: { side_effect_class: sideEffectClassOf(tool) } };
  const definition = { description, input_schema, output_schema, constraints };
  return {
    node_type_id,
    version: nodeTypeVersion(serverVersion, definition),
    kind: "atomic",
    ...definition,
    metadata: {
      labels: { "mcp.server": server, "mcp.tool": tool.name },
      annotations: { "mcp.server_version": serverVersion },
    },
  };
}

/**
 * The ARP side-effect class of a tool, from its MCP annotations read with MCP's own defaults
 * (`readOnlyHint` false, `destructiveHint` true): read-only is `read`, a tool that says it is not
 * destructive is `write`, any other (an unannotated tool included) `irreversible`. Conservative on
 * purpose: Selection's side-effect gate then holds back a tool that never said what it does.
 */
export function sideEffectClassOf(tool: Tool): SideEffectClass {
  if (tool.annotations?.readOnlyHint === true) return "read";
  return tool.annotations?.destructiveHint === false ? "write" : "irreversible";
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export interface ResultLimits {
  /** Largest outputs, as UTF-8 bytes of JSON. */
  maxOutputBytes: number;
  /** Longest tool error text quoted in an error's message and details. */
  maxErrorTextLength: number;
}

export type Outcome = { outputs: Record<string, unknown> } | { error: ErrorDetail };

/**
 * A CallToolResult as a node run's outcome: `structuredContent` is the outputs, else
 * `{ content: [...] }`; `isError` is `mcp_tool_error`. `checkOutput` is the tool's outputSchema
 * validator, when it has one.
 */
export function resultToOutcome(
  what: string,
  result: CallToolResult,
  checkOutput: ((value: unknown) => SchemaIssue[] | undefined) | undefined,
  limits: ResultLimits,
): Outcome {
  if (result.isError === true) {
    const { text, truncated } = bounded(textOf(result), limits.maxErrorTextLength);
    return {
      error: {
        code: MCP_ERROR_CODES.toolError,
        message: `${what} failed${text === "" ? "" : `: ${text}`}`,
        details: { text, ...(truncated ? { truncated: true } : {}) },
      },
    };
  }
  let outputs: Record<string, unknown>;
  if (checkOutput !== undefined) {
    if (result.structuredContent === undefined) {
      return {
        error: {
          code: MCP_ERROR_CODES.invalidOutputs,
          message: `${what} has an output schema but answered no structuredContent`,
        },
      };
    }
    const issues = checkOutput(result.structuredContent);
    if (issues !== undefined)
      return { error: schemaError(MCP_ERROR_CODES.invalidOutputs, `structuredContent of ${what}`, issues) };
    outputs = result.structuredContent;
  } else {
    outputs = result.structuredContent ?? { content: result.content };
  }
  const size = Buffer.byteLength(JSON.stringify(outputs), "utf8");
  if (size > limits.maxOutputBytes) {
    return {
      error: {
        code: MCP_ERROR_CODES.outputTooLarge,
        message: `${what} answered ${size} bytes of outputs, over maxOutputBytes ${limits.maxOutputBytes}`,
        details: { size, max_output_bytes: limits.maxOutputBytes },
      },
    };
  }
  return { outputs };
}

/** A schema mismatch as an error: the issues' pointers and messages. */
export function schemaError(code: string, what: string, issues: readonly SchemaIssue[]): ErrorDetail {
  const first = issues[0];
  return {
    code,
    message: `${what} do not match the schema${first === undefined ? "" : `: ${first.pointer || "/"} ${first.message}`}`,
    details: { errors: issues.map((i) => ({ ...i })) },
  };
}

/** JSON-RPC's codes for a closed connection and a timed-out request, as the SDK uses them. */
const CONNECTION_CLOSED = -32000;
const REQUEST_TIMEOUT = -32001;

/**
 * A failed `tools/call` (not a cancel: the caller checks its own signal first) as an error. An
 * McpError carries a JSON-RPC code from the server, except the SDK's own "connection closed" and
 * "timed out"; a zod error means the answer was not a CallToolResult; an HTTP 4xx answer (but 404,
 * a session gone) is a refused request; anything else (a refused connection, a 5xx or 404, "Not
 * connected") is the transport's: unavailable.
 */
export function callErrorToDetail(what: string, err: unknown, maxTextLength: number): ErrorDetail {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; data?: unknown; issues?: unknown };
  const message = bounded(typeof e?.message === "string" ? e.message : String(err), maxTextLength).text;
  if (e?.name === "McpError" && typeof e.code === "number") {
    if (e.code === CONNECTION_CLOSED) {
      return { code: MCP_ERROR_CODES.unavailable, message: `${what}: ${message}`, retryable: true };
    }
    if (e.code === REQUEST_TIMEOUT) return { code: MCP_ERROR_CODES.timeout, message: `${what}: ${message}` };
    return {
      code: MCP_ERROR_CODES.protocolError,
      message: `${what}: ${message}`,
      details: { mcp_code: e.code, ...(e.data === undefined ? {} : { data: e.data }) },
    };
  }
  if (e?.name === "ZodError" || Array.isArray(e?.issues)) {
    return {
      code: MCP_ERROR_CODES.protocolError,
      message: `${what}: the server's answer is not a CallToolResult: ${message}`,
    };
  }
  const status = httpStatusOf(err);
  if (status !== undefined && status >= 400 && status < 500 && status !== 404) {
    // The server (or a proxy) refused this request (401/403, 413, 400...): it is there, and the same
    // request would be refused again. A 404 is a session the server no longer knows: reconnect.
    return {
      code: MCP_ERROR_CODES.protocolError,
      message: `${what}: ${message}`,
      details: { http_status: status },
    };
  }
  return { code: MCP_ERROR_CODES.unavailable, message: `${what}: ${message}`, retryable: true };
}

/** The HTTP status of the SDK's StreamableHTTPError, else undefined. */
function httpStatusOf(err: unknown): number | undefined {
  const isHttpError =
    err instanceof StreamableHTTPError ||
    (err instanceof Error && err.message.startsWith("Streamable HTTP error:"));
  if (!isHttpError) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

function textOf(result: CallToolResult): string {
  return result.content
    .flatMap((c) => (c.type === "text" ? [c.text] : []))
    .join("\n")
    .trim();
}

function bounded(text: string, max: number): { text: string; truncated: boolean } {
  return text.length <= max
    ? { text, truncated: false }
    : { text: `${text.slice(0, max)}…`, truncated: true };
}
