/**
 * `createArpMcpServer()`: an ARP stack (its Run Gateway and Node Registry) as MCP tools. It holds
 * what every MCP connection shares (the clients, the cached tool list, the schema checker) and makes
 * one SDK `Server` per connection (`createServer()`): stdio has one, Streamable HTTP one per session
 * (http.ts). Every limit is an option with a default (`DEFAULTS`).
 */
import {
  type BearerToken,
  CLIENT_VERSION,
  NodeRegistryClient,
  RunCoordinatorClient,
  RunGatewayClient,
} from "@arp/client";
import type { Logger } from "@arp/server";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { ToolCatalog } from "./catalog.js";
import { runTool } from "./run-tool.js";
import { RUN_META_KEY } from "./tools.js";
import { SchemaChecker } from "./validation.js";

export interface ArpMcpServerOptions {
  /** The Run Gateway calls start runs at (`startRun`, `streamRunEvents`, `getRun`, `cancelRun`). */
  gatewayUrl: string;
  /** The Node Registry whose node types are the tools (`listNodeTypes`). */
  registryUrl: string;
  /**
   * A Run Coordinator, to read a run's root node run (`getNodeRun`) when its events do not carry
   * its whole outputs (left out for their size, or a gateway without event streams). Optional.
   */
  coordinatorUrl?: string;
  /** Bearer tokens (a string, or a function called before each attempt), per service. */
  gatewayToken?: BearerToken;
  registryToken?: BearerToken;
  coordinatorToken?: BearerToken;
  /** How often the registry is listed again for new or changed node types (ms; 0: only once). */
  toolsRefreshMs?: number;
  /** The most tools listed (the first by name); more node types are skipped with a warning. */
  maxTools?: number;
  /** One call's deadline (ms): past it the run is canceled and the call is a tool error. 0: none. */
  callTimeoutMs?: number;
  /** How long canceling a run at the gateway may take (ms). */
  cancelTimeoutMs?: number;
  /** The least time between two progress notifications of one call (ms). */
  progressIntervalMs?: number;
  /** One listing of the registry, retries included (ms): a registry that hangs does not hang `tools/list`. */
  registryTimeoutMs?: number;
  /** How often `getRun` is polled when the gateway has no event stream (ms). */
  pollIntervalMs?: number;
  /** The most tool calls in flight at once, over every connection; one more is the tool error `too_many_calls`. */
  maxConcurrentCalls?: number;
  /** Where warnings go (skipped node types, a registry that does not answer). Default: stderr. */
  logger?: Logger;
}

export const DEFAULTS = {
  toolsRefreshMs: 30_000,
  maxTools: 1_000,
  callTimeoutMs: 600_000,
  cancelTimeoutMs: 10_000,
  progressIntervalMs: 250,
  pollIntervalMs: 1_000,
  maxConcurrentCalls: 100,
  registryTimeoutMs: 10_000,
} as const;

/** The name and version the MCP server gives in `initialize`. */
export const SERVER_INFO = { name: "arp-mcp", version: CLIENT_VERSION } as const;

const stderrLogger: Logger = {
  warn: (message, data) => void process.stderr.write(`${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    void process.stderr.write(`${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};

export interface ArpMcpServer {
  /**
   * A new MCP server for one connection (connect it to a transport). It sends
   * `notifications/tools/list_changed` when the tools change, until it closes; its `onclose` is
   * taken for that (use the transport's instead).
   */
  createServer(): Server;
  /** Lists the registry now (a changed list notifies every connected server). */
  refreshTools(): Promise<void>;
  /**
   * Stops the refresh timer and waits for the calls in flight. Close the transports first: that
   * aborts their calls, whose runs are then canceled at the gateway before this resolves.
   */
  close(): Promise<void>;
}

function limit(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!(chosen >= 0)) throw new RangeError(`${name} must be a number >= 0 (got ${String(value)})`);
  return chosen;
}

export function createArpMcpServer(options: ArpMcpServerOptions): ArpMcpServer {
  const logger = options.logger ?? stderrLogger;
  const maxTools = limit("maxTools", options.maxTools, DEFAULTS.maxTools);
  const maxConcurrentCalls = limit(
    "maxConcurrentCalls",
    options.maxConcurrentCalls,
    DEFAULTS.maxConcurrentCalls,
  );
  // Every limit is checked before anything (the catalog's timer) starts.
  const refreshMs = limit("toolsRefreshMs", options.toolsRefreshMs, DEFAULTS.toolsRefreshMs);
  const timing = {
    callTimeoutMs: limit("callTimeoutMs", options.callTimeoutMs, DEFAULTS.callTimeoutMs),
    cancelTimeoutMs: limit("cancelTimeoutMs", options.cancelTimeoutMs, DEFAULTS.cancelTimeoutMs),
    progressIntervalMs: limit("progressIntervalMs", options.progressIntervalMs, DEFAULTS.progressIntervalMs),
    pollIntervalMs: limit("pollIntervalMs", options.pollIntervalMs, DEFAULTS.pollIntervalMs),
  };
  const gateway = new RunGatewayClient({ baseUrl: options.gatewayUrl, bearerToken: options.gatewayToken });
  const registry = new NodeRegistryClient({
    baseUrl: options.registryUrl,
    bearerToken: options.registryToken,
    timeoutMs: limit("registryTimeoutMs", options.registryTimeoutMs, DEFAULTS.registryTimeoutMs) || undefined,
  });
  const coordinator =
    options.coordinatorUrl === undefined
      ? undefined
      : new RunCoordinatorClient({ baseUrl: options.coordinatorUrl, bearerToken: options.coordinatorToken });
  const catalog = new ToolCatalog({ registry, refreshMs, maxTools, logger });
  const deps = { gateway, coordinator, checker: new SchemaChecker(maxTools * 2), logger, ...timing };

  /** Calls in flight, so that `close()` can wait for the cancels of the aborted ones. */
  const running = new Set<Promise<unknown>>();

  function createServer(): Server {
    const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      try {
        const { tools } = await catalog.tools();
        return { tools: [...tools.values()].map((t) => t.tool) };
      } catch (err) {
        throw new McpError(
          ErrorCode.InternalError,
          `the node registry did not list node types: ${message(err)}`,
        );
      }
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { name, arguments: args = {}, _meta } = request.params;
      let entry: Awaited<ReturnType<ToolCatalog["tool"]>>;
      try {
        entry = await catalog.tool(name);
      } catch (err) {
        throw new McpError(
          ErrorCode.InternalError,
          `the node registry did not list node types: ${message(err)}`,
        );
      }
      if (entry === undefined) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
      const token = _meta?.progressToken;
      const progress =
        token === undefined
          ? undefined
          : (value: number, text: string, runId: string) =>
              extra.sendNotification({
                method: "notifications/progress",
                params: {
                  progressToken: token,
                  progress: value,
                  message: text,
                  _meta: { [RUN_META_KEY]: { run_id: runId } },
                },
              });
      if (running.size >= maxConcurrentCalls)
        return {
          isError: true,
          content: [
            {
              type: "text" as const,
              text: `too_many_calls: ${maxConcurrentCalls} tool calls are in flight (maxConcurrentCalls); try again later`,
            },
          ],
        };
      const call = runTool(entry, args, { signal: extra.signal, progress }, deps);
      running.add(call);
      void call.catch(() => undefined).finally(() => running.delete(call));
      return call;
    });
    const unsubscribe = catalog.subscribe(() => {
      server.sendToolListChanged().catch(() => undefined); // not yet initialized, or gone
    });
    server.onclose = unsubscribe;
    return server;
  }

  return {
    createServer,
    refreshTools: async () => {
      await catalog.refresh();
    },
    close: async () => {
      catalog.close();
      await Promise.allSettled([...running]);
    },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
