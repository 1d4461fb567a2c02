/** The event-stream judge: a table of good and bad streams, each bad one with the problems it must get. */
import type { RunEvent } from "@arp/model";
import { describe, expect, it } from "vitest";
import { type EventExpectation, MAX_EVENT_PROBLEMS, runEventProblems } from "../src/check/events.js";

const RUN = "run_1";
const TIME = "2026-01-15T09:30:00Z";

/** One event line of run_1 (`seq`, `type`, extra fields), serialised as a service would. */
function ev(seq: number, type: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ run_id: RUN, seq, type, time: TIME, ...extra });
}

const RUN_SCOPE: EventExpectation = {
  runId: RUN,
  scope: "run_id",
  finished: false,
  endEvent: "run_completed",
};
const FINISHED: EventExpectation = { ...RUN_SCOPE, finished: true };
const NODE_SCOPE: EventExpectation = {
  runId: RUN,
  scope: "node_run_id",
  nodeRunIds: new Set(["nr_root", "nr_child"]),
  finished: true,
};

const started = ev(0, "run_started");
const assigned = (seq: number, node = "nr_root") => ev(seq, "node_run_assigned", { node_run_id: node });
const completed = (seq: number) => ev(seq, "run_completed", { data: { state: "succeeded" } });

interface Row {
  name: string;
  lines: string[];
  expectation: EventExpectation;
  /** Each problem must match its pattern, in order; none other may be reported. */
  problems: RegExp[];
}

const GOOD: Row[] = [
  { name: "a live run's stream so far", lines: [started, assigned(1)], expectation: RUN_SCOPE, problems: [] },
  { name: "nothing yet from a live run", lines: [], expectation: RUN_SCOPE, problems: [] },
  {
    name: "a finished run's whole stream, ending with run_completed",
    lines: [started, assigned(1), ev(2, "atomic_executed", { node_run_id: "nr_root" }), completed(3)],
    expectation: FINISHED,
    problems: [],
  },
  {
    name: "every field of RunEvent, extensions and an open data map (nulls allowed inside data)",
    lines: [
      started,
      ev(1, "policy_decided", {
        data: { decision: "allow", reason: null },
        extensions: { "acme.trace": "t" },
      }),
    ],
    expectation: RUN_SCOPE,
    problems: [],
  },
  {
    name: "CRLF line ends (JSON allows the whitespace)",
    lines: [`${started}\r`, `${assigned(1)}\r`],
    expectation: RUN_SCOPE,
    problems: [],
  },
  {
    name: "a stream that does not start at the beginning (fromStart: false)",
    lines: [assigned(5), completed(6)],
    expectation: { ...FINISHED, fromStart: false },
    problems: [],
  },
  {
    name: "a node run's subtree: gaps in seq are the other node runs' events",
    lines: [
      assigned(1, "nr_root"),
      assigned(4, "nr_child"),
      ev(9, "node_evaluated", { node_run_id: "nr_root" }),
    ],
    expectation: NODE_SCOPE,
    problems: [],
  },
  {
    name: "a node run's stream without known descendants: only the scope's ordering rules",
    lines: [assigned(2, "nr_other")],
    expectation: { runId: RUN, scope: "node_run_id", finished: false },
    problems: [],
  },
  {
    name: "an operation without an end event: nothing is required at the end",
    lines: [started, assigned(1)],
    expectation: { runId: RUN, scope: "run_id", finished: true },
    problems: [],
  },
];

const BAD: Row[] = [
  {
    name: "a line that is not JSON",
    lines: [started, "{run_id: run_1}"],
    expectation: RUN_SCOPE,
    problems: [/^line 2: not JSON \(.+\); every line of an NDJSON stream is one JSON RunEvent/],
  },
  {
    name: "a JSON-quoted line (the event encoded as a JSON string)",
    lines: [started, JSON.stringify(assigned(1))],
    expectation: RUN_SCOPE,
    problems: [
      /^line 2: a JSON string \(a quoted line\), not a RunEvent object; .*never a string that encodes it/,
    ],
  },
  {
    name: "an empty line between events",
    lines: [started, "", assigned(1)],
    expectation: RUN_SCOPE,
    problems: [/^line 2: empty; every line of an NDJSON stream is one JSON RunEvent/],
  },
  {
    name: "JSON that is not an object (an array of events, a number, null)",
    lines: [`[${started}]`, "42", "null"],
    expectation: { ...RUN_SCOPE, fromStart: false },
    problems: [
      /^line 1: a JSON array, not a RunEvent object/,
      /^line 2: a JSON number, not a RunEvent object/,
      /^line 3: JSON null, not a RunEvent object/,
    ],
  },
  {
    name: "a null for an absent node_run_id",
    lines: [ev(0, "run_started", { node_run_id: null })],
    expectation: RUN_SCOPE,
    problems: [
      /^line 1: not a valid RunEvent: `\/node_run_id` is null; absent fields must be omitted \(schemas\/core\/run_event\.schema\.json\)$/,
    ],
  },
  {
    name: "a null type (named once, not as a type and an enum issue)",
    lines: [started, ev(1, "x", { type: null })],
    expectation: RUN_SCOPE,
    problems: [/^line 2: not a valid RunEvent: `\/type` is null; absent fields must be omitted/],
  },
  {
    name: "schema faults: an unknown field, a bad time, a missing run_id, an unknown type",
    lines: [
      ev(0, "run_started", { extra: 1 }),
      ev(1, "node_run_assigned", { time: "now" }),
      JSON.stringify({ seq: 2, type: "atomic_executed", time: TIME }),
      ev(3, "run_paused"),
    ],
    expectation: RUN_SCOPE,
    problems: [
      /^line 1: not a valid RunEvent: \/extra is not allowed/,
      /^line 2: not a valid RunEvent: \/time must be a valid date-time string/,
      /^line 3: not a valid RunEvent: \/run_id is required/,
      /^line 4: not a valid RunEvent: \/type must be one of "run_started"/,
    ],
  },
  {
    name: "an event of another run",
    lines: [started, JSON.stringify({ run_id: "run_2", seq: 1, type: "node_run_assigned", time: TIME })],
    expectation: RUN_SCOPE,
    problems: [
      /^line 2: run_id "run_2" is another run's; this stream carries only the events of run "run_1"$/,
    ],
  },
  {
    name: "seq going back, and repeated",
    lines: [started, assigned(1), assigned(1), ev(0, "node_evaluated")],
    expectation: RUN_SCOPE,
    problems: [
      /^line 3: seq 1 after seq 1; events are ordered by strictly increasing seq$/,
      /^line 4: seq 0 after seq 1; events are ordered by strictly increasing seq$/,
    ],
  },
  {
    name: "a gap in a run's stream",
    lines: [started, assigned(1), ev(3, "atomic_executed")],
    expectation: RUN_SCOPE,
    problems: [/^line 3: seq 3 after seq 1, a gap; a run's stream is its whole log/],
  },
  {
    name: "seq going back in a node run's stream too",
    lines: [assigned(4), assigned(2)],
    expectation: NODE_SCOPE,
    problems: [/^line 2: seq 2 after seq 4; events are ordered by strictly increasing seq$/],
  },
  {
    name: "run_started not first",
    lines: [assigned(0), ev(1, "run_started")],
    expectation: RUN_SCOPE,
    problems: [
      /^line 1: the first event is "node_run_assigned", not run_started; a run's stream replays its log from the first event/,
      /^line 2: run_started again; only a run's first event is run_started$/,
    ],
  },
  {
    name: "events after run_completed",
    lines: [started, completed(1), assigned(2), assigned(3)],
    expectation: FINISHED,
    problems: [/^2 events after run_completed \(line 2\); run_completed is the last event of the stream$/],
  },
  {
    name: "a finished run's stream without run_completed",
    lines: [started, assigned(1)],
    expectation: FINISHED,
    problems: [
      /^the run is finished, but the stream has no run_completed; a finished run's stream ends with it$/,
    ],
  },
  {
    name: "a finished run's stream with nothing at all",
    lines: [],
    expectation: FINISHED,
    problems: [/^the run is finished, but the stream has no run_completed/],
  },
  {
    name: "a node run's stream with an event of another node run and a run-level event",
    lines: [assigned(1), assigned(2, "nr_sibling"), completed(3)],
    expectation: NODE_SCOPE,
    problems: [
      /^line 2: node_run_id "nr_sibling" is outside the node run and its known descendants \("nr_root", "nr_child"\); a node run's stream carries only their events$/,
      /^line 3: an event without node_run_id; a node run's stream carries only the events of the node run and its descendants/,
    ],
  },
  {
    name: "an invalid event still counts for the ordering (no cascade of gaps)",
    lines: [started, ev(1, "node_run_assigned", { time: "now" }), assigned(2)],
    expectation: RUN_SCOPE,
    problems: [/^line 2: not a valid RunEvent: \/time must be a valid date-time string/],
  },
];

describe("runEventProblems", () => {
  for (const row of [...GOOD, ...BAD]) {
    it(`${row.problems.length === 0 ? "good" : "bad"}: ${row.name}`, () => {
      const problems = runEventProblems(row.lines, row.expectation);
      expect(problems).toHaveLength(row.problems.length);
      for (const [i, pattern] of row.problems.entries()) expect(problems[i]).toMatch(pattern);
    });
  }

  it("every problem of an event names the spec rule it breaks", () => {
    for (const row of BAD) {
      for (const problem of runEventProblems(row.lines, row.expectation)) {
        expect(problem, row.name).toMatch(/; |\(schemas\/core\/run_event\.schema\.json\)$/);
      }
    }
  });

  it("the events the server's test services write pass", () => {
    const events: RunEvent[] = [
      { run_id: RUN, seq: 0, type: "run_started", time: TIME },
      { run_id: RUN, seq: 1, type: "node_run_assigned", time: TIME, node_run_id: "nr_root", data: {} },
      { run_id: RUN, seq: 2, type: "run_completed", time: TIME, data: { state: "canceled" } },
    ];
    expect(
      runEventProblems(
        events.map((e) => JSON.stringify(e)),
        FINISHED,
      ),
    ).toEqual([]);
  });

  it("is bounded: at most MAX_EVENT_PROBLEMS problems, then a count", () => {
    const lines = Array.from({ length: 200 }, () => "not json");
    const problems = runEventProblems(lines, RUN_SCOPE);
    expect(problems).toHaveLength(MAX_EVENT_PROBLEMS + 1);
    expect(problems.at(-1)).toBe(`(${200 - MAX_EVENT_PROBLEMS} more problems not shown)`);
  });
});
