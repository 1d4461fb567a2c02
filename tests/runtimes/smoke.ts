/**
 * The smoke suite run under Bun and Deno (`bun smoke.ts`, `deno run -A smoke.ts`; test/runtimes.test.ts
 * spawns both): @arp/client against a real server, typed errors, a resumed NDJSON stream, and
 * @arp/server served by the runtime itself, through `listen()` (its node:http compatibility) and through
 * `@arp/server/fetch` behind `Bun.serve` / `Deno.serve`. It prints `ok <check>` per check and
 * `smoke: <n> passed on <runtime>` at the end; any failure exits 1 with the error.
 */
import assert from "node:assert/strict";
import {
  ArpApiError,
  ArpTransportError,
  type RunEvent,
  RunGatewayClient,
  type RunStartRequest,
} from "@arp/client";
import type { Run } from "@arp/model";
import { type ArpRequest, BaseRunGatewayServer, notFound } from "@arp/server";
import { createFetchHandler, type FetchHandler } from "@arp/server/fetch";

// ---------------------------------------------------------------------------------------------
// The runtime's own server, behind one small interface

interface Hosted {
  url: string;
  close(): Promise<void>;
}

interface BunLike {
  version: string;
  serve(options: { port: number; hostname: string; fetch: FetchHandler }): {
    port: number;
    stop(force?: boolean): Promise<void> | void;
  };
}
interface DenoLike {
  version: { deno: string };
  serve(
    options: { port: number; hostname: string; signal: AbortSignal; onListen(): void },
    handler: FetchHandler,
  ): { addr: { port: number }; finished: Promise<void> };
}
const { Bun, Deno } = globalThis as { Bun?: BunLike; Deno?: DenoLike };
const runtime = Bun ? `bun ${Bun.version}` : Deno ? `deno ${Deno.version.deno}` : `node ${process.version}`;

/** `handle` behind the runtime's own fetch server (`Bun.serve` or `Deno.serve`) on a loopback port. */
function serveFetch(handle: FetchHandler): Hosted {
  if (Bun) {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handle });
    return {
      url: `http://127.0.0.1:${server.port}`,
      close: async () => {
        handle.close();
        await server.stop(true);
      },
    };
  }
  if (Deno) {
    const stop = new AbortController();
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", signal: stop.signal, onListen() {} }, handle);
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      close: async () => {
        handle.close();
        stop.abort();
        await server.finished;
      },
    };
  }
  throw new Error("neither Bun nor Deno: run this under bun or deno");
}

// ---------------------------------------------------------------------------------------------
// A Run Gateway in memory: a run's events stream live; the run `run_flaky`'s first stream is cut

const RESUMED = "run_flaky";
/** The run whose stream never ends: only the client leaving can end it. */
const ENDLESS = "run_endless";
const time = (n: number) => new Date(Date.UTC(2026, 0, 15, 9, 30, n)).toISOString();

class Gateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, Run>();
  flakyConnections = 0;
  /** Set when the endless stream's generator is finalized, with whether its `req.signal` aborted. */
  endlessEnded: { aborted: boolean } | undefined;

  constructor() {
    super({ auth: { mode: "disabled" }, logger: { warn() {}, error() {} } });
  }

  startRun(req: ArpRequest<RunStartRequest>): Run {
    const run_id = req.body.run_id ?? `run_${this.runs.size + 1}`;
    const run: Run = { run_id, state: "running", root_node_run_id: `node_${run_id}`, started_at: time(0) };
    this.runs.set(run_id, run);
    return run;
  }

  getRun(req: ArpRequest<undefined, { run_id: string }>): Run {
    const run = this.runs.get(req.params.run_id);
    if (!run) throw notFound(`no run ${req.params.run_id}`);
    return run;
  }

  cancelRun(req: ArpRequest<undefined, { run_id: string }>): Run {
    return { ...this.getRun(req), state: "canceled", ended_at: time(9) };
  }

  override async *streamRunEvents(req: ArpRequest<undefined, { run_id: string }>): AsyncIterable<RunEvent> {
    const run_id = req.params.run_id;
    if (run_id === ENDLESS) {
      try {
        for (let seq = 0; ; seq++) {
          yield { run_id, seq, type: "atomic_executed", time: time(seq % 60) };
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        this.endlessEnded = { aborted: req.signal.aborted };
      }
    }
    const attempt = run_id === RESUMED ? ++this.flakyConnections : 0;
    for (let seq = 0; seq < 3; seq++) {
      yield { run_id, seq, type: seq === 0 ? "run_started" : "atomic_executed", time: time(seq) };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // After the first-event grace the 200 is out: a throw now cuts the stream without a clean end.
    if (attempt === 1) throw new Error("backend lost");
    yield { run_id, seq: 3, type: "run_completed", time: time(3), data: { state: "succeeded" } };
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

let passed = 0;
async function check(name: string, body: () => Promise<void>): Promise<void> {
  await body();
  passed++;
  process.stdout.write(`ok ${name}\n`);
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** What every host must get right: client calls, typed errors, validation, a resumed stream. */
async function suite(how: string, url: string, gateway: Gateway): Promise<void> {
  const client = new RunGatewayClient({ baseUrl: url, retry: { baseDelayMs: 10 } });

  await check(`${how}: client calls`, async () => {
    assert.equal((await client.health()).status, "ok");
    const run = await client.startRun({
      run_id: `run_${how.replaceAll(/\W/g, "_")}`,
      root_node_type_ref: { node_type_id: "com.example.summarize", version: "1.2.0" },
      input: { text: "smoke" },
    });
    assert.equal((await client.getRun(run.run_id)).state, "running");
  });

  await check(`${how}: an error envelope is an ArpApiError`, async () => {
    const error = await client.getRun("run_missing").catch((err: unknown) => err);
    assert.ok(error instanceof ArpApiError, String(error));
    assert.equal(error.status, 404);
    assert.equal(error.code, "not_found");
  });

  await check(`${how}: a body that breaks the schema is 400 invalid_request`, async () => {
    const res = await post(url, { run_id: 42 });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; details?: { errors?: unknown[] } } };
    assert.equal(body.error.code, "invalid_request");
    assert.ok((body.error.details?.errors?.length ?? 0) > 0);
  });

  await check(`${how}: a stream, ended by run_completed`, async () => {
    const seqs: number[] = [];
    for await (const event of client.streamRunEvents("run_live")) seqs.push(event.seq);
    assert.deepEqual(seqs, [0, 1, 2, 3]);
  });

  await check(
    `${how}: a client that leaves a stream aborts req.signal, the generator is finalized`,
    async () => {
      gateway.endlessEnded = undefined;
      const leave = new AbortController();
      let seen = 0;
      await assert.rejects(async () => {
        for await (const _ of client.streamRunEvents(ENDLESS, { signal: leave.signal })) {
          if (++seen === 3) leave.abort(new Error("leaving"));
        }
      }, /leaving/);
      const deadline = Date.now() + 10_000;
      while (gateway.endlessEnded === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(gateway.endlessEnded, { aborted: true });
    },
  );

  await check(`${how}: a cut stream is resumed, every seq once`, async () => {
    gateway.flakyConnections = 0;
    const seqs: number[] = [];
    for await (const event of client.streamRunEvents(RESUMED)) seqs.push(event.seq);
    assert.deepEqual(seqs, [0, 1, 2, 3]);
    assert.equal(gateway.flakyConnections, 2);
  });
}

async function main(): Promise<void> {
  await check("a refused connection is an ArpTransportError", async () => {
    const closed = new Gateway();
    const { url, close } = await closed.listen({ port: 0 });
    await close();
    const client = new RunGatewayClient({ baseUrl: url, retry: false });
    const error = await client.health().catch((err: unknown) => err);
    assert.ok(error instanceof ArpTransportError, String(error));
  });

  const listened = new Gateway();
  const running = await listened.listen({ port: 0 });
  try {
    await suite("listen()", running.url, listened);
  } finally {
    await running.close({ timeoutMs: 1000 });
  }

  const fetched = new Gateway();
  const hosted = serveFetch(createFetchHandler(fetched));
  try {
    await suite(Bun ? "Bun.serve" : "Deno.serve", hosted.url, fetched);
  } finally {
    await hosted.close();
  }
  process.stdout.write(`smoke: ${passed} passed on ${runtime}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `smoke FAILED on ${runtime}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
