/**
 * @arp/mcp: MCP tools as ARP node types (an Atomic Executor whose node types are the tools of MCP
 * servers, over stdio or Streamable HTTP), and ARP runs as MCP tools (an MCP server over an ARP
 * stack). The command line is `arp-mcp` (src/cli.ts).
 */

// MCP tools as ARP node types (src/bridge/).
export { McpBridge, type McpBridgeOptions, type McpServerStatus } from "./bridge/bridge.js";
export { type ConnectionState, McpNotConnectedError } from "./bridge/connection.js";
export { EXECUTOR_DEFAULTS, McpAtomicExecutor, type McpAtomicExecutorOptions } from "./bridge/executor.js";
export { DEFAULTS as BRIDGE_DEFAULTS, type Limits as BridgeLimits } from "./bridge/limits.js";
export {
  CONTENT_OUTPUT_SCHEMA,
  MCP_ERROR_CODES,
  type McpErrorCode,
  nodeTypeIdOf,
  nodeTypeVersion,
  toolToNodeType,
} from "./bridge/mapping.js";
export { PUBLISH_DEFAULTS, type PublishOptions, RegistryPublisher } from "./bridge/publisher.js";
export {
  checkServerName,
  type HttpTarget,
  type McpServerTarget,
  McpTargetError,
  parseServerTarget,
  type StdioTarget,
  splitCommandLine,
} from "./bridge/target.js";

// ARP runs as MCP tools (src/serve/).
export { HTTP_DEFAULTS, type HttpOptions, type RunningHttpServer, serveHttp } from "./serve/http.js";
export {
  type ArpMcpServer,
  type ArpMcpServerOptions,
  createArpMcpServer,
  DEFAULTS as SERVE_DEFAULTS,
  SERVER_INFO,
} from "./serve/server.js";
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  type StdioConnection,
  type StdioOptions,
  serveStdio,
} from "./serve/stdio.js";
export { NODE_TYPE_META_KEY, RUN_META_KEY } from "./serve/tools.js";
