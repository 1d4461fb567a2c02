/**
 * The judge of an event stream's lines (as `probeStream` returns them): pure, no I/O. Each problem
 * names the line, the fault and the rule it breaks:
 *
 * - every line is one JSON `RunEvent` object, validated strictly (a JSON-quoted line, an empty
 *   line, a null for an absent field are faults);
 * - every event is the streamed run's (`run_id`), in strictly increasing `seq`; in a run's stream
 *   (scope `run_id`) consecutive events differ by exactly 1, since it is the whole log. A node
 *   run's stream is a subset of its run's log, so gaps are allowed there;
 * - a run's stream replayed from its start begins with `run_started`, which does not come again;
 * - nothing follows the end event (`endEvent` of the operation table: `run_completed`), and the
 *   stream of a finished run ends with it;
 * - a node run's stream (scope `node_run_id`) carries only events of the node run and of its
 *   descendants (`nodeRunIds`, those the checker knows).
 */
import { type CompiledValidator, type RunEventType, SCHEMAS } from "@arp/model";
import { describeIssues, issuesOf, schemaRef } from "./judge.js";

/**
 * The first event of every run. The operation tables record a stream's end event but not this
 * one; typing it as a `RunEventType` keeps it tied to the spec's enum.
 */
export const RUN_START_EVENT: RunEventType = "run_started";

/** The most problems reported for one stream (then a count of the rest). */
export const MAX_EVENT_PROBLEMS = 50;

const RUN_EVENT_REF = schemaRef("RunEvent");

export interface EventExpectation {
  /** The run whose events these are (the stream's run, or the node run's run). */
  runId: string;
  /** What the stream is about: the operation table's `response.scope`. */
  scope: "run_id" | "node_run_id";
  /** For `node_run_id` scope: the node run and the descendants the checker knows. */
  nodeRunIds?: ReadonlySet<string>;
  /** The run is terminal: its stream must end with `endEvent` (when the operation has one). */
  finished: boolean;
  /** The operation table's `response.endEvent` (`run_completed`); nothing may follow it. */
  endEvent?: string;
  /**
   * The stream replays the log from its first event, so a run's stream starts with
   * {@link RUN_START_EVENT}. Default true: the v1 streams take no cursor.
   */
  fromStart?: boolean;
  /** The `RunEvent` validator: the operation table's item validator. Default the precompiled one. */
  validate?: CompiledValidator;
}

/** What a parsed line is, for the message: `a JSON string`, `a JSON array`, ... */
function kindOf(value: unknown): string {
  if (value === null) return "JSON null";
  if (Array.isArray(value)) return "a JSON array";
  return `a JSON ${typeof value}`;
}

function show(ids: ReadonlySet<string>): string {
  const list = [...ids].slice(0, 5).map((id) => JSON.stringify(id));
  return list.join(", ") + (ids.size > 5 ? `, and ${ids.size - 5} more` : "");
}

/** The problems of a stream's lines against what the checker knows of the run; empty when none. */
export function runEventProblems(lines: readonly string[], expectation: EventExpectation): string[] {
  const problems: string[] = [];
  const runScope = expectation.scope === "run_id";
  const fromStart = expectation.fromStart ?? true;
  const { endEvent, nodeRunIds } = expectation;
  const validate = expectation.validate ?? SCHEMAS.RunEvent.validate;
  let events = 0;
  let lastSeq: number | undefined;
  let endLine: number | undefined;
  let afterEnd = 0;

  for (const [index, line] of lines.entries()) {
    const at = `line ${index + 1}`;
    if (line.trim() === "") {
      problems.push(`${at}: empty; every line of an NDJSON stream is one JSON RunEvent (${RUN_EVENT_REF})`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push(
        `${at}: not JSON (${(err as Error).message}); every line of an NDJSON stream is one JSON RunEvent (${RUN_EVENT_REF})`,
      );
      continue;
    }
    if (typeof value === "string") {
      problems.push(
        `${at}: a JSON string (a quoted line), not a RunEvent object; an NDJSON line is the event's JSON itself, never a string that encodes it (${RUN_EVENT_REF})`,
      );
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${at}: ${kindOf(value)}, not a RunEvent object (${RUN_EVENT_REF})`);
      continue;
    }
    events++;
    for (const issue of describeIssues(validate, issuesOf(validate, value, false), value)) {
      problems.push(`${at}: not a valid RunEvent: ${issue} (${RUN_EVENT_REF})`);
    }
    const event = value as Record<string, unknown>;

    if (endLine !== undefined) afterEnd++;
    if (typeof event.run_id === "string" && event.run_id !== expectation.runId) {
      problems.push(
        `${at}: run_id ${JSON.stringify(event.run_id)} is another run's; this stream carries only the events of run ${JSON.stringify(expectation.runId)}`,
      );
    }

    const seq = event.seq;
    if (Number.isInteger(seq)) {
      const n = seq as number;
      if (lastSeq !== undefined && n <= lastSeq) {
        problems.push(`${at}: seq ${n} after seq ${lastSeq}; events are ordered by strictly increasing seq`);
      } else if (lastSeq !== undefined && runScope && n !== lastSeq + 1) {
        problems.push(
          `${at}: seq ${n} after seq ${lastSeq}, a gap; a run's stream is its whole log, each seq one more than the last`,
        );
      }
      lastSeq = n;
    }

    if (runScope && fromStart) {
      if (events === 1 && event.type !== RUN_START_EVENT) {
        problems.push(
          `${at}: the first event is ${JSON.stringify(event.type)}, not ${RUN_START_EVENT}; a run's stream replays its log from the first event, ${RUN_START_EVENT}`,
        );
      } else if (events > 1 && event.type === RUN_START_EVENT) {
        problems.push(`${at}: ${RUN_START_EVENT} again; only a run's first event is ${RUN_START_EVENT}`);
      }
    }

    if (!runScope && nodeRunIds !== undefined) {
      if (typeof event.node_run_id !== "string") {
        if (event.node_run_id === undefined) {
          problems.push(
            `${at}: an event without node_run_id; a node run's stream carries only the events of the node run and its descendants (${show(nodeRunIds)})`,
          );
        }
      } else if (!nodeRunIds.has(event.node_run_id)) {
        problems.push(
          `${at}: node_run_id ${JSON.stringify(event.node_run_id)} is outside the node run and its known descendants (${show(nodeRunIds)}); a node run's stream carries only their events`,
        );
      }
    }

    if (endEvent !== undefined && event.type === endEvent && endLine === undefined) endLine = index + 1;
  }

  if (afterEnd > 0) {
    problems.push(
      `${afterEnd} event${afterEnd === 1 ? "" : "s"} after ${endEvent} (line ${endLine}); ${endEvent} is the last event of the stream`,
    );
  }
  if (expectation.finished && endEvent !== undefined && endLine === undefined) {
    problems.push(
      `the run is finished, but the stream has no ${endEvent}; a finished run's stream ends with it`,
    );
  }
  if (problems.length > MAX_EVENT_PROBLEMS) {
    const more = problems.length - MAX_EVENT_PROBLEMS;
    return [
      ...problems.slice(0, MAX_EVENT_PROBLEMS),
      `(${more} more problem${more === 1 ? "" : "s"} not shown)`,
    ];
  }
  return problems;
}
