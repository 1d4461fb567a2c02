/** Publishing to a real Node Registry (on loopback), kept current, with a registry that is down at first. */
import { NodeRegistryClient } from "@arp/client";
import type { NodeType } from "@arp/model";
import { ArpServerError } from "@arp/server";
import { describe, expect, it } from "vitest";
import { McpBridge, RegistryPublisher } from "../src/index.js";
import { eventually, freePort, recordingLogger, stdioTarget } from "./support/fixture.js";
import { startRegistry } from "./support/registry.js";

const request = (type: NodeType, inputs: Record<string, unknown>) => ({
  node_run_id: `nr_${Math.random()}`,
  run_id: "run_p",
  node_type_ref: { node_type_id: type.node_type_id, version: type.version },
  inputs,
});

describe("RegistryPublisher", () => {
  it("publishes every node type, then each change (list_changed), and a restart finds them published", async () => {
    const { registry, running } = await startRegistry();
    const bridge = await new McpBridge({
      servers: [stdioTarget("pub")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    try {
      const client = new NodeRegistryClient({ baseUrl: running.url });
      const publisher = bridge.publish(client, { logger: recordingLogger() });
      await publisher.settled();
      expect(registry.ids()).toEqual(
        bridge
          .nodeTypes()
          .map((t) => t.node_type_id)
          .sort(),
      );
      expect(registry.nodeTypes.length).toBe(9);
      const listed = await client.listNodeTypes();
      expect(listed.find((t) => t.node_type_id === "mcp.pub.structured")).toEqual(
        bridge.nodeTypes().find((t) => t.node_type_id === "mcp.pub.structured"),
      );

      const add = bridge.nodeTypes().find((t) => t.node_type_id === "mcp.pub.add_tool") as NodeType;
      expect((await bridge.execute(request(add, { name: "late" }))).state).toBe("succeeded");
      await eventually("mcp.pub.extra_late in the registry", () =>
        registry.ids().includes("mcp.pub.extra_late") ? true : undefined,
      );
      const text = bridge.nodeTypes().find((t) => t.node_type_id === "mcp.pub.text") as NodeType;
      const change = bridge.nodeTypes().find((t) => t.node_type_id === "mcp.pub.change_text") as NodeType;
      expect((await bridge.execute(request(change, { description: "new" }))).state).toBe("succeeded");
      // The changed tool is a new version next to the old one (a registry has no delete).
      await eventually("the new version of mcp.pub.text", () =>
        registry.nodeTypes.some((t) => t.node_type_id === "mcp.pub.text" && t.version !== text.version)
          ? true
          : undefined,
      );
      expect(registry.nodeTypes.filter((t) => t.node_type_id === "mcp.pub.text")).toHaveLength(2);
      publisher.close();

      // A second publisher (a restarted executor) meets 409s for what is there: not an error.
      const logger = recordingLogger();
      const again = new RegistryPublisher(bridge, client, { logger });
      await again.settled();
      expect(registry.nodeTypes.length).toBe(11);
      expect(logger.lines.filter((l) => !l.startsWith("debug"))).toEqual([]);
      again.close();
    } finally {
      await bridge.close();
      await running.close();
    }
  });

  it("a registry that is down is retried with backoff until it is up; nothing crashes", async () => {
    const port = await freePort();
    const bridge = await new McpBridge({
      servers: [stdioTarget("late")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    const logger = recordingLogger();
    const publisher = bridge.publish(new NodeRegistryClient({ baseUrl: `http://127.0.0.1:${port}` }), {
      logger,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 200,
      publishTimeoutMs: 2_000,
    });
    try {
      await eventually("two failed attempts", () =>
        logger.lines.filter((l) => l.includes("cannot publish")).length >= 2 ? true : undefined,
      );
      const { registry, running } = await startRegistry(port);
      try {
        await eventually("the node types in the registry", () =>
          registry.nodeTypes.length === 9 ? true : undefined,
        );
      } finally {
        await running.close();
      }
    } finally {
      publisher.close();
      await bridge.close();
    }
  });

  it("a node type the registry refuses for good (4xx) is logged once, not retried", async () => {
    const { registry, running } = await startRegistry();
    registry.publishNodeType = () => {
      throw new ArpServerError({ status: 413, code: "node_type_too_large", message: "too large" });
    };
    const bridge = await new McpBridge({
      servers: [stdioTarget("big")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    const logger = recordingLogger();
    try {
      const publisher = bridge.publish(new NodeRegistryClient({ baseUrl: running.url }), {
        logger,
        retryInitialDelayMs: 10,
      });
      await publisher.settled();
      expect(logger.lines.filter((l) => l.startsWith("error:") && l.includes("refused"))).toHaveLength(9);
      publisher.close();
    } finally {
      await bridge.close();
      await running.close();
    }
  });

  it("a 401 (a token being rotated) is retried with backoff, not taken as a refusal", async () => {
    const { registry, running } = await startRegistry();
    const publish = registry.publishNodeType.bind(registry);
    let unauthorized = 2;
    registry.publishNodeType = (req) => {
      if (unauthorized > 0) {
        unauthorized--;
        throw new ArpServerError({ status: 401, code: "unauthenticated", message: "token expired" });
      }
      return publish(req);
    };
    const bridge = await new McpBridge({
      servers: [stdioTarget("auth")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    const logger = recordingLogger();
    try {
      const publisher = bridge.publish(new NodeRegistryClient({ baseUrl: running.url }), {
        logger,
        retryInitialDelayMs: 10,
        retryMaxDelayMs: 50,
      });
      await eventually("every node type in the registry", () =>
        registry.nodeTypes.length === 9 ? true : undefined,
      );
      expect(logger.lines.filter((l) => l.includes("cannot publish"))).toHaveLength(2);
      expect(logger.lines.some((l) => l.startsWith("error:"))).toBe(false);
      publisher.close();
    } finally {
      await bridge.close();
      await running.close();
    }
  });

  it("rejects bad options", async () => {
    const bridge = new McpBridge({ servers: [] });
    const client = new NodeRegistryClient({ baseUrl: "http://127.0.0.1:1" });
    expect(() => bridge.publish(client, { publishTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => bridge.publish(client, { retryInitialDelayMs: 10, retryMaxDelayMs: 1 })).toThrow(
      /retryMaxDelayMs/,
    );
    await bridge.close();
  });
});
