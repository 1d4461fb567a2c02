/**
 * `arp-mcp serve`: an ARP stack's node types as the tools of an MCP server, over stdio (the default:
 * stdout carries nothing but JSON-RPC, everything else goes to stderr) or over Streamable HTTP with
 * `--port` (its URL is printed on stderr once it listens). SIGINT/SIGTERM close it: the sessions
 * first (their calls' runs are canceled), then the server. Tokens come from the environment only,
 * never from flags, which `ps` shows to anyone.
 */
import type { Logger } from "@arp/server";
import { serveHttp } from "../serve/http.js";
import { createArpMcpServer, DEFAULTS } from "../serve/server.js";
import { serveStdio } from "../serve/stdio.js";
import { type Command, type CommandIo, type ParsedValues, UsageError } from "./command.js";

/** Where each URL and token comes from when its flag is not given. */
export const SERVE_ENV = {
  gatewayUrl: "ARP_RUN_GATEWAY_URL",
  registryUrl: "ARP_NODE_REGISTRY_URL",
  coordinatorUrl: "ARP_RUN_COORDINATOR_URL",
  gatewayToken: "ARP_GATEWAY_TOKEN",
  registryToken: "ARP_REGISTRY_TOKEN",
  coordinatorToken: "ARP_COORDINATOR_TOKEN",
  /** Any service's token when its own is not set. */
  token: "ARP_TOKEN",
} as const;

function text(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function url(values: ParsedValues, name: string, env: string, required: boolean): string | undefined {
  const value = text(values, name) ?? process.env[env];
  if (value === undefined || value === "") {
    if (required) throw new UsageError(`--${name} is required (or ${env})`);
    return undefined;
  }
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new UsageError(`--${name} must be an http(s) URL (got '${value}')`);
  }
  return value;
}

function whole(values: ParsedValues, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  const value = text(values, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got '${value}')`);
  return n;
}

function token(specific: string): string | undefined {
  const value = process.env[specific] || process.env[SERVE_ENV.token];
  return value === "" ? undefined : value;
}

function stderrLogger(io: CommandIo): Logger {
  const line = (message: string, data?: Record<string, unknown>) =>
    io.stderr(`${message}${data === undefined ? "" : ` ${JSON.stringify(data)}`}\n`);
  return { warn: line, error: line };
}

/** Resolves when the signal aborts (at once if it has). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

async function run(values: ParsedValues, io: CommandIo): Promise<number> {
  const gatewayUrl = url(values, "gateway-url", SERVE_ENV.gatewayUrl, true)!;
  const registryUrl = url(values, "registry-url", SERVE_ENV.registryUrl, true)!;
  const coordinatorUrl = url(values, "coordinator-url", SERVE_ENV.coordinatorUrl, false);
  const port = whole(values, "port", { max: 65_535 });
  const maxMessageBytes = whole(values, "max-message-bytes", { min: 1 });
  // Every flag is checked before anything starts, whichever transport it is for.
  const httpOptions = {
    port,
    host: text(values, "host"),
    path: text(values, "path"),
    maxSessions: whole(values, "max-sessions", { min: 1 }),
    sessionIdleMs: whole(values, "session-idle-ms", { min: 1 }),
    maxBodyBytes: maxMessageBytes,
  };
  if (httpOptions.path !== undefined && !httpOptions.path.startsWith("/"))
    throw new UsageError(`--path must start with / (got '${httpOptions.path}')`);
  const arp = createArpMcpServer({
    gatewayUrl,
    registryUrl,
    coordinatorUrl,
    gatewayToken: token(SERVE_ENV.gatewayToken),
    registryToken: token(SERVE_ENV.registryToken),
    coordinatorToken: token(SERVE_ENV.coordinatorToken),
    toolsRefreshMs: whole(values, "refresh-ms"),
    maxTools: whole(values, "max-tools", { min: 1 }),
    callTimeoutMs: whole(values, "call-timeout-ms"),
    progressIntervalMs: whole(values, "progress-interval-ms"),
    logger: stderrLogger(io),
  });
  // A registry that does not answer yet is not fatal: tools/list tries again.
  try {
    await arp.refreshTools();
  } catch {
    // logged by the catalog
  }
  if (port === undefined) {
    const connection = await serveStdio(arp, { maxMessageBytes });
    const ended = await Promise.race([
      connection.closed.then(() => true),
      aborted(io.signal).then(() => false),
    ]);
    if (ended) io.stderr("arp-mcp serve: the client closed stdin; stopping\n");
    await connection.close();
  } else {
    let server: Awaited<ReturnType<typeof serveHttp>>;
    try {
      server = await serveHttp(arp, httpOptions);
    } catch (err) {
      await arp.close();
      io.stderr(`arp-mcp serve: cannot listen: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    io.stderr(`arp-mcp serve: listening on ${server.url}\n`);
    await aborted(io.signal);
    await server.close();
  }
  await arp.close();
  return 0;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "Serve an ARP stack's node types as MCP tools (stdio, or Streamable HTTP with --port).",
  options: [
    {
      name: "gateway-url",
      type: "string",
      value: "URL",
      help: `Run Gateway (or ${SERVE_ENV.gatewayUrl}); required`,
    },
    {
      name: "registry-url",
      type: "string",
      value: "URL",
      help: `Node Registry (or ${SERVE_ENV.registryUrl}); required`,
    },
    {
      name: "coordinator-url",
      type: "string",
      value: "URL",
      help: `Run Coordinator, for outputs too large for events (or ${SERVE_ENV.coordinatorUrl})`,
    },
    {
      name: "port",
      type: "string",
      value: "P",
      help: "Streamable HTTP on this port (0: any); default stdio",
    },
    { name: "host", type: "string", value: "H", help: "HTTP host (default 127.0.0.1)" },
    { name: "path", type: "string", value: "PATH", help: "HTTP endpoint path (default /mcp)" },
    { name: "max-sessions", type: "string", value: "N", help: "HTTP sessions open at once (default 100)" },
    {
      name: "session-idle-ms",
      type: "string",
      value: "MS",
      help: "close an idle HTTP session after (default 600000)",
    },
    {
      name: "max-message-bytes",
      type: "string",
      value: "N",
      help: "largest message or body (default 4194304)",
    },
    {
      name: "refresh-ms",
      type: "string",
      value: "MS",
      help: `list the registry again every (default ${DEFAULTS.toolsRefreshMs}; 0: once)`,
    },
    {
      name: "max-tools",
      type: "string",
      value: "N",
      help: `most tools listed (default ${DEFAULTS.maxTools})`,
    },
    {
      name: "call-timeout-ms",
      type: "string",
      value: "MS",
      help: `cancel a call's run after (default ${DEFAULTS.callTimeoutMs}; 0: never)`,
    },
    {
      name: "progress-interval-ms",
      type: "string",
      value: "MS",
      help: `least time between progress notifications (default ${DEFAULTS.progressIntervalMs})`,
    },
  ],
  run,
};
