/**
 * The MCP server over Streamable HTTP on `node:http`, with stateful sessions: each `initialize`
 * opens a session (an `Mcp-Session-Id`, its own SDK transport and `Server`), so that a client's
 * `notifications/cancelled` reaches the call it cancels and `notifications/tools/list_changed` has a
 * stream to go out on; stateless mode has neither. Sessions are bounded: at most `maxSessions` at
 * once (an `initialize` beyond them is a 503), and one without an open request for `sessionIdleMs`
 * is closed (a client that left without a `DELETE`). Host and Origin are checked against
 * `allowedHosts` (DNS rebinding: a web page must not reach a server on loopback).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { ArpMcpServer } from "./server.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./stdio.js";

export interface HttpOptions {
  /** Default 0: any free port (see `url`). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The MCP endpoint's path. Default `/mcp`. */
  path?: string;
  /** The most sessions open at once. */
  maxSessions?: number;
  /** A session without an open request for this long is closed (ms). */
  sessionIdleMs?: number;
  /** The largest request body (bytes): a larger one is a 413. */
  maxBodyBytes?: number;
  /**
   * `Host` values (and `Origin` hosts) accepted. Default on a loopback host: `localhost`,
   * `127.0.0.1` and `[::1]` at the port; elsewhere no check (put your own in front).
   */
  allowedHosts?: readonly string[];
}

export const HTTP_DEFAULTS = {
  host: "127.0.0.1",
  path: "/mcp",
  maxSessions: 100,
  sessionIdleMs: 600_000,
  maxBodyBytes: DEFAULT_MAX_MESSAGE_BYTES,
} as const;

export interface RunningHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly url: string;
  /** How many sessions are open. */
  readonly sessions: number;
  /** Closes every session (their calls' runs are canceled), then the HTTP server. */
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  open: number;
  lastSeen: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

function count(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!(chosen > 0)) throw new RangeError(`${name} must be a number > 0 (got ${String(value)})`);
  return chosen;
}

export async function serveHttp(arp: ArpMcpServer, options: HttpOptions = {}): Promise<RunningHttpServer> {
  const host = options.host ?? HTTP_DEFAULTS.host;
  const path = options.path ?? HTTP_DEFAULTS.path;
  const maxSessions = count("maxSessions", options.maxSessions, HTTP_DEFAULTS.maxSessions);
  const sessionIdleMs = count("sessionIdleMs", options.sessionIdleMs, HTTP_DEFAULTS.sessionIdleMs);
  const maxBodyBytes = count("maxBodyBytes", options.maxBodyBytes, HTTP_DEFAULTS.maxBodyBytes);
  const sessions = new Map<string, Session>();
  let opening = 0; // sessions whose `initialize` is being handled
  let allowedHosts: Set<string> | undefined;

  const track = (session: Session, res: ServerResponse) => {
    session.open += 1;
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.open -= 1;
      session.lastSeen = Date.now();
    });
  };

  const allowed = (req: IncomingMessage): boolean => {
    if (allowedHosts === undefined) return true;
    if (!allowedHosts.has(req.headers.host ?? "")) return false;
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return allowedHosts.has(new URL(origin).host);
    } catch {
      return false;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== path)
      return jsonRpcError(res, 404, -32000, `Not found: the MCP endpoint is ${path}`);
    if (!allowed(req)) return jsonRpcError(res, 403, -32000, "Forbidden: Host or Origin not allowed");
    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const session = sessions.get(id);
      if (session === undefined) return jsonRpcError(res, 404, -32001, "Session not found");
      track(session, res);
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== "POST") return jsonRpcError(res, 400, -32000, "Bad Request: no Mcp-Session-Id");
    if (sessions.size + opening >= maxSessions)
      return jsonRpcError(
        res,
        503,
        -32000,
        `Too many sessions (maxSessions: ${maxSessions}); try again later`,
      );
    const session: Session = {
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        maxRequestBodySize: maxBodyBytes,
        onsessioninitialized: (sid) => void sessions.set(sid, session),
      }),
      open: 0,
      lastSeen: Date.now(),
    };
    const mcp = arp.createServer();
    session.transport.onclose = () => {
      if (session.transport.sessionId !== undefined) sessions.delete(session.transport.sessionId);
    };
    // Counted before the first await: a burst of `initialize`s cannot all pass the check above.
    opening += 1;
    try {
      await mcp.connect(session.transport);
      track(session, res);
      // Anything but an `initialize` is refused by the fresh transport (400), and opens nothing.
      await session.transport.handleRequest(req, res);
    } finally {
      opening -= 1;
      if (session.transport.sessionId === undefined) await mcp.close();
    }
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        jsonRpcError(res, 500, -32603, `Internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  if (options.allowedHosts !== undefined) allowedHosts = new Set(options.allowedHosts);
  else if (LOOPBACK.has(host))
    allowedHosts = new Set(["localhost", "127.0.0.1", "[::1]"].map((h) => `${h}:${port}`));

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values())
        if (session.open === 0 && now - session.lastSeen >= sessionIdleMs) void session.transport.close();
    },
    Math.max(100, Math.min(sessionIdleMs / 2, 60_000)),
  );
  sweep.unref();

  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}${path}`,
    get sessions() {
      return sessions.size;
    },
    async close() {
      clearInterval(sweep);
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
