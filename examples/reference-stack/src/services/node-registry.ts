/**
 * The reference Node Registry: an in-memory catalog of node type versions, seeded with the stack's
 * built-in node types (src/catalog/index.ts).
 *
 * - Publish stores a version once: the same `node_type_id` and `version` again is 409 `conflict`.
 * - List filters by `kind` and by `q`, a case-insensitive substring of the id or the description;
 *   it is sorted by id, then newest version first, so it reads the same on every call.
 * - Get with `version` is that exact version; without, the latest by semantic version (below).
 * - Bounded: at most `maxNodeTypes` versions (default 1 000), each at most `maxNodeTypeBytes` of
 *   JSON (default 16 KiB), so a full list stays under 16 MiB, half of @arp/client's default
 *   `maxResponseBytes`. Beyond either: 403 `registry_full` or 413 `node_type_too_large`.
 * - It calls no peers.
 */
import type { NodeType } from "@arp/model";
import {
  ArpServerError,
  BaseNodeRegistryServer,
  conflict,
  type NodeRegistryRequests,
  notFound,
  type ServerOptions,
} from "@arp/server";
import { BUILTIN_NODE_TYPES } from "../catalog/index.js";
import type { Peers } from "../peers.js";

/** The most node type versions a registry holds, by default (the seed counts). */
export const DEFAULT_MAX_NODE_TYPES = 1_000;
/** The largest node type, as UTF-8 bytes of its JSON, by default. */
export const DEFAULT_MAX_NODE_TYPE_BYTES = 16 * 1024;

export interface ReferenceNodeRegistryOptions {
  /** Not used: the registry calls no peers. Accepted so that every service is made the same way. */
  peers?: Peers;
  /** The base server's options; default `{ auth: { mode: "disabled" } }`. */
  server?: ServerOptions;
  /** What it starts with; default BUILTIN_NODE_TYPES. Checked like a publish (a duplicate throws). */
  seed?: readonly NodeType[];
  /** Node type versions held at most; default 1 000. */
  maxNodeTypes?: number;
  /** The largest node type accepted, as JSON; default 16 KiB. */
  maxNodeTypeBytes?: number;
}

export class ReferenceNodeRegistry extends BaseNodeRegistryServer {
  /** Versions by node type id, each list kept newest first. */
  readonly #types = new Map<string, NodeType[]>();
  #count = 0;
  readonly #maxTypes: number;
  readonly #maxBytes: number;

  constructor(options: ReferenceNodeRegistryOptions = {}) {
    super(options.server ?? { auth: { mode: "disabled" } });
    this.#maxTypes = positive("maxNodeTypes", options.maxNodeTypes, DEFAULT_MAX_NODE_TYPES);
    this.#maxBytes = positive("maxNodeTypeBytes", options.maxNodeTypeBytes, DEFAULT_MAX_NODE_TYPE_BYTES);
    for (const type of options.seed ?? BUILTIN_NODE_TYPES) this.#add(type);
  }

  listNodeTypes(req: NodeRegistryRequests["listNodeTypes"]): NodeType[] {
    const { kind } = req.params;
    const q = req.params.q?.toLowerCase();
    const ids = [...this.#types.keys()].sort(byCodeUnits);
    return ids
      .flatMap((id) => this.#types.get(id) ?? [])
      .filter(
        (t) =>
          (kind === undefined || t.kind === kind) &&
          (q === undefined ||
            t.node_type_id.toLowerCase().includes(q) ||
            (t.description ?? "").toLowerCase().includes(q)),
      );
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): NodeType {
    return this.#add(req.body.node_type);
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): NodeType {
    const { node_type_id, version } = req.params;
    const versions = this.#types.get(node_type_id) ?? [];
    const found = version === undefined ? versions[0] : versions.find((t) => t.version === version);
    if (found === undefined) {
      throw notFound(`no node type ${node_type_id}${version === undefined ? "" : `@${version}`}`, {
        details: { node_type_id, ...(version === undefined ? {} : { version }) },
      });
    }
    return found;
  }

  #add(type: NodeType): NodeType {
    const versions = this.#types.get(type.node_type_id) ?? [];
    if (versions.some((t) => t.version === type.version)) {
      throw conflict(`${type.node_type_id}@${type.version} is already published`, {
        details: { node_type_id: type.node_type_id, version: type.version },
      });
    }
    const size = Buffer.byteLength(JSON.stringify(type), "utf8");
    if (size > this.#maxBytes) {
      throw new ArpServerError({
        status: 413,
        code: "node_type_too_large",
        message: `${type.node_type_id}@${type.version} is ${size} bytes of JSON, over this registry's ${this.#maxBytes}`,
        details: { max_node_type_bytes: this.#maxBytes },
        retryable: false,
      });
    }
    if (this.#count >= this.#maxTypes) {
      throw new ArpServerError({
        status: 403,
        code: "registry_full",
        message: `this registry holds its maximum of ${this.#maxTypes} node type versions`,
        details: { max_node_types: this.#maxTypes },
        retryable: false,
      });
    }
    // A copy: what the caller (or the seed's owner) holds can change without changing the registry.
    const stored = structuredClone(type);
    versions.push(stored);
    versions.sort((a, b) => compareVersions(b.version, a.version));
    this.#types.set(type.node_type_id, versions);
    this.#count++;
    return stored;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return n;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// A tiny Semantic Versioning 2.0.0 precedence, here rather than the `semver` package: the registry
// needs one comparison, and the example's only dependencies are the SDK and ajv.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** Digit strings without leading zeros, compared exactly at any length (no Number rounding). */
const byNumber = (a: string, b: string) => a.length - b.length || byCodeUnits(a, b);

/**
 * Negative when `a` comes before `b`: semver precedence (1.9.0 < 1.10.0; 1.0.0-rc.1 < 1.0.0; numeric
 * pre-release identifiers numerically, below alphanumeric ones). A version that is not semver comes
 * before every semver one, and such versions compare by code units; equal precedence (`+build`
 * differs) also falls back to code units, so the order is total and the same on every run.
 */
export function compareVersions(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (pa === null || pb === null)
    return pa === null && pb === null ? byCodeUnits(a, b) : pa === null ? -1 : 1;
  for (let i = 1; i <= 3; i++) {
    const d = byNumber(pa[i] as string, pb[i] as string);
    if (d !== 0) return d;
  }
  const ra = pa[4];
  const rb = pb[4];
  if (ra !== rb) {
    if (ra === undefined) return 1; // a release after its pre-releases
    if (rb === undefined) return -1;
    const ia = ra.split(".");
    const ib = rb.split(".");
    for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
      const x = ia[i] as string;
      const y = ib[i] as string;
      const nx = /^\d+$/.test(x);
      const ny = /^\d+$/.test(y);
      const d = nx && ny ? byNumber(x, y) : nx ? -1 : ny ? 1 : byCodeUnits(x, y);
      if (d !== 0) return d;
    }
    if (ia.length !== ib.length) return ia.length - ib.length;
  }
  return byCodeUnits(a, b);
}
