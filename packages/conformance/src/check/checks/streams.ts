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
import { call, fail, pathFor, successProblems, verdict } from "../calls.js";
import { type EventExpectation, runEventProblems } from "../events.js";
import { operationRef, optionalNotThere, schemaRef } from "../judge.js";
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

/** What an optional operation on something that exists answers when it is not implemented. */
const ABSENT = [404, 405, 501] as const;

/** SKIP for an optional operation that is not there, else the problems of the answer itself: 200 and NDJSON. */
function answerProblems(op: OperationSpec, read: StreamResult): CheckOutcome | string[] {
  const response = read.exchange.response;
  if (response === null) return [`no answer: ${read.exchange.error}`];
  const absent = optionalNotThere(op, read.exchange, ABSENT);
  if (absent) return absent;
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
      // Read until the end event (and a moment after it, to catch anything sent after it): a
      // server may keep the connection open once the run is over.
      const read = await ctx.stream(
        { url: `${ctx.baseUrl}${pathFor(op, { run_id: run.run_id })}` },
        endEvent === undefined ? {} : { endEvent },
      );
      const answer = answerProblems(op, read);
      if (!Array.isArray(answer)) return answer;
      const problems = [...answer];
      if (problems.length === 0) {
        // The run is terminal: its log is complete, so the stream must hold it all, end event included.
        problems.push(...runEventProblems(read.lines, { runId: run.run_id, ...stream, finished: true }));
        if (read.lines.length === 0) problems.push(`no event at all for a finished (${run.state}) run`);
      }
      const ending =
        read.ended === "end_event"
          ? `, ending with ${endEvent} (the connection stayed open; the read stopped there)`
          : read.ended === "eof"
            ? ", then the stream ended"
            : "";
      return problems.length === 0
        ? { status: "PASS", message: `${read.lines.length} events${ending}`, exchange: read.exchange }
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
        { url: `${ctx.baseUrl}${pathFor(op, { node_run_id: nodeRun.node_run_id })}` },
        { bodyMs: FOLLOW_READ_MS },
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
      if (problems.length > 0) return fail(read, problems);
      if (read.lines.length === 0) {
        return {
          status: "WARN",
          message: `no event for ${nodeRun.node_run_id}, which was created, evaluated and completed`,
          exchange: read.exchange,
        };
      }
      return {
        status: "PASS",
        message: `${read.lines.length} events of ${nodeRun.node_run_id}${read.ended === "eof" ? ", then the stream ended" : ", the stream still open"}`,
        exchange: read.exchange,
      };
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
      // 404 too: an executor may keep nothing of a node run that is over (cancel is for work going on).
      const absent = optionalNotThere(op, result.exchange, ABSENT);
      if (absent) return { ...absent, message: `${absent.message}, or the node run is already forgotten` };
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
