/**
 * McpAtomicExecutor: an ARP Atomic Executor service whose node types are the tools of MCP servers
 * (an McpBridge). Like the reference executor: at most `maxConcurrentNodeRuns` execute at once (then
 * 503, retryable); the same `node_run_id` while it executes is a 409; cancel answers 204 for a node
 * run executing here (it ends `canceled`, the MCP request is cancelled) or executed here, 404 for
 * any other; at most `maxRememberedNodeRuns` finished ids are remembered, as SHA-256 digests.
 */
import { createHash } from "node:crypto";
import type { AtomicExecuteResult } from "@arp/model";
import {
  type AtomicExecutorRequests,
  BaseAtomicExecutorServer,
  conflict,
  notFound,
  type ServerOptions,
  unavailable,
} from "@arp/server";
import type { McpBridge } from "./bridge.js";
import { wholeNumber } from "./limits.js";

export const EXECUTOR_DEFAULTS = {
  /** Node runs executing at once; beyond it, 503 `unavailable` (retryable). */
  maxConcurrentNodeRuns: 1_000,
  /** Finished node run ids remembered for cancel (204), oldest forgotten first. */
  maxRememberedNodeRuns: 10_000,
} as const;

export interface McpAtomicExecutorOptions {
  /** The bridge whose node types it serves; the executor does not start or close it. */
  bridge: McpBridge;
  /** The base server's options (auth, logger, ...); default: `@arp/server`'s (auth from `ARP_AUTH_*`). */
  server?: ServerOptions;
  maxConcurrentNodeRuns?: number;
  maxRememberedNodeRuns?: number;
}

export class McpAtomicExecutor extends BaseAtomicExecutorServer {
  readonly bridge: McpBridge;
  /** Executing node runs, by id: aborting one cancels its MCP request. */
  readonly #executing = new Map<string, AbortController>();
  /** SHA-256 of finished node run ids, oldest first. */
  readonly #finished = new Set<string>();
  readonly #maxConcurrent: number;
  readonly #maxRemembered: number;

  constructor(options: McpAtomicExecutorOptions) {
    super({ serviceName: "arp-mcp", ...options.server });
    this.bridge = options.bridge;
    const d = EXECUTOR_DEFAULTS;
    this.#maxConcurrent = wholeNumber(
      "maxConcurrentNodeRuns",
      options.maxConcurrentNodeRuns,
      d.maxConcurrentNodeRuns,
      1,
    );
    this.#maxRemembered = wholeNumber(
      "maxRememberedNodeRuns",
      options.maxRememberedNodeRuns,
      d.maxRememberedNodeRuns,
      1,
    );
  }

  async executeAtomicNodeRun(
    req: AtomicExecutorRequests["executeAtomicNodeRun"],
  ): Promise<AtomicExecuteResult> {
    const { node_run_id } = req.body;
    if (this.#executing.has(node_run_id)) throw conflict(`node run ${node_run_id} is already executing`);
    if (this.#executing.size >= this.#maxConcurrent) {
      throw unavailable(`${this.#maxConcurrent} node runs are executing; try again later`);
    }
    const controller = new AbortController();
    const onGone = () => controller.abort();
    if (req.signal.aborted) onGone();
    else req.signal.addEventListener("abort", onGone, { once: true });
    this.#executing.set(node_run_id, controller);
    try {
      return await this.bridge.execute(req.body, { signal: controller.signal });
    } finally {
      req.signal.removeEventListener("abort", onGone);
      this.#executing.delete(node_run_id);
      this.#remember(node_run_id);
    }
  }

  override cancelAtomicNodeRun(req: AtomicExecutorRequests["cancelAtomicNodeRun"]): void {
    const { node_run_id } = req.params;
    const executing = this.#executing.get(node_run_id);
    if (executing !== undefined) {
      executing.abort();
      return;
    }
    if (!this.#finished.has(digest(node_run_id))) {
      throw notFound(`this executor has not executed node run ${node_run_id}`);
    }
  }

  #remember(nodeRunId: string): void {
    const id = digest(nodeRunId);
    this.#finished.delete(id);
    this.#finished.add(id);
    if (this.#finished.size > this.#maxRemembered) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }
}

const digest = (id: string) => createHash("sha256").update(id, "utf8").digest("base64");
