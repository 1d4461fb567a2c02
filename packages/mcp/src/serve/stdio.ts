/**
 * The MCP server over stdio: one connection, JSON-RPC lines on stdin and stdout (nothing else may be
 * written to stdout; logs go to stderr). It ends when stdin ends (the client closed it) or `close()`.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { ArpMcpServer } from "./server.js";

export interface StdioOptions {
  stdin?: Readable;
  stdout?: Writable;
  /** The longest JSON-RPC line read from stdin (bytes); a longer one ends the connection. */
  maxMessageBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface StdioConnection {
  /** Resolves when the connection has ended (stdin ended, or `close()`). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function serveStdio(arp: ArpMcpServer, options: StdioOptions = {}): Promise<StdioConnection> {
  const stdin = options.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout, {
    maxBufferSize: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
  const server = arp.createServer();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
  });
  // The transport reads stdin but does not watch its end: a client that closes it ends the server.
  const onEnd = () => void server.close();
  stdin.once("end", onEnd);
  await server.connect(transport);
  void closed.then(() => stdin.off("end", onEnd));
  return { closed, close: () => server.close() };
}
