/**
 * Keeps a Node Registry current with a bridge's node types: publishes each one not yet published,
 * again after every change (`tools/list_changed`, a reconnect). A registry that is down is retried
 * with backoff and never crashes anything; a 409 (that `id@version` is already there) counts as
 * published: the version carries a hash of the definition, so the same version is the same tool.
 * A registry has no delete: a removed tool's node type stays there, and the bridge answers
 * `unknown_node_type` for it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ArpApiError, type NodeRegistryClient } from "@arp/client";
import type { Logger } from "@arp/server";
import type { McpBridge } from "./bridge.js";
import { messageOf } from "./connection.js";
import { backoffDelay, MAX_TIMER_MS, wholeNumber } from "./limits.js";
import { stderrLogger } from "./logger.js";

export const PUBLISH_DEFAULTS = {
  /** Time for one publish call, ms. */
  publishTimeoutMs: 10_000,
  /** First wait before publishing again after the registry failed, ms; doubles with each failure. */
  retryInitialDelayMs: 1_000,
  /** Longest wait between attempts, ms. */
  retryMaxDelayMs: 60_000,
} as const;

export interface PublishOptions {
  publishTimeoutMs?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Default: the bridge's kind of logger, on stderr. */
  logger?: Logger;
}

/**
 * Answers that refuse a node type for good (invalid, too large, unprocessable). Any other failure is
 * retried with backoff: 5xx, 408, 429, and 401/403/404/423 too (a rotated token, a proxy during a
 * deploy, a registry locked for a while).
 */
const REFUSED_FOR_GOOD: ReadonlySet<number> = new Set([400, 413, 422]);

export class RegistryPublisher {
  readonly #bridge: McpBridge;
  readonly #registry: NodeRegistryClient;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #initialMs: number;
  readonly #maxMs: number;
  /** `id@version` of what the registry holds (or refused for good), among the current node types. */
  readonly #done = new Set<string>();
  readonly #closing = new AbortController();
  readonly #unsubscribe: () => void;
  #running: Promise<void> | undefined;
  #again = false;
  #waiters: (() => void)[] = [];

  constructor(bridge: McpBridge, registry: NodeRegistryClient, options: PublishOptions = {}) {
    this.#bridge = bridge;
    this.#registry = registry;
    this.#logger = options.logger ?? stderrLogger("arp-mcp");
    const d = PUBLISH_DEFAULTS;
    this.#timeoutMs = wholeNumber(
      "publishTimeoutMs",
      options.publishTimeoutMs,
      d.publishTimeoutMs,
      1,
      MAX_TIMER_MS,
    );
    this.#initialMs = wholeNumber(
      "retryInitialDelayMs",
      options.retryInitialDelayMs,
      d.retryInitialDelayMs,
      1,
      MAX_TIMER_MS,
    );
    this.#maxMs = wholeNumber("retryMaxDelayMs", options.retryMaxDelayMs, d.retryMaxDelayMs, 1, MAX_TIMER_MS);
    if (this.#maxMs < this.#initialMs)
      throw new RangeError("retryMaxDelayMs must be at least retryInitialDelayMs");
    this.#unsubscribe = bridge.onNodeTypesChanged(() => this.#sync());
    this.#sync();
  }

  /** Resolves when every current node type has been published (or refused for good). */
  settled(): Promise<void> {
    if (this.#running === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops publishing (a wait for a retry ends at once). */
  close(): void {
    this.#closing.abort();
    this.#unsubscribe();
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #sync(): void {
    if (this.#closing.signal.aborted) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      for (const resolve of this.#waiters.splice(0)) resolve();
    });
  }

  async #loop(): Promise<void> {
    let failures = 0;
    do {
      this.#again = false;
      const current = this.#bridge.nodeTypes();
      const keys = new Set(current.map((t) => `${t.node_type_id}@${t.version}`));
      // Forget what is no longer current: the set stays as small as the bridge's node types.
      for (const key of this.#done) if (!keys.has(key)) this.#done.delete(key);
      let failed = false;
      for (const node_type of current) {
        if (this.#closing.signal.aborted) return;
        const key = `${node_type.node_type_id}@${node_type.version}`;
        if (this.#done.has(key)) continue;
        try {
          await this.#registry.publishNodeType(
            { node_type },
            { timeoutMs: this.#timeoutMs, signal: this.#closing.signal },
          );
          this.#done.add(key);
          this.#logger.debug?.(`published ${key}`);
        } catch (err) {
          if (this.#closing.signal.aborted) return;
          if (err instanceof ArpApiError && err.status === 409) {
            this.#done.add(key);
          } else if (err instanceof ArpApiError && REFUSED_FOR_GOOD.has(err.status)) {
            // The registry will not take it (invalid, too large): retrying cannot help.
            this.#logger.error(`the node registry refused ${key}: ${messageOf(err)}`);
            this.#done.add(key);
          } else {
            this.#logger.warn(`cannot publish ${key} to the node registry: ${messageOf(err)}`);
            failed = true;
            break;
          }
        }
      }
      if (failed) {
        const delay = backoffDelay(failures++, this.#initialMs, this.#maxMs);
        await sleep(delay, undefined, { signal: this.#closing.signal }).catch(() => {});
        this.#again = true;
      } else {
        failures = 0;
      }
    } while (this.#again && !this.#closing.signal.aborted);
  }
}
