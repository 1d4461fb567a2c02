/**
 * The reference Composite Executor: runs `arp.ref.pipeline` and `arp.ref.parallel` (src/catalog/
 * composite.ts). A begin request is checked at once (a bad one is answered `accepted: false`), then
 * the work goes on in the background, entirely through the Run Coordinator at the request's
 * `coordinator_endpoint`: create the children (`createNodeRuns`, one idempotency key per step), wait
 * for each to end (src/composite/watch.ts), report an evaluation of each, and complete the composite
 * node run. Goal steps are mapped to node types by the Selection service (`peers`).
 */
import { RunCoordinatorClient } from "@arp/client";
import type * as T from "@arp/model";
import {
  BaseCompositeExecutorServer,
  type CompositeExecutorRequests,
  type Logger,
  notFound,
  type ServerOptions,
} from "@arp/server";
import { DEFAULT_MAX_GOAL_LENGTH, DEFAULT_MAX_STEPS } from "../catalog/composite.js";
import { type JsonObject, type Plan, planComposite, type Step, stepInputs } from "../composite/plan.js";
import { ChildWatch, isTerminal } from "../composite/watch.js";
import { type Peers, traced } from "../peers.js";
import type { ServiceKey } from "../urls.js";

export interface ReferenceCompositeExecutorOptions {
  peers: Peers;
  /** Default `{ auth: { mode: "disabled" } }`. */
  server?: ServerOptions;
  /** A bearer token for calls to `audience` (the coordinators, `"run-coordinator"`), like `PeersOptions.token`. */
  token?: (audience: ServiceKey) => string | Promise<string>;
  /** Composite node runs worked on at once; a begin beyond it is answered `accepted: false`. Default 1000. */
  maxActive?: number;
  /** Most steps (branches) of one composite node run. Default 64. */
  maxSteps?: number;
  /** Longest goal of a step, in characters. Default 1000. */
  maxGoalLength?: number;
  /**
   * Most bytes of outputs one composite node run holds (JSON): a pipeline's latest step outputs, a
   * parallel's results together. More fails it with `outputs_too_large`. Default 1 MiB (the
   * coordinator's default body limit, which the completion must fit).
   */
  maxOutputBytes?: number;
  /** How often every waited-on child is read anyway (a missed event; no stream). Default 2000 ms. */
  pollIntervalMs?: number;
  /** Deadline of each call to a coordinator or the Selection service (retries included). Default 60 000 ms. */
  callTimeoutMs?: number;
  /** Finished node run ids kept, so that a late cancel is a 204, not a 404. Default 1024. */
  rememberFinished?: number;
  /** Coordinator clients kept (one per `coordinator_endpoint`, least recently used dropped). Default 32. */
  maxCoordinators?: number;
}

/**
 * Composite node runs worked on at once, by default: a safety bound, not a throttle. A declined begin
 * fails the node run, and so the run (ARP's begin has no "busy, try later"). It was 100: of 200
 * concurrent pipeline runs (test/load.test.ts) up to half failed `executor_declined`. 1000 is the atomic
 * executor's bound too; a job holds its begin request and one open stream.
 */
export const DEFAULT_MAX_ACTIVE = 1_000;

/**
 * Deadline of each call, by default: it is there to catch a peer that hangs, and a call that fails
 * fails the node run (`composite_error`). It was 10 s, which a healthy but busy coordinator missed
 * under 200 concurrent runs (test/load.test.ts): a busy Node 20 process (libuv >= 1.45) accepts one
 * new connection per event-loop turn, so a burst of connections waits seconds in the accept queue.
 * Now as long as the coordinator gives an executor (its `executorTimeoutMs`): sooner gains nothing.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** Largest JSON body read from a coordinator (a child node run with its inputs and outputs). */
export const MAX_COORDINATOR_RESPONSE_BYTES = 4 * 1024 * 1024;
/**
 * How patiently the calls to a coordinator are repeated (those the client may repeat: reads, keyed
 * creates, completions): backoff from 250 ms up to 4 s (full jitter), for up to 24 attempts: some 40 s
 * on average, hardly ever under 25 s, and never past the call's deadline (`callTimeoutMs`, which covers
 * the retries). A coordinator whose database restarts answers 503 for seconds; a composite must not
 * fail for it. With 8 attempts the patience was as random as the jitter: under 4 s one time in 30,
 * shorter than a loaded PostgreSQL restart.
 */
export const COORDINATOR_RETRY = { maxAttempts: 24, baseDelayMs: 250, maxDelayMs: 4_000 } as const;

/** Why a composite node run stopped without completing (the abort reason of its controller). */
class Stopped extends Error {
  constructor(readonly why: "canceled" | "ended elsewhere" | "shutdown") {
    super(`composite node run stopped: ${why}`);
  }
}

/** The wall-time budget ran out: the node run is completed `failed`. */
class OutOfTime extends Error {
  constructor(readonly ms: number) {
    super(`the node run took longer than constraints.budgets.max_wall_time_ms (${ms} ms)`);
  }
}

/** A failure that completes the node run `failed` with this error. */
class CompositeFailure extends Error {
  constructor(readonly detail: T.ErrorDetail) {
    super(detail.message);
  }
}

interface Job {
  readonly request: T.CompositeBeginRequest;
  readonly plan: Plan;
  readonly client: RunCoordinatorClient;
  readonly controller: AbortController;
  readonly call: { headers?: Record<string, string>; timeoutMs: number };
  readonly watch: ChildWatch;
  done: Promise<void>;
}

const DISABLED_AUTH: ServerOptions = { auth: { mode: "disabled" } };

/** Used when `server.logger` is not given: the same one-line format as the server's own default. */
const STDERR_LOGGER: Logger = {
  warn: (message, data) =>
    process.stderr.write(`[composite-executor] warn: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    process.stderr.write(`[composite-executor] error: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The best candidate: the highest score, the earlier one on a tie (Selection lists the best first). */
function bestCandidate(candidates: readonly T.Candidate[]): T.Candidate | undefined {
  let best: T.Candidate | undefined;
  for (const candidate of candidates) {
    if (best === undefined || (candidate.score ?? 0) > (best.score ?? 0)) best = candidate;
  }
  return best;
}

export class ReferenceCompositeExecutor extends BaseCompositeExecutorServer {
  readonly #peers: Peers;
  readonly #token: ReferenceCompositeExecutorOptions["token"];
  readonly #logger: Logger;
  readonly #limits: Required<Omit<ReferenceCompositeExecutorOptions, "peers" | "server" | "token">>;
  readonly #jobs = new Map<string, Job>();
  /** Insertion-ordered: the oldest is dropped first. */
  readonly #finished = new Set<string>();
  readonly #coordinators = new Map<string, RunCoordinatorClient>();

  constructor(options: ReferenceCompositeExecutorOptions) {
    super(options.server ?? DISABLED_AUTH);
    this.#peers = options.peers;
    this.#token = options.token;
    this.#logger = options.server?.logger ?? STDERR_LOGGER;
    this.#limits = {
      maxActive: options.maxActive ?? DEFAULT_MAX_ACTIVE,
      maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
      maxGoalLength: options.maxGoalLength ?? DEFAULT_MAX_GOAL_LENGTH,
      maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      pollIntervalMs: options.pollIntervalMs ?? 2_000,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      rememberFinished: options.rememberFinished ?? 1024,
      maxCoordinators: options.maxCoordinators ?? 32,
    };
  }

  /** Composite node runs in progress. */
  get active(): number {
    return this.#jobs.size;
  }

  beginCompositeNodeRun(req: CompositeExecutorRequests["beginCompositeNodeRun"]): T.CompositeBeginResponse {
    const request = req.body;
    const id = request.node_run_id;
    // A repeated begin of the same assignment starts nothing new.
    if (this.#jobs.has(id)) return { accepted: true, message: `node run ${id} is already in progress` };
    if (this.#finished.has(id)) {
      return { accepted: false, message: `node run ${id} was already carried out by this executor` };
    }
    const planned = planComposite(request, this.#limits);
    if (!planned.ok) return { accepted: false, message: planned.message };
    if (this.#jobs.size >= this.#limits.maxActive) {
      return {
        accepted: false,
        message: `busy: ${this.#jobs.size} composite node runs in progress (the limit of this executor)`,
      };
    }
    const client = this.#coordinator(request.coordinator_endpoint);
    if (client === undefined) {
      return { accepted: false, message: "coordinator_endpoint must be an http:// or https:// URL" };
    }

    const controller = new AbortController();
    const call = { ...traced(req), timeoutMs: this.#limits.callTimeoutMs };
    const watch = new ChildWatch({
      client,
      nodeRunId: id,
      signal: controller.signal,
      call,
      pollIntervalMs: this.#limits.pollIntervalMs,
      logger: this.#logger,
      // Canceled through the coordinator (the run was canceled): nothing is left to complete.
      onOwnTerminal: () => controller.abort(new Stopped("ended elsewhere")),
    });
    const job: Job = {
      request,
      plan: planned.plan,
      client,
      controller,
      call,
      watch,
      done: Promise.resolve(),
    };
    this.#jobs.set(id, job);
    job.done = this.#run(job).catch((err: unknown) => {
      this.#logger.error("composite executor: unexpected failure", { nodeRunId: id, error: messageOf(err) });
    });
    return { accepted: true };
  }

  override cancelCompositeNodeRun(req: CompositeExecutorRequests["cancelCompositeNodeRun"]): void {
    const id = req.params.node_run_id;
    const job = this.#jobs.get(id);
    if (job !== undefined) {
      // Stops the work at once: the stream is closed, calls in flight are aborted, no child is created.
      job.controller.abort(new Stopped("canceled"));
      return;
    }
    if (this.#finished.has(id)) return; // already over: cancellation has nothing left to do
    throw notFound(`no composite node run ${id} on this executor`);
  }

  /** Stops every composite node run in progress (as a cancel does) and waits until their work has settled. */
  async stop(): Promise<void> {
    const jobs = [...this.#jobs.values()];
    for (const job of jobs) job.controller.abort(new Stopped("shutdown"));
    await Promise.allSettled(jobs.map((job) => job.done));
  }

  /** The client of a coordinator, one per endpoint; undefined for an endpoint that is not http(s). */
  #coordinator(endpoint: string): RunCoordinatorClient | undefined {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return undefined;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    const baseUrl = endpoint.replace(/\/+$/, "");
    let client = this.#coordinators.get(baseUrl);
    if (client !== undefined) {
      this.#coordinators.delete(baseUrl); // re-inserted below: the most recently used is kept longest
    } else {
      const token = this.#token;
      client = new RunCoordinatorClient({
        baseUrl,
        maxResponseBytes: MAX_COORDINATOR_RESPONSE_BYTES,
        retry: COORDINATOR_RETRY,
        ...(token === undefined ? {} : { bearerToken: () => token("run-coordinator") }),
      });
      if (this.#coordinators.size >= this.#limits.maxCoordinators) {
        const oldest = this.#coordinators.keys().next().value;
        if (oldest !== undefined) this.#coordinators.delete(oldest);
      }
    }
    this.#coordinators.set(baseUrl, client);
    return client;
  }

  /** Carries a job out and completes its node run; never rejects. */
  async #run(job: Job): Promise<void> {
    const { signal } = job.controller;
    const id = job.request.node_run_id;
    const budget = job.request.constraints?.budgets?.max_wall_time_ms;
    const deadline =
      budget === undefined
        ? undefined
        : setTimeout(() => job.controller.abort(new OutOfTime(budget)), budget);
    let completion: T.NodeRunCompleteRequest | undefined;
    try {
      const outputs = job.plan.kind === "pipeline" ? await this.#pipeline(job) : await this.#parallel(job);
      completion = { state: "succeeded", outputs };
    } catch (err) {
      const reason: unknown = signal.aborted ? signal.reason : err;
      if (reason instanceof Stopped) {
        this.#logger.debug?.("composite executor: stopped", { nodeRunId: id, why: reason.why });
      } else {
        completion = { state: "failed", error: this.#errorOf(reason) };
      }
    } finally {
      clearTimeout(deadline);
      job.controller.abort(new Stopped("shutdown")); // ends the watch (no-op when already aborted)
    }
    // Not tied to the job's signal, which is aborted by now; bounded by the call deadline.
    if (completion !== undefined) await this.#complete(job, completion);
    this.#jobs.delete(id);
    this.#finished.add(id);
    if (this.#finished.size > this.#limits.rememberFinished) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }

  #errorOf(reason: unknown): T.ErrorDetail {
    if (reason instanceof CompositeFailure) return reason.detail;
    if (reason instanceof OutOfTime) return { code: "budget_exceeded", message: reason.message };
    // A coordinator that failed or went away: it may not hear this either (then it is logged).
    return {
      code: "composite_error",
      message: `the composite node run could not go on: ${messageOf(reason)}`,
    };
  }

  async #pipeline(job: Job): Promise<JsonObject> {
    let fed = job.plan.seed;
    for (const [index, step] of job.plan.steps.entries()) {
      const spec = await this.#childSpec(job, step, index, fed);
      const [created] = await this.#create(job, [spec]);
      const child = await this.#finish(job, created!, index);
      if (child.state !== "succeeded") {
        if (child.state === "canceled") await this.#stopIfEnded(job);
        throw new CompositeFailure({
          code: "step_failed",
          message: `step ${index} (${describe(child)}) ended ${child.state}${reasonOf(child)}`,
          details: { step: index, node_run_id: child.node_run_id, state: child.state },
        });
      }
      fed = child.outputs ?? {};
      this.#checkSize(fed, `step ${index}'s outputs`);
    }
    return fed;
  }

  async #parallel(job: Job): Promise<JsonObject> {
    const specs: T.NodeRunCreateSpec[] = [];
    // One at a time, in branch order: a goal's selection is quick, and the order stays deterministic.
    for (const [index, step] of job.plan.steps.entries()) {
      specs.push(await this.#childSpec(job, step, index, job.plan.seed));
    }
    const created = await this.#create(job, specs);
    const settled = await Promise.allSettled(created.map((child, index) => this.#finish(job, child, index)));
    const unread = settled.find((s) => s.status === "rejected");
    if (unread !== undefined) throw unread.reason; // a read that failed, not a branch that failed
    const children = settled.map((s) => (s as PromiseFulfilledResult<T.NodeRun>).value);
    const failed = children.flatMap((child, branch) =>
      child.state === "succeeded" ? [] : [{ child, branch }],
    );
    if (failed.length > 0) {
      if (failed.some(({ child }) => child.state === "canceled")) await this.#stopIfEnded(job);
      throw new CompositeFailure({
        code: "branch_failed",
        message:
          `${failed.length} of ${children.length} branches did not succeed: ` +
          failed
            .map(({ child, branch }) => `branch ${branch} (${describe(child)}) ended ${child.state}`)
            .join("; "),
        details: {
          failed_branches: failed.map(({ child, branch }) => ({
            branch,
            node_run_id: child.node_run_id,
            state: child.state,
          })),
        },
      });
    }
    const outputs = { results: children.map((child) => child.outputs ?? {}) };
    this.#checkSize(outputs, "the branches' outputs together");
    return outputs;
  }

  /**
   * A canceled child usually means the whole run was canceled, and this node run with it: then there
   * is nothing to complete. Stops the job in that case (the stream's end would tell too, a bit later).
   */
  async #stopIfEnded(job: Job): Promise<void> {
    const own = await job.client.getNodeRun(job.request.node_run_id, {
      ...job.call,
      signal: job.controller.signal,
    });
    if (isTerminal(own.state)) {
      job.controller.abort(new Stopped("ended elsewhere"));
      job.controller.signal.throwIfAborted();
    }
  }

  #checkSize(outputs: JsonObject, what: string): void {
    const bytes = bytesOf(outputs);
    if (bytes > this.#limits.maxOutputBytes) {
      throw new CompositeFailure({
        code: "outputs_too_large",
        message: `${what} are ${bytes} bytes of JSON; this executor holds at most ${this.#limits.maxOutputBytes}`,
      });
    }
  }

  /** The child of one step: its node type named, or chosen by the Selection service for its goal. */
  async #childSpec(job: Job, step: Step, index: number, fed: JsonObject): Promise<T.NodeRunCreateSpec> {
    const { request } = job;
    // The key names the step, so a retried create (or a repeated begin) cannot make a second child.
    const key = `${request.node_run_id}:${job.plan.kind === "pipeline" ? "step" : "branch"}:${index}`;
    const common = {
      inputs: stepInputs(fed, step),
      idempotency_key: key,
      ...(request.constraints === undefined ? {} : { constraints: request.constraints }),
    };
    if ("node_type" in step) return { node_type_ref: step.node_type, ...common };

    const set = await this.#select(job, key, step.goal, index);
    const best = bestCandidate(set.candidates);
    if (best === undefined) {
      throw new CompositeFailure({
        code: "no_candidate",
        message: `step ${index}: the Selection service proposed no node type for the goal "${step.goal}"`,
        details: { step: index, candidate_set_id: set.candidate_set_id },
      });
    }
    const chosen = { node_type_id: best.node_type_ref.node_type_id, version: best.node_type_ref.version };
    return {
      node_type_ref: chosen,
      ...common,
      candidate_set_id: set.candidate_set_id,
      binding_decision: {
        subtask_id: key,
        candidate_set_id: set.candidate_set_id,
        chosen_node_type_ref: chosen,
        rationale:
          `the best of ${set.candidates.length} candidates` +
          (best.score === undefined ? "" : ` (score ${best.score})`) +
          (best.rationale === undefined ? "" : `: ${best.rationale}`),
      },
    };
  }

  async #select(job: Job, subtaskId: string, goal: string, index: number): Promise<T.CandidateSet> {
    const { request, controller } = job;
    try {
      return await this.#peers.client("selection").generateCandidateSet(
        {
          subtask_spec: { subtask_id: subtaskId, goal },
          ...(request.run_context === undefined ? {} : { run_context: request.run_context }),
          ...(request.constraints === undefined ? {} : { constraints: request.constraints }),
        },
        // Generating a candidate set changes nothing: safe to retry.
        { ...job.call, signal: controller.signal, idempotent: true },
      );
    } catch (err) {
      if (controller.signal.aborted) throw err;
      throw new CompositeFailure({
        code: "selection_failed",
        message: `step ${index}: the Selection service could not map the goal: ${messageOf(err)}`,
        details: { step: index },
      });
    }
  }

  async #create(job: Job, specs: T.NodeRunCreateSpec[]): Promise<T.NodeRun[]> {
    const { request } = job;
    const response = await job.client.createNodeRuns(
      { run_id: request.run_id, parent_node_run_id: request.node_run_id, node_runs: specs },
      { ...job.call, signal: job.controller.signal },
    );
    if (response.node_runs.length !== specs.length) {
      throw new CompositeFailure({
        code: "coordinator_error",
        message: `asked the coordinator for ${specs.length} child node runs; it answered ${response.node_runs.length}`,
      });
    }
    return response.node_runs;
  }

  /** Waits for a child to end and reports its evaluation. */
  async #finish(job: Job, created: T.NodeRun, index: number): Promise<T.NodeRun> {
    const child = await job.watch.terminal(created.node_run_id);
    const what = `${job.plan.kind === "pipeline" ? "step" : "branch"} ${index}`;
    const evaluation: T.EvaluationResult =
      child.state === "succeeded"
        ? { status: "success", reason_code: "child_succeeded", message: `${what} succeeded` }
        : { status: "fail", reason_code: `child_${child.state}`, message: `${what} ended ${child.state}` };
    try {
      await job.client.reportNodeRunEvaluation(
        child.node_run_id,
        { evaluation_result: evaluation },
        { ...job.call, signal: job.controller.signal },
      );
    } catch (err) {
      if (job.controller.signal.aborted) throw err;
      // The verdict is ours to give, not the child's outcome: going on without it is right.
      this.#logger.warn("composite executor: could not report an evaluation", {
        nodeRunId: child.node_run_id,
        error: messageOf(err),
      });
    }
    return child;
  }

  async #complete(job: Job, body: T.NodeRunCompleteRequest): Promise<void> {
    try {
      // Completing twice with the same body is harmless: safe to retry.
      await job.client.completeNodeRun(job.request.node_run_id, body, { ...job.call, idempotent: true });
    } catch (err) {
      this.#logger.error("composite executor: could not complete the node run", {
        nodeRunId: job.request.node_run_id,
        state: body.state,
        error: messageOf(err),
      });
    }
  }
}

function describe(child: T.NodeRun): string {
  return `${child.node_type_ref.node_type_id}@${child.node_type_ref.version}, node run ${child.node_run_id}`;
}

/** The child's own account of its failure, when its evaluation gives one. */
function reasonOf(child: T.NodeRun): string {
  const message = child.evaluation_result?.message;
  return message === undefined ? "" : `: ${message}`;
}
