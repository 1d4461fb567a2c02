/**
 * The README's examples and a CommonJS consumer are compiled against the built package (its .d.ts
 * files, skipLibCheck off, `exactOptionalPropertyTypes` on, no Node types: what a browser project
 * sees). Most need live services, so they are type-checked; the event-stream examples are also run,
 * against a real loopback server, because their end conditions are what they document.
 */
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readmeExamples, typecheck, writeExamples } from "@arp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Loopback, startLoopback, write } from "./support/loopback.js";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const consumer = join(pkgRoot, "test/consumer");
const examples = readmeExamples(join(pkgRoot, "README.md"));
let files: string[] = [];

beforeAll(() => {
  files = writeExamples(consumer, examples);
});

it("README examples type-check against the built declaration files", () => {
  expect(examples.length).toBeGreaterThanOrEqual(5);
  typecheck(consumer);
}, 180_000);

describe("the event-stream examples, run", () => {
  const TIME = "2026-01-15T09:30:00Z";
  const ev = (run_id: string, seq: number, type: string) =>
    `${JSON.stringify({ run_id, seq, type, time: TIME })}\n`;
  let server: Loopback;
  type StreamExamples = {
    history(baseUrl: string, runId: string, o?: { idleTimeoutMs?: number }): Promise<{ seq: number }[]>;
    snapshot(baseUrl: string, runId: string): Promise<number[]>;
    untilQuiet(baseUrl: string, runId: string, quietMs: number): Promise<{ seq: number }[]>;
  };
  let streams: StreamExamples;

  beforeAll(async () => {
    const index = examples.findIndex((code) => code.includes("export async function history("));
    expect(index).toBeGreaterThanOrEqual(0);
    streams = (await import(pathToFileURL(files[index]!).href)) as StreamExamples;
    server = await startLoopback(async ({ url, res }: { url: string; res: ServerResponse }) => {
      const runId = decodeURIComponent(url.split("/")[3] ?? "");
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      if (runId === "run_done") {
        // A live server: two events, a pause, then run_completed, and it keeps the connection open.
        await write(res, ev(runId, 0, "run_started") + ev(runId, 1, "atomic_executed"));
        await new Promise((resolve) => setTimeout(resolve, 50));
        await write(res, ev(runId, 2, "run_completed"));
      } else {
        // A snapshot server whose run never completes.
        res.end(ev(runId, 0, "run_started") + ev(runId, 1, "atomic_executed"));
      }
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("history ends after run_completed, on a connection the server keeps open", async () => {
    const events = await streams.history(server.url, "run_done");
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it("snapshot reads one connection and ends", async () => {
    expect(await streams.snapshot(server.url, "run_stuck")).toEqual([0, 1]);
  });

  it("history rejects with stream_idle_timeout when a run never finishes; untilQuiet returns what came", async () => {
    await expect(streams.history(server.url, "run_stuck", { idleTimeoutMs: 200 })).rejects.toMatchObject({
      code: "stream_idle_timeout",
    });
    const events = await streams.untilQuiet(server.url, "run_stuck", 200);
    expect(events.map((e) => e.seq)).toEqual([0, 1]);
  });
});
