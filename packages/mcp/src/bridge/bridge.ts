/**
 * McpBridge: the tools of many MCP servers as atomic ARP node types, and the execution of node runs
 * of those types by calling the tools. It is independent of HTTP: an Atomic Executor built on
 * `@arp/server` routes the node types the bridge `handles()` to `execute(body, { signal })`.
 */
import type { NodeRegistryClient } from "@arp/client";
import type {
  AtomicExecuteRequest,
  AtomicExecuteResult,
  ErrorDetail,
  NodeType,
  NodeTypeRef,
} from "@arp/model";
import type { Logger } from "@arp/server";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { SchemaCompiler, type Validator } from "../schema.js";
import { type ConnectionState, McpConnection, McpNotConnectedError, messageOf } from "./connection.js";
import { type Limits, MAX_TIMER_MS, resolveLimits } from "./limits.js";
import { stderrLogger } from "./logger.js";
import {
  callErrorToDetail,
  MCP_ERROR_CODES,
  resultToOutcome,
  schemaError,
  toolToNodeType,
} from "./mapping.js";
import { type PublishOptions, RegistryPublisher } from "./publisher.js";
import { type McpServerTarget, McpTargetError, parseServerTarget } from "./target.js";

export interface McpBridgeOptions extends Partial<Limits> {
  /** The MCP servers: targets, or `NAME=COMMAND|URL` strings (parseServerTarget). Names are unique. */
  servers: readonly (McpServerTarget | string)[];
  /** Warnings (a server that cannot be reached, a tool skipped) and routine events; default stderr. */
  logger?: Logger;
  /** A stdio server's stderr: `inherit` (default: it appears on ours) or `ignore`. */
  stderr?: "inherit" | "ignore";
  /** `clientInfo` sent in MCP's initialize; default `{ name: "arp-mcp", version: "1" }`. */
  clientInfo?: { name: string; version: string };
  /** The clock of `started_at` and `ended_at`; default `() => new Date()`. */
  now?: () => Date;
}

/** One server's state, for health pages and tests. */
export interface McpServerStatus {
  name: string;
  transport: "stdio" | "http";
  state: ConnectionState;
  serverVersion: string | undefined;
  /** Node types it provides now (tools that could not be mapped are not counted). */
  nodeTypes: number;
}

interface Entry {
  connection: McpConnection;
  tool: Tool;
  nodeType: NodeType;
  input: Validator;
  output: Validator | undefined;
  /** The schema objects `input` and `output` were compiled from: released when the entry goes. */
  schemas: object[];
}

/** Why a node run's signal aborted: the state and error it ends with. */
class Stop {
  constructor(
    readonly state: "canceled" | "failed",
    readonly error?: ErrorDetail,
  ) {}
}

export class McpBridge {
  readonly #limits: Limits;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #connections = new Map<string, McpConnection>();
  /** Node types by `id@version`, per server: rebuilt from each listing. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  readonly #listeners = new Set<() => void>();
  readonly #schemas = new SchemaCompiler();
  #closed = false;

  constructor(options: McpBridgeOptions) {
    if (!Array.isArray(options?.servers)) {
      throw new TypeError("McpBridge: servers must be an array of targets or NAME=COMMAND|URL strings");
    }
    this.#limits = resolveLimits(options);
    this.#logger = options.logger ?? stderrLogger("arp-mcp");
    this.#now = options.now ?? (() => new Date());
    for (const given of options.servers) {
      const target = typeof given === "string" ? parseServerTarget(given) : given;
      if (this.#connections.has(target.name))
        throw new McpTargetError(`server name ${target.name} is given twice`);
      const connection = new McpConnection(target, {
        limits: this.#limits,
        logger: this.#logger,
        stderr: options.stderr ?? "inherit",
        clientInfo: options.clientInfo ?? { name: "arp-mcp", version: "1" },
        onChange: (c) => this.#reindex(c),
      });
      this.#connections.set(target.name, connection);
      this.#entries.set(target.name, new Map());
    }
  }

  /**
   * Connects to every server; resolves once each has connected (and listed its tools) or failed its
   * first attempt. One that failed keeps being retried in the background (`status()` shows it).
   */
  async start(): Promise<this> {
    if (this.#closed) throw new Error("this McpBridge is closed");
    await Promise.all([...this.#connections.values()].map((c) => c.start()));
    return this;
  }

  /** The node types of the tools of every server, as last listed (a server that is down keeps its). */
  nodeTypes(): NodeType[] {
    return [...this.#entries.values()].flatMap((m) =>
      [...m.values()].map((e) => structuredClone(e.nodeType)),
    );
  }

  /**
   * Whether a node run of this type is the bridge's to answer: its id is `mcp.<name>.<...>` for a
   * server name it was given. Whether that tool and version exist is execute's answer
   * (`unknown_node_type` otherwise), so a host routes every MCP node type here.
   */
  handles(ref: NodeTypeRef): boolean {
    const [prefix, name] = ref.node_type_id.split(".", 2);
    return (
      prefix === "mcp" &&
      name !== undefined &&
      this.#connections.has(name) &&
      ref.node_type_id.length > name.length + 5
    );
  }

  status(): McpServerStatus[] {
    return [...this.#connections.values()].map((c) => {
      const { state, serverVersion } = c.snapshot();
      return {
        name: c.name,
        transport: c.target.transport,
        state,
        serverVersion,
        nodeTypes: this.#entries.get(c.name)?.size ?? 0,
      };
    });
  }

  /** Calls `listener` after every change of the node types; returns the unsubscribe. */
  onNodeTypesChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Executes one node run: checks the inputs against the tool's input schema (no call when they do
   * not match), calls the tool, and maps its result. `signal` aborting (a cancel, the client gone)
   * cancels the MCP request: `canceled`. `constraints.budgets.max_wall_time_ms` running out cancels
   * it too: `failed`, `max_wall_time_exceeded`. Never rejects for a failure of the server or the
   * tool: those are the node run's `failed` outcome.
   */
  async execute(
    body: AtomicExecuteRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<AtomicExecuteResult> {
    const { node_run_id, node_type_ref, inputs } = body;
    const started_at = this.#now().toISOString();
    const end = (
      state: AtomicExecuteResult["state"],
      rest: Partial<AtomicExecuteResult>,
    ): AtomicExecuteResult => ({
      node_run_id,
      state,
      ...rest,
      started_at,
      ended_at: this.#now().toISOString(),
    });
    const fail = (error: ErrorDetail) => end("failed", { error });

    const key = `${node_type_ref.node_type_id}@${node_type_ref.version}`;
    const entry = this.#find(node_type_ref);
    if (entry === undefined) return fail(this.#unknown(node_type_ref));
    const what = `tool ${entry.tool.name} of MCP server ${entry.connection.name}`;
    const issues = entry.input(inputs);
    if (issues !== undefined)
      return fail(schemaError(MCP_ERROR_CODES.invalidInputs, `inputs of ${key}`, issues));

    const controller = new AbortController();
    const signal = options.signal;
    const onGone = () => controller.abort(new Stop("canceled"));
    if (signal?.aborted) onGone();
    else signal?.addEventListener("abort", onGone, { once: true });
    const budget = body.constraints?.budgets?.max_wall_time_ms;
    const timer =
      budget === undefined || budget > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => {
            const message = `${key} ran past max_wall_time_ms ${budget}`;
            controller.abort(new Stop("failed", { code: MCP_ERROR_CODES.maxWallTimeExceeded, message }));
          }, budget);
    try {
      if (controller.signal.aborted) return this.#stopped(controller.signal, end);
      const result = await entry.connection.callTool(entry.tool.name, inputs, {
        signal: controller.signal,
        timeoutMs: this.#limits.callTimeoutMs,
      });
      if (controller.signal.aborted) return this.#stopped(controller.signal, end);
      const outcome = resultToOutcome(what, result, entry.output, this.#limits);
      return "outputs" in outcome ? end("succeeded", { outputs: outcome.outputs }) : fail(outcome.error);
    } catch (err) {
      if (controller.signal.aborted) return this.#stopped(controller.signal, end);
      const error = callErrorToDetail(what, err, this.#limits.maxErrorTextLength);
      if (error.code === MCP_ERROR_CODES.unavailable && !(err instanceof McpNotConnectedError)) {
        entry.connection.reportBroken(messageOf(err));
      }
      return fail(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onGone);
    }
  }

  /**
   * Publishes the node types to a Node Registry and keeps it current while the bridge runs (every
   * change is published; failures are retried with backoff). `close()` the publisher to stop.
   */
  publish(registry: NodeRegistryClient, options: PublishOptions = {}): RegistryPublisher {
    return new RegistryPublisher(this, registry, { logger: this.#logger, ...options });
  }

  /** Closes every connection (stdio servers' processes end); the bridge cannot start again. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#connections.values()].map((c) => c.close()));
    this.#listeners.clear();
  }

  #stopped(
    signal: AbortSignal,
    end: (state: AtomicExecuteResult["state"], rest: Partial<AtomicExecuteResult>) => AtomicExecuteResult,
  ): AtomicExecuteResult {
    const stop: unknown = signal.reason;
    if (stop instanceof Stop) return end(stop.state, stop.error === undefined ? {} : { error: stop.error });
    return end("canceled", {});
  }

  #find(ref: NodeTypeRef): Entry | undefined {
    if (!this.handles(ref)) return undefined;
    const name = ref.node_type_id.split(".", 2)[1] as string;
    return this.#entries.get(name)?.get(`${ref.node_type_id}@${ref.version}`);
  }

  #unknown(ref: NodeTypeRef): ErrorDetail {
    const key = `${ref.node_type_id}@${ref.version}`;
    if (!this.handles(ref))
      return { code: MCP_ERROR_CODES.unknownNodeType, message: `no MCP server provides ${key}` };
    const name = ref.node_type_id.split(".", 2)[1] as string;
    const current = [...(this.#entries.get(name)?.values() ?? [])].find(
      (e) => e.nodeType.node_type_id === ref.node_type_id,
    );
    const { state } = (this.#connections.get(name) as McpConnection).snapshot();
    if (current !== undefined) {
      return {
        code: MCP_ERROR_CODES.unknownNodeType,
        message: `MCP server ${name} provides ${ref.node_type_id} at version ${current.nodeType.version}, not ${ref.version} (the tool changed)`,
        details: { current_version: current.nodeType.version },
      };
    }
    if (state !== "connected" && this.#entries.get(name)?.size === 0) {
      // Never listed (the server has not been reached yet): it may have the tool, so retryable.
      return {
        code: MCP_ERROR_CODES.unavailable,
        message: `MCP server ${name} is not connected (${state}); its tools are not known yet`,
        retryable: true,
      };
    }
    return { code: MCP_ERROR_CODES.unknownNodeType, message: `MCP server ${name} has no tool for ${key}` };
  }

  /** Rebuilds one server's node types from its last listing, reusing compiled schemas. */
  #reindex(connection: McpConnection): void {
    const { serverVersion, tools } = connection.snapshot();
    const previous = this.#entries.get(connection.name) ?? new Map<string, Entry>();
    const next = new Map<string, Entry>();
    const names = new Set<string>();
    for (const tool of tools) {
      // A listing that repeats a tool name: the first one counts (the others would map to the same id).
      if (names.has(tool.name)) {
        this.#logger.warn(
          `MCP server ${connection.name}: tool ${JSON.stringify(tool.name)} listed more than once; the first one is used`,
        );
        continue;
      }
      names.add(tool.name);
      if (tool.execution?.taskSupport === "required") {
        this.#logger.warn(
          `MCP server ${connection.name}: tool ${tool.name} skipped: it requires task-based execution`,
        );
        continue;
      }
      const nodeType = toolToNodeType(connection.name, serverVersion ?? "0.0.0", tool);
      if (nodeType === undefined) {
        this.#logger.warn(
          `MCP server ${connection.name}: tool ${JSON.stringify(tool.name)} skipped: its name cannot form a node type id (A-Z a-z 0-9 _ - ., 1 to 128)`,
        );
        continue;
      }
      const key = `${nodeType.node_type_id}@${nodeType.version}`;
      // Compiled once: a second entry for one key would overwrite the first, whose schemas would leak.
      if (next.has(key)) continue;
      const known = previous.get(key);
      if (known !== undefined) {
        next.set(key, { ...known, connection, tool });
        continue;
      }
      const schemas: object[] = [];
      const compile = (schema: Record<string, unknown>) => {
        const validator = this.#schemas.compile(schema);
        schemas.push(schema);
        return validator;
      };
      try {
        const input = compile(tool.inputSchema as Record<string, unknown>);
        const output =
          tool.outputSchema === undefined ? undefined : compile(tool.outputSchema as Record<string, unknown>);
        next.set(key, { connection, tool, nodeType, input, output, schemas });
      } catch (err) {
        for (const schema of schemas) this.#schemas.release(schema);
        this.#logger.warn(
          `MCP server ${connection.name}: tool ${tool.name} skipped: its schema does not compile: ${messageOf(err)}`,
        );
      }
    }
    const changed = next.size !== previous.size || [...next.keys()].some((k) => !previous.has(k));
    for (const [key, entry] of previous) {
      if (!next.has(key)) for (const schema of entry.schemas) this.#schemas.release(schema);
    }
    this.#entries.set(connection.name, next);
    if (changed) for (const listener of this.#listeners) listener();
  }
}
