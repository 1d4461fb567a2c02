// @arp/mcp as a user meets it: both directions construct and close without a server to talk to
// (nothing connects before `start()` or a session), under the app's strictest compiler options.
import { createArpMcpServer, MCP_ERROR_CODES, McpAtomicExecutor, McpBridge } from "@arp/mcp";

const bridge = new McpBridge({ servers: ["files=npx -y @modelcontextprotocol/server-filesystem /tmp"] });
const executor = new McpAtomicExecutor({ bridge, server: { auth: { mode: "disabled" } } });
const arp = createArpMcpServer({
  gatewayUrl: "http://127.0.0.1:8080",
  registryUrl: "http://127.0.0.1:8084",
});
process.stdout.write(
  `${JSON.stringify({
    servers: bridge.status().map((s) => `${s.name} ${s.transport} ${s.state}`),
    handles: bridge.handles({ node_type_id: "mcp.files.read_file", version: "1" }),
    executor: executor.service.key,
    toolError: MCP_ERROR_CODES.toolError,
  })}\n`,
);
await arp.close();
await bridge.close();
