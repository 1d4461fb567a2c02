/**
 * Core tier: the success paths of each service, with real bodies (needs `--allow-mutations`; the
 * bodies come from the fixtures). Checks run in order and share what they create (see
 * resources.ts): a check that needs something an earlier check failed to make is a SKIP naming it.
 *
 * - Node Registry: publish a unique node type at two versions, get it (latest and each exact
 *   version, an unknown version 404), find it by `q` and by `kind`, a duplicate publish 409.
 * - Run Gateway and Run Coordinator: start a run, get it, see it end within the poll timeout,
 *   cancel a second run, unknown ids 404. On a coordinator the checker also plays the executor:
 *   a child node run under the root (create, get, the same node run again for the same
 *   `idempotency_key`, report an evaluation, complete it), then it completes the root.
 * - Executors: execute / begin, answered for the request's `node_run_id`, begin accepted.
 * - Selection: a candidate set for the request's `subtask_id`, within `top_k` and the request's
 *   `max_candidates_per_subtask`. PDP: a decision.
 */

import type * as T from "@arp/model";
import { NODE_KINDS, type ServiceSpec } from "@arp/model";
import { call, notFoundOutcome, success, successProblems, verdict } from "../calls.js";
import { ERROR_ENVELOPE_REF, errorAnswerProblems, noAnswer, operationRef, schemaRef } from "../judge.js";
import {
  begunComposite,
  childNodeRun,
  executedAtomic,
  finishedRun,
  mismatch,
  mutations,
  nodeTypeIdentity,
  operation,
  PUBLISHED_VERSIONS,
  pollUntilTerminal,
  publishBody,
  publishedVersion,
  RUN_TERMINAL_STATES,
  startedRun,
  uniqueId,
} from "../resources.js";
import type { Check, CheckContext, CheckOutcome } from "../runner.js";

type Run = (ctx: CheckContext) => Promise<CheckOutcome>;

/** Collects the checks of one service: `add(op, suffix, name, run)` gives id `core.<op>.<suffix>`. */
function collector(service: ServiceSpec) {
  const checks: Check[] = [];
  const add = (opName: string, suffix: string, name: string, run: Run, schemas: string[] = []): void => {
    const op = operation(service, opName);
    checks.push({
      id: `core.${op.name}.${suffix}`,
      name: `${op.method} ${op.path}: ${name}`,
      tier: "core",
      specRef: [operationRef(service, op), ...schemas],
      run: async (ctx) => {
        mutations(ctx);
        return run(ctx);
      },
    });
  };
  return { checks, add };
}

const NOT_THERE = "arp-conformance-unknown";

function registryChecks(service: ServiceSpec, add: ReturnType<typeof collector>["add"]): void {
  const [v1, v2] = PUBLISHED_VERSIONS;
  const publish = operation(service, "publishNodeType");
  const get = operation(service, "getNodeType");
  const list = operation(service, "listNodeTypes");

  for (const [suffix, version] of [
    ["publish", v1],
    ["second_version", v2],
  ] as const) {
    add("publishNodeType", suffix, `publish a new node type at ${version}`, async (ctx) => {
      const nodeType = await publishedVersion(ctx, version);
      return { status: "PASS", message: `published ${nodeType.node_type_id}@${nodeType.version}` };
    });
  }

  add("getNodeType", "latest", "get the node type without version: one of its versions", async (ctx) => {
    const { nodeTypeId } = await nodeTypeIdentity(ctx);
    await publishedVersion(ctx, v1);
    await publishedVersion(ctx, v2);
    const result = await call(ctx, get, { params: { node_type_id: nodeTypeId } });
    const got = success<T.NodeType>(get, result);
    const problems: string[] = [];
    if (got.node_type_id !== nodeTypeId)
      problems.push(`asked for ${nodeTypeId}, answered ${got.node_type_id}`);
    if (!(PUBLISHED_VERSIONS as readonly string[]).includes(got.version)) {
      problems.push(
        `answered version ${got.version}, which was never published (published ${PUBLISHED_VERSIONS.join(", ")})`,
      );
    }
    return verdict(result, problems, `${got.node_type_id}@${got.version}`);
  });

  add("getNodeType", "version", "get each published version with ?version=", async (ctx) => {
    const { nodeTypeId } = await nodeTypeIdentity(ctx);
    let last: CheckOutcome | undefined;
    for (const version of PUBLISHED_VERSIONS) {
      await publishedVersion(ctx, version);
      const result = await call(ctx, get, { params: { node_type_id: nodeTypeId }, query: { version } });
      const got = success<T.NodeType>(get, result);
      if (got.node_type_id !== nodeTypeId || got.version !== version) {
        throw mismatch(
          result,
          `asked for ${nodeTypeId}@${version}, answered ${got.node_type_id}@${got.version}`,
        );
      }
      last = {
        status: "PASS",
        message: `each version answered as asked (${PUBLISHED_VERSIONS.join(", ")})`,
        exchange: result.exchange,
      };
    }
    return last!;
  });

  add(
    "getNodeType",
    "unknown_version",
    "an unpublished version answers a 404 ErrorEnvelope",
    async (ctx) => {
      const { nodeTypeId } = await nodeTypeIdentity(ctx);
      await publishedVersion(ctx, v1);
      const result = await call(ctx, get, {
        params: { node_type_id: nodeTypeId },
        query: { version: `0.0.0-${NOT_THERE}` },
      });
      return notFoundOutcome(ctx, result, "an unpublished version");
    },
    [ERROR_ENVELOPE_REF],
  );

  add("listNodeTypes", "query", "find the node type with ?q=<its id>", async (ctx) => {
    const { nodeTypeId } = await nodeTypeIdentity(ctx);
    await publishedVersion(ctx, v1);
    const result = await call(ctx, list, { query: { q: nodeTypeId } });
    const items = success<T.NodeType[]>(list, result);
    // How `q` matches is up to the registry: not finding a node type by its whole id is odd, not wrong.
    if (!items.some((n) => n.node_type_id === nodeTypeId)) {
      return {
        status: "WARN",
        message: `${nodeTypeId} is not among the ${items.length} node types found for q=${nodeTypeId} (how q matches is up to the registry)`,
        exchange: result.exchange,
      };
    }
    return { status: "PASS", message: `found among ${items.length}`, exchange: result.exchange };
  });

  add("listNodeTypes", "kind", "?kind= finds only node types of that kind", async (ctx) => {
    const { nodeTypeId, kind } = await nodeTypeIdentity(ctx);
    await publishedVersion(ctx, v1);
    const result = await call(ctx, list, { query: { kind } });
    const items = success<T.NodeType[]>(list, result);
    const problems: string[] = [];
    if (!items.some((n) => n.node_type_id === nodeTypeId))
      problems.push(`${nodeTypeId} (${kind}) is not found with kind=${kind}`);
    const other = items.filter((n) => n.kind !== kind);
    if (other.length > 0)
      problems.push(
        `kind=${kind} also answered ${other.length} of kind ${other[0]!.kind} (${other[0]!.node_type_id})`,
      );
    if (problems.length > 0) return verdict(result, problems, "");
    const otherKind = NODE_KINDS.find((k) => k !== kind)!;
    const others = await call(ctx, list, { query: { kind: otherKind } });
    const listed = success<T.NodeType[]>(list, others);
    const wrong = listed.filter((n) => n.kind !== otherKind || n.node_type_id === nodeTypeId);
    return verdict(
      others,
      wrong.length === 0
        ? []
        : [`kind=${otherKind} answered ${wrong[0]!.node_type_id} of kind ${wrong[0]!.kind}`],
      `kind=${kind} and kind=${otherKind} filter`,
    );
  });

  add(
    "publishNodeType",
    "duplicate",
    "publishing the same id and version again is rejected with 409",
    async (ctx) => {
      const identity = await nodeTypeIdentity(ctx);
      await publishedVersion(ctx, v1);
      const result = await call(ctx, publish, { body: publishBody(identity, v1) });
      const none = noAnswer(result);
      if (none) return none;
      const status = result.exchange.response!.status;
      if (status < 400)
        return verdict(
          result,
          [
            `status ${status}: a duplicate publish of ${identity.nodeTypeId}@${v1} was accepted; it must be rejected (409 Conflict)`,
          ],
          "",
        );
      const problems = errorAnswerProblems(result, ctx.schema("ErrorEnvelope"));
      if (problems.length > 0) return verdict(result, problems, "");
      if (status !== 409)
        return {
          status: "WARN",
          message: `rejected with ${status}; 409 Conflict is the status for a duplicate`,
          exchange: result.exchange,
        };
      return { status: "PASS", message: "409 ErrorEnvelope", exchange: result.exchange };
    },
    [ERROR_ENVELOPE_REF],
  );
}

function runChecks(service: ServiceSpec, add: ReturnType<typeof collector>["add"]): void {
  const getRun = operation(service, "getRun");
  const cancelRun = operation(service, "cancelRun");

  add(
    "startRun",
    "start",
    "start a run from the run fixture",
    async (ctx) => {
      const { run, result } = await startedRun(ctx, "main");
      return { status: "PASS", message: `run ${run.run_id}: ${run.state}`, exchange: result.exchange };
    },
    [schemaRef("Run")],
  );

  add("getRun", "get", "get the started run", async (ctx) => {
    const { run } = await startedRun(ctx, "main");
    const result = await call(ctx, getRun, { params: { run_id: run.run_id } });
    const got = success<T.Run>(getRun, result);
    const problems: string[] = [];
    if (got.run_id !== run.run_id) problems.push(`asked for run ${run.run_id}, answered run ${got.run_id}`);
    if (got.root_node_run_id !== run.root_node_run_id) {
      problems.push(
        `root_node_run_id ${got.root_node_run_id}, but the start answered ${run.root_node_run_id}`,
      );
    }
    return verdict(result, problems, `run ${got.run_id}: ${got.state}`);
  });

  if (service.operations.createNodeRuns !== undefined) nodeRunChecks(service, add);

  add("getRun", "terminal", "the run reaches a terminal state within the poll timeout", async (ctx) => {
    const { run, result } = await finishedRun(ctx);
    return { status: "PASS", message: `${run.state}`, exchange: result.exchange };
  });

  add("cancelRun", "cancel", "cancel a second run: it ends canceled", async (ctx) => {
    const { run } = await startedRun(ctx, "cancel");
    const result = await call(ctx, cancelRun, { params: { run_id: run.run_id } });
    const answered = success<T.Run>(cancelRun, result);
    if (answered.run_id !== run.run_id)
      throw mismatch(result, `canceled run ${run.run_id}, answered run ${answered.run_id}`);
    const ended = RUN_TERMINAL_STATES.includes(answered.state)
      ? { run: answered, result }
      : await pollUntilTerminal(ctx, run.run_id);
    if (ended.run.state === "canceled")
      return { status: "PASS", message: "canceled", exchange: ended.result.exchange };
    return {
      status: "WARN",
      message: `the run ended ${ended.run.state}, not canceled (it may have finished before the cancel)`,
      exchange: ended.result.exchange,
    };
  });

  add(
    "getRun",
    "unknown",
    "an unknown run answers a 404 ErrorEnvelope",
    async (ctx) => {
      return notFoundOutcome(
        ctx,
        await call(ctx, getRun, { params: { run_id: uniqueId("run") } }),
        "an unknown run",
      );
    },
    [ERROR_ENVELOPE_REF],
  );

  add(
    "cancelRun",
    "unknown",
    "canceling an unknown run answers a 404 ErrorEnvelope",
    async (ctx) => {
      return notFoundOutcome(
        ctx,
        await call(ctx, cancelRun, { params: { run_id: uniqueId("run") } }),
        "an unknown run",
      );
    },
    [ERROR_ENVELOPE_REF],
  );
}

function nodeRunChecks(service: ServiceSpec, add: ReturnType<typeof collector>["add"]): void {
  const create = operation(service, "createNodeRuns");
  const get = operation(service, "getNodeRun");
  const report = operation(service, "reportNodeRunEvaluation");
  const complete = operation(service, "completeNodeRun");

  add("createNodeRuns", "create", "create a child node run under the run's root", async (ctx) => {
    const { nodeRun, result } = await childNodeRun(ctx);
    return {
      status: "PASS",
      message: `node run ${nodeRun.node_run_id}: ${nodeRun.state}`,
      exchange: result.exchange,
    };
  });

  add("getNodeRun", "get", "get the child node run", async (ctx) => {
    const { nodeRun } = await childNodeRun(ctx);
    const result = await call(ctx, get, { params: { node_run_id: nodeRun.node_run_id } });
    const got = success<T.NodeRun>(get, result);
    const problems: string[] = [];
    if (got.node_run_id !== nodeRun.node_run_id)
      problems.push(`asked for ${nodeRun.node_run_id}, answered ${got.node_run_id}`);
    if (got.run_id !== nodeRun.run_id) problems.push(`run_id ${got.run_id}, created in ${nodeRun.run_id}`);
    return verdict(result, problems, `node run ${got.node_run_id}: ${got.state}`);
  });

  if (create.idempotencyKey !== undefined) {
    add(
      "createNodeRuns",
      "idempotent",
      "the same idempotency_key again answers the same node run",
      async (ctx) => {
        const { nodeRun, request } = await childNodeRun(ctx);
        const result = await call(ctx, create, { body: request });
        const again = success<T.NodeRunsCreateResponse>(create, result);
        const ids = again.node_runs.map((n) => n.node_run_id);
        return verdict(
          result,
          ids.length === 1 && ids[0] === nodeRun.node_run_id
            ? []
            : [
                `the same idempotency_key answered ${ids.join(", ") || "no node run"}, first ${nodeRun.node_run_id}`,
              ],
          `same node run ${nodeRun.node_run_id}`,
        );
      },
    );
  }

  // The surface tier sends invalid bodies to random ids, where a 404 may come first: here they go
  // to a node run that exists, so only the body can be what is wrong.
  for (const op of [report, complete]) {
    add(
      op.name,
      "invalid_body",
      "an invalid body for the existing child node run is rejected with a 4xx envelope (not 404)",
      async (ctx) => {
        const { nodeRun } = await childNodeRun(ctx);
        const result = await call(ctx, op, { params: { node_run_id: nodeRun.node_run_id }, body: {} });
        const problems = errorAnswerProblems(result, ctx.schema("ErrorEnvelope"));
        const status = result.exchange.response?.status;
        if (status === 404)
          problems.unshift(
            `status 404 for node run ${nodeRun.node_run_id}, which exists: the body {} is what is wrong`,
          );
        return verdict(result, problems, `${status} ErrorEnvelope for {}`);
      },
      [ERROR_ENVELOPE_REF],
    );
  }

  add("reportNodeRunEvaluation", "report", "report an evaluation of the child node run", async (ctx) => {
    const { nodeRun } = await childNodeRun(ctx);
    const body: T.NodeRunEvaluationReportRequest = { evaluation_result: { status: "success" } };
    const result = await call(ctx, report, { params: { node_run_id: nodeRun.node_run_id }, body });
    return verdict(result, successProblems(report, result), `${report.response.status}`);
  });

  add("completeNodeRun", "complete", "complete the child node run: it is then succeeded", async (ctx) => {
    const { nodeRun } = await childNodeRun(ctx);
    const body: T.NodeRunCompleteRequest = { state: "succeeded", outputs: { text: "arp-conformance" } };
    const result = await call(ctx, complete, { params: { node_run_id: nodeRun.node_run_id }, body });
    const problems = successProblems(complete, result);
    if (problems.length > 0) return verdict(result, problems, "");
    const after = await call(ctx, get, { params: { node_run_id: nodeRun.node_run_id } });
    const got = success<T.NodeRun>(get, after);
    return verdict(
      after,
      got.state === "succeeded" ? [] : [`completed as succeeded, then read as ${got.state}`],
      "succeeded",
    );
  });

  add(
    "getNodeRun",
    "unknown",
    "an unknown node run answers a 404 ErrorEnvelope",
    async (ctx) => {
      return notFoundOutcome(
        ctx,
        await call(ctx, get, { params: { node_run_id: uniqueId("node-run") } }),
        "an unknown node run",
      );
    },
    [ERROR_ENVELOPE_REF],
  );
}

function selectionChecks(add: ReturnType<typeof collector>["add"], service: ServiceSpec): void {
  const op = operation(service, "generateCandidateSet");
  add(
    "generateCandidateSet",
    "generate",
    "a candidate set for the subtask, within top_k",
    async (ctx) => {
      const fixture = mutations(ctx).fixtures.candidate_set;
      const request: T.CandidateSetRequest = {
        ...fixture,
        subtask_spec: { ...fixture.subtask_spec, subtask_id: uniqueId("subtask") },
      };
      const result = await call(ctx, op, { body: request });
      const set = success<T.CandidateSet>(op, result);
      const problems: string[] = [];
      if (set.subtask_id !== request.subtask_spec.subtask_id) {
        problems.push(
          `asked for subtask ${request.subtask_spec.subtask_id}, answered subtask_id ${set.subtask_id}`,
        );
      }
      const n = set.candidates.length;
      if (set.top_k !== undefined && n > set.top_k)
        problems.push(`${n} candidates, more than its top_k ${set.top_k}`);
      const max =
        request.constraints?.candidates?.max_candidates_per_subtask ??
        request.subtask_spec.constraints?.candidates?.max_candidates_per_subtask;
      if (max !== undefined && n > max)
        problems.push(`${n} candidates, more than the request's max_candidates_per_subtask ${max}`);
      return verdict(
        result,
        problems,
        `${n} candidate(s)${set.top_k === undefined ? "" : `, top_k ${set.top_k}`}`,
      );
    },
    [schemaRef("CandidateSet")],
  );
}

/** The core checks of `service`, in the order they run. */
export function coreChecks(service: ServiceSpec): Check[] {
  const { checks, add } = collector(service);
  // One FAIL says it (not one per check): a tier asked for and not run must not pass quietly.
  checks.push({
    id: "core.mutations_allowed",
    name: "the core tier may create things (--allow-mutations)",
    tier: "core",
    specRef: [],
    async run(ctx) {
      return ctx.mutations !== undefined
        ? { status: "PASS", message: "--allow-mutations" }
        : {
            status: "FAIL",
            message:
              "the core and deep tiers create node types, runs and executions: run with --allow-mutations (or --tier surface for read-only checks)",
          };
    },
  });
  const ops = service.operations;
  if (ops.publishNodeType !== undefined) registryChecks(service, add);
  if (ops.startRun !== undefined) runChecks(service, add);
  if (ops.executeAtomicNodeRun !== undefined) {
    add(
      "executeAtomicNodeRun",
      "execute",
      "execute the atomic fixture: the result is for its node_run_id",
      async (ctx) => {
        const { result } = await executedAtomic(ctx);
        return { status: "PASS", message: `${result.node_run_id}: ${result.state}` };
      },
      [schemaRef("AtomicExecuteResult")],
    );
  }
  if (ops.beginCompositeNodeRun !== undefined) {
    add(
      "beginCompositeNodeRun",
      "begin",
      "begin the composite fixture: accepted",
      async (ctx) => {
        await begunComposite(ctx);
        return { status: "PASS", message: "accepted" };
      },
      [schemaRef("CompositeBeginResponse")],
    );
  }
  if (ops.generateCandidateSet !== undefined) selectionChecks(add, service);
  if (ops.decidePolicy !== undefined) {
    const op = operation(service, "decidePolicy");
    add(
      "decidePolicy",
      "decide",
      "a decision for the policy fixture",
      async (ctx) => {
        const result = await call(ctx, op, { body: mutations(ctx).fixtures.policy_decision });
        const decision = success<T.PolicyDecision>(op, result);
        return { status: "PASS", message: decision.decision, exchange: result.exchange };
      },
      [schemaRef("PolicyDecision")],
    );
  }
  return checks;
}
