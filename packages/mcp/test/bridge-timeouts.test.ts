/** The connection's timeouts, each against a server that does not answer that one request. */
import { createServer } from "node:http";
import { NodeRegistryClient } from "@arp/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { describe, expect, it, vi } from "vitest";
import { McpBridge } from "../src/index.js";
import { eventually, recordingLogger, stdioTarget } from "./support/fixture.js";

const retryLater = { reconnectInitialDelayMs: 60_000, reconnectMaxDelayMs: 60_000 };

describe("bridge timeouts", () => {
  it("connectTimeoutMs: a server that never answers initialize is given up on (state down)", async () => {
    const logger = recordingLogger();
    const started = Date.now();
    const bridge = await new McpBridge({
      servers: [
        {
          name: "mute",
          transport: "stdio",
          command: process.execPath,
          args: ["-e", "setInterval(() => {}, 1000)"],
        },
      ],
      logger,
      connectTimeoutMs: 300,
      ...retryLater,
    }).start();
    try {
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(bridge.status()[0]?.state).toBe("down");
      expect(logger.lines.some((l) => l.includes("cannot connect") && /timed out/i.test(l))).toBe(true);
    } finally {
      await bridge.close();
    }
  });

  it("listTimeoutMs: a server that never answers tools/list is given up on", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("nolist", "--hang-list")],
      logger,
      stderr: "ignore",
      listTimeoutMs: 300,
      ...retryLater,
    }).start();
    try {
      expect(bridge.status()[0]).toMatchObject({ state: "down", nodeTypes: 0 });
      expect(logger.lines.some((l) => l.includes("cannot connect") && /timed out/i.test(l))).toBe(true);
    } finally {
      await bridge.close();
    }
  });

  it("close() ends a listing that hangs at once, not after listTimeoutMs", async () => {
    const bridge = new McpBridge({
      servers: [stdioTarget("hang", "--hang-list")],
      logger: recordingLogger(),
      stderr: "ignore",
      listTimeoutMs: 60_000,
      ...retryLater,
    });
    const starting = bridge.start();
    await new Promise((resolve) => setTimeout(resolve, 800));
    const closing = Date.now();
    await bridge.close();
    await starting;
    expect(Date.now() - closing).toBeLessThan(5_000);
  });

  it("pingTimeoutMs: an unanswered ping counts as a lost connection", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("noping", "--hang-ping")],
      logger,
      stderr: "ignore",
      pingIntervalMs: 100,
      pingTimeoutMs: 300,
      ...retryLater,
    }).start();
    try {
      expect(bridge.status()[0]?.state).toBe("connected");
      await eventually("the lost connection", () =>
        bridge.status()[0]?.state === "down" ? true : undefined,
      );
      expect(logger.lines.some((l) => l.includes("ping failed"))).toBe(true);
    } finally {
      await bridge.close();
    }
  });

  it("a ping answered with a JSON-RPC error proves the server alive: still connected", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("errping", "--error-ping")],
      logger,
      stderr: "ignore",
      pingIntervalMs: 100,
      // Long: a slow answer on a loaded machine is no failure; an error answer taken for one fails at once.
      pingTimeoutMs: 10_000,
      ...retryLater,
    }).start();
    try {
      expect(bridge.status()[0]?.state).toBe("connected");
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(bridge.status()[0]?.state).toBe("connected");
      expect(logger.lines.some((l) => l.includes("ping failed") || l.includes("connection lost"))).toBe(
        false,
      );
      const type = bridge.nodeTypes().find((t) => t.node_type_id === "mcp.errping.text");
      if (type === undefined) throw new Error("no mcp.errping.text");
      const result = await bridge.execute({
        node_run_id: "nr_ping",
        run_id: "run_1",
        node_type_ref: { node_type_id: type.node_type_id, version: type.version },
        inputs: { text: "alive" },
      });
      expect(result.state).toBe("succeeded");
    } finally {
      await bridge.close();
    }
  });

  it("a server that dies right after listing is reconnected with a growing backoff", async () => {
    const logger = recordingLogger();
    const bridge = await new McpBridge({
      servers: [stdioTarget("flap", "--exit-after-list")],
      logger,
      stderr: "ignore",
      reconnectInitialDelayMs: 50,
      reconnectMaxDelayMs: 5_000,
    }).start();
    const delays = () =>
      logger.lines.flatMap((l) => {
        const m = /flap: reconnecting in (\d+) ms/.exec(l);
        return m?.[1] === undefined ? [] : [Number(m[1])];
      });
    try {
      const seen = await eventually("five reconnects", () => (delays().length >= 5 ? delays() : undefined));
      // 50, 100, 200, 400, 800 (minus up to 20% jitter), not 50 again and again.
      expect(seen[4]).toBeGreaterThan(4 * (seen[0] ?? 0));
      expect(seen[4]).toBeGreaterThanOrEqual(500);
    } finally {
      await bridge.close();
    }
  });

  it("minListIntervalMs: a server that sends list_changed all the time is listed a bounded number of times", async () => {
    const listTools = vi.spyOn(Client.prototype, "listTools");
    const bridge = await new McpBridge({
      // Each listing answered 100 ms late, with notifications every 5 ms meanwhile: start() must not
      // wait for a listing loop that never runs out of notifications.
      servers: [stdioTarget("spam", "--spam-list-changed", "5", "--list-delay", "100")],
      logger: recordingLogger(),
      stderr: "ignore",
      minListIntervalMs: 250,
      ...retryLater,
    }).start();
    try {
      const before = listTools.mock.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const listings = listTools.mock.calls.length - before;
      // About 3000 / (250 + 100) listings (fewer on a loaded machine), not one after the other (30)
      // for as long as the notifications come.
      expect(listings).toBeGreaterThanOrEqual(2);
      expect(listings).toBeLessThanOrEqual(13);
      expect(bridge.status()[0]?.state).toBe("connected");
    } finally {
      listTools.mockRestore();
      await bridge.close();
    }
  });

  it("publishTimeoutMs: a registry that never answers is retried, not waited on", async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const { port } = hanging.address() as { port: number };
    const bridge = await new McpBridge({
      servers: [stdioTarget("p")],
      stderr: "ignore",
      logger: recordingLogger(),
    }).start();
    const logger = recordingLogger();
    const publisher = bridge.publish(new NodeRegistryClient({ baseUrl: `http://127.0.0.1:${port}` }), {
      logger,
      publishTimeoutMs: 200,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 50,
    });
    try {
      await eventually("two timed-out attempts", () =>
        logger.lines.filter((l) => l.includes("cannot publish") && l.includes("no answer within 200 ms"))
          .length >= 2
          ? true
          : undefined,
      );
    } finally {
      publisher.close();
      await bridge.close();
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});
