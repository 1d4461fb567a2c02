/**
 * The tool list, cached: the registry's node types are listed once, then again every `refreshMs`
 * (a timer, and on demand when the list is older than that). When a listing gives another set of
 * tools, every subscriber (each MCP session) is told, to send `notifications/tools/list_changed`.
 * A failed listing keeps the last good list; only a server that never had one answers with the error.
 */
import type { NodeRegistryClient } from "@arp/client";
import type { Logger } from "@arp/server";
import { type NodeTypeTool, type ToolSet, toolsOf } from "./tools.js";

export interface CatalogOptions {
  registry: NodeRegistryClient;
  refreshMs: number;
  maxTools: number;
  logger: Logger;
}

/** A refresh asked for on demand (an unknown tool name) waits at least this long after the last one. */
const MIN_ON_DEMAND_MS = 1_000;

export class ToolCatalog {
  readonly #options: CatalogOptions;
  #current: ToolSet | undefined;
  #signature = "";
  #listedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<ToolSet> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #subscribers = new Set<() => void>();
  #closed = false;

  constructor(options: CatalogOptions) {
    this.#options = options;
    if (options.refreshMs > 0 && Number.isFinite(options.refreshMs)) {
      this.#timer = setInterval(() => void this.refresh().catch(() => undefined), options.refreshMs);
      this.#timer.unref();
    }
  }

  /** Calls `onChange` whenever a listing changes the tools; returns what stops that. */
  subscribe(onChange: () => void): () => void {
    this.#subscribers.add(onChange);
    return () => this.#subscribers.delete(onChange);
  }

  /** The tools, listed again first when the list is older than `refreshMs` (or there is none). */
  async tools(): Promise<ToolSet> {
    const { refreshMs } = this.#options;
    const stale = refreshMs > 0 && Date.now() - this.#listedAt >= refreshMs;
    if (this.#current === undefined || stale) {
      try {
        return await this.refresh();
      } catch (err) {
        if (this.#current === undefined) throw err;
      }
    }
    return this.#current;
  }

  /** One tool by name; an unknown name lists the registry again (at most once a second). */
  async tool(name: string): Promise<NodeTypeTool | undefined> {
    const found = (await this.tools()).tools.get(name);
    if (found !== undefined || Date.now() - this.#listedAt < MIN_ON_DEMAND_MS) return found;
    // A registry that does not answer now: the name is as unknown as the last list says.
    return (await this.refresh().catch(() => undefined))?.tools.get(name);
  }

  /** Lists the registry now (one listing at a time: concurrent callers share it). */
  refresh(): Promise<ToolSet> {
    this.#pending ??= this.#list().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #list(): Promise<ToolSet> {
    const { registry, maxTools, logger } = this.#options;
    let set: ToolSet;
    try {
      set = toolsOf(await registry.listNodeTypes(), maxTools);
    } catch (err) {
      logger.warn("arp-mcp: listing the node registry failed; keeping the last tool list", {
        error: err instanceof Error ? err.message : String(err),
      });
      // With a list to serve, the next try waits `refreshMs` (no call waits on a registry that is down).
      if (this.#current !== undefined) this.#listedAt = Date.now();
      throw err;
    }
    this.#listedAt = Date.now();
    const signature = JSON.stringify([...set.tools.values()].map((t) => t.tool));
    const changed = this.#current !== undefined && signature !== this.#signature;
    const newlySkipped = set.skipped.filter(
      (s) => !this.#current?.skipped.some((o) => o.node_type_id === s.node_type_id && o.reason === s.reason),
    );
    for (const s of newlySkipped)
      logger.warn(`arp-mcp: node type ${s.node_type_id} is not a tool: ${s.reason}`);
    this.#current = set;
    this.#signature = signature;
    if (changed && !this.#closed) for (const notify of this.#subscribers) notify();
    return set;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#subscribers.clear();
  }
}
