/**
 * The public surface of the bridge half of @arp/mcp, pinned in both builds (a subset check: the
 * other half of the package, ARP runs as MCP tools, pins its own names), and its key types.
 */
import { fileURLToPath } from "node:url";
import type { NodeRegistryClient } from "@arp/client";
import type { AtomicExecuteRequest, AtomicExecuteResult, NodeType, NodeTypeRef } from "@arp/model";
import { BaseAtomicExecutorServer } from "@arp/server";
import { builtExports } from "@arp/testkit";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  McpAtomicExecutor,
  McpBridge,
  type McpErrorCode,
  type McpServerTarget,
  parseServerTarget,
  type RegistryPublisher,
} from "../src/index.js";

const BRIDGE_EXPORTS = [
  "BRIDGE_DEFAULTS",
  "CONTENT_OUTPUT_SCHEMA",
  "EXECUTOR_DEFAULTS",
  "MCP_ERROR_CODES",
  "McpAtomicExecutor",
  "McpBridge",
  "McpNotConnectedError",
  "McpTargetError",
  "PUBLISH_DEFAULTS",
  "RegistryPublisher",
  "checkServerName",
  "nodeTypeIdOf",
  "nodeTypeVersion",
  "parseServerTarget",
  "splitCommandLine",
  "toolToNodeType",
];

describe("@arp/mcp bridge exports", () => {
  it("are in the ESM and the CJS build", async () => {
    const { esm, cjs } = await builtExports(fileURLToPath(new URL("..", import.meta.url)));
    for (const name of BRIDGE_EXPORTS) {
      expect(esm, name).toContain(name);
      expect(cjs, name).toContain(name);
    }
  });

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
});
