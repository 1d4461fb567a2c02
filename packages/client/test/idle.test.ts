/**
 * The idle deadline of event streams, on a fake clock: an explicit `idleTimeoutMs` counts all the
 * time; the default counts only while the client polls, never while a live connection is open; the
 * consumer's time with an event never counts; huge or infinite values arm no busy timer.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ArpTimeoutError } from "../src/core/errors.js";
import { IdleWatch } from "../src/core/idle.js";

const info = { method: "GET", url: "http://127.0.0.1:1/v1/runs/r/events" };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("IdleWatch", () => {
  it("explicit: no new event for idleMs aborts with stream_idle_timeout, live connection or not", () => {
    const watch = new IdleWatch(undefined, 1_000, true, info);
    watch.connected();
    vi.advanceTimersByTime(999);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(watch.signal.reason).toBeInstanceOf(ArpTimeoutError);
    expect(watch.signal.reason).toMatchObject({ code: "stream_idle_timeout", timeoutMs: 1_000 });
    watch.dispose();
  });

  it("each new event starts the period again", () => {
    const watch = new IdleWatch(undefined, 1_000, true, info);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(800);
      watch.pause();
      watch.restart();
    }
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(watch.signal.aborted).toBe(true);
    watch.dispose();
  });

  it("the consumer's time with an event does not count, and arms no timer while it lasts", () => {
    const watch = new IdleWatch(undefined, 1_000, true, info);
    watch.pause();
    vi.advanceTimersByTime(60_000);
    expect(watch.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0); // an abandoned iterator keeps nothing alive
    watch.restart();
    vi.advanceTimersByTime(1_000);
    expect(watch.signal.aborted).toBe(true);
    watch.dispose();
  });

  it("default: a live connection may stay quiet; polling without news is bounded", () => {
    const watch = new IdleWatch(undefined, 1_000, false, info);
    watch.connected();
    vi.advanceTimersByTime(10_000); // a quiet run on a live server
    expect(watch.signal.aborted).toBe(false);
    watch.disconnected(); // the server closed before the end event: polling starts now
    vi.advanceTimersByTime(600);
    watch.connected(); // a snapshot: nothing new
    vi.advanceTimersByTime(50);
    watch.disconnected();
    vi.advanceTimersByTime(999);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(watch.signal.reason).toMatchObject({ code: "stream_idle_timeout" });
    watch.dispose();
  });

  it("0 and Infinity mean none; a value over setTimeout's limit does not fire early", () => {
    for (const none of [0, Number.POSITIVE_INFINITY]) {
      const watch = new IdleWatch(undefined, none, true, info);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(10 * 86_400_000);
      expect(watch.signal.aborted).toBe(false);
      watch.dispose();
    }
    const huge = new IdleWatch(undefined, 30 * 86_400_000, true, info); // 30 days
    vi.advanceTimersByTime(29 * 86_400_000);
    expect(huge.signal.aborted).toBe(false);
    vi.advanceTimersByTime(86_400_000);
    expect(huge.signal.aborted).toBe(true);
    huge.dispose();
    expect(() => new IdleWatch(undefined, -1, true, info)).toThrow(RangeError);
  });

  it("follows the caller's signal, and dispose releases it", () => {
    const caller = new AbortController();
    const watch = new IdleWatch(caller.signal, 1_000, true, info);
    caller.abort(new Error("stop"));
    expect(watch.signal.reason).toEqual(new Error("stop"));
    watch.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});
