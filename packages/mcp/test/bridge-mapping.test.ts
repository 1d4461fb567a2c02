/** The pure parts of the bridge: targets, command lines, the tool ↔ node type mapping, errors, limits. */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { backoffDelay, resolveLimits } from "../src/bridge/limits.js";
import { callErrorToDetail, canonicalJson, resultToOutcome } from "../src/bridge/mapping.js";
import { SchemaCompiler } from "../src/schema.js";

const compileSchema = (schema: Record<string, unknown>) => new SchemaCompiler().compile(schema);

import {
  CONTENT_OUTPUT_SCHEMA,
  checkServerName,
  MCP_ERROR_CODES,
  McpTargetError,
  nodeTypeIdOf,
  nodeTypeVersion,
  parseServerTarget,
  splitCommandLine,
  toolToNodeType,
} from "../src/index.js";

describe("parseServerTarget", () => {
  it("an http(s) URL is Streamable HTTP; anything else a command line", () => {
    expect(parseServerTarget("web=https://mcp.example.com/mcp")).toEqual({
      name: "web",
      transport: "http",
      url: "https://mcp.example.com/mcp",
    });
    expect(parseServerTarget("local=HTTP://127.0.0.1:3000/mcp").transport).toBe("http");
    expect(parseServerTarget("fs=npx -y @modelcontextprotocol/server-filesystem '/my dir'")).toEqual({
      name: "fs",
      transport: "stdio",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem", "/my dir"],
    });
    // Only the first `=` separates: the command may hold more.
    expect(parseServerTarget("e=env A=1 node x.js")).toMatchObject({
      command: "env",
      args: ["A=1", "node", "x.js"],
    });
  });

  it.each([
    ["no-equals", /NAME=COMMAND/],
    ["=node x", /server name ''/],
    ["a.b=node x", /server name 'a.b'/],
    ["-a=node x", /server name/],
    [`${"n".repeat(65)}=node x`, /1 to 64/],
    ["a=", /empty/],
    ["a=   ", /empty/],
    ["a=http://", /not a valid URL/],
  ])("%s is a McpTargetError", (spec, message) => {
    expect(() => parseServerTarget(spec)).toThrow(McpTargetError);
    expect(() => parseServerTarget(spec)).toThrow(message);
  });

  it("checkServerName accepts letters, digits, _ and -", () => {
    expect(checkServerName("GitHub_2-x")).toBe("GitHub_2-x");
    expect(() => checkServerName("a b")).toThrow(McpTargetError);
  });
});

describe("splitCommandLine", () => {
  it.each([
    ["node server.js --stdio", ["node", "server.js", "--stdio"]],
    ["  a   b\tc ", ["a", "b", "c"]],
    ["'a b' \"c d\" e\\ f", ["a b", "c d", "e f"]],
    [`"say \\"hi\\"" 'it''s'`, ['say "hi"', "its"]],
    [`'\\n' "\\n" "a\\\\b"`, ["\\n", "\\n", "a\\b"]],
    [`'' ""`, ["", ""]],
    ["x'y'z", ["xyz"]],
    ["", []],
  ])("%s", (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it("an unclosed quote or a trailing backslash is an error", () => {
    expect(() => splitCommandLine("a 'b")).toThrow(/unclosed ' quote/);
    expect(() => splitCommandLine('a "b')).toThrow(/unclosed " quote/);
    expect(() => splitCommandLine("a \\")).toThrow(/lone backslash/);
  });
});

describe("tool → node type", () => {
  const tool = {
    name: "search.web",
    description: "Searches.",
    inputSchema: { type: "object" as const, properties: { q: { type: "string" } } },
  };

  it("mcp.<name>.<tool>, only for names MCP allows", () => {
    expect(nodeTypeIdOf("s", "search.web")).toBe("mcp.s.search.web");
    expect(nodeTypeIdOf("s", "a-b_C9")).toBe("mcp.s.a-b_C9");
    expect(nodeTypeIdOf("s", "bad name")).toBeUndefined();
    expect(nodeTypeIdOf("s", "")).toBeUndefined();
    expect(nodeTypeIdOf("s", "x".repeat(129))).toBeUndefined();
    expect(nodeTypeIdOf("s", "é")).toBeUndefined();
    expect(toolToNodeType("s", "1.0.0", { ...tool, name: "a/b" })).toBeUndefined();
  });

  it("maps the fields; a tool without outputSchema gets the { content } schema", () => {
    const type = toolToNodeType("s", "1.0.0", tool);
    expect(type).toEqual({
      node_type_id: "mcp.s.search.web",
      version: expect.stringMatching(/^1\.0\.0\+[0-9a-f]{12}$/),
      kind: "atomic",
      description: "Searches.",
      input_schema: tool.inputSchema,
      output_schema: CONTENT_OUTPUT_SCHEMA,
      // No annotations: MCP's defaults (not read-only, destructive).
      constraints: { gates: { side_effect_class: "irreversible" } },
      metadata: {
        labels: { "mcp.server": "s", "mcp.tool": "search.web" },
        annotations: { "mcp.server_version": "1.0.0" },
      },
    });
    const withOutput = toolToNodeType("s", "1.0.0", {
      ...tool,
      outputSchema: { type: "object", properties: {} },
    });
    expect(withOutput?.output_schema).toEqual({ type: "object", properties: {} });
    expect(
      toolToNodeType("s", "1", { name: "t", title: "T", inputSchema: { type: "object" } })?.description,
    ).toBe("T");
    expect(toolToNodeType("s", "1", { name: "t", inputSchema: { type: "object" } })?.description).toBe(
      "MCP tool t of server s",
    );
  });

  it("the side-effect class follows the MCP annotations, with MCP's defaults", () => {
    const classOf = (annotations: Tool["annotations"]) =>
      toolToNodeType("s", "1", { name: "t", inputSchema: { type: "object" }, annotations })?.constraints
        ?.gates?.side_effect_class;
    expect(classOf({ readOnlyHint: true })).toBe("read");
    expect(classOf({ readOnlyHint: true, destructiveHint: true })).toBe("read");
    expect(classOf({ destructiveHint: false })).toBe("write");
    expect(classOf({ readOnlyHint: false, destructiveHint: true })).toBe("irreversible");
    expect(classOf({ title: "no hints" })).toBe("irreversible");
    expect(classOf(undefined)).toBe("irreversible");
  });

  it("the version's hash follows the definition, not key order; build metadata is extended with a dot", () => {
    const a = nodeTypeVersion("1.2.0", { x: 1, y: { b: 2, a: 1 } });
    expect(nodeTypeVersion("1.2.0", { y: { a: 1, b: 2 }, x: 1 })).toBe(a);
    expect(nodeTypeVersion("1.2.0", { x: 2, y: { a: 1, b: 2 } })).not.toBe(a);
    expect(nodeTypeVersion("1.2.0+build.5", {})).toMatch(/^1\.2\.0\+build\.5\.[0-9a-f]{12}$/);
    expect(nodeTypeVersion("", {})).toMatch(/^0\.0\.0\+/);
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
    // Same tool, same version; a description change is a new version.
    const t1 = toolToNodeType("s", "1.0.0", tool);
    expect(toolToNodeType("s", "1.0.0", { ...tool })?.version).toBe(t1?.version);
    expect(toolToNodeType("s", "1.0.0", { ...tool, description: "Other." })?.version).not.toBe(t1?.version);
  });
});

describe("CallToolResult → outcome", () => {
  const limits = { maxOutputBytes: 1000, maxErrorTextLength: 10 };
  const check = compileSchema({ type: "object", properties: { n: { type: "number" } }, required: ["n"] });

  it("structuredContent, else { content }", () => {
    expect(resultToOutcome("t", { content: [], structuredContent: { n: 1 } }, check, limits)).toEqual({
      outputs: { n: 1 },
    });
    expect(resultToOutcome("t", { content: [{ type: "text", text: "x" }] }, undefined, limits)).toEqual({
      outputs: { content: [{ type: "text", text: "x" }] },
    });
    // Without an output schema, structuredContent still wins.
    expect(
      resultToOutcome("t", { content: [], structuredContent: { any: true } }, undefined, limits),
    ).toEqual({
      outputs: { any: true },
    });
  });

  it("isError is mcp_tool_error with the text, bounded", () => {
    const out = resultToOutcome(
      "tool x",
      {
        isError: true,
        content: [
          { type: "text", text: "0123456789abc" },
          { type: "image", data: "", mimeType: "image/png" },
        ],
      },
      check,
      limits,
    );
    expect(out).toEqual({
      error: {
        code: "mcp_tool_error",
        message: "tool x failed: 0123456789…",
        details: { text: "0123456789…", truncated: true },
      },
    });
  });

  it("a missing or wrong structuredContent is invalid_outputs; a large one mcp_output_too_large", () => {
    expect(resultToOutcome("t", { content: [] }, check, limits)).toMatchObject({
      error: { code: "invalid_outputs" },
    });
    expect(resultToOutcome("t", { content: [], structuredContent: { n: "x" } }, check, limits)).toMatchObject(
      {
        error: {
          code: "invalid_outputs",
          details: { errors: [{ pointer: "/n", message: "must be number" }] },
        },
      },
    );
    expect(
      resultToOutcome("t", { content: [{ type: "text", text: "x".repeat(2000) }] }, undefined, limits),
    ).toMatchObject({
      error: { code: "mcp_output_too_large", details: { max_output_bytes: 1000 } },
    });
  });
});

describe("call errors", () => {
  it("says which: unavailable, timeout, protocol", () => {
    expect(callErrorToDetail("t", new McpError(-32000, "Connection closed"), 100)).toMatchObject({
      code: MCP_ERROR_CODES.unavailable,
      retryable: true,
    });
    expect(callErrorToDetail("t", new McpError(-32001, "Request timed out"), 100).code).toBe("mcp_timeout");
    expect(callErrorToDetail("t", new McpError(-32602, "bad params", { why: 1 }), 100)).toMatchObject({
      code: "mcp_protocol_error",
      details: { mcp_code: -32602, data: { why: 1 } },
    });
    expect(callErrorToDetail("t", new TypeError("fetch failed"), 100)).toMatchObject({
      code: "mcp_unavailable",
      message: "t: fetch failed",
      retryable: true,
    });
    expect(
      callErrorToDetail("t", Object.assign(new Error("x"), { name: "ZodError", issues: [] }), 100).code,
    ).toBe("mcp_protocol_error");
    expect(callErrorToDetail("t", new Error("y".repeat(50)), 5).message).toBe("t: yyyyy…");
  });

  it("an HTTP status: 5xx and 404 (session gone) are unavailable, other 4xx a protocol error", () => {
    const http = (status: number) =>
      callErrorToDetail(
        "t",
        new StreamableHTTPError(status, `Error POSTing to endpoint (HTTP ${status})`),
        200,
      );
    for (const status of [500, 502, 503, 404]) {
      expect(http(status)).toMatchObject({ code: "mcp_unavailable", retryable: true });
    }
    for (const status of [400, 401, 403, 413, 422]) {
      const detail = http(status);
      expect(detail).toMatchObject({ code: "mcp_protocol_error", details: { http_status: status } });
      expect(detail.retryable).toBeUndefined();
    }
    expect(callErrorToDetail("t", new StreamableHTTPError(undefined, "no status"), 100).code).toBe(
      "mcp_unavailable",
    );
  });
});

describe("schemas", () => {
  it("releasing a schema whose $id names a meta-schema leaves the compiler working", () => {
    const compiler = new SchemaCompiler();
    for (const $id of [
      "https://json-schema.org/draft/2020-12/schema",
      "http://json-schema.org/draft-07/schema",
      "https://json-schema.org/draft/2019-09/schema",
    ]) {
      const $schema = $id.includes("draft-07") ? `${$id}#` : $id;
      const sneaky = { $id, $schema, type: "object" };
      expect(compiler.compile(sneaky)({})).toBeUndefined();
      compiler.release(sneaky);
      const next = { $schema, type: "object", required: ["a"] };
      expect(compiler.compile(next)({})).toHaveLength(1);
    }
    const plain = { type: "object", required: ["a"] };
    const hostile = { $id: "https://json-schema.org/draft/2020-12/schema", type: "object" };
    compiler.compile(hostile);
    compiler.release(hostile);
    expect(compiler.compile(plain)({ a: 1 })).toBeUndefined();
  });

  it("one compiler keeps schemas apart: the same $id twice, different content; released ones go", () => {
    const compiler = new SchemaCompiler();
    const a = { $id: "https://example.com/s", type: "object", required: ["a"] };
    const b = { $id: "https://example.com/s", type: "object", required: ["b"] };
    const checkA = compiler.compile(a);
    const checkB = compiler.compile(b);
    expect(checkA({ a: 1 })).toBeUndefined();
    expect(checkA({ b: 1 })).toHaveLength(1);
    expect(checkB({ b: 1 })).toBeUndefined();
    expect(checkB({ a: 1 })).toHaveLength(1);
    // A released schema compiles again (ajv's cache no longer has it).
    compiler.release(a);
    compiler.release(b);
    compiler.release(b); // twice: nothing to do
    expect(compiler.compile(a)({ a: 1 })).toBeUndefined();
  });

  it("follows $schema: 2020-12 (default), 2019-09, draft-07, older as draft-07", () => {
    const cases: [Record<string, unknown>, unknown, boolean][] = [
      // prefixItems is 2020-12 only: under draft-07 [1] would pass.
      [{ type: "array", prefixItems: [{ type: "string" }] }, [1], false],
      [{ $schema: "https://json-schema.org/draft/2020-12/schema", type: "string" }, 1, false],
      [{ $schema: "https://json-schema.org/draft/2019-09/schema", type: "string" }, "s", true],
      [{ $schema: "http://json-schema.org/draft-07/schema#", type: "number" }, 1, true],
      [{ $schema: "http://json-schema.org/draft-04/schema#", type: "number" }, "x", false],
      [{ type: "string", format: "email", "x-vendor": true }, "not an email", false],
    ];
    for (const [schema, value, valid] of cases) {
      expect(compileSchema(schema)(value) === undefined, JSON.stringify(schema)).toBe(valid);
    }
    expect(() => compileSchema({ type: "nope" })).toThrow();
  });
});

describe("limits", () => {
  it("defaults, checks, and a capped backoff with jitter", () => {
    expect(resolveLimits().callTimeoutMs).toBe(0);
    expect(resolveLimits({ maxTools: 5 }).maxTools).toBe(5);
    expect(() => resolveLimits({ connectTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => resolveLimits({ callTimeoutMs: 2 ** 31 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxOutputBytes: 1.5 })).toThrow(RangeError);
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(800);
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(1000);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(800);
    expect(backoffDelay(10_000, 100, 1000, () => 0.5)).toBe(900);
  });
});
