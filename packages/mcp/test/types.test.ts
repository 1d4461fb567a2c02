/** The types users rely on, of both halves: the bridge (MCP tools as node types) and serve (ARP runs as tools). */
import type { NodeRegistryClient } from "@arp/client";
import type { AtomicExecuteRequest, AtomicExecuteResult, NodeType, NodeTypeRef } from "@arp/model";
import { BaseAtomicExecutorServer } from "@arp/server";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ArpMcpServer,
  type ArpMcpServerOptions,
  createArpMcpServer,
  type HttpOptions,
  McpAtomicExecutor,
  McpBridge,
  type McpErrorCode,
  type McpServerTarget,
  parseServerTarget,
  type RegistryPublisher,
  type RunningHttpServer,
  type StdioConnection,
  serveHttp,
  serveStdio,
} from "../src/index.js";

describe("@arp/mcp types", () => {
  it("have the types a host executor relies on", () => {
    expectTypeOf<McpBridge["execute"]>().toEqualTypeOf<
      (body: AtomicExecuteRequest, options?: { signal?: AbortSignal }) => Promise<AtomicExecuteResult>
    >();
    expectTypeOf<McpBridge["handles"]>().toEqualTypeOf<(ref: NodeTypeRef) => boolean>();
    expectTypeOf<McpBridge["nodeTypes"]>().returns.toEqualTypeOf<NodeType[]>();
    expectTypeOf<McpBridge["publish"]>().parameter(0).toEqualTypeOf<NodeRegistryClient>();
    expectTypeOf<McpBridge["publish"]>().returns.toEqualTypeOf<RegistryPublisher>();
    expectTypeOf(parseServerTarget).returns.toEqualTypeOf<McpServerTarget>();
    expectTypeOf<McpErrorCode>().toEqualTypeOf<
      | "unknown_node_type"
      | "invalid_inputs"
      | "mcp_tool_error"
      | "invalid_outputs"
      | "mcp_output_too_large"
      | "mcp_unavailable"
      | "mcp_protocol_error"
      | "mcp_timeout"
      | "max_wall_time_exceeded"
    >();
    expect(Object.getPrototypeOf(McpAtomicExecutor)).toBe(BaseAtomicExecutorServer);
    // @ts-expect-error: a bridge needs its servers
    expect(() => new McpBridge({})).toThrow(/servers must be an array/);
    // @ts-expect-error: the transport is stdio or http
    const bad: McpServerTarget = { name: "x", transport: "ws", url: "ws://x" };
    expect(bad.name).toBe("x");
  });

  it("has the types the README shows", () => {
    expectTypeOf(createArpMcpServer).parameter(0).toEqualTypeOf<ArpMcpServerOptions>();
    expectTypeOf(createArpMcpServer).returns.toEqualTypeOf<ArpMcpServer>();
    expectTypeOf<ArpMcpServer["createServer"]>().returns.toEqualTypeOf<Server>();
    expectTypeOf(serveHttp).parameter(1).toEqualTypeOf<HttpOptions | undefined>();
    expectTypeOf(serveHttp).returns.resolves.toEqualTypeOf<RunningHttpServer>();
    expectTypeOf(serveStdio).returns.resolves.toEqualTypeOf<StdioConnection>();
    // Compiled, never called.
    const _negatives = () => {
      // @ts-expect-error registryUrl is required
      createArpMcpServer({ gatewayUrl: "http://127.0.0.1:8080" });
      // @ts-expect-error a limit is a number
      createArpMcpServer({ gatewayUrl: "http://a", registryUrl: "http://b", callTimeoutMs: "5" });
    };
    expect(typeof _negatives).toBe("function");
  });
});
