/**
 * The reference Atomic Executor: runs the built-in atomic node types (src/catalog/atomic.ts) in the
 * request, one node run per `POST /v1/atomic-node-runs:execute`, and answers its outcome.
 *
 * - Inputs are checked against the node type's `input_schema` (ajv, draft 2020-12; each schema is
 *   compiled once, at construction): a mismatch is `failed` with `invalid_inputs`; a node type it
 *   does not have is `failed` with `unknown_node_type`. Those are outcomes, not HTTP errors: the
 *   request itself was fine.
 * - Outputs are checked against `output_schema` too (a guard against our own bugs): `invalid_outputs`.
 * - A cancel, the client going away, or `constraints.budgets.max_wall_time_ms` running out stops a
 *   node run that takes time (`arp.ref.sleep`): `canceled`, or `failed` with `max_wall_time_exceeded`.
 * - Cancel answers 204 for a node run executing here or executed here, 404 for any other.
 * - Bounded: at most `maxConcurrentNodeRuns` execute at once (default 1 000; then 503, retryable);
 *   the same `node_run_id` while it executes is a 409; at most `maxRememberedNodeRuns` finished ids
 *   are remembered for cancel (default 10 000, oldest forgotten first), each as its SHA-256, so about
 *   1.5 MB however long the ids are. Outputs are never kept.
 * - ajv stops at the first schema issue (`allErrors` off): the work on a bad input is bounded.
 * - With `mcp` (an McpBridge of @arp/mcp), the node types it `handles()` (`mcp.<name>.<tool>`) are
 *   the tools of MCP servers: such a node run goes to `bridge.execute()`, under the same bounds and
 *   cancel by id as the built-in ones.
 * - It calls no peers.
 */
import { createHash } from "node:crypto";
import type { McpBridge } from "@arp/mcp";
import type { AtomicExecuteResult, ErrorDetail } from "@arp/model";
import {
  type AtomicExecutorRequests,
  BaseAtomicExecutorServer,
  conflict,
  notFound,
  type ServerOptions,
  unavailable,
} from "@arp/server";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { type AtomicNode, BUILTIN_ATOMIC_NODES, type JsonObject, NodeFailure } from "../atomic/nodes.js";
import type { Peers } from "../peers.js";

/** How many finished node run ids are remembered (so that their cancel answers 204), by default. */
export const DEFAULT_MAX_REMEMBERED_NODE_RUNS = 10_000;
/** How many node runs may execute at once, by default; beyond it, 503 `unavailable` (retryable). */
export const DEFAULT_MAX_CONCURRENT_NODE_RUNS = 1_000;
/** The most schema issues listed in an `invalid_inputs` or `invalid_outputs` error's details. */
export const MAX_REPORTED_ISSUES = 20;

export interface ReferenceAtomicExecutorOptions {
  /** Not used: the executor calls no peers. Accepted so that every service is made the same way. */
  peers?: Peers;
  /** The base server's options; default `{ auth: { mode: "disabled" } }`. */
  server?: ServerOptions;
  /** The node types it can run; default the built-in ones (BUILTIN_ATOMIC_NODES). */
  nodes?: readonly AtomicNode[];
  /** Finished node run ids kept for cancel, oldest forgotten first; default 10 000 (ids only, no outputs). */
  maxRememberedNodeRuns?: number;
  /** Node runs executing at once; default 1 000. */
  maxConcurrentNodeRuns?: number;
  /** The clock of `started_at` and `ended_at`; default `() => new Date()`. */
  now?: () => Date;
  /** MCP tools as node types (`mcp.<name>.<tool>`): started, published and closed by its owner. */
  mcp?: McpBridge;
}

/** Why a node run's signal aborted: the state and error it ends with. */
class Stop {
  constructor(
    readonly state: "canceled" | "failed",
    readonly error?: ErrorDetail,
  ) {}
}

interface Compiled {
  node: AtomicNode;
  inputs: ValidateFunction;
  outputs: ValidateFunction;
}

export class ReferenceAtomicExecutor extends BaseAtomicExecutorServer {
  readonly #nodes = new Map<string, Compiled>();
  /** Executing node runs, by id: aborting one stops it. */
  readonly #executing = new Map<string, AbortController>();
  /** SHA-256 of finished node run ids, oldest first (a Set keeps insertion order). */
  readonly #finished = new Set<string>();
  readonly #maxRemembered: number;
  readonly #maxConcurrent: number;
  readonly #now: () => Date;
  readonly #mcp: McpBridge | undefined;

  constructor(options: ReferenceAtomicExecutorOptions = {}) {
    super(options.server ?? { auth: { mode: "disabled" } });
    this.#maxRemembered = positive(
      "maxRememberedNodeRuns",
      options.maxRememberedNodeRuns,
      DEFAULT_MAX_REMEMBERED_NODE_RUNS,
    );
    this.#maxConcurrent = positive(
      "maxConcurrentNodeRuns",
      options.maxConcurrentNodeRuns,
      DEFAULT_MAX_CONCURRENT_NODE_RUNS,
    );
    this.#now = options.now ?? (() => new Date());
    this.#mcp = options.mcp;
    // Strict: a schema with an unknown keyword or a type mistake fails here, not on a request.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: false });
    for (const node of options.nodes ?? BUILTIN_ATOMIC_NODES) {
      const { node_type_id, version, input_schema = {}, output_schema = {} } = node.type;
      const key = ref(node_type_id, version);
      if (this.#nodes.has(key)) throw new Error(`node type ${key} is given twice`);
      this.#nodes.set(key, { node, inputs: ajv.compile(input_schema), outputs: ajv.compile(output_schema) });
    }
  }

  async executeAtomicNodeRun(
    req: AtomicExecutorRequests["executeAtomicNodeRun"],
  ): Promise<AtomicExecuteResult> {
    const { node_run_id, run_id, node_type_ref, inputs } = req.body;
    if (this.#executing.has(node_run_id)) throw conflict(`node run ${node_run_id} is already executing`);
    if (this.#executing.size >= this.#maxConcurrent) {
      throw unavailable(`${this.#maxConcurrent} node runs are executing; try again later`);
    }
    if (this.#mcp?.handles(node_type_ref)) return this.#executeMcp(req, this.#mcp);
    const started_at = this.#now().toISOString();
    const end = (state: AtomicExecuteResult["state"], rest: Partial<AtomicExecuteResult> = {}) => {
      this.#remember(node_run_id);
      return { node_run_id, state, ...rest, started_at, ended_at: this.#now().toISOString() };
    };

    const key = ref(node_type_ref.node_type_id, node_type_ref.version);
    const compiled = this.#nodes.get(key);
    if (compiled === undefined) {
      return end("failed", {
        error: { code: "unknown_node_type", message: `this executor has no node type ${key}` },
      });
    }
    if (!compiled.inputs(inputs)) {
      return end("failed", { error: schemaError("invalid_inputs", `inputs of ${key}`, compiled.inputs) });
    }

    const controller = new AbortController();
    const onGone = () => controller.abort(new Stop("canceled"));
    if (req.signal.aborted) onGone();
    else req.signal.addEventListener("abort", onGone, { once: true });
    const budget = req.body.constraints?.budgets?.max_wall_time_ms;
    // Past setTimeout's range (about 24.8 days) a budget cannot end anything here: no timer.
    const timer =
      budget === undefined || budget > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => {
            const message = `${key} ran past max_wall_time_ms ${budget}`;
            controller.abort(new Stop("failed", { code: "max_wall_time_exceeded", message }));
          }, budget);
    this.#executing.set(node_run_id, controller);
    try {
      let outputs: JsonObject | undefined;
      let failure: NodeFailure | undefined;
      try {
        outputs = await compiled.node.run(inputs, { signal: controller.signal, node_run_id, run_id });
      } catch (err) {
        if (err instanceof NodeFailure) failure = err;
        else if (!controller.signal.aborted) throw err; // a bug in the node: 500, logged by the base
        // Else it is the abort's own error: the signal's reason below says how the run ended.
      }
      const stop: unknown = controller.signal.reason;
      if (stop instanceof Stop) return end(stop.state, stop.error === undefined ? {} : { error: stop.error });
      if (failure !== undefined) {
        const { retryable, details } = failure.extra;
        const error: ErrorDetail = { code: failure.code, message: failure.message };
        if (retryable !== undefined) error.retryable = retryable;
        if (details !== undefined) error.details = details;
        return end("failed", { error });
      }
      if (!compiled.outputs(outputs)) {
        return end("failed", {
          error: schemaError("invalid_outputs", `outputs of ${key}`, compiled.outputs),
        });
      }
      return end("succeeded", { outputs: outputs as JsonObject });
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onGone);
      this.#executing.delete(node_run_id);
    }
  }

  /** A node run of an MCP tool: the bridge checks, calls and maps; a cancel aborts its signal. */
  async #executeMcp(
    req: AtomicExecutorRequests["executeAtomicNodeRun"],
    bridge: McpBridge,
  ): Promise<AtomicExecuteResult> {
    const { node_run_id } = req.body;
    const controller = new AbortController();
    const onGone = () => controller.abort(new Stop("canceled"));
    if (req.signal.aborted) onGone();
    else req.signal.addEventListener("abort", onGone, { once: true });
    this.#executing.set(node_run_id, controller);
    try {
      return await bridge.execute(req.body, { signal: controller.signal });
    } finally {
      req.signal.removeEventListener("abort", onGone);
      this.#executing.delete(node_run_id);
      this.#remember(node_run_id);
    }
  }

  /** 204 for a node run executing here (it stops, `canceled`) or executed here; 404 for any other. */
  override cancelAtomicNodeRun(req: AtomicExecutorRequests["cancelAtomicNodeRun"]): void {
    const { node_run_id } = req.params;
    const executing = this.#executing.get(node_run_id);
    if (executing !== undefined) {
      if (!executing.signal.aborted) executing.abort(new Stop("canceled"));
      return;
    }
    if (!this.#finished.has(digest(node_run_id)))
      throw notFound(`this executor has not executed node run ${node_run_id}`);
  }

  #remember(nodeRunId: string): void {
    const id = digest(nodeRunId);
    this.#finished.delete(id); // a re-execution moves it to the newest end
    this.#finished.add(id);
    if (this.#finished.size > this.#maxRemembered) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const digest = (id: string) => createHash("sha256").update(id, "utf8").digest("base64");
const ref = (id: string, version: string) => `${id}@${version}`;

function positive(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return n;
}

/** ajv's issues as an error: JSON pointers and messages, the first MAX_REPORTED_ISSUES of them. */
function schemaError(code: string, what: string, validate: ValidateFunction): ErrorDetail {
  const issues = (validate.errors ?? []).map((e) => ({
    pointer: e.instancePath,
    message: e.message ?? e.keyword,
  }));
  const first = issues[0];
  return {
    code,
    message: `${what} do not match the schema${first === undefined ? "" : `: ${first.pointer || "/"} ${first.message}`}`,
    details: { errors: issues.slice(0, MAX_REPORTED_ISSUES) },
  };
}
