/**
 * The reference PDP: answers `POST /v1/policy:decide` from an IAM-style policy document (the rules
 * are in src/policy/policy.ts): any matching deny wins, then require_approval, then allow; nothing
 * matching is a deny. The document is checked when the PDP is made, so a bad one fails at startup
 * with every problem named, never at a decision. The default is the permissive development policy.
 *
 * The coordinator asks with the actions `run.start` (before a run starts) and `node.run.execute`
 * (before a node run is handed to an executor). A `side_effect_class` condition reads the node
 * type's class from the Node Registry (through `peers`), kept for `nodeTypeTtlMs`.
 */
import { ArpApiError } from "@arp/client";
import type * as T from "@arp/model";
import { BasePdpServer, type PdpRequests, type ServerOptions, unavailable } from "@arp/server";
import { type Peers, traced } from "../peers.js";
import { DEV_POLICY } from "../policy/dev-policy.js";
import { Policy } from "../policy/policy.js";

export interface ReferencePdpOptions {
  peers: Peers;
  /** Default `{ auth: { mode: "disabled" } }`. */
  server?: ServerOptions;
  /** The policy document (parsed JSON, checked here: a `PolicyError` when invalid). Default {@link DEV_POLICY}. */
  policy?: unknown;
  /** How long a node type's side-effect class read from the registry is reused, ms. Default 5000. */
  nodeTypeTtlMs?: number;
  /** Deadline of a registry read, ms. Default 5000. */
  registryTimeoutMs?: number;
}

/** Node types whose side-effect class is kept (the least recently read is dropped first). */
export const MAX_CACHED_NODE_TYPES = 1_000;

const DISABLED_AUTH: ServerOptions = { auth: { mode: "disabled" } };

export class ReferencePdp extends BasePdpServer {
  readonly #peers: Peers;
  readonly #policy: Policy;
  readonly #ttlMs: number;
  readonly #registryTimeoutMs: number;
  readonly #classes = new Map<string, { readAt: number; sideEffect: T.SideEffectClass | undefined }>();

  constructor(options: ReferencePdpOptions) {
    // Checked before the server is set up: a bad policy is the first thing reported.
    const policy = new Policy(options.policy ?? DEV_POLICY);
    super(options.server ?? DISABLED_AUTH);
    this.#policy = policy;
    this.#peers = options.peers;
    this.#ttlMs = options.nodeTypeTtlMs ?? 5_000;
    this.#registryTimeoutMs = options.registryTimeoutMs ?? 5_000;
  }

  decidePolicy(req: PdpRequests["decidePolicy"]): Promise<T.PolicyDecision> {
    return this.#policy.decide(req.body, (ref) => this.#sideEffectOf(ref, req));
  }

  /** The declared class of a node type version; undefined when it declares none or the registry does not know it. */
  async #sideEffectOf(
    ref: T.NodeTypeRef,
    req: PdpRequests["decidePolicy"],
  ): Promise<T.SideEffectClass | undefined> {
    const key = `${ref.node_type_id}@${ref.version}`;
    const cached = this.#classes.get(key);
    if (cached !== undefined && Date.now() - cached.readAt < this.#ttlMs) return cached.sideEffect;
    let sideEffect: T.SideEffectClass | undefined;
    try {
      const nodeType = await this.#peers.client("node-registry").getNodeType(ref.node_type_id, {
        version: ref.version,
        timeoutMs: this.#registryTimeoutMs,
        ...traced(req),
      });
      sideEffect = nodeType.constraints?.gates?.side_effect_class;
    } catch (err) {
      // Unknown to the registry: no class (the policy counts it as irreversible). Any other failure
      // leaves the question open, and a PDP that cannot decide must not answer allow.
      if (!(err instanceof ArpApiError && err.status === 404)) {
        throw unavailable(
          `the policy needs ${key}'s side-effect class, and the node registry could not be read: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    this.#classes.delete(key);
    this.#classes.set(key, { readAt: Date.now(), sideEffect });
    if (this.#classes.size > MAX_CACHED_NODE_TYPES) {
      const oldest = this.#classes.keys().next().value;
      if (oldest !== undefined) this.#classes.delete(oldest);
    }
    return sideEffect;
  }
}
