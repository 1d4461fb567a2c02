/** The bridge against the real fixture MCP server over stdio: mapping, calls, failures, cancel, list changes. */
import type { AtomicExecuteRequest, AtomicExecuteResult, NodeType } from "@arp/model";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { McpBridge } from "../src/index.js";
import { SchemaCompiler } from "../src/schema.js";
import { eventually, recordingLogger, stdioTarget } from "./support/fixture.js";

let seq = 0;
function request(type: NodeType, inputs: Record<string, unknown>, extra: Partial<AtomicExecuteRequest> = {}) {
  seq++;
  return {
    node_run_id: `nr_${seq}`,
    run_id: "run_1",
    node_type_ref: { node_type_id: type.node_type_id, version: type.version },
    inputs,
    ...extra,
  };
}

function typeOf(bridge: McpBridge, id: string): NodeType {
  const found = bridge.nodeTypes().find((t) => t.node_type_id === id);
  if (found === undefined)
    throw new Error(`no node type ${id}: ${bridge.nodeTypes().map((t) => t.node_type_id)}`);
  return found;
}

async function stats(bridge: McpBridge, server = "fx") {
  const result = await bridge.execute(request(typeOf(bridge, `mcp.${server}.stats`), {}));
  expect(result.state).toBe("succeeded");
  return result.outputs as { calls: Record<string, number>; cancelled: number };
}

describe("McpBridge over stdio", () => {
  const logger = recordingLogger();
  let bridge: McpBridge;
  const run = (id: string, inputs: Record<string, unknown>, extra?: Partial<AtomicExecuteRequest>) =>
    bridge.execute(request(typeOf(bridge, id), inputs, extra));

  beforeAll(async () => {
    // A page size of 3: the listing of 10 tools takes 4 pages.
    bridge = await new McpBridge({
      servers: [stdioTarget("fx", "--page-size", "3")],
      logger,
      stderr: "ignore",
    }).start();
  });
  afterAll(() => bridge.close());

  it("maps every tool (all pages) to an atomic node type, and skips a name that cannot be an id", () => {
    const ids = bridge
      .nodeTypes()
      .map((t) => t.node_type_id)
      .sort();
    expect(ids).toEqual(
      ["add_tool", "change_text", "crash", "fail", "liar", "slow", "stats", "structured", "text"].map(
        (t) => `mcp.fx.${t}`,
      ),
    );
    expect(logger.lines.some((l) => l.includes('"bad name!" skipped'))).toBe(true);
    const structured = typeOf(bridge, "mcp.fx.structured");
    expect(structured).toMatchObject({
      kind: "atomic",
      version: expect.stringMatching(/^1\.2\.0\+[0-9a-f]{12}$/),
      description: "Adds two numbers; answers structuredContent.",
      input_schema: { type: "object", required: ["a", "b"] },
      output_schema: { type: "object", properties: { sum: { type: "number" } } },
      metadata: { labels: { "mcp.server": "fx", "mcp.tool": "structured" } },
    });
    // Without an outputSchema, the output schema says what such node runs answer.
    expect(typeOf(bridge, "mcp.fx.text").output_schema).toMatchObject({ required: ["content"] });
    expect(bridge.status()).toEqual([
      { name: "fx", transport: "stdio", state: "connected", serverVersion: "1.2.0", nodeTypes: 9 },
    ]);
    expect(bridge.handles(structured)).toBe(true);
    expect(bridge.handles({ node_type_id: "mcp.other.x", version: "1" })).toBe(false);
    expect(bridge.handles({ node_type_id: "arp.ref.echo", version: "1" })).toBe(false);
    expect(bridge.handles({ node_type_id: "mcp.fx", version: "1" })).toBe(false);
  });

  it("structuredContent is the outputs; a tool without an output schema answers { content }", async () => {
    const sum = await run("mcp.fx.structured", { a: 2, b: 3 });
    expect(sum).toMatchObject({ state: "succeeded", outputs: { sum: 5 } });
    expect(sum.node_run_id).toMatch(/^nr_/);
    expect(Date.parse(sum.ended_at ?? "")).toBeGreaterThanOrEqual(Date.parse(sum.started_at ?? ""));
    expect(await run("mcp.fx.text", { text: "hi" })).toMatchObject({
      state: "succeeded",
      outputs: { content: [{ type: "text", text: "hi" }] },
    });
  });

  it("isError is failed mcp_tool_error with the tool's text", async () => {
    const result = await run("mcp.fx.fail", {});
    expect(result).toMatchObject({
      state: "failed",
      error: { code: "mcp_tool_error", details: { text: "the tool failed on purpose" } },
    });
    expect(result.error?.message).toContain("the tool failed on purpose");
    expect(result.outputs).toBeUndefined();
  });

  it("inputs that break the input schema are invalid_inputs, and the tool is not called", async () => {
    const before = (await stats(bridge)).calls.structured ?? 0;
    const result = await run("mcp.fx.structured", { a: "two", b: 3 });
    expect(result).toMatchObject({
      state: "failed",
      error: { code: "invalid_inputs", details: { errors: [{ pointer: "/a" }] } },
    });
    expect(await run("mcp.fx.structured", { a: 1 })).toMatchObject({ error: { code: "invalid_inputs" } });
    expect((await stats(bridge)).calls.structured ?? 0).toBe(before);
  });

  it("structuredContent that breaks the output schema is invalid_outputs", async () => {
    expect(await run("mcp.fx.liar", {})).toMatchObject({
      state: "failed",
      error: { code: "invalid_outputs", details: { errors: [{ pointer: "/n" }] } },
    });
  });

  it("an unknown node type or version is unknown_node_type", async () => {
    const text = typeOf(bridge, "mcp.fx.text");
    const unknownTool = await bridge.execute({
      ...request(text, {}),
      node_type_ref: { node_type_id: "mcp.fx.nope", version: text.version },
    });
    expect(unknownTool.error?.code).toBe("unknown_node_type");
    const oldVersion = await bridge.execute({
      ...request(text, {}),
      node_type_ref: { node_type_id: text.node_type_id, version: "1.2.0" },
    });
    expect(oldVersion.error).toMatchObject({
      code: "unknown_node_type",
      details: { current_version: text.version },
    });
    const otherServer = await bridge.execute({
      ...request(text, {}),
      node_type_ref: { node_type_id: "mcp.zz.text", version: "1" },
    });
    expect(otherServer.error?.code).toBe("unknown_node_type");
  });

  it("a cancel mid-call is canceled, and the server sees notifications/cancelled", async () => {
    const before = (await stats(bridge)).cancelled;
    const controller = new AbortController();
    const started = Date.now();
    const pending = bridge.execute(request(typeOf(bridge, "mcp.fx.slow"), { ms: 60_000 }), {
      signal: controller.signal,
    });
    await eventually(
      "the slow call to reach the server",
      async () => ((await stats(bridge)).calls.slow ?? 0) >= 1 || undefined,
    );
    controller.abort();
    const result: AtomicExecuteResult = await pending;
    expect(result.state).toBe("canceled");
    expect(result.error).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(30_000);
    await eventually(
      "the server to record the cancellation",
      async () => (await stats(bridge)).cancelled === before + 1 || undefined,
    );
  });

  it("an already aborted signal makes no call", async () => {
    const before = (await stats(bridge)).calls.text ?? 0;
    const result = await bridge.execute(request(typeOf(bridge, "mcp.fx.text"), { text: "x" }), {
      signal: AbortSignal.abort(),
    });
    expect(result.state).toBe("canceled");
    expect((await stats(bridge)).calls.text ?? 0).toBe(before);
  });

  it("max_wall_time_ms is failed max_wall_time_exceeded, and cancels the call at the server", async () => {
    const before = (await stats(bridge)).cancelled;
    const result = await run(
      "mcp.fx.slow",
      { ms: 60_000 },
      { constraints: { budgets: { max_wall_time_ms: 300 } } },
    );
    expect(result).toMatchObject({ state: "failed", error: { code: "max_wall_time_exceeded" } });
    await eventually(
      "the server to record the cancellation",
      async () => (await stats(bridge)).cancelled === before + 1 || undefined,
    );
    // A budget that is long enough changes nothing.
    expect(
      await run("mcp.fx.slow", { ms: 10 }, { constraints: { budgets: { max_wall_time_ms: 60_000 } } }),
    ).toMatchObject({
      state: "succeeded",
    });
  });

  it("tools/list_changed: an added tool becomes a node type; a changed one a new version", async () => {
    let changes = 0;
    const unsubscribe = bridge.onNodeTypesChanged(() => changes++);
    expect(await run("mcp.fx.add_tool", { name: "one" })).toMatchObject({ state: "succeeded" });
    const added = await eventually("mcp.fx.extra_one", () =>
      bridge.nodeTypes().find((t) => t.node_type_id === "mcp.fx.extra_one"),
    );
    expect(await bridge.execute(request(added, {}))).toMatchObject({
      state: "succeeded",
      outputs: { content: [{ text: "extra_one" }] },
    });

    const before = typeOf(bridge, "mcp.fx.text");
    expect(await run("mcp.fx.change_text", { description: "Echoes, changed." })).toMatchObject({
      state: "succeeded",
    });
    const after = await eventually("the new text", () =>
      bridge
        .nodeTypes()
        .find((t) => t.node_type_id === "mcp.fx.text" && t.description === "Echoes, changed."),
    );
    // Same server version, new definition: a new node type version.
    expect(after.version).not.toBe(before.version);
    expect(after.version.startsWith("1.2.0+")).toBe(true);
    const old = await bridge.execute(request(before, { text: "x" }));
    expect(old.error).toMatchObject({
      code: "unknown_node_type",
      details: { current_version: after.version },
    });
    expect(changes).toBeGreaterThanOrEqual(2);
    unsubscribe();
  });

  it("a server process that dies is mcp_unavailable (retryable) until it is started again", async () => {
    const crash = await run("mcp.fx.crash", {});
    expect(crash.state).toBe("succeeded");
    const down = await eventually("the bridge to notice", async () => {
      const r = await run("mcp.fx.text", { text: "x" });
      return r.state === "failed" ? r : undefined;
    });
    expect(down.error).toMatchObject({ code: "mcp_unavailable", retryable: true });
    // The bridge starts the command again (a new process: its counters start at zero).
    await eventually("the reconnect", () => (bridge.status()[0]?.state === "connected" ? true : undefined));
    expect(await run("mcp.fx.text", { text: "back" })).toMatchObject({ state: "succeeded" });
    expect((await stats(bridge)).calls.crash).toBeUndefined();
    expect(logger.lines.some((l) => l.includes("MCP server fx"))).toBe(true);
  });
});

describe("McpBridge limits", () => {
  it("callTimeoutMs: a call past it is mcp_timeout, cancelled at the server", async () => {
    const bridge = await new McpBridge({
      servers: [stdioTarget("fx")],
      callTimeoutMs: 200,
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    try {
      const slow = typeOf(bridge, "mcp.fx.slow");
      const result = await bridge.execute(request(slow, { ms: 60_000 }));
      expect(result).toMatchObject({ state: "failed", error: { code: "mcp_timeout" } });
      await eventually("the cancellation", async () => (await stats(bridge)).cancelled === 1 || undefined);
    } finally {
      await bridge.close();
    }
  });

  it("maxOutputBytes: larger outputs are mcp_output_too_large", async () => {
    const bridge = await new McpBridge({
      servers: [stdioTarget("fx")],
      maxOutputBytes: 50,
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    try {
      const text = typeOf(bridge, "mcp.fx.text");
      expect((await bridge.execute(request(text, { text: "short" }))).state).toBe("succeeded");
      expect(await bridge.execute(request(text, { text: "x".repeat(100) }))).toMatchObject({
        state: "failed",
        error: { code: "mcp_output_too_large", details: { max_output_bytes: 50 } },
      });
    } finally {
      await bridge.close();
    }
  });

  it("maxErrorTextLength bounds the tool's text in the error", async () => {
    const bridge = await new McpBridge({
      servers: [stdioTarget("fx")],
      maxErrorTextLength: 8,
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    try {
      const result = await bridge.execute(request(typeOf(bridge, "mcp.fx.fail"), {}));
      expect(result.error).toMatchObject({
        code: "mcp_tool_error",
        details: { text: "the tool…", truncated: true },
      });
    } finally {
      await bridge.close();
    }
  });

  it("maxTools and maxToolPages cut a long listing, with a warning", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("a", "--page-size", "2"), stdioTarget("b", "--page-size", "2")],
      stderr: "ignore",
      logger,
      maxTools: 3,
    }).start();
    try {
      expect(bridge.nodeTypes().filter((t) => t.node_type_id.startsWith("mcp.a."))).toHaveLength(3);
      expect(logger.lines.some((l) => l.includes("more than maxTools 3"))).toBe(true);
    } finally {
      await bridge.close();
    }
    const paged = recordingLogger();
    const two = await new McpBridge({
      servers: [stdioTarget("a", "--page-size", "2")],
      stderr: "ignore",
      logger: paged,
      maxToolPages: 2,
    }).start();
    try {
      expect(two.nodeTypes()).toHaveLength(4);
      expect(paged.lines.some((l) => l.includes("maxToolPages 2"))).toBe(true);
    } finally {
      await two.close();
    }
  });

  it("a server that cannot start: its node runs are mcp_unavailable, and it is retried with backoff", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [
        { name: "gone", transport: "stdio", command: process.execPath, args: ["-e", "process.exit(3)"] },
      ],
      logger,
      connectTimeoutMs: 5_000,
      reconnectInitialDelayMs: 50,
      reconnectMaxDelayMs: 100,
    }).start();
    try {
      expect(bridge.status()[0]).toMatchObject({ name: "gone", nodeTypes: 0 });
      expect(bridge.status()[0]?.state).not.toBe("connected");
      const result = await bridge.execute({
        node_run_id: "n",
        run_id: "r",
        node_type_ref: { node_type_id: "mcp.gone.x", version: "1" },
        inputs: {},
      });
      expect(result.error).toMatchObject({ code: "mcp_unavailable", retryable: true });
      await eventually("three attempts", () =>
        logger.lines.filter((l) => l.includes("cannot connect")).length >= 3 ? true : undefined,
      );
    } finally {
      await bridge.close();
    }
    expect(bridge.status()[0]?.state).toBe("closed");
  });

  it("a tool listed twice: the first one is used, its schemas compiled once, with a warning", async () => {
    const compile = vi.spyOn(SchemaCompiler.prototype, "compile");
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("rep", "--repeat-tool")],
      logger,
      stderr: "ignore",
    }).start();
    try {
      const text = typeOf(bridge, "mcp.rep.text");
      expect(text.description).toBe("Echoes a text as text content.");
      expect(bridge.nodeTypes().filter((t) => t.node_type_id === "mcp.rep.text")).toHaveLength(1);
      expect(
        compile.mock.calls.filter(([schema]) => JSON.stringify(schema) === JSON.stringify(text.input_schema)),
      ).toHaveLength(1);
      expect(logger.lines.some((l) => l.includes('"text" listed more than once'))).toBe(true);
    } finally {
      compile.mockRestore();
      await bridge.close();
    }
  });

  it("rejects bad limits and duplicate server names", () => {
    expect(() => new McpBridge({ servers: [], callTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new McpBridge({ servers: [], maxTools: 0 })).toThrow(/maxTools/);
    expect(() => new McpBridge({ servers: [], reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 5 })).toThrow(
      /reconnectMaxDelayMs/,
    );
    expect(() => new McpBridge({ servers: ["a=x", "a=y"] })).toThrow(/given twice/);
    expect(() => new McpBridge({ servers: ["bad.name=x"] })).toThrow(/server name/);
  });
});
