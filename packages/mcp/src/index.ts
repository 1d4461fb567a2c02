/**
 * @arp/mcp: MCP tools as ARP node types (an Atomic Executor whose node types are the tools of MCP
 * servers, over stdio or Streamable HTTP), and ARP runs as MCP tools (an MCP server over an ARP
 * stack). The command line is `arp-mcp` (src/cli.ts).
 */

// MCP tools as ARP node types (src/bridge/).
export {};

// ARP runs as MCP tools (src/serve/).
