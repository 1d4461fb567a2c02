/**
 * What the core tier creates, each thing once per run (a shared step) and reused by the checks after
 * it, core and deep: a published node type, runs, a child node run. Every id the checker owns is
 * unique per run (`arp-conformance-<uuid>`), so runs against one service never collide.
 */

import type * as T from "@arp/model";
import { NODE_RUN_TERMINAL_STATES, type OperationSpec, RUN_STATES, type ServiceSpec } from "@arp/model";
import { call, fail, pause, success, successProblems } from "./calls.js";
import { Failure } from "./failure.js";
import type { Fixtures } from "./fixtures.js";
import type { ProbeResult } from "./probe.js";
import type { CheckContext, MutationOptions } from "./runner.js";

/** The run states a run ends in: the states a run shares with the terminal node-run states. */
export const RUN_TERMINAL_STATES: readonly string[] = RUN_STATES.filter((s) =>
  (NODE_RUN_TERMINAL_STATES as readonly string[]).includes(s),
);

/** The operation of the table, by name (a check only asks for operations its service has). */
export function operation(service: ServiceSpec, name: string): OperationSpec {
  const op = service.operations[name];
  if (op === undefined) throw new Error(`${service.key} has no operation ${name}`);
  return op;
}

/** The mutation options, or a SKIP: nothing is created without `--allow-mutations`. */
export function mutations(ctx: CheckContext): MutationOptions {
  if (ctx.mutations !== undefined) return ctx.mutations;
  throw new Failure({
    status: "SKIP",
    message: "not checked: it creates things on the service; run with --allow-mutations",
  });
}

export function uniqueId(kind: string): string {
  return `arp-conformance-${kind}-${crypto.randomUUID()}`;
}

/** A value the check did not expect, as a FAIL of `result`. */
export function mismatch(result: ProbeResult, message: string): Failure {
  return new Failure(fail(result, [message]));
}

// ---------------------------------------------------------------------------------------------------
// Node Registry

/** The versions the checker publishes of its node type, oldest first. */
export const PUBLISHED_VERSIONS = ["1.0.0", "1.1.0"] as const;

export interface PublishedNodeType {
  readonly nodeTypeId: string;
  readonly kind: T.NodeKind;
  readonly fixture: Fixtures["node_type"];
}

/** The fixture's node type under a unique id, at `version`. */
export function publishBody(published: PublishedNodeType, version: string): T.NodeTypePublishRequest {
  return {
    ...published.fixture,
    node_type: { ...published.fixture.node_type, node_type_id: published.nodeTypeId, version },
  };
}

/** Publishes `version` of the checker's node type (once per run). */
export function publishedVersion(ctx: CheckContext, version: string): Promise<T.NodeType> {
  return ctx.step(`node-type:${version}`, async () => {
    const published = await nodeTypeIdentity(ctx);
    const publish = operation(ctx.service, "publishNodeType");
    const result = await call(ctx, publish, { body: publishBody(published, version) });
    const nodeType = success<T.NodeType>(publish, result);
    if (nodeType.node_type_id !== published.nodeTypeId || nodeType.version !== version) {
      throw mismatch(
        result,
        `published ${published.nodeTypeId}@${version}, answered ${nodeType.node_type_id}@${nodeType.version}`,
      );
    }
    return nodeType;
  });
}

export function nodeTypeIdentity(ctx: CheckContext): Promise<PublishedNodeType> {
  return ctx.step("node-type:id", async () => {
    const fixture = mutations(ctx).fixtures.node_type;
    return {
      nodeTypeId: `${fixture.node_type.node_type_id}.${uniqueId("node-type")}`,
      kind: fixture.node_type.kind,
      fixture,
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Runs (Run Gateway and Run Coordinator)

export interface StartedRun {
  readonly run: T.Run;
  readonly result: ProbeResult;
}

/** A run started from the `run` fixture (its `run_id` left to the service), once per `label`. */
export function startedRun(ctx: CheckContext, label: string): Promise<StartedRun> {
  return ctx.step(`run:${label}`, async () => {
    const { run_id: _ignored, ...body } = mutations(ctx).fixtures.run;
    const start = operation(ctx.service, "startRun");
    const result = await call(ctx, start, { body });
    const run = success<T.Run>(start, result);
    const cancel = operation(ctx.service, "cancelRun");
    ctx.cleanup(async () => {
      const now = await call(ctx, operation(ctx.service, "getRun"), { params: { run_id: run.run_id } });
      const state = (now.json as Partial<T.Run> | undefined)?.state;
      if (state !== undefined && !RUN_TERMINAL_STATES.includes(state)) {
        await call(ctx, cancel, { params: { run_id: run.run_id } });
      }
    });
    return { run, result };
  });
}

/**
 * Reads the run until it is in a terminal state, for at most the poll timeout: the last read run,
 * or a FAIL naming the state it stayed in.
 */
export async function pollUntilTerminal(
  ctx: CheckContext,
  runId: string,
): Promise<{ run: T.Run; result: ProbeResult }> {
  const { pollTimeoutMs, pollIntervalMs } = mutations(ctx);
  const getRun = operation(ctx.service, "getRun");
  const deadline = performance.now() + pollTimeoutMs;
  for (let reads = 1; ; reads++) {
    const result = await call(ctx, getRun, { params: { run_id: runId } });
    const run = success<T.Run>(getRun, result);
    if (run.run_id !== runId) throw mismatch(result, `asked for run ${runId}, answered run ${run.run_id}`);
    if (RUN_TERMINAL_STATES.includes(run.state)) return { run, result };
    if (performance.now() + pollIntervalMs > deadline) {
      throw mismatch(
        result,
        `still ${run.state} after ${pollTimeoutMs / 1000} s (${reads} reads); expected one of ${RUN_TERMINAL_STATES.join(", ")} (--poll-timeout)`,
      );
    }
    await pause(pollIntervalMs);
  }
}

/**
 * The `main` run, finished. On a Run Coordinator the checker plays the root's executor: it completes
 * the root node run (`succeeded`), and the run must then end; a Run Gateway ends it on its own.
 */
export function finishedRun(ctx: CheckContext): Promise<{ run: T.Run; result: ProbeResult }> {
  return ctx.step("run:main:finished", async () => {
    const { run } = await startedRun(ctx, "main");
    const complete = ctx.service.operations.completeNodeRun;
    if (complete !== undefined) {
      const result = await call(ctx, complete, {
        params: { node_run_id: run.root_node_run_id },
        body: { state: "succeeded", outputs: { text: "arp-conformance" } } satisfies T.NodeRunCompleteRequest,
      });
      const problems = successProblems(complete, result);
      if (problems.length > 0) {
        throw new Failure(
          fail(result, [`completing the root node run: ${problems[0]}`, ...problems.slice(1)]),
        );
      }
    }
    return pollUntilTerminal(ctx, run.run_id);
  });
}

// ---------------------------------------------------------------------------------------------------
// Node runs (Run Coordinator)

export interface ChildNodeRun {
  readonly nodeRun: T.NodeRun;
  readonly request: T.NodeRunsCreateRequest;
  readonly result: ProbeResult;
}

/** One child node run created under the `main` run's root, with an idempotency key. */
export function childNodeRun(ctx: CheckContext): Promise<ChildNodeRun> {
  return ctx.step("node-run:child", async () => {
    const { run } = await startedRun(ctx, "main");
    // Children go under a composite: a run whose root is atomic has nowhere to put them.
    const getNodeRun = operation(ctx.service, "getNodeRun");
    const rootRead = await call(ctx, getNodeRun, { params: { node_run_id: run.root_node_run_id } });
    const root = success<T.NodeRun>(getNodeRun, rootRead);
    if (root.kind === "atomic") {
      throw new Failure({
        status: "SKIP",
        message: `not checked: the run fixture's root (${root.node_type_ref.node_type_id}) is atomic, and child node runs go under a composite; give a composite root in --fixtures (run.root_node_type_ref)`,
        exchange: rootRead.exchange,
      });
    }
    const create = operation(ctx.service, "createNodeRuns");
    const request: T.NodeRunsCreateRequest = {
      run_id: run.run_id,
      parent_node_run_id: run.root_node_run_id,
      node_runs: [{ ...mutations(ctx).fixtures.node_run, idempotency_key: uniqueId("key") }],
    };
    const result = await call(ctx, create, { body: request });
    const created = success<T.NodeRunsCreateResponse>(create, result);
    const nodeRun = created.node_runs[0];
    if (created.node_runs.length !== 1 || nodeRun === undefined) {
      throw mismatch(result, `asked for 1 node run, answered ${created.node_runs.length}`);
    }
    if (nodeRun.run_id !== run.run_id) {
      throw mismatch(result, `created in run ${run.run_id}, answered run_id ${nodeRun.run_id}`);
    }
    if (nodeRun.parent_node_run_id !== undefined && nodeRun.parent_node_run_id !== run.root_node_run_id) {
      throw mismatch(
        result,
        `created under ${run.root_node_run_id}, answered parent_node_run_id ${nodeRun.parent_node_run_id}`,
      );
    }
    return { nodeRun, request, result };
  });
}

// ---------------------------------------------------------------------------------------------------
// Executors

/** The atomic execution the core tier made, shared with the deep tier's cancel. */
export function executedAtomic(
  ctx: CheckContext,
): Promise<{ request: T.AtomicExecuteRequest; result: T.AtomicExecuteResult }> {
  return ctx.step("atomic:executed", async () => {
    const op = operation(ctx.service, "executeAtomicNodeRun");
    const request: T.AtomicExecuteRequest = {
      ...mutations(ctx).fixtures.atomic_execute,
      node_run_id: uniqueId("node-run"),
      run_id: uniqueId("run"),
    };
    const result = await call(ctx, op, { body: request });
    const executed = success<T.AtomicExecuteResult>(op, result);
    if (executed.node_run_id !== request.node_run_id) {
      throw mismatch(result, `executed ${request.node_run_id}, answered node_run_id ${executed.node_run_id}`);
    }
    return { request, result: executed };
  });
}

/** The composite node run the core tier began, shared with the deep tier's cancel. */
export function begunComposite(
  ctx: CheckContext,
): Promise<{ request: T.CompositeBeginRequest; result: T.CompositeBeginResponse }> {
  return ctx.step("composite:begun", async () => {
    const op = operation(ctx.service, "beginCompositeNodeRun");
    const request: T.CompositeBeginRequest = {
      ...mutations(ctx).fixtures.composite_begin,
      node_run_id: uniqueId("node-run"),
      run_id: uniqueId("run"),
    };
    const result = await call(ctx, op, { body: request });
    const begun = success<T.CompositeBeginResponse>(op, result);
    if (!begun.accepted) {
      throw mismatch(result, `the assignment was not accepted${begun.message ? `: ${begun.message}` : ""}`);
    }
    return { request, result: begun };
  });
}
