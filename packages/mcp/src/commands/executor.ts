/**
 * `arp-mcp executor`: an ARP Atomic Executor service whose node types are the tools of the MCP
 * servers given with `--server NAME=COMMAND|URL` (repeatable), published to `--registry-url`.
 * It prints `arp-mcp executor <url>` on stderr once it listens and has tried every server, and
 * shuts down on SIGINT/SIGTERM (`io.signal`), closing the MCP servers it started.
 */
import { NodeRegistryClient } from "@arp/client";
import type { Logger, ServerOptions } from "@arp/server";
import { McpBridge } from "../bridge/bridge.js";
import { McpAtomicExecutor } from "../bridge/executor.js";
import { MAX_TIMER_MS } from "../bridge/limits.js";
import { McpTargetError, parseServerTarget } from "../bridge/target.js";
import { type Command, type CommandIo, UsageError } from "./command.js";

/** How long shutdown lets in-flight node runs finish before they are cut, ms, by default. */
export const SHUTDOWN_TIMEOUT_MS = 5_000;

function wholeNumberFlag(flag: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  }
  return n;
}

function ioLogger(io: CommandIo): Logger {
  return {
    warn: (m) => io.stderr(`arp-mcp executor: warning: ${m}\n`),
    error: (m) => io.stderr(`arp-mcp executor: error: ${m}\n`),
  };
}

export const executorCommand: Command = {
  name: "executor",
  summary: "Serve the tools of MCP servers as an ARP Atomic Executor, publishing them to a Node Registry.",
  options: [
    {
      name: "server",
      type: "string",
      multiple: true,
      value: "NAME=COMMAND|URL",
      help: "An MCP server: an http(s) URL (Streamable HTTP) or a command line (stdio); its tools become mcp.NAME.TOOL",
    },
    {
      name: "port",
      type: "string",
      value: "P",
      help: "Port to listen on (default 0: any free one, printed)",
    },
    { name: "host", type: "string", value: "H", help: "Address to bind (default 127.0.0.1)" },
    {
      name: "registry-url",
      type: "string",
      value: "URL",
      help: "Node Registry to publish the node types to, and keep current (token: ARP_MCP_REGISTRY_TOKEN)",
    },
    {
      name: "insecure",
      type: "boolean",
      help: "Serve without authentication (development); by default auth follows the ARP_AUTH_* variables",
    },
    {
      name: "call-timeout-ms",
      type: "string",
      value: "MS",
      help: "Longest one tool call may take (default 0: no limit of its own; max_wall_time_ms still applies)",
    },
    {
      name: "shutdown-timeout-ms",
      type: "string",
      value: "MS",
      help: `How long in-flight node runs may take to finish on SIGINT/SIGTERM (default ${SHUTDOWN_TIMEOUT_MS})`,
    },
  ],
  run: async (values, io) => {
    const specs = (values.server as string[] | undefined) ?? [];
    if (specs.length === 0) throw new UsageError("give at least one --server NAME=COMMAND|URL");
    let targets: ReturnType<typeof parseServerTarget>[];
    try {
      targets = specs.map(parseServerTarget);
    } catch (err) {
      if (err instanceof McpTargetError) throw new UsageError(err.message);
      throw err;
    }
    const port = wholeNumberFlag("port", values.port, 0, 0, 65_535);
    const callTimeoutMs = wholeNumberFlag("call-timeout-ms", values["call-timeout-ms"], 0, 0, MAX_TIMER_MS);
    const shutdownMs = wholeNumberFlag(
      "shutdown-timeout-ms",
      values["shutdown-timeout-ms"],
      SHUTDOWN_TIMEOUT_MS,
      0,
      MAX_TIMER_MS,
    );
    const host = typeof values.host === "string" ? values.host : "127.0.0.1";
    const registryUrl = values["registry-url"];
    if (
      registryUrl !== undefined &&
      (typeof registryUrl !== "string" || !/^https?:\/\//i.test(registryUrl) || !URL.canParse(registryUrl))
    ) {
      throw new UsageError(`--registry-url must be an http(s) URL, got '${String(registryUrl)}'`);
    }
    const logger = ioLogger(io);
    const server: ServerOptions = {
      logger,
      ...(values.insecure === true ? { auth: { mode: "disabled" } } : {}),
    };

    let bridge: McpBridge;
    try {
      bridge = new McpBridge({ servers: targets, logger, callTimeoutMs });
    } catch (err) {
      if (err instanceof McpTargetError) throw new UsageError(err.message);
      throw err;
    }
    let executor: McpAtomicExecutor;
    try {
      executor = new McpAtomicExecutor({ bridge, server });
    } catch (err) {
      // An auth misconfiguration (AuthConfigError names the variable) is the user's to fix.
      throw new UsageError(`${(err as Error).message} (or --insecure for development)`);
    }
    if (io.signal.aborted) return 0;
    await bridge.start();
    const running = await executor.listen({ port, host });
    const publisher =
      typeof registryUrl === "string"
        ? bridge.publish(
            new NodeRegistryClient({
              baseUrl: registryUrl,
              ...(process.env.ARP_MCP_REGISTRY_TOKEN
                ? { bearerToken: process.env.ARP_MCP_REGISTRY_TOKEN }
                : {}),
            }),
            { logger },
          )
        : undefined;
    const types = bridge.nodeTypes().length;
    const servers = `${targets.length} MCP server${targets.length === 1 ? "" : "s"}`;
    io.stderr(`arp-mcp executor ${running.url} (${servers}, ${types} node types)\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    publisher?.close();
    await running.close({ timeoutMs: shutdownMs });
    await bridge.close();
    return 0;
  },
};
