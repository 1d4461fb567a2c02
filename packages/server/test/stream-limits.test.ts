/**
 * What an event stream may hold on to, and for how long, whatever the client does: the events it
 * already sent (nothing: they are collectable), a client that leaves early, before the status line,
 * at any moment after it, or with pipelined requests still queued (every generator is finalized and
 * every exchange ends), and a client that stops reading (the write-stall limit,
 * `streamWriteTimeoutMs`, cuts it). Real loopback servers and raw sockets throughout.
 */
import { createServer, get, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type * as T from "@arp/model";
import { seededRandom } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import type { ArpRequest, ServerOptions } from "../src/index.js";
import { deferred, recordingLogger, useServers } from "./support/http.js";
import { TestRunCoordinator, withDefaults } from "./support/services.js";

const servers = useServers();
const RUN = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const PATH = `/v1/runs/${RUN}/events`;
/** Clients that leave early, per test. */
const CLIENTS = 100;

const event = (seq: number, pad?: string): T.RunEvent => ({
  run_id: RUN,
  seq,
  type: "atomic_executed",
  time: "2026-01-15T09:30:00Z",
  ...(pad === undefined ? {} : { data: { pad } }),
});

type StreamImpl = (req: ArpRequest<undefined, { run_id: string }>) => AsyncIterable<T.RunEvent>;

function coordinator(impl: StreamImpl, options?: ServerOptions): TestRunCoordinator {
  class Streaming extends TestRunCoordinator {
    override streamRunEvents(req: ArpRequest<undefined, { run_id: string }>): AsyncIterable<T.RunEvent> {
      return impl(req);
    }
  }
  return new Streaming(withDefaults(options));
}

/** Waits until `condition()` holds, polling: the test's own timeout is the only deadline. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(10);
}

/**
 * Serves `service` on a loopback port, through `listen()` or a plain server calling `handle()`.
 * `settled()`: every exchange is over (`listen()`: no connection is left; `handle()`: every promise
 * `handle()` returned has resolved, which the exchange does once its stream ended).
 */
async function host(
  how: "listen" | "handle",
  service: TestRunCoordinator,
): Promise<{ port: number; settled: () => Promise<boolean> }> {
  if (how === "listen") {
    const { url, server } = await servers.listen(service);
    return {
      port: Number(new URL(url).port),
      settled: () => new Promise((resolve) => server.getConnections((_err, count) => resolve(count === 0))),
    };
  }
  let pending = 0;
  const server = createServer((req, res) => {
    pending++;
    void service.handle(req, res).then(() => pending--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, settled: async () => pending === 0 };
}

/** A stream handler whose first event takes `firstDelayMs()` (not signal-aware), then one every 5 ms. */
function counted(firstDelayMs: () => number) {
  const counts = { started: 0, finalized: 0 };
  const service = coordinator(async function* (req) {
    counts.started++;
    void req.signal; // made while the client is (usually) still there
    try {
      await sleep(firstDelayMs()); // not signal-aware: settles after the client has gone
      for (let seq = 0; ; seq++) {
        yield event(seq);
        await sleep(5, undefined, { signal: req.signal });
      }
    } finally {
      counts.finalized++;
    }
  });
  return { service, counts };
}

/**
 * One raw client: connects, runs `visit` (which sends and then leaves, one way or another), and
 * resolves once the connection is closed. Whatever the server sends is read and dropped: a socket
 * whose data is never read never emits 'end', and so never 'close' after the server's FIN.
 */
async function client(
  port: number,
  visit: (socket: Socket, received: (enough: (text: string) => boolean) => Promise<void>) => Promise<void>,
): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined); // a reset is one of the ways a connection ends here
  const closed = new Promise((resolve) => socket.once("close", resolve));
  let text = "";
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    for (const check of waiters) check();
  });
  const received = (enough: (text: string) => boolean) =>
    Promise.race([
      closed.then(() => undefined),
      new Promise<void>((resolve) => {
        const check = () => {
          if (!enough(text)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    ]);
  await new Promise((resolve) => socket.once("connect", resolve));
  await visit(socket, received);
  await closed;
}

const REQUEST = `GET ${PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
/** Complete NDJSON lines (events) in what a client received. */
const eventsIn = (text: string) => text.split("}\n").length - 1;

for (const how of ["listen", "handle"] as const) {
  describe(`${how}(): a client that leaves before the status line`, () => {
    it("every generator is finalized and every exchange ends", async () => {
      const { service, counts } = counted(() => 20);
      const { port, settled } = await host(how, service);
      // Each sends the request and half-closes at once. Under load the FIN can reach the server after
      // the first event, which is then sent first: the client still leaves, just later.
      await Promise.all(
        Array.from({ length: CLIENTS }, () => client(port, async (socket) => void socket.end(REQUEST))),
      );
      await until(() => counts.finalized === counts.started);
      await until(settled);
      expect(counts).toEqual({ started: CLIENTS, finalized: CLIENTS });
    }, 20_000); // a deadline for a loaded machine only: a leaked generator never finalizes
  });

  describe(`${how}(): clients that leave at any moment`, () => {
    /** The ways to leave, from mid-request to some events into the stream. */
    const leaves: ((
      socket: Socket,
      received: (enough: (text: string) => boolean) => Promise<void>,
      random: () => number,
    ) => Promise<void>)[] = [
      async (socket) => {
        socket.write(REQUEST.slice(0, -2)); // the head is not complete: no handler runs
        socket.destroy();
      },
      async (socket) => {
        socket.write(REQUEST);
        socket.destroy();
      },
      async (socket) => void socket.end(REQUEST),
      async (socket, received) => {
        socket.write(REQUEST);
        await received((text) => text.includes("\r\n\r\n")); // the status line and headers
        socket.destroy();
      },
      async (socket, received, random) => {
        socket.write(REQUEST);
        const events = 1 + Math.floor(random() * 4);
        await received((text) => eventsIn(text) >= events);
        socket.destroy();
      },
      async (socket, _received, random) => {
        socket.write(REQUEST);
        await sleep(random() * 100);
        socket.destroy();
      },
    ];

    it("every generator is finalized and every exchange ends", async () => {
      // First events before, around and after the 50 ms grace: the status line goes out before or with it.
      let n = 0;
      const { service, counts } = counted(() => [0, 20, 80][n++ % 3]!);
      const { port, settled } = await host(how, service);
      const random = seededRandom(how === "listen" ? 1 : 2);
      await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) =>
          client(port, (socket, received) => leaves[i % leaves.length]!(socket, received, random)),
        ),
      );
      await until(() => counts.finalized === counts.started);
      await until(settled);
      expect(counts.finalized).toBe(counts.started);
      expect(counts.started).toBeGreaterThan(CLIENTS / 2); // most got as far as the handler
    }, 20_000);

    it("pipelined requests: the ones queued behind the first are finalized too", async () => {
      // Node emits no 'close' on a response queued behind another when the connection drops: the
      // server must see the client go from the connection itself.
      const { service, counts } = counted(() => 20);
      const { port, settled } = await host(how, service);
      await Promise.all(
        Array.from({ length: CLIENTS / 2 }, (_, i) =>
          client(port, async (socket, received) => {
            const requests = REQUEST.repeat(2 + (i % 2));
            if (i % 4 < 2) {
              socket.end(requests);
            } else {
              socket.write(requests);
              await received((text) => eventsIn(text) >= 1);
              socket.destroy();
            }
          }),
        ),
      );
      await until(() => counts.finalized === counts.started);
      await until(settled);
      expect(counts.finalized).toBe(counts.started);
      expect(counts.started).toBeGreaterThan(CLIENTS / 2); // queued requests ran their handlers too
    }, 20_000);
  });
}

describe("the events a stream has sent", () => {
  it("are not kept: each is collectable once written, while the stream goes on", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const sent: WeakRef<T.RunEvent>[] = [];
    const { url } = await servers.listen(
      coordinator(async function* () {
        for (let seq = 0; ; seq++) {
          const e = event(seq);
          if (seq < 10) sent.push(new WeakRef(e));
          yield e;
        }
      }),
    );
    const res = await new Promise<IncomingMessage>((resolve) =>
      get(`${url}${PATH}`, { agent: false }, resolve),
    );
    let lines = 0;
    await new Promise<void>((resolve) => {
      res.on("data", (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 10) lines++;
        if (lines >= 2_000) {
          res.pause(); // the stream stays open
          resolve();
        }
      });
    });
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve)); // WeakRefs are cleared between jobs
      gc();
    }
    expect(sent).toHaveLength(10);
    expect(sent.map((ref, i) => (ref.deref() === undefined ? -1 : i)).filter((i) => i >= 0)).toEqual([]);
    res.destroy();
  });
});

describe("a client that stops reading (streamWriteTimeoutMs)", () => {
  it("is cut when a write waits longer than the limit: connection destroyed, signal aborted, generator finalized, warned", async () => {
    const logger = recordingLogger();
    const pad = "x".repeat(64 * 1024);
    const finalized = deferred();
    let produced = 0;
    let signal: AbortSignal | undefined;
    const { url } = await servers.listen(
      coordinator(
        async function* (req) {
          signal = req.signal;
          try {
            for (;;) yield event(produced++, pad); // endless: only the limit can end it
          } finally {
            finalized.resolve();
          }
        },
        { streamWriteTimeoutMs: 200, logger },
      ),
    );
    const res = await new Promise<IncomingMessage>((resolve) => {
      get(`${url}${PATH}`, { agent: false }, (r) => {
        r.pause(); // never read: the socket buffers fill up
        resolve(r);
      });
    });
    await finalized.promise;
    expect(res.statusCode).toBe(200);
    expect((signal?.reason as Error | undefined)?.message).toBe("stream write timed out after 200 ms");
    expect(logger.warnings).toEqual([
      {
        message: "stream_run_events: stream cut, a write waited 200 ms for the client to read",
        data: { method: "GET", url: PATH },
      },
    ]);
    expect(logger.errors).toEqual([]);
    // The client, reading at last, gets what was buffered and then a cut stream, never a clean end.
    const ended = await new Promise<boolean>((resolve) => {
      res.on("end", () => resolve(true));
      res.on("error", () => resolve(false));
      res.on("close", () => resolve(res.complete));
      res.resume();
    });
    expect(ended).toBe(false);
    expect(produced).toBeGreaterThan(1);
  });

  it("a client that reads, however slowly, is not cut: every drain restarts the wait", async () => {
    const logger = recordingLogger();
    const pad = "x".repeat(64 * 1024);
    const EVENTS = 400; // 25 MiB: far more than the socket buffers hold, read over several limits
    const { url } = await servers.listen(
      coordinator(
        async function* () {
          for (let seq = 0; seq < EVENTS; seq++) yield event(seq, pad);
        },
        // Generous against a loaded CI machine (one stalled drain beyond it cuts the stream); the
        // reader's pauses below (400+ chunks, 20 ms each) add up to more, so the stream outlasts it.
        { streamWriteTimeoutMs: 5_000, logger },
      ),
    );
    const t0 = performance.now();
    const { lines, complete } = await new Promise<{ lines: number; complete: boolean }>((resolve) => {
      get(`${url}${PATH}`, { agent: false }, (res) => {
        let lines = 0;
        res.on("data", (chunk: Buffer) => {
          for (const byte of chunk) if (byte === 10) lines++;
          res.pause(); // a slow reader: a pause after every chunk
          setTimeout(() => res.resume(), 20);
        });
        res.on("close", () => resolve({ lines, complete: res.complete }));
      });
    });
    expect({ lines, complete }).toEqual({ lines: EVENTS, complete: true });
    expect(logger.warnings).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThan(5_000); // the stream as a whole outlasted the limit
  });

  it("takes a number of milliseconds >= 0 (0 and Infinity: no limit); anything else throws a RangeError", () => {
    for (const ok of [0, 1, 30_000, Number.POSITIVE_INFINITY, undefined]) {
      expect(() => coordinator(async function* () {}, { streamWriteTimeoutMs: ok })).not.toThrow();
    }
    for (const bad of [-1, Number.NaN, "5" as unknown as number]) {
      expect(() => coordinator(async function* () {}, { streamWriteTimeoutMs: bad })).toThrow(RangeError);
    }
  });
});
