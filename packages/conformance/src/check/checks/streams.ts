/**
 * Deep tier, the checks that use what the core tier made (so they need `--allow-mutations` too):
 *
 * - `deep.streamRunEvents.finished_run`: the event stream of the finished `main` run answers 200
 *   `application/x-ndjson`, every line a strictly valid `RunEvent` of that run, `seq` strictly
 *   increasing without gaps, the start event first, the table's end event last, and then the
 *   stream ends (a finished run's stream does not stay open).
 * - `deep.streamNodeRunEvents.child`: the child node run's stream holds only events of that node
 *   run (the checker knows no descendants of it), `seq` increasing. It may follow: read until it
 *   ends or for a short while.
 * - `deep.<cancel op>.cancel`: an executor's cancel of the node run the core tier executed or
 *   began answers its success status (204).
 *
 * Optional operations that answer 501 are a SKIP.
 */
import type { OperationSpec, ServiceSpec } from "@arp/model";
import { call, fail, successProblems, verdict } from "../calls.js";
import { type EventExpectation, runEventProblems } from "../events.js";
import { operationRef, schemaRef } from "../judge.js";
import {
  begunComposite,
  childNodeRun,
  executedAtomic,
  finishedRun,
  mutations,
  operation,
} from "../resources.js";
import type { Check, CheckContext, CheckOutcome } from "../runner.js";
import type { StreamResult } from "../stream.js";

/** How long a stream that may follow forever (a node run's) is read before it is judged. */
export const FOLLOW_READ_MS = 1500;

const NDJSON = "application/x-ndjson";

function path(op: OperationSpec, params: Record<string, string>): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
}

/** SKIP for a 501 (optional), else the problems of the answer itself: 200 and NDJSON. */
function answerProblems(op: OperationSpec, read: StreamResult): CheckOutcome | string[] {
  const response = read.exchange.response;
  if (response === null) return [`no answer: ${read.exchange.error}`];
  if (response.status === 501 && op.conformance === "optional") {
    return { status: "SKIP", message: "optional operation not implemented (501)", exchange: read.exchange };
  }
  if (response.status !== op.response.status) {
    return [`status ${response.status}, expected ${op.response.status}: ${read.text.slice(0, 200)}`];
  }
  if (read.mediaType !== NDJSON) {
    return [
      `Content-Type ${response.content_type ?? "(none)"}, expected ${NDJSON} (an event stream is NDJSON)`,
    ];
  }
  if (read.ended === "error") return [`the stream broke: ${read.exchange.error}`];
  if (read.ended === "limit") return [`the stream went past the read limit: ${read.exchange.error}`];
  return [];
}

/** The table's stream facts of `op`: its scope, its end event and the item validator. */
function streamOf(op: OperationSpec): Pick<EventExpectation, "scope" | "endEvent" | "validate"> {
  const response = op.response;
  if (response.kind !== "ndjson" || (response.scope !== "run_id" && response.scope !== "node_run_id")) {
    throw new Error(`${op.name}: no stream scope in the table`);
  }
  return {
    scope: response.scope,
    validate: response.validate,
    ...(response.endEvent === undefined ? {} : { endEvent: response.endEvent }),
  };
}

function runStreamCheck(service: ServiceSpec, op: OperationSpec): Check {
  const stream = streamOf(op);
  const { endEvent } = stream;
  return {
    id: `deep.${op.name}.finished_run`,
    name: `${op.method} ${op.path}: the finished run's events, in order, ending with ${endEvent ?? "the stream"}`,
    tier: "deep",
    specRef: [operationRef(service, op), schemaRef("RunEvent")],
    async run(ctx) {
      mutations(ctx);
      const { run } = await finishedRun(ctx);
      const read = await ctx.stream({ url: `${ctx.baseUrl}${path(op, { run_id: run.run_id })}` });
      const answer = answerProblems(op, read);
      if (!Array.isArray(answer)) return answer;
      const problems = [...answer];
      if (problems.length === 0) {
        if (read.ended === "deadline" && endEvent !== undefined) {
          problems.push(
            `the stream of a finished (${run.state}) run stayed open: ${read.exchange.error}; it ends after ${endEvent}`,
          );
        }
        problems.push(
          ...runEventProblems(read.lines, {
            runId: run.run_id,
            ...stream,
            finished: read.ended === "eof",
          }),
        );
        if (read.lines.length === 0) problems.push("no event at all for a finished run");
      }
      return problems.length === 0
        ? {
            status: "PASS",
            message: `${read.lines.length} events, then the stream ended`,
            exchange: read.exchange,
          }
        : fail(read, problems);
    },
  };
}

function nodeRunStreamCheck(service: ServiceSpec, op: OperationSpec): Check {
  return {
    id: `deep.${op.name}.child`,
    name: `${op.method} ${op.path}: only the node run's own events`,
    tier: "deep",
    specRef: [operationRef(service, op), schemaRef("RunEvent")],
    async run(ctx) {
      mutations(ctx);
      const { nodeRun } = await childNodeRun(ctx);
      await finishedRun(ctx); // the child is complete and its run over: its events are all there
      const read = await ctx.stream(
        { url: `${ctx.baseUrl}${path(op, { node_run_id: nodeRun.node_run_id })}` },
        FOLLOW_READ_MS,
      );
      const answer = answerProblems(op, read);
      if (!Array.isArray(answer)) return answer;
      const problems =
        answer.length > 0
          ? answer
          : runEventProblems(read.lines, {
              runId: nodeRun.run_id,
              ...streamOf(op),
              nodeRunIds: new Set([nodeRun.node_run_id]),
              finished: false,
            });
      return problems.length === 0
        ? {
            status: "PASS",
            message: `${read.lines.length} events of ${nodeRun.node_run_id}${read.ended === "eof" ? ", then the stream ended" : ", the stream still open"}`,
            exchange: read.exchange,
          }
        : fail(read, problems);
    },
  };
}

function cancelCheck(
  service: ServiceSpec,
  op: OperationSpec,
  made: (ctx: CheckContext) => Promise<{ request: { node_run_id: string } }>,
): Check {
  return {
    id: `deep.${op.name}.cancel`,
    name: `${op.method} ${op.path}: cancel the node run the core tier sent`,
    tier: "deep",
    specRef: [operationRef(service, op)],
    async run(ctx) {
      mutations(ctx);
      const { request } = await made(ctx);
      const result = await call(ctx, op, { params: { node_run_id: request.node_run_id } });
      if (result.exchange.response?.status === 501 && op.conformance === "optional") {
        return {
          status: "SKIP",
          message: "optional operation not implemented (501)",
          exchange: result.exchange,
        };
      }
      return verdict(result, successProblems(op, result), `${op.response.status}`);
    },
  };
}

export function streamChecks(service: ServiceSpec): Check[] {
  const ops = service.operations;
  const checks: Check[] = [];
  if (ops.streamRunEvents !== undefined) checks.push(runStreamCheck(service, ops.streamRunEvents));
  if (ops.streamNodeRunEvents !== undefined)
    checks.push(nodeRunStreamCheck(service, ops.streamNodeRunEvents));
  if (ops.cancelAtomicNodeRun !== undefined) {
    checks.push(cancelCheck(service, operation(service, "cancelAtomicNodeRun"), executedAtomic));
  }
  if (ops.cancelCompositeNodeRun !== undefined) {
    checks.push(cancelCheck(service, operation(service, "cancelCompositeNodeRun"), begunComposite));
  }
  return checks;
}
