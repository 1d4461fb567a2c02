/**
 * The reference Selection service: proposes node types for a subtask's goal from the Node Registry's
 * inventory (read through `peers`, kept for `inventoryTtlMs`), ranked by a deterministic word-overlap
 * score, filtered by the allow/deny lists and the side-effect gate of the constraints.
 *
 * Scoring, exactly: the goal and each node type are cut into words (lower case, letters and digits;
 * words of one character and a few stop words such as "a", "the", "to" are dropped; at most
 * {@link MAX_GOAL_WORDS} distinct goal words count). A goal word matches a node-type word when they
 * are equal, or when one starts with the other and the shorter has at least 4 characters ("echo"
 * matches "echoes"). Each goal word earns 2 when it matches a word of the node type's id, else 1 when
 * it matches a word of its description; the score is the sum over the most possible (2 per goal word),
 * from 0 to 1, rounded to 4 decimals. Node types scoring 0 are not proposed. Ties are broken by
 * `node_type_id`, so the same inventory and goal always give the same list.
 */
import { randomUUID } from "node:crypto";
import type * as T from "@arp/model";
import { BaseSelectionServer, type SelectionRequests, type ServerOptions, unavailable } from "@arp/server";
import { type Peers, traced } from "../peers.js";

export interface ReferenceSelectionOptions {
  peers: Peers;
  /** Default `{ auth: { mode: "disabled" } }`. */
  server?: ServerOptions;
  /** How long the registry's inventory is reused before it is read again, ms. Default 5000; 0: every request. */
  inventoryTtlMs?: number;
  /** `top_k` when neither the request nor the subtask gives `max_candidates_per_subtask`. Default 5. */
  defaultTopK?: number;
  /** The largest `top_k`, whatever is asked. Default 50. */
  maxTopK?: number;
  /** Deadline of a registry read, ms. Default 10 000. */
  registryTimeoutMs?: number;
}

/** Distinct goal words that count toward the score; the rest of a long goal is ignored. */
export const MAX_GOAL_WORDS = 64;
/** Node types of the inventory considered (the registry's list has no pagination). */
export const MAX_INVENTORY = 10_000;

// biome-ignore format: a word list
const STOP_WORDS = new Set([
  "an", "and", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "of", "on", "or",
  "the", "then", "this", "that", "to", "with",
]);

const SIDE_EFFECT_RANK: Readonly<Record<T.SideEffectClass, number>> = { read: 0, write: 1, irreversible: 2 };

/** The words of a text, in order of appearance, without repeats. */
export function words(text: string): string[] {
  const seen = new Set<string>();
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (word.length > 1 && !STOP_WORDS.has(word)) seen.add(word);
  }
  return [...seen];
}

function matches(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 4 && long.startsWith(short);
}

export interface Score {
  score: number;
  /** Goal words matched in the id, then those matched only in the description. */
  inId: string[];
  inDescription: string[];
}

/** How well `nodeType` fits `goal` (see the file's comment for the exact rule). */
export function scoreNodeType(
  goal: string,
  nodeType: Pick<T.NodeType, "node_type_id" | "description">,
): Score {
  const goalWords = words(goal).slice(0, MAX_GOAL_WORDS);
  const idWords = words(nodeType.node_type_id);
  const descriptionWords = words(nodeType.description ?? "");
  const inId: string[] = [];
  const inDescription: string[] = [];
  for (const word of goalWords) {
    if (idWords.some((w) => matches(word, w))) inId.push(word);
    else if (descriptionWords.some((w) => matches(word, w))) inDescription.push(word);
  }
  const max = 2 * goalWords.length;
  const score =
    max === 0 ? 0 : Math.round(((2 * inId.length + inDescription.length) / max) * 10_000) / 10_000;
  return { score, inId, inDescription };
}

/** Compares versions by their dot-separated parts, numerically where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    const order = Number.isNaN(nx) || Number.isNaN(ny) ? (x < y ? -1 : x > y ? 1 : 0) : nx - ny;
    if (order !== 0) return order;
  }
  return 0;
}

/** The constraints that apply: the request's and the subtask's together, the stricter of each. */
export interface Filters {
  topK: number;
  /** Absent: every id is allowed. With both lists given, an id must be in both. */
  allowed?: ReadonlySet<string>;
  denied: ReadonlySet<string>;
  sideEffectClass?: T.SideEffectClass;
}

export function filtersOf(
  envelopes: readonly (T.ConstraintEnvelope | undefined)[],
  limits: { defaultTopK: number; maxTopK: number },
): Filters {
  let topK: number | undefined;
  let allowed: Set<string> | undefined;
  const denied = new Set<string>();
  let sideEffectClass: T.SideEffectClass | undefined;
  for (const envelope of envelopes) {
    const candidates = envelope?.candidates;
    const max = candidates?.max_candidates_per_subtask;
    if (max !== undefined) topK = Math.min(topK ?? max, max);
    const allow = candidates?.allowed_node_type_ids;
    if (allow !== undefined)
      allowed = new Set(allow.filter((id) => allowed === undefined || allowed.has(id)));
    for (const id of candidates?.denied_node_type_ids ?? []) denied.add(id);
    const gate = envelope?.gates?.side_effect_class;
    if (
      gate !== undefined &&
      (sideEffectClass === undefined || SIDE_EFFECT_RANK[gate] < SIDE_EFFECT_RANK[sideEffectClass])
    ) {
      sideEffectClass = gate;
    }
  }
  return {
    topK: Math.min(topK ?? limits.defaultTopK, limits.maxTopK),
    ...(allowed === undefined ? {} : { allowed }),
    denied,
    ...(sideEffectClass === undefined ? {} : { sideEffectClass }),
  };
}

/** Why `nodeType` may not be proposed under `filters`, or undefined when it may. */
export function excluded(nodeType: T.NodeType, filters: Filters): string | undefined {
  const id = nodeType.node_type_id;
  if (filters.denied.has(id)) return "denied";
  if (filters.allowed !== undefined && !filters.allowed.has(id)) return "not allowed";
  const declared = nodeType.constraints?.gates?.side_effect_class;
  // A node type that declares no side-effect class is not held back by the gate (nothing to compare).
  if (
    filters.sideEffectClass !== undefined &&
    declared !== undefined &&
    SIDE_EFFECT_RANK[declared] > SIDE_EFFECT_RANK[filters.sideEffectClass]
  ) {
    return `side effects ${declared} above ${filters.sideEffectClass}`;
  }
  return undefined;
}

/** The ranked candidates of `inventory` for `goal`: at most `filters.topK`, best first. */
export function rankCandidates(
  goal: string,
  inventory: readonly T.NodeType[],
  filters: Filters,
): T.Candidate[] {
  // One candidate per node type: its highest version.
  const latest = new Map<string, T.NodeType>();
  for (const nodeType of inventory.slice(0, MAX_INVENTORY)) {
    const seen = latest.get(nodeType.node_type_id);
    if (seen === undefined || compareVersions(nodeType.version, seen.version) > 0) {
      latest.set(nodeType.node_type_id, nodeType);
    }
  }
  const scored: { nodeType: T.NodeType; score: Score }[] = [];
  for (const nodeType of latest.values()) {
    if (excluded(nodeType, filters) !== undefined) continue;
    const score = scoreNodeType(goal, nodeType);
    if (score.score > 0) scored.push({ nodeType, score });
  }
  scored.sort(
    (a, b) =>
      b.score.score - a.score.score ||
      (a.nodeType.node_type_id < b.nodeType.node_type_id
        ? -1
        : a.nodeType.node_type_id > b.nodeType.node_type_id
          ? 1
          : 0),
  );
  return scored.slice(0, filters.topK).map(({ nodeType, score }) => ({
    node_type_ref: { node_type_id: nodeType.node_type_id, version: nodeType.version },
    score: score.score,
    rationale: rationaleOf(score),
    ...(nodeType.constraints === undefined ? {} : { constraints: nodeType.constraints }),
  }));
}

function rationaleOf(score: Score): string {
  const parts: string[] = [];
  if (score.inId.length > 0) parts.push(`in its id: ${score.inId.join(", ")}`);
  if (score.inDescription.length > 0) parts.push(`in its description: ${score.inDescription.join(", ")}`);
  return `goal words matched ${parts.join("; ")}`;
}

const DISABLED_AUTH: ServerOptions = { auth: { mode: "disabled" } };

export class ReferenceSelection extends BaseSelectionServer {
  readonly #peers: Peers;
  readonly #ttlMs: number;
  readonly #limits: { defaultTopK: number; maxTopK: number };
  readonly #registryTimeoutMs: number;
  #inventory: { readAt: number; nodeTypes: readonly T.NodeType[] } | undefined;
  /** The read in flight: concurrent requests share it. */
  #reading: Promise<readonly T.NodeType[]> | undefined;

  constructor(options: ReferenceSelectionOptions) {
    super(options.server ?? DISABLED_AUTH);
    this.#peers = options.peers;
    this.#ttlMs = options.inventoryTtlMs ?? 5_000;
    this.#limits = { defaultTopK: options.defaultTopK ?? 5, maxTopK: options.maxTopK ?? 50 };
    if (!(this.#limits.defaultTopK >= 1 && this.#limits.maxTopK >= 1)) {
      throw new RangeError("defaultTopK and maxTopK must be at least 1");
    }
    this.#registryTimeoutMs = options.registryTimeoutMs ?? 10_000;
  }

  async generateCandidateSet(req: SelectionRequests["generateCandidateSet"]): Promise<T.CandidateSet> {
    const { subtask_spec: subtask, constraints } = req.body;
    const filters = filtersOf([constraints, subtask.constraints], this.#limits);
    const inventory = await this.#nodeTypes(req);
    return {
      candidate_set_id: `cs_${randomUUID()}`,
      subtask_id: subtask.subtask_id,
      candidates: rankCandidates(subtask.goal, inventory, filters),
      top_k: filters.topK,
      generated_at: new Date().toISOString(),
      constraints: appliedConstraints(filters),
    };
  }

  /** Drops the cached inventory: the next request reads the registry. */
  refresh(): void {
    this.#inventory = undefined;
  }

  async #nodeTypes(req: SelectionRequests["generateCandidateSet"]): Promise<readonly T.NodeType[]> {
    const cached = this.#inventory;
    if (cached !== undefined && Date.now() - cached.readAt < this.#ttlMs) return cached.nodeTypes;
    this.#reading ??= this.#read(req);
    const reading = this.#reading;
    try {
      return await reading;
    } catch (err) {
      // No stale inventory is served: the registry is the truth about what exists.
      throw unavailable(
        `the node registry could not be read: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      if (this.#reading === reading) this.#reading = undefined;
    }
  }

  async #read(req: SelectionRequests["generateCandidateSet"]): Promise<readonly T.NodeType[]> {
    const registry = this.#peers.client("node-registry");
    const nodeTypes = await registry.listNodeTypes({ ...traced(req), timeoutMs: this.#registryTimeoutMs });
    this.#inventory = { readAt: Date.now(), nodeTypes };
    return nodeTypes;
  }
}

function appliedConstraints(filters: Filters): T.ConstraintEnvelope {
  return {
    candidates: {
      max_candidates_per_subtask: filters.topK,
      ...(filters.allowed === undefined ? {} : { allowed_node_type_ids: [...filters.allowed].sort() }),
      ...(filters.denied.size === 0 ? {} : { denied_node_type_ids: [...filters.denied].sort() }),
    },
    ...(filters.sideEffectClass === undefined
      ? {}
      : { gates: { side_effect_class: filters.sideEffectClass } }),
  };
}
