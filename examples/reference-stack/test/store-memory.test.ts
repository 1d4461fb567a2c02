import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memory.js";
import { event, nodeRunRecord, runRecord, storeContract } from "./store-contract.js";

storeContract("MemoryStore", async () => ({ store: new MemoryStore() }));

describe("MemoryStore", () => {
  const start = async (store: MemoryStore, runId: string) => {
    await store.commit({
      run_id: runId,
      create_run: runRecord(runId),
      insert_node_runs: [
        nodeRunRecord(runId, 0),
        nodeRunRecord(runId, 1, { parent: `${runId}.0`, idempotency_key: "k" }),
      ],
      events: [event("run_started")],
    });
  };
  const finish = async (store: MemoryStore, runId: string) => {
    const run = (await store.getRun(runId))!;
    const ended = await store.commit({
      run_id: runId,
      update_run: { version: run.version, record: { ...run, run: { ...run.run, state: "succeeded" } } },
      events: [event("run_completed", { state: "succeeded" })],
    });
    expect(ended.ok).toBe(true);
  };

  it("forgets the oldest ended runs past maxFinishedRuns, never a running one", async () => {
    const store = new MemoryStore({ maxFinishedRuns: 2 });
    for (const id of ["a", "b", "c", "d"]) await start(store, id);
    await finish(store, "a");
    await finish(store, "c");
    await finish(store, "d"); // a is the oldest ended run: forgotten
    expect(store.size).toBe(3);
    expect(await store.getRun("a")).toBeUndefined();
    expect(await store.getNodeRun("a.1")).toBeUndefined();
    expect(await store.findNodeRunByKey("a", "a.0", "k")).toBeUndefined();
    expect(await store.readEvents("a", 0, 10)).toEqual([]);
    expect(await store.getRun("b")).toBeDefined(); // still running
    expect((await store.getRun("c"))?.run.state).toBe("succeeded");
  });

  it("wakes the waiters of a run it forgets, and releases aborted waits", async () => {
    const store = new MemoryStore({ maxFinishedRuns: 0 });
    await start(store, "r");
    const aborted = new AbortController();
    const gone = store.waitForEvents("r", 5, aborted.signal).catch(() => "aborted");
    const kept = store.waitForEvents("r", 5, new AbortController().signal).then(() => "woken");
    expect(store.waiting).toBe(2);
    aborted.abort();
    expect(await gone).toBe("aborted");
    expect(store.waiting).toBe(1);
    await finish(store, "r"); // seq 1 does not pass 5, but the run is forgotten at once
    expect(await kept).toBe("woken");
    expect(store.waiting).toBe(0);
    expect(store.size).toBe(0);
  });

  it("rejects a bound that is not a whole number", () => {
    expect(() => new MemoryStore({ maxFinishedRuns: -1 })).toThrow(RangeError);
  });
});
