/**
 * `@arp/server/fetch` behind a real host: a fetch handler on a loopback `node:http` port (the small
 * bridge of `support/fetch-bridge.ts`, shaped like Bun.serve and Deno.serve: `request.signal` for a
 * departure, the body read as the socket drains), driven by `@arp/client` and raw sockets.
 */
import { get, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ArpApiError, RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { afterEach, describe, expect, it } from "vitest";
import { createFetchHandler } from "../src/fetch.js";
import type { ArpRequest, ServerOptions } from "../src/index.js";
import { serveFetch } from "./support/fetch-bridge.js";
import { deferred, recordingLogger } from "./support/http.js";
import { TestRunCoordinator, TestRunGateway, vector, withDefaults } from "./support/services.js";

const RUN = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

async function host(service: Parameters<typeof createFetchHandler>[0]): Promise<string> {
  const handle = createFetchHandler(service);
  const served = await serveFetch(handle);
  cleanups.push(
    () => handle.close(),
    () => served.close(),
  );
  return served.url;
}

const event = (seq: number, type: T.RunEventType = "atomic_executed", pad?: string): T.RunEvent => ({
  run_id: RUN,
  seq,
  type,
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

describe("@arp/client against a fetch handler", () => {
  it("typed calls, and an error envelope as ArpApiError", async () => {
    const gateway = new TestRunGateway();
    const client = new RunGatewayClient({ baseUrl: await host(gateway) });
    const run = await client.startRun(vector("RunStartRequest", "full"));
    expect((await client.getRun(run.run_id)).run_id).toBe(run.run_id);
    const error = await client.getRun("run_missing").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ArpApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });

  it("a live stream, ended by run_completed", async () => {
    const gateway = new TestRunGateway();
    const client = new RunGatewayClient({ baseUrl: await host(gateway) });
    const run = await client.startRun(vector("RunStartRequest"));
    const types: string[] = [];
    const read = (async () => {
      for await (const e of client.streamRunEvents(run.run_id)) types.push(e.type);
    })();
    await sleep(100);
    gateway.finish(run.run_id, "succeeded");
    await read;
    expect(types).toEqual(["run_started", "node_run_assigned", "run_completed"]);
  });

  it("a stream cut half-way is resumed by the client: every seq once, in order", async () => {
    let connections = 0;
    const url = await host(
      coordinator(
        async function* () {
          const attempt = ++connections;
          for (let seq = 0; seq < 4; seq++) yield event(seq);
          if (attempt === 1) {
            await sleep(60);
            throw new Error("backend lost"); // the first connection is cut without a clean end
          }
          yield event(4, "run_completed");
        },
        { logger: recordingLogger() },
      ),
    );
    const client = new RunCoordinatorClient({ baseUrl: url, retry: { baseDelayMs: 10 } });
    const seqs: number[] = [];
    for await (const e of client.streamRunEvents(RUN)) seqs.push(e.seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4]);
    expect(connections).toBe(2);
  });

  it("a client that leaves (its signal aborts) aborts req.signal and finalizes the generator", async () => {
    const finalized = deferred();
    let signal: AbortSignal | undefined;
    const url = await host(
      coordinator(async function* (req) {
        signal = req.signal;
        try {
          for (let seq = 0; ; seq++) {
            yield event(seq);
            await sleep(5);
          }
        } finally {
          finalized.resolve();
        }
      }),
    );
    const client = new RunCoordinatorClient({ baseUrl: url });
    const leave = new AbortController();
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const e of client.streamRunEvents(RUN, { signal: leave.signal })) {
          seen.push(e.seq);
          if (seen.length === 3) leave.abort(new Error("leaving"));
        }
      })(),
    ).rejects.toThrow("leaving");
    await finalized.promise;
    expect(signal?.aborted).toBe(true);
  });

  it("a client that stops reading is cut after streamWriteTimeoutMs, through the host's backpressure", async () => {
    const logger = recordingLogger();
    const finalized = deferred();
    const url = await host(
      coordinator(
        async function* () {
          try {
            for (let seq = 0; ; seq++) yield event(seq, "atomic_executed", "x".repeat(64 * 1024));
          } finally {
            finalized.resolve();
          }
        },
        { streamWriteTimeoutMs: 300, logger },
      ),
    );
    const res = await new Promise<IncomingMessage>((resolve) => {
      get(`${url}/v1/runs/${RUN}/events`, { agent: false }, (r) => {
        r.pause(); // never read: the socket, then the host, then the body fill up
        resolve(r);
      });
    });
    await finalized.promise;
    expect(res.statusCode).toBe(200);
    expect(logger.warnings.map((w) => w.message)).toEqual([
      "stream_run_events: stream cut, a write waited 300 ms for the client to read",
    ]);
    const complete = await new Promise<boolean>((resolve) => {
      res.on("error", () => resolve(false));
      res.on("close", () => resolve(res.complete));
      res.resume();
    });
    expect(complete).toBe(false);
  });
});
