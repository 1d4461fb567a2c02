/**
 * What the built-in atomic node types do (their definitions, with schemas, are src/catalog/atomic.ts).
 * A node gets inputs that already match its `input_schema`, and returns outputs or throws a
 * {@link NodeFailure}; anything else it throws is a bug (the executor answers 500 and logs it).
 */
import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { NodeType } from "@arp/model";
import { ATOMIC_NODE_TYPES, REF_PREFIX, REF_VERSION } from "../catalog/atomic.js";

export type JsonObject = Record<string, unknown>;

/** What a running node may use besides its inputs. */
export interface AtomicNodeContext {
  /** Aborts when the node run is canceled, its wall-time budget ends, or the caller goes away. */
  signal: AbortSignal;
  node_run_id: string;
  run_id: string;
}

/** One executable node type: its definition and the code that runs it. */
export interface AtomicNode {
  type: NodeType;
  run(inputs: JsonObject, ctx: AtomicNodeContext): JsonObject | Promise<JsonObject>;
}

/** A node run that ended `failed` on purpose: answered with `error: { code, message, ... }`. */
export class NodeFailure extends Error {
  override name = "NodeFailure";
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { retryable?: boolean; details?: JsonObject } = {},
  ) {
    super(message);
  }
}

const IMPLEMENTATIONS: Record<string, AtomicNode["run"]> = {
  echo: (inputs) => inputs,
  "text.upper": ({ text }) => ({ text: (text as string).toUpperCase() }),
  "text.lower": ({ text }) => ({ text: (text as string).toLowerCase() }),
  // Array.from splits by code points, so a surrogate pair (an emoji) stays whole.
  "text.reverse": ({ text }) => ({
    text: Array.from(text as string)
      .reverse()
      .join(""),
  }),
  "text.word_count": ({ text }) => {
    const s = text as string;
    return {
      text: s,
      words: s.split(/\s+/u).filter((w) => w !== "").length,
      characters: Array.from(s).length,
    };
  },
  arith: ({ op, a, b }) => arith(op as string, a as number, b as number),
  "json.pick": (inputs) => pick(inputs.value, inputs.path as string, inputs),
  "json.merge": ({ objects, deep }) => ({
    value: (objects as JsonObject[]).reduce((acc, o) => merge(acc, o, deep === true), {}),
  }),
  sha256: ({ text }) => ({
    sha256: createHash("sha256")
      .update(text as string, "utf8")
      .digest("hex"),
  }),
  sleep: async ({ ms }, ctx) => {
    // Rejects at once when the signal aborts; the executor then answers from the signal's reason.
    await delay(ms as number, undefined, { signal: ctx.signal });
    return { slept_ms: ms as number };
  },
  fail: ({ code, message, retryable }) => {
    throw new NodeFailure(
      (code as string | undefined) ?? "deliberate_failure",
      (message as string | undefined) ?? `${REF_PREFIX}fail always fails`,
      retryable === undefined ? {} : { retryable: retryable as boolean },
    );
  },
};

function arith(op: string, a: number, b: number): JsonObject {
  if (op === "divide" && b === 0) throw new NodeFailure("division_by_zero", `${a} / 0 is not a number`);
  const result = op === "add" ? a + b : op === "subtract" ? a - b : op === "multiply" ? a * b : a / b;
  // JSON has no Infinity or NaN: an overflow is a failure, not a silent null.
  if (!Number.isFinite(result)) {
    throw new NodeFailure("non_finite_result", `${op} of ${a} and ${b} is not a finite number`);
  }
  return { result };
}

/** RFC 6901: `/a~1b/0` is key `a/b`, then index 0. Own properties only (never `__proto__` & co). */
function pick(value: unknown, path: string, inputs: JsonObject): JsonObject {
  let at = value;
  for (const raw of path === "" ? [] : path.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const here = at;
    const next =
      Array.isArray(here) && /^(0|[1-9][0-9]*)$/.test(token)
        ? { ok: Number(token) < here.length, v: here[Number(token)] }
        : here !== null && typeof here === "object" && !Array.isArray(here) && Object.hasOwn(here, token)
          ? { ok: true, v: (here as JsonObject)[token] }
          : { ok: false, v: undefined };
    if (!next.ok) {
      if (Object.hasOwn(inputs, "default")) return { value: inputs.default, found: false };
      throw new NodeFailure("path_not_found", `nothing at ${JSON.stringify(path)}`, { details: { path } });
    }
    at = next.v;
  }
  return { value: at, found: true };
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * `b` over `a`. Built with Object.fromEntries, which defines own properties: a `__proto__` key in
 * the inputs stays a plain key and never changes a prototype.
 */
function merge(a: JsonObject, b: JsonObject, deep: boolean): JsonObject {
  const out = new Map(Object.entries(a));
  for (const [k, v] of Object.entries(b)) {
    const prev = out.get(k);
    out.set(k, deep && isObject(prev) && isObject(v) ? merge(prev, v, true) : v);
  }
  return Object.fromEntries(out);
}

/** The built-in nodes, one per entry of ATOMIC_NODE_TYPES, in the same order. */
export const BUILTIN_ATOMIC_NODES: readonly AtomicNode[] = ATOMIC_NODE_TYPES.map((type) => {
  const run = IMPLEMENTATIONS[type.node_type_id.slice(REF_PREFIX.length)];
  if (run === undefined || type.version !== REF_VERSION) {
    throw new Error(`no implementation of ${type.node_type_id}@${type.version}`);
  }
  return { type, run };
});
