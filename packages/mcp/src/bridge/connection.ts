/**
 * One MCP server: connects (a child process over stdio, or Streamable HTTP), lists its tools
 * (following pagination, bounded), re-lists them on `notifications/tools/list_changed`, calls them,
 * and reconnects when the server goes away, with exponential backoff, jitter and a cap. A connected
 * server is pinged now and then: an HTTP server that went away while idle is noticed too.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { brand, brandCheck } from "@arp/model";
import type { Logger } from "@arp/server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { backoffDelay, type Limits, MAX_TIMER_MS } from "./limits.js";
import type { McpServerTarget } from "./target.js";

export type ConnectionState = "connecting" | "connected" | "down" | "closed";

/** What a connection knows of its server: the tools of the last complete listing. */
export interface ServerSnapshot {
  state: ConnectionState;
  /** `serverInfo.version` of the last initialize; undefined before the first one. */
  serverVersion: string | undefined;
  tools: readonly Tool[];
}

export interface ConnectionOptions {
  limits: Limits;
  logger: Logger;
  /** A stdio server's stderr: passed through to ours (default) or dropped. */
  stderr: "inherit" | "ignore";
  /** Called after every change of state or tools. */
  onChange: (connection: McpConnection) => void;
  /** `clientInfo` of initialize. */
  clientInfo: { name: string; version: string };
}

/** A call made while the server is not connected: the node run fails `mcp_unavailable`. */
export class McpNotConnectedError extends Error {
  // `instanceof` holds across the ESM and CJS builds (one class per build): a brand, not identity.
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/mcp.McpNotConnectedError");
  override name = "McpNotConnectedError";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    brand(this, "@arp/mcp.McpNotConnectedError");
  }
}

export class McpConnection {
  readonly target: McpServerTarget;
  #state: ConnectionState = "connecting";
  #serverVersion: string | undefined;
  #tools: readonly Tool[] = [];
  #client: Client | undefined;
  /** Resolves the wait of the connected phase: the connection was lost. */
  #lost: (() => void) | undefined;
  readonly #closing = new AbortController();
  readonly #options: ConnectionOptions;
  #loop: Promise<void> | undefined;
  /** Settles after the first attempt, connected or not. */
  #firstAttempt: Promise<void>;
  #firstAttemptDone!: () => void;
  /** The listing loop, while it runs (one at a time). */
  #refreshing: Promise<void> | undefined;
  /** Callers of `#refresh` waiting for a listing that starts after their call. */
  readonly #listWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** When the last listing of this client ended: the next one waits `minListIntervalMs` after it. */
  #listedAt: { client: Client; at: number } | undefined;

  constructor(target: McpServerTarget, options: ConnectionOptions) {
    this.target = target;
    this.#options = options;
    this.#firstAttempt = new Promise((resolve) => {
      this.#firstAttemptDone = resolve;
    });
  }

  get name(): string {
    return this.target.name;
  }

  snapshot(): ServerSnapshot {
    return { state: this.#state, serverVersion: this.#serverVersion, tools: this.#tools };
  }

  /** Starts connecting (and reconnecting); resolves after the first attempt, whether it connected. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#firstAttempt;
  }

  /**
   * Calls a tool. `signal` aborting cancels the request at the server (`notifications/cancelled`);
   * rejects with McpNotConnectedError when not connected, else with what the SDK throws.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<CallToolResult> {
    const client = this.#client;
    if (client === undefined || this.#state !== "connected") {
      throw new McpNotConnectedError(`MCP server ${this.name} is not connected (${this.#state})`);
    }
    // The SDK's own default (60 s) would cut long tools: 0 means none of ours, up to setTimeout's range.
    const timeout = options.timeoutMs === 0 ? MAX_TIMER_MS : options.timeoutMs;
    return (await client.request(
      { method: "tools/call", params: { name, arguments: args } },
      CallToolResultSchema,
      { signal: options.signal, timeout },
    )) as CallToolResult;
  }

  /** Tells the connection that a call found it broken: it reconnects. */
  reportBroken(reason: string): void {
    if (this.#state !== "connected") return;
    this.#options.logger.warn(`MCP server ${this.name}: connection lost (${reason})`);
    this.#lost?.();
  }

  /** Stops reconnecting and closes the connection (a stdio server's process ends). */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#closing.abort();
    this.#lost?.();
    await this.#loop;
    this.#set("closed");
  }

  async #run(): Promise<void> {
    const { limits, logger } = this.#options;
    let failures = 0;
    while (!this.#closing.signal.aborted) {
      let client: Client | undefined;
      let connectedAt: number | undefined;
      try {
        this.#set("connecting");
        client = await this.#connect();
        const lost = new Promise<void>((resolve) => {
          this.#lost = resolve;
        });
        client.onclose = () => this.#lost?.();
        await this.#refresh(client);
        this.#client = client;
        connectedAt = Date.now();
        this.#set("connected");
        this.#firstAttemptDone();
        await Promise.race([lost, this.#pinging(client)]);
      } catch (err) {
        if (!this.#closing.signal.aborted) {
          logger.warn(`MCP server ${this.name}: cannot connect: ${messageOf(err)}`);
        }
      } finally {
        this.#client = undefined;
        this.#lost = undefined;
        if (client !== undefined) {
          client.onclose = undefined;
          if (this.#closing.signal.aborted) await this.#endSession(client);
          await client.close().catch(() => {});
        }
      }
      this.#firstAttemptDone();
      if (this.#closing.signal.aborted) break;
      // The backoff starts over only after a connection that stayed up for at least
      // reconnectMaxDelayMs: a server that connects, lists and dies at once is retried ever slower.
      if (connectedAt !== undefined && Date.now() - connectedAt >= limits.reconnectMaxDelayMs) failures = 0;
      this.#set("down");
      const delay = backoffDelay(failures++, limits.reconnectInitialDelayMs, limits.reconnectMaxDelayMs);
      logger.debug?.(`MCP server ${this.name}: reconnecting in ${delay} ms`);
      await sleep(delay, undefined, { signal: this.#closing.signal }).catch(() => {});
    }
  }

  async #connect(): Promise<Client> {
    const client = new Client(this.#options.clientInfo, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      void this.#refresh(client).catch((err: unknown) => {
        this.#options.logger.warn(`MCP server ${this.name}: cannot list tools: ${messageOf(err)}`);
      });
    });
    const transport = this.#transport();
    // A failure of initialize, or the close while it waits: end what was started (a child process).
    const onClose = () => void client.close().catch(() => {});
    this.#closing.signal.addEventListener("abort", onClose, { once: true });
    try {
      await client.connect(transport, { timeout: this.#options.limits.connectTimeoutMs });
    } catch (err) {
      await client.close().catch(() => {});
      throw err;
    } finally {
      this.#closing.signal.removeEventListener("abort", onClose);
    }
    this.#serverVersion = client.getServerVersion()?.version;
    return client;
  }

  /** Ends an HTTP session politely (MCP's `DELETE`), waiting at most `closeTimeoutMs`. */
  async #endSession(client: Client): Promise<void> {
    const transport = client.transport;
    if (!(transport instanceof StreamableHTTPClientTransport)) return;
    const stop = new AbortController();
    await Promise.race([
      transport.terminateSession().catch(() => {}),
      sleep(this.#options.limits.closeTimeoutMs, undefined, { signal: stop.signal }).catch(() => {}),
    ]);
    stop.abort();
  }

  #transport(): Transport {
    const target = this.target;
    if (target.transport === "stdio") {
      return new StdioClientTransport({
        command: target.command,
        args: target.args,
        stderr: this.#options.stderr,
        ...(target.env === undefined ? {} : { env: target.env }),
        ...(target.cwd === undefined ? {} : { cwd: target.cwd }),
      });
    }
    return new StreamableHTTPClientTransport(new URL(target.url), {
      ...(target.headers === undefined ? {} : { requestInit: { headers: target.headers } }),
    });
  }

  /**
   * Lists the tools again; one listing at a time, and one more when asked during one (any number of
   * `list_changed` meanwhile are that one), at least `minListIntervalMs` after the previous listing
   * of the same client ended.
   */
  #refresh(client: Client): Promise<void> {
    // Each caller waits for one listing that starts after its call, not for the loop to go idle: a
    // server that sends `list_changed` all the time must not keep `start()` (or anyone) waiting.
    const done = new Promise<void>((resolve, reject) => this.#listWaiters.push({ resolve, reject }));
    if (this.#refreshing === undefined) {
      this.#refreshing = this.#listLoop(client).finally(() => {
        this.#refreshing = undefined;
      });
    }
    return done;
  }

  /** Lists while callers wait: each round answers the callers that came before it began. */
  async #listLoop(client: Client): Promise<void> {
    while (this.#listWaiters.length > 0) {
      const last = this.#listedAt;
      if (last !== undefined && last.client === client) {
        const wait = last.at + this.#options.limits.minListIntervalMs - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: this.#closing.signal }).catch(() => {});
      }
      const round = this.#listWaiters.splice(0);
      if (this.#closing.signal.aborted) {
        for (const waiter of round) waiter.resolve();
        continue;
      }
      try {
        this.#tools = await this.#listAll(client);
      } catch (err) {
        // As one failed listing: this round's callers and those who came meanwhile hear of it.
        for (const waiter of [...round, ...this.#listWaiters.splice(0)]) waiter.reject(err);
        return;
      } finally {
        this.#listedAt = { client, at: Date.now() };
      }
      if (this.#state === "connected") this.#options.onChange(this);
      for (const waiter of round) waiter.resolve();
    }
  }

  async #listAll(client: Client): Promise<Tool[]> {
    const { limits, logger } = this.#options;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= limits.maxToolPages) {
        logger.warn(
          `MCP server ${this.name}: stopped listing tools after maxToolPages ${limits.maxToolPages} pages`,
        );
        break;
      }
      // The closing signal too: close() ends a listing at once, not after maxToolPages × listTimeoutMs.
      const result = await client.listTools(cursor === undefined ? {} : { cursor }, {
        timeout: limits.listTimeoutMs,
        signal: this.#closing.signal,
      });
      tools.push(...result.tools);
      if (tools.length > limits.maxTools) {
        logger.warn(
          `MCP server ${this.name}: more than maxTools ${limits.maxTools} tools; the rest are ignored`,
        );
        tools.length = limits.maxTools;
        break;
      }
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** Pings while connected; resolves when a ping fails (the connection is lost). */
  async #pinging(client: Client): Promise<void> {
    const { pingIntervalMs, pingTimeoutMs } = this.#options.limits;
    if (pingIntervalMs === 0) return new Promise(() => {});
    for (;;) {
      await sleep(pingIntervalMs, undefined, { signal: this.#closing.signal }).catch(() => {});
      if (this.#closing.signal.aborted || this.#client !== client) return;
      try {
        await client.ping({ timeout: pingTimeoutMs, signal: this.#closing.signal });
      } catch (err) {
        // An error the server answered (e.g. -32601 from a server without ping) proves it alive:
        // only a timeout, a closed connection or a transport error means lost.
        if (!pingLost(err)) {
          this.#options.logger.debug?.(`MCP server ${this.name}: ping answered: ${messageOf(err)}`);
          continue;
        }
        this.#options.logger.warn(`MCP server ${this.name}: ping failed: ${messageOf(err)}`);
        return;
      }
    }
  }

  #set(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onChange(this);
  }
}

/** Whether a failed ping means the connection is lost (not an error answer of a live server). */
function pingLost(err: unknown): boolean {
  if (!(err instanceof McpError)) return true;
  return err.code === ErrorCode.RequestTimeout || err.code === ErrorCode.ConnectionClosed;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
