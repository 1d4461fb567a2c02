import type * as T from "@arp/model";
import { describe, expect, it } from "vitest";
import { EventTail, TAIL_BYTES, TAIL_EVENTS, TAIL_IDLE_MS } from "../src/store/postgres/tail.js";

const events = (runId: string, from: number, n: number): T.RunEvent[] =>
  Array.from({ length: n }, (_, i) => ({ run_id: runId, seq: from + i, type: "node_evaluated", time: "t" }));

describe("EventTail (the PostgreSQL store's own recent events)", () => {
  it("answers from what it holds, and only while nothing newer is known", () => {
    const tail = new EventTail();
    tail.committed("r", events("r", 0, 3), [10, 10, 10]);
    expect(tail.read("r", 0, 10)?.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(tail.read("r", 2, 1)?.map((e) => e.seq)).toEqual([2]);
    expect(tail.read("r", 3, 10)).toEqual([]); // the end: nothing more is known
    expect(tail.read("other", 0, 10)).toBeUndefined();
    tail.seen("r", 4); // another replica appended 3 and 4: the table has them
    expect(tail.read("r", 0, 10)).toBeUndefined();
    expect(tail.read("r", 3, 10)).toBeUndefined();
    // Its next own commit does not follow what it holds: it starts again from there.
    tail.committed("r", events("r", 5, 2), [10, 10]);
    expect(tail.read("r", 5, 10)?.map((e) => e.seq)).toEqual([5, 6]);
    expect(tail.read("r", 0, 10)).toBeUndefined();
  });

  it("hands out frozen copies of what was committed", () => {
    const tail = new EventTail();
    const committed = events("r", 0, 1);
    tail.committed("r", committed, [10]);
    committed[0]!.type = "run_completed";
    const [held] = tail.read("r", 0, 1)!;
    expect(held!.type).toBe("node_evaluated");
    expect(Object.isFrozen(held)).toBe(true);
  });

  it(`keeps at most ${TAIL_EVENTS} events per run and ${TAIL_BYTES} bytes in all`, () => {
    const tail = new EventTail();
    tail.committed("r", events("r", 0, TAIL_EVENTS + 10), Array(TAIL_EVENTS + 10).fill(1));
    expect(tail.read("r", 0, 1)).toBeUndefined(); // the oldest are gone
    expect(tail.read("r", 10, 1000)).toHaveLength(TAIL_EVENTS);
    const big = TAIL_BYTES / 4;
    for (let i = 0; i < 10; i++) tail.committed(`run-${i}`, events(`run-${i}`, 0, 1), [big]);
    expect(tail.size.bytes).toBeLessThanOrEqual(TAIL_BYTES);
    expect(tail.read("run-0", 0, 1)).toBeUndefined(); // the least recently written went first
    expect(tail.read("run-9", 0, 1)).toHaveLength(1);
  });

  it(`forgets the runs nothing was written to or seen of for ${TAIL_IDLE_MS} ms, and only those`, () => {
    let now = 0;
    const tail = new EventTail(() => now);
    tail.committed("quiet", events("quiet", 0, 3), [10, 10, 10]);
    tail.seen("other", 7); // told of another replica's run
    now = 3_000;
    tail.committed("busy", events("busy", 0, 1), [10]);
    now = TAIL_IDLE_MS; // "quiet" and "other": exactly idle that long
    tail.expire();
    expect(tail.read("quiet", 0, 10)).toBeUndefined();
    expect(tail.read("busy", 0, 10)?.map((e) => e.seq)).toEqual([0]);
    expect(tail.size).toEqual({ runs: 1, bytes: 10, seen: 1 });
    now = 3_000 + TAIL_IDLE_MS;
    tail.expire();
    expect(tail.size).toEqual({ runs: 0, bytes: 0, seen: 0 });
    // A run written again after it was forgotten starts again from what it committed.
    tail.committed("quiet", events("quiet", 3, 2), [10, 10]);
    expect(tail.read("quiet", 3, 10)?.map((e) => e.seq)).toEqual([3, 4]);
  });
});
