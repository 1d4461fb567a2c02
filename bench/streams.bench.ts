/**
 * Memory of `@arp/server`'s NDJSON event streams, in the server's process (this one, started with
 * `--expose-gc` so that every heap figure is taken after a full collection); the clients run in a
 * child process (this file, started with `--clients`), so that their buffers are not counted.
 *
 * 1. **A long stream**: one client reads an endless stream of ~1 KB `RunEvent`s as fast as it can;
 *    every 10,000 events the generator collects garbage and records `heapUsed`. Target: flat, the heap
 *    after 100,000 events within 2 MiB of the heap after 10,000.
 * 2. **100 stalled readers**: 100 clients read the status line and the first event, then stop reading;
 *    once production has stopped (every socket buffer full), the heap above the idle server's, per
 *    reader. The clients then leave; every generator must be finalized.
 * 3. **The write-stall limit**: the same 100 readers against `streamWriteTimeoutMs: 1000`; how many
 *    streams are still open (generators not finalized) 3 s after they stalled. Target: none.
 *
 * Prints a table and replaces (or appends) the section `## Streams (@arp/server)` of `bench/results.md`.
 * The "before" figures are this script's, run against commit `a432bcb` (before the fix).
 *
 * Run: `npm run build`, then `npm run bench:streams` (`node --expose-gc --import tsx streams.bench.ts`);
 * about 30 s.
 */
import { type ChildProcess, fork } from "node:child_process";
import { get, type IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import type { RunEvent } from "@arp/model";
import { type ArpRequest, BaseRunCoordinatorServer } from "@arp/server";
import { int, table, writeResultsSection } from "./lib.js";

const SECTION = "## Streams (@arp/server)";
const RUN = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const LONG_EVENTS = 100_000;
const SAMPLE_EVERY = 10_000;
const READERS = 100;
const STALL_LIMIT_MS = 1_000;
const STALL_WAIT_MS = 3_000;
const FLAT_BOUND = 2 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Before the fix (commit a432bcb), measured by this script on the same machine. */
const BEFORE = {
  longGrowth: 50.9 * 1024 * 1024, // 13.4 MiB at 10k events, 64.3 MiB at 100k: ~590 bytes per event
  stalledPerReader: 2303.8 * 1024, // 225 MiB for the 100 readers
  openAfterLimit: 100, // no limit existed
  leaked: 0, // readers that leave after the first event were released before too
};

const PAD = "x".repeat(900);
const event = (seq: number): RunEvent => ({
  run_id: RUN,
  seq,
  type: "atomic_executed",
  time: "2026-01-15T09:30:00Z",
  data: { pad: PAD },
});

// ---------------------------------------------------------------------------------------------
// The clients (child process)

type ToClients = { cmd: "read"; url: string } | { cmd: "stall"; url: string; n: number } | { cmd: "leave" };
type FromClients = { read: number } | { stalled: number } | { left: number };

function clients(): void {
  const open: IncomingMessage[] = [];
  const reply = (message: FromClients) => process.send?.(message);
  process.on("message", (message: ToClients) => {
    if (message.cmd === "read") {
      get(message.url, { agent: false }, (res) => {
        let lines = 0;
        res.on("data", (chunk: Buffer) => {
          for (const byte of chunk) if (byte === 10) lines++;
        });
        res.on("end", () => reply({ read: lines }));
      });
    } else if (message.cmd === "stall") {
      let stalled = 0;
      for (let i = 0; i < message.n; i++) {
        get(message.url, { agent: false }, (res) => {
          open.push(res);
          res.once("data", () => {
            res.pause(); // and never read again
            if (++stalled === message.n) reply({ stalled });
          });
          res.on("error", () => undefined);
        }).on("error", () => undefined);
      }
    } else {
      const n = open.length;
      for (const res of open.splice(0)) res.destroy();
      reply({ left: n });
    }
  });
}

function ask(child: ChildProcess, message: ToClients): Promise<FromClients> {
  return new Promise((resolve) => {
    child.once("message", (answer: FromClients) => resolve(answer));
    child.send(message);
  });
}

// ---------------------------------------------------------------------------------------------
// The server (this process)

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Resolves once `read()` has not changed for `quietMs`. */
async function settled(read: () => number, quietMs = 500): Promise<void> {
  let last = read();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = read();
    if (now === last) return;
    last = now;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Counters {
  produced: number;
  started: number;
  finalized: number;
  samples: number[];
}

class Coordinator extends BaseRunCoordinatorServer {
  readonly counters: Counters = { produced: 0, started: 0, finalized: 0, samples: [] };
  readonly #limit: number;

  constructor(limit: number, streamWriteTimeoutMs: number) {
    super({
      auth: { mode: "disabled" },
      logger: { warn: () => undefined, error: () => undefined },
      streamWriteTimeoutMs,
    });
    this.#limit = limit;
  }

  override async *streamRunEvents(_req: ArpRequest<undefined, { run_id: string }>): AsyncIterable<RunEvent> {
    const c = this.counters;
    c.started++;
    try {
      for (let seq = 0; seq < this.#limit; seq++) {
        c.produced++;
        if (this.#limit !== Number.POSITIVE_INFINITY && seq % SAMPLE_EVERY === 0 && seq > 0)
          c.samples.push(heap());
        yield event(seq);
      }
    } finally {
      c.finalized++;
    }
  }

  // The required operations, unused here.
  override startRun(): never {
    throw new Error("unused");
  }
  override getRun(): never {
    throw new Error("unused");
  }
  override cancelRun(): never {
    throw new Error("unused");
  }
  override createNodeRuns(): never {
    throw new Error("unused");
  }
  override getNodeRun(): never {
    throw new Error("unused");
  }
  override reportNodeRunEvaluation(): never {
    throw new Error("unused");
  }
  override completeNodeRun(): never {
    throw new Error("unused");
  }
}

async function longStream(child: ChildProcess) {
  const service = new Coordinator(LONG_EVENTS + 1, 0);
  const running = await service.listen({ port: 0 });
  const answer = (await ask(child, { cmd: "read", url: `${running.url}/v1/runs/${RUN}/events` })) as {
    read: number;
  };
  await running.close();
  const s = service.counters.samples;
  if (answer.read !== LONG_EVENTS + 1) throw new Error(`the client read ${answer.read} events`);
  return { samples: s, growth: s[s.length - 1]! - s[0]! };
}

async function stalledReaders(child: ChildProcess, streamWriteTimeoutMs: number) {
  const service = new Coordinator(Number.POSITIVE_INFINITY, streamWriteTimeoutMs);
  const running = await service.listen({ port: 0 });
  const idle = heap();
  const url = `${running.url}/v1/runs/${RUN}/events`;
  await ask(child, { cmd: "stall", url, n: READERS });
  const c = service.counters;
  await settled(() => c.produced);
  const stalledHeap = heap() - idle;
  const produced = c.produced;
  let openAfter = Number.NaN;
  if (streamWriteTimeoutMs > 0) {
    await sleep(STALL_WAIT_MS);
    openAfter = c.started - c.finalized;
  }
  await ask(child, { cmd: "leave" });
  await settled(() => c.finalized, 200);
  const leaked = c.started - c.finalized;
  await running.close({ timeoutMs: 1_000 });
  return { perReader: stalledHeap / READERS, produced, openAfter, leaked, started: c.started };
}

async function main() {
  if (!gc) throw new Error("run with node --expose-gc (npm run bench:streams)");
  const t0 = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ["--clients"], { stdio: "inherit" });
  try {
    const long = await longStream(child);
    const stalled = await stalledReaders(child, 0);
    const limited = await stalledReaders(child, STALL_LIMIT_MS);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);

    const kb = (bytes: number) => (bytes / 1024).toFixed(1);
    const mb = (bytes: number) => (bytes / MiB).toFixed(1);
    const sampleRows = long.samples.map((h, i) => [int((i + 1) * SAMPLE_EVERY), mb(h)]);
    const before = (v: number, f: (n: number) => string) => (Number.isNaN(v) ? "—" : f(v));
    const rows = [
      [
        `heap growth, 10k → 100k events of one stream (MiB)`,
        before(BEFORE.longGrowth, mb),
        mb(long.growth),
        `<= ${mb(FLAT_BOUND)}`,
        long.growth <= FLAT_BOUND ? "PASS" : "FAIL",
      ],
      [
        `heap per stalled reader, ${READERS} readers, no limit (KiB)`,
        before(BEFORE.stalledPerReader, kb),
        kb(stalled.perReader),
        "",
        "",
      ],
      [
        `streams still open ${STALL_WAIT_MS / 1000} s after stalling, \`streamWriteTimeoutMs: ${STALL_LIMIT_MS}\``,
        before(BEFORE.openAfterLimit, String),
        String(limited.openAfter),
        "0",
        limited.openAfter === 0 ? "PASS" : "FAIL",
      ],
      [
        `generators not finalized after the ${READERS} readers left`,
        String(BEFORE.leaked),
        String(stalled.leaked + limited.leaked),
        "0",
        stalled.leaked + limited.leaked === 0 ? "PASS" : "FAIL",
      ],
    ];
    const body = [
      SECTION,
      "",
      "Written by `bench/streams.bench.ts` (`npm run bench:streams`, after `npm run build`), which replaces only",
      "this section. Heap figures are `heapUsed` after two full collections (`--expose-gc`) in the server's",
      "process; the clients run in a child process.",
      "",
      `- Date: ${new Date().toISOString()}; Node ${process.version}; run time ${seconds} s`,
      `- Events: \`RunEvent\`s of about 1 KB (a 900-character \`data.pad\`), validated (\`validateResponses: "strict"\`).`,
      `- Stalled readers: ${READERS} clients read the first event, then stop reading; the figure is taken once`,
      `  production has stopped (${int(stalled.produced)} events in all, every socket buffer full).`,
      "- Before: the same script against commit `a432bcb` (each `writeNdjson` step raced the iterator against one",
      "  promise per stream that settled on abort, and V8 keeps every settled value of such a race alive).",
      "",
      table(["Measure", "before", "now", "target", "status"], rows),
      "",
      table(["Events sent (one stream)", "heapUsed (MiB)"], sampleRows),
    ].join("\n");
    console.log(body);
    writeResultsSection(SECTION, body);
  } finally {
    child.kill();
  }
}

if (process.argv[2] === "--clients") clients();
else await main();
