/**
 * The load the reliability tests and `bench/load.bench.ts` put on a stack: five-step pipeline runs
 * through the gateway, each with an output computed here independently, each followed on its own
 * event stream to `run_completed`; and each service's memory, asked of its process (a stack started
 * with `processes`, see src/replicas.ts `memory()`).
 */
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import type { ProcessMemory } from "../../src/process.js";
import type { RunningStack } from "../../src/stack.js";
import { logProblems, readRunLog } from "../run-log.js";

export const STEPS = 5;

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

/** Each run's own text: its number, and characters whose case mapping and reversal are not trivial. */
const textOf = (i: number) => `run ${i} of the Straße café 🚀 ${"ab".repeat(i % 7)} ÉTÉ`;

/** Run i: upper- or lower-case it (alternately), reverse it, count its words, tag it (echo), hash it. */
export function pipelineOf(i: number): T.RunStartRequest {
  return {
    root_node_type_ref: ref("pipeline"),
    input: {
      input: { text: textOf(i) },
      steps: [
        { node_type: ref(i % 2 === 0 ? "text.upper" : "text.lower") },
        { node_type: ref("text.reverse") },
        { node_type: ref("text.word_count") },
        { node_type: ref("echo"), inputs: { run: i } },
        { node_type: ref("sha256") },
      ],
    },
  };
}

/** What each step of run i must answer, computed here without the stack; the last is the run's. */
export function expectedOf(i: number): Record<string, unknown>[] {
  const text = textOf(i);
  const cased = i % 2 === 0 ? text.toUpperCase() : text.toLowerCase();
  const reversed = [...cased].reverse().join(""); // by code point: the emoji stays whole
  // run, i, of, the, Straße, café, 🚀, ÉTÉ, and the run of "ab" unless it is empty.
  const counted = { text: reversed, words: i % 7 === 0 ? 8 : 9, characters: [...cased].length };
  return [
    { text: cased },
    { text: reversed },
    counted,
    { ...counted, run: i },
    { sha256: createHash("sha256").update(reversed, "utf8").digest("hex") },
  ];
}

export interface Outcome {
  readonly i: number;
  readonly run: T.Run;
  /** The run's whole log, as its gateway stream gave it. */
  readonly events: T.RunEvent[];
  /** From the start request to the end of the stream (its `run_completed`). */
  readonly latencyMs: number;
}

/** Run i, started and read to its end; what is wrong with it (empty: nothing). */
export async function runOne(
  gateway: RunGatewayClient,
  gatewayUrl: string,
  i: number,
  signal: AbortSignal,
): Promise<{ outcome: Outcome; problems: string[] }> {
  const began = performance.now();
  const run = await gateway.startRun(pipelineOf(i), { signal });
  const events = await readRunLog(gatewayUrl, run.run_id, signal);
  const outcome = { i, run, events, latencyMs: performance.now() - began };
  const problems = logProblems(events, run.run_id, "succeeded");
  const outputs = events.at(-1)?.data?.outputs;
  if (JSON.stringify(outputs) !== JSON.stringify(expectedOf(i).at(-1)))
    problems.push(`${run.run_id} (run ${i}): outputs ${JSON.stringify(outputs)}`);
  return { outcome, problems };
}

export interface Load {
  readonly outcomes: Outcome[];
  readonly problems: string[];
  readonly wallMs: number;
}

/** Runs `first` .. `first + count - 1`, all started at once. */
export async function allAtOnce(
  gatewayUrl: string,
  count: number,
  signal: AbortSignal,
  first = 0,
): Promise<Load> {
  const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
  setMaxListeners(0, signal); // every run's requests in flight listen to it: thousands at once, by design
  const began = performance.now();
  const done = await Promise.all(
    Array.from({ length: count }, (_, n) => runOne(gateway, gatewayUrl, first + n, signal)),
  );
  return {
    outcomes: done.map((d) => d.outcome),
    problems: done.flatMap((d) => d.problems),
    wallMs: performance.now() - began,
  };
}

/**
 * Runs from `first` on, `concurrency` in flight (a new one starts as one ends), until `count` have
 * started or `untilMs` (a `performance.now()` time) has passed, whichever comes first.
 */
export async function steady(
  gatewayUrl: string,
  options: { concurrency: number; count?: number; untilMs?: number; first?: number; signal: AbortSignal },
): Promise<Load> {
  const gateway = new RunGatewayClient({ baseUrl: gatewayUrl });
  setMaxListeners(0, options.signal); // as in allAtOnce: every run in flight listens to it
  const outcomes: Outcome[] = [];
  const problems: string[] = [];
  const first = options.first ?? 0;
  const last = first + (options.count ?? Number.POSITIVE_INFINITY);
  let next = first;
  const began = performance.now();
  const more = () => next < last && (options.untilMs === undefined || performance.now() < options.untilMs);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (more()) {
        const done = await runOne(gateway, gatewayUrl, next++, options.signal);
        outcomes.push(done.outcome);
        problems.push(...done.problems);
      }
    }),
  );
  return { outcomes, problems, wallMs: performance.now() - began };
}

/** The value at quantile `q` (0..1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** Each process of the stack by a name (`run-coordinator` or `run-coordinator #2` for a second replica). */
export function processNames(stack: RunningStack): string[] {
  const seen = new Map<string, number>();
  return stack.processes.map((p) => {
    const n = (seen.get(p.service) ?? 0) + 1;
    seen.set(p.service, n);
    return n === 1 ? p.service : `${p.service} #${n}`;
  });
}

/**
 * How long after a load what it leaves behind by design goes: its keep-alive connections close (the
 * servers' 5 s keep-alive and Node's 1 s grace; the clients' 4 s), and the PostgreSQL store forgets
 * the runs gone quiet (`TAIL_IDLE_MS`, 5 s, checked every second). Until then their sockets, buffers
 * and events are on the heap, which is not what "back to its baseline" asks about.
 */
export const SETTLE_MS = 10_000;

/** Every process's memory (heap after GC when started with `--expose-gc`), by {@link processNames}. */
export async function memoryOf(stack: RunningStack): Promise<Map<string, ProcessMemory>> {
  const names = processNames(stack);
  const memories = await Promise.all(stack.processes.map((p) => p.memory()));
  return new Map(memories.map((m, n) => [names[n]!, m]));
}

export const MiB = 2 ** 20;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
