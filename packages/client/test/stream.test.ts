/**
 * NDJSON event streams over real loopback sockets (no msw): incremental parsing, chunking, resume
 * after a cut connection, snapshot-and-close servers, clean shutdown on `break` and abort, and the
 * errors a broken stream surfaces. The clients get a fake `sleep` that records each backoff and
 * resolves at once, so nothing here waits on a backoff timer.
 */
import type { ServerResponse } from "node:http";
import type { RunEvent } from "@arp/model";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ArpApiError,
  ArpProtocolError,
  ArpTimeoutError,
  ArpTransportError,
  ArpValidationError,
  type ClientOptions,
  RunCoordinatorClient,
  RunGatewayClient,
} from "../src/index.js";
import { cut, type Loopback, startLoopback, within, write } from "./support/loopback.js";

const RUN_ID = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const TIME = "2026-01-15T09:30:00Z";

type EventType = RunEvent["type"];

function event(seq: number, type: EventType = "atomic_executed", data?: Record<string, unknown>): RunEvent {
  return { run_id: RUN_ID, seq, type, time: TIME, ...(data ? { data } : {}) };
}

/** Events 0..n-1 of a run whose last one is `run_completed`. */
function runEvents(n: number): RunEvent[] {
  return Array.from({ length: n }, (_, seq) =>
    event(seq, seq === 0 ? "run_started" : seq === n - 1 ? "run_completed" : "atomic_executed"),
  );
}

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

function startNdjson(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.flushHeaders();
}

async function writeLines(res: ServerResponse, events: readonly unknown[]): Promise<void> {
  for (const e of events) await write(res, line(e));
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the response open until the client goes away (a live stream with nothing more to say yet). */
const holdOpen = (res: ServerResponse): Promise<void> => new Promise((resolve) => res.on("close", resolve));

/** What a stream yielded, and how it ended. */
async function drain(stream: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; error?: unknown }> {
  const events: RunEvent[] = [];
  try {
    for await (const e of stream) events.push(e);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

const seqs = (events: readonly RunEvent[]): number[] => events.map((e) => e.seq);

let server: Loopback;
/** Every backoff the client asked for, in ms. */
let delays: number[];

/**
 * Client options for the current test: its server, a fake `sleep` that records each backoff in
 * `delays` and resolves at once, and no jitter, so each backoff is exactly 200 ms × 2^(attempt-1).
 */
function options(extra: Partial<ClientOptions> = {}): ClientOptions {
  // A stream left hanging by a failed test must not reach into a later one: not its server (the OS may
  // hand the same port out again), not its recorded delays. Once its test is over, it fails.
  const own = server;
  const over = () => new Error("this client's test is over");
  const guarded: typeof fetch = (input, init) =>
    server === own ? fetch(input, init) : Promise.reject(new TypeError(over().message));
  const sleep: NonNullable<ClientOptions["sleep"]> = async (ms, signal) => {
    if (server !== own) throw over();
    delays.push(ms);
    if (signal.aborted) throw signal.reason;
  };
  return {
    baseUrl: server.url,
    fetch: guarded,
    sleep,
    retry: { jitter: "none" },
    timeoutMs: 5_000,
    ...extra,
  };
}
const gateway = (extra?: Partial<ClientOptions>) => new RunGatewayClient(options(extra));
const coordinator = (extra?: Partial<ClientOptions>) => new RunCoordinatorClient(options(extra));

beforeEach(async () => {
  delays = [];
  server = await startLoopback();
});

afterEach(async () => {
  await server.close();
});

describe("live streams", () => {
  it("yields each event as soon as its line arrives, before the server has written the rest", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let wroteRest = false;
    const events = runEvents(5);
    server.handle(async ({ res }) => {
      startNdjson(res);
      await write(res, line(events[0]));
      await released; // only once the client has handed event 0 to the consumer
      for (const e of events.slice(1)) {
        await pause(5);
        await write(res, line(e));
      }
      wroteRest = true;
      res.end();
    });

    const seen: RunEvent[] = [];
    await within(
      (async () => {
        for await (const e of gateway().streamRunEvents(RUN_ID)) {
          seen.push(e);
          if (e.seq === 0) {
            expect(wroteRest).toBe(false);
            release();
          }
        }
      })(),
      3_000,
      "event 0 (a client that buffers the body never gets it)",
    );

    expect(seen).toEqual(events);
    expect(wroteRest).toBe(true);
    expect(server.exchanges).toHaveLength(1);
    const [exchange] = server.exchanges;
    expect(exchange?.method).toBe("GET");
    expect(exchange?.url).toBe(`/v1/runs/${RUN_ID}/events`);
    expect(exchange?.headers.accept).toBe("application/x-ndjson");
    expect(delays).toEqual([]);
  });

  it("joins lines split mid-line and mid-UTF-8 character, with CRLF, blank lines and no final newline", async () => {
    const events = [
      event(0, "run_started", { note: "café ✓ 日本 🚀" }),
      event(1, "node_run_assigned", { executor: "ëxécutor—α" }),
      event(2, "atomic_executed", { output: "🚀🚀 done ✓" }),
      event(3, "run_completed", { summary: "fin — ✓" }),
    ];
    const text = `${JSON.stringify(events[0])}\n${JSON.stringify(events[1])}\r\n\n  \r\n${JSON.stringify(
      events[2],
    )}\r\n${JSON.stringify(events[3])}`; // the last line has no newline
    const body = new TextEncoder().encode(text);

    // Cut every 11 bytes, inside every multi-byte character, and between every `\r` and its `\n`.
    const cuts = new Set<number>();
    for (let i = 11; i < body.length; i += 11) cuts.add(i);
    for (let i = 0; i < body.length; i++) {
      const b = body[i]!;
      if (b >= 0xc0) cuts.add(i + 1); // first byte of a multi-byte sequence: cut right after it
      if (b === 0x0d) cuts.add(i + 1);
    }
    const positions = [...cuts].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const at of [...positions, body.length]) {
      chunks.push(body.subarray(from, at));
      from = at;
    }
    expect(chunks.length).toBeGreaterThan(40);

    server.handle(async ({ res }) => {
      startNdjson(res);
      for (const chunk of chunks) {
        await write(res, chunk);
        await pause(1);
      }
      res.end();
    });

    const { events: seen, error } = await drain(gateway().streamRunEvents(RUN_ID));
    expect(error).toBeUndefined();
    expect(seen).toEqual(events);
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });
});

describe("resume", () => {
  describe.each([
    ["RunGatewayClient", () => gateway()],
    ["RunCoordinatorClient", () => coordinator()],
  ])("%s.streamRunEvents against a live server cut mid-stream", (_name, makeClient) => {
    it("reconnects, skips what it already yielded, and ends after run_completed", async () => {
      const events = runEvents(7); // 0..5, then run_completed as seq 6
      server.handle(async ({ index, res }) => {
        startNdjson(res);
        if (index === 1) {
          // seq 0..2, then half of seq 3's line, then the connection drops.
          await writeLines(res, events.slice(0, 3));
          const partial = line(events[3]);
          await write(res, partial.slice(0, partial.length >> 1));
          await cut(res);
        } else if (index === 2) {
          // Replays from seq 0, gets to seq 4 and drops again, this time at a line boundary.
          await writeLines(res, events.slice(0, 5));
          await cut(res);
        } else {
          // Replays everything, then keeps the connection open: the client must stop on run_completed.
          await writeLines(res, events);
          await holdOpen(res);
        }
      });

      const { events: seen, error } = await within(
        drain(makeClient().streamRunEvents(RUN_ID)),
        5_000,
        "the resumed stream to end",
      );
      expect(error).toBeUndefined();
      expect(seqs(seen)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(seen).toEqual(events);
      expect(seen.at(-1)?.type).toBe("run_completed");
      expect(server.exchanges).toHaveLength(3);
      expect(server.connections()).toBe(3);
      expect(server.exchanges.every((x) => x.url === `/v1/runs/${RUN_ID}/events`)).toBe(true);
      // One backoff per reconnect; each connection brought progress, so neither backoff grew.
      expect(delays).toEqual([200, 200]);
      // The last connection was left open by the server: the client closed it after run_completed.
      const last = server.exchanges[2]!;
      await within(last.socketClosed, 2_000, "the client to close the last connection");
      expect(last.finished()).toBe(false);
    });
  });

  it("polls a snapshot-and-close server with backoff until run_completed, each seq once", async () => {
    const events = runEvents(6); // seq 5 is run_completed
    const visible = [1, 2, 2, 2, 4, 6]; // events in the snapshot answered to the n-th GET
    server.handle(({ index, res }) => {
      const count = visible[Math.min(index, visible.length) - 1]!;
      const body = events
        .slice(0, count)
        .map((e) => line(e))
        .join("");
      res.writeHead(200, {
        "content-type": "application/x-ndjson",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
    });

    const { events: seen, error } = await drain(gateway().streamRunEvents(RUN_ID));
    expect(error).toBeUndefined();
    expect(seqs(seen)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.at(-1)?.type).toBe("run_completed");
    expect(server.exchanges).toHaveLength(6);
    expect(server.exchanges.every((x) => x.finished())).toBe(true);
    // A poll that brought something resets the backoff; empty polls (3rd, 4th) make it grow.
    expect(delays).toEqual([200, 200, 200, 400, 200]);
  });

  it("with follow: false, a cut connection surfaces ArpTransportError", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      await cut(res);
    });
    const { events, error } = await drain(gateway().streamRunEvents(RUN_ID, { follow: false }));
    expect(seqs(events)).toEqual([0, 1]);
    expect(error).toBeInstanceOf(ArpTransportError);
    expect((error as ArpTransportError).code).toBe("transport_error");
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("with follow: false, a clean close before run_completed ends the iteration", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      res.end();
    });
    const { events, error } = await drain(gateway().streamRunEvents(RUN_ID, { follow: false }));
    expect(error).toBeUndefined();
    expect(seqs(events)).toEqual([0, 1]);
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("streamNodeRunEvents ends when the server closes the stream (no reconnect)", async () => {
    const events = [1, 2, 3].map((seq) => ({ ...event(seq), node_run_id: "node_run_7" }));
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, events);
      res.end();
    });
    const { events: seen, error } = await drain(coordinator().streamNodeRunEvents("node_run_7"));
    expect(error).toBeUndefined();
    expect(seen).toEqual(events);
    expect(server.exchanges).toHaveLength(1);
    expect(server.exchanges[0]?.url).toBe("/v1/node-runs/node_run_7/events");
    expect(delays).toEqual([]);
  });

  it("gives up after retry.maxAttempts connections in a row that drop without progress", async () => {
    // Every connection sends seq 0 and drops: only the first one brings anything new.
    server.handle(async ({ res }) => {
      startNdjson(res);
      await write(res, line(event(0, "run_started")));
      await cut(res);
    });
    const first = await drain(gateway().streamRunEvents(RUN_ID));
    expect(seqs(first.events)).toEqual([0]);
    expect(first.error).toBeInstanceOf(ArpTransportError);
    // 1 connection with progress + 3 (the default maxAttempts) without; backoff grows with each.
    expect(server.exchanges).toHaveLength(4);
    expect(delays).toEqual([200, 200, 400]);

    delays = [];
    const second = await drain(gateway().streamRunEvents(RUN_ID, { retry: { maxAttempts: 2 } }));
    expect(seqs(second.events)).toEqual([0]);
    expect(second.error).toBeInstanceOf(ArpTransportError);
    expect(server.exchanges).toHaveLength(4 + 3);
    expect(delays).toEqual([200, 200]);
  });
});

describe("idle timeout", () => {
  it("a snapshot server whose run never completes: the stream ends with stream_idle_timeout, each seq once", async () => {
    // The newcomer's case: the server answers the same snapshot of a run that stays `running`.
    const snapshot = runEvents(6).slice(0, 3);
    server.handle(({ res }) => {
      const body = snapshot.map((e) => line(e)).join("");
      res.writeHead(200, {
        "content-type": "application/x-ndjson",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
    });
    const { events, error } = await within(
      drain(gateway().streamRunEvents(RUN_ID, { idleTimeoutMs: 150 })),
      5_000,
      "the idle timeout to end the stream",
    );
    expect(seqs(events)).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(ArpTimeoutError);
    expect(error).toMatchObject({ code: "stream_idle_timeout", phase: "stream_idle", timeoutMs: 150 });
    expect((error as Error).message).toContain("no new event within 150 ms");
    expect(server.exchanges.length).toBeGreaterThan(1); // it did poll, and then it stopped
  });

  it("a live connection that goes quiet ends with stream_idle_timeout and is closed", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      await holdOpen(res);
    });
    const { events, error } = await within(
      drain(coordinator().streamRunEvents(RUN_ID, { idleTimeoutMs: 150 })),
      5_000,
      "the idle timeout to end the stream",
    );
    expect(seqs(events)).toEqual([0, 1]);
    expect((error as ArpTimeoutError).code).toBe("stream_idle_timeout");
    await within(server.exchanges[0]!.socketClosed, 2_000, "the client to close the quiet connection");
    expect(server.exchanges).toHaveLength(1);
  });

  it("the client's streamIdleTimeoutMs is the default of its streams", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await holdOpen(res);
    });
    const { error } = await within(
      drain(gateway({ streamIdleTimeoutMs: 100 }).streamRunEvents(RUN_ID)),
      5_000,
      "the client-level idle timeout",
    );
    expect(error).toMatchObject({ code: "stream_idle_timeout", timeoutMs: 100 });
  });

  it("does not count the time the consumer spends on an event", async () => {
    let consumed!: () => void;
    const consumerDone = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    const events = runEvents(3);
    server.handle(async ({ res }) => {
      startNdjson(res);
      await write(res, line(events[0]));
      await consumerDone; // sent only after the consumer held event 0 for 3x the idle timeout
      await writeLines(res, events.slice(1));
      await holdOpen(res);
    });
    const seen: RunEvent[] = [];
    // The consumer holds event 0 for 3x the idle timeout: were the clock running meanwhile, it would fire.
    for await (const e of gateway().streamRunEvents(RUN_ID, { idleTimeoutMs: 2_000 })) {
      seen.push(e);
      if (e.seq === 0) {
        await pause(6_000);
        consumed();
      }
    }
    expect(seqs(seen)).toEqual([0, 1, 2]);
  });

  it("idleTimeoutMs: 0 turns it off; a negative value is a RangeError", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await write(res, line(event(0, "run_started")));
      await pause(250);
      await writeLines(res, [event(1, "run_completed")]);
      await holdOpen(res);
    });
    const { events, error } = await drain(
      gateway({ streamIdleTimeoutMs: 50 }).streamRunEvents(RUN_ID, { idleTimeoutMs: 0 }),
    );
    expect(error).toBeUndefined();
    expect(seqs(events)).toEqual([0, 1]);
    const bad = await drain(gateway().streamRunEvents(RUN_ID, { idleTimeoutMs: -1 }));
    expect(bad.error).toBeInstanceOf(RangeError);
  });
});

describe("stopping", () => {
  it("break after the first event closes the connection", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      await holdOpen(res);
    });
    const seen: RunEvent[] = [];
    for await (const e of gateway().streamRunEvents(RUN_ID)) {
      seen.push(e);
      break;
    }
    expect(seqs(seen)).toEqual([0]);
    const exchange = server.exchanges[0]!;
    await within(exchange.socketClosed, 2_000, "the server to see the socket close");
    await within(exchange.responseClosed, 2_000, "the response to close");
    expect(exchange.finished()).toBe(false);
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("an abort mid-stream rejects with the signal's reason and closes the connection", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      await holdOpen(res);
    });
    const controller = new AbortController();
    const reason = new Error("user navigated away");
    const seen: RunEvent[] = [];
    const outcome = (async () => {
      for await (const e of gateway().streamRunEvents(RUN_ID, { signal: controller.signal })) {
        seen.push(e);
        // Abort later, while the client waits for a line the server is not sending.
        if (e.seq === 1) setTimeout(() => controller.abort(reason), 20);
      }
    })();
    await expect(within(outcome, 3_000, "the aborted stream to reject")).rejects.toBe(reason);
    expect(seqs(seen)).toEqual([0, 1]);
    const exchange = server.exchanges[0]!;
    await within(exchange.socketClosed, 2_000, "the server to see the socket close");
    expect(exchange.finished()).toBe(false);
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });
});

describe("broken streams", () => {
  it("a malformed line is an ArpProtocolError with its line number, and no reconnect", async () => {
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, runEvents(6).slice(0, 2));
      await write(res, '\n{"run_id": "run_1", "seq": 2, \n'); // a blank line 3, a broken line 4
      await writeLines(res, runEvents(6).slice(3));
      res.end();
    });
    const { events, error } = await drain(gateway().streamRunEvents(RUN_ID));
    expect(seqs(events)).toEqual([0, 1]);
    expect(error).toBeInstanceOf(ArpProtocolError);
    expect((error as ArpProtocolError).line).toBe(4);
    expect((error as ArpProtocolError).code).toBe("protocol_error");
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("an event that fails the RunEvent schema is an ArpValidationError; validateResponses: off lets it through", async () => {
    const bad = { ...event(1), type: "teleported", extra: true };
    const events = [event(0, "run_started"), bad, event(2, "run_completed")];
    server.handle(async ({ res }) => {
      startNdjson(res);
      await writeLines(res, events);
      res.end();
    });

    const strict = await drain(gateway().streamRunEvents(RUN_ID));
    expect(seqs(strict.events)).toEqual([0]);
    expect(strict.error).toBeInstanceOf(ArpValidationError);
    const failure = strict.error as ArpValidationError;
    expect(failure.direction).toBe("event");
    expect(failure.schema).toBe("RunEvent");
    expect(failure.errors.map((e) => e.pointer)).toContain("/type");
    expect(server.exchanges).toHaveLength(1);

    const lenient = await drain(gateway({ validateResponses: "off" }).streamRunEvents(RUN_ID));
    expect(lenient.error).toBeUndefined();
    expect(lenient.events).toEqual(events);
    expect(server.exchanges).toHaveLength(2);
    expect(delays).toEqual([]);
  });

  it("an event without an integer seq is an ArpProtocolError, even with validation off", async () => {
    for (const seq of ["1", 1.5, -1, undefined]) {
      server.handle(async ({ res }) => {
        startNdjson(res);
        await writeLines(res, [event(0, "run_started"), { ...event(1), seq }, event(2, "run_completed")]);
        res.end();
      });
      const { events, error } = await drain(gateway({ validateResponses: "off" }).streamRunEvents(RUN_ID));
      expect(seqs(events)).toEqual([0]);
      expect(error, `seq ${String(seq)}`).toBeInstanceOf(ArpProtocolError);
      expect((error as ArpProtocolError).line).toBe(2);
    }
    expect(server.exchanges).toHaveLength(4);
    expect(delays).toEqual([]);
  });

  it("a 501 not_implemented envelope is an ArpApiError, not retried", async () => {
    server.handle(({ res }) => {
      res.writeHead(501, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { code: "not_implemented", message: "this gateway does not stream events" },
        }),
      );
    });
    const { events, error } = await drain(gateway().streamRunEvents(RUN_ID));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(ArpApiError);
    expect((error as ArpApiError).code).toBe("not_implemented");
    expect((error as ArpApiError).status).toBe(501);
    expect(server.exchanges).toHaveLength(1);
    expect(delays).toEqual([]);
  });
});
