/**
 * NDJSON parse throughput of `@arp/client`: events per second for realistic RunEvent lines (~200 bytes),
 * fed in 16 KiB and 1 KiB chunks through `readNdjson` over a `ReadableStream` and through
 * `NdjsonDecoder` directly, side by side with a naive baseline that decodes the whole buffer and runs
 * `text.split("\n").map(JSON.parse)`: a ceiling (it holds the whole body), not a streaming parser.
 * Prints a table and replaces (or appends) the section `## NDJSON parse throughput (@arp/client)` of
 * `bench/results.md`, leaving the other sections, written by validators.bench.ts, as they are.
 *
 * Run: `cd bench && npx tsx ndjson.bench.ts` (no build needed: the parser is imported from source).
 */
import { cpus } from "node:os";
import { NdjsonDecoder, type NdjsonLine, readNdjson } from "../packages/client/src/core/ndjson.js";
import { int, median, spread, table, writeResultsSection } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// Settings

const EVENTS = 50_000; // per pass (~10 MB)
const ROUNDS = 15; // measured rounds; each runs every contender once, in an order that alternates
const WARMUP_ROUNDS = 3; // discarded
const TARGET_EVENTS_PER_S = 200_000;
const SECTION = "## NDJSON parse throughput (@arp/client)";

// ---------------------------------------------------------------------------------------------
// Helpers (the table is padded as Biome formats Markdown, like validators.bench.ts)

// ---------------------------------------------------------------------------------------------
// The workload: RunEvent lines as a run gateway streams them (seeded, so every run is the same)

let seed = 42;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const id = (prefix: string): string =>
  `${prefix}_01J9ZQ${Array.from({ length: 20 }, () => pick([..."0123456789ABCDEFGHJKMNPQRSTVWXYZ"])).join("")}`;

function runEvent(runId: string, seq: number): Record<string, unknown> {
  const time = new Date(Date.UTC(2026, 0, 15, 9, 30) + seq * 137).toISOString();
  const nodeRunId = id("node_run");
  switch (pick(["assigned", "executed", "executed", "evaluated", "decided"] as const)) {
    case "assigned":
      return {
        run_id: runId,
        node_run_id: nodeRunId,
        seq,
        type: "node_run_assigned",
        time,
        data: { executor: "atomic-executor-1", node_type: "summarize@1.2.0" },
      };
    case "executed":
      return {
        run_id: runId,
        node_run_id: nodeRunId,
        seq,
        type: "atomic_executed",
        time,
        data: { state: "succeeded", duration_ms: Math.floor(random() * 10_000), outputs_keys: ["summary"] },
      };
    case "evaluated":
      return {
        run_id: runId,
        node_run_id: nodeRunId,
        seq,
        type: "node_evaluated",
        time,
        data: { status: "success", score: Math.round(random() * 100) / 100, note: "résumé ✓" },
      };
    case "decided":
      return {
        run_id: runId,
        seq,
        type: "policy_decided",
        time,
        data: { outcome: "allow", reason_code: "within_budget", policy_id: "pol_default" },
      };
  }
}

const runId = id("run");
const text = `${Array.from({ length: EVENTS }, (_, seq) => JSON.stringify(runEvent(runId, seq))).join("\n")}\n`;
const payload = new TextEncoder().encode(text);
const expectedSeqSum = (EVENTS * (EVENTS - 1)) / 2;

const slice = (size: number): Uint8Array[] =>
  Array.from({ length: Math.ceil(payload.length / size) }, (_, i) =>
    payload.subarray(i * size, (i + 1) * size),
  );
const chunks16k = slice(16 * 1024);
const chunks1k = slice(1024);

// ---------------------------------------------------------------------------------------------
// Contenders: each parses the whole payload and returns the sum of `seq` (checked, and keeps results alive)

/** A body like fetch's: chunks are handed out as the consumer pulls. */
function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

const seqOf = (value: unknown): number => (value as { seq: number }).seq;

async function viaStream(chunks: readonly Uint8Array[]): Promise<number> {
  let sum = 0;
  for await (const { value } of readNdjson(streamOf(chunks))) sum += seqOf(value);
  return sum;
}

function viaDecoder(chunks: readonly Uint8Array[]): number {
  const decoder = new NdjsonDecoder();
  const out: NdjsonLine[] = [];
  let sum = 0;
  for (const chunk of chunks) {
    decoder.push(chunk, out);
    for (let i = 0; i < out.length; i++) sum += seqOf(out[i]!.value);
    out.length = 0;
  }
  for (const { value } of decoder.end(out)) sum += seqOf(value);
  return sum;
}

function baseline(): number {
  // The whole body at once, as `await response.text()` would give it; its final newline dropped.
  const whole = new TextDecoder().decode(payload);
  const values = whole
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as unknown);
  let sum = 0;
  for (const value of values) sum += seqOf(value);
  return sum;
}

/** The same, but each value dropped once read, as a streaming consumer does: no 50,000 live objects for the GC. */
function baselineNotKept(): number {
  const whole = new TextDecoder().decode(payload);
  const lines = whole.slice(0, -1).split("\n");
  let sum = 0;
  for (let i = 0; i < lines.length; i++) sum += seqOf(JSON.parse(lines[i]!));
  return sum;
}

interface Contender {
  key: string;
  label: string;
  chunks: string;
  run: () => number | Promise<number>;
}

const CONTENDERS: Contender[] = [
  {
    key: "stream16k",
    label: "`readNdjson` over a ReadableStream",
    chunks: "16 KiB",
    run: () => viaStream(chunks16k),
  },
  {
    key: "stream1k",
    label: "`readNdjson` over a ReadableStream",
    chunks: "1 KiB",
    run: () => viaStream(chunks1k),
  },
  {
    key: "decoder16k",
    label: "`NdjsonDecoder.push` directly",
    chunks: "16 KiB",
    run: () => viaDecoder(chunks16k),
  },
  {
    key: "decoder1k",
    label: "`NdjsonDecoder.push` directly",
    chunks: "1 KiB",
    run: () => viaDecoder(chunks1k),
  },
  {
    key: "baseline",
    label: 'baseline: `decode(all).split("\\n").map(JSON.parse)`',
    chunks: "whole body",
    run: baseline,
  },
  {
    key: "baselineLoop",
    label: 'control: `decode(all).split("\\n")`, `JSON.parse` in a loop',
    chunks: "whole body",
    run: baselineNotKept,
  },
];

// ---------------------------------------------------------------------------------------------
// Measure

const started = performance.now();
const rates = new Map<string, number[]>(CONTENDERS.map((c) => [c.key, []]));

for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  // Rotate and alternate the order so no contender always runs right after the same neighbour.
  const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]!);
  if (round % 2) order.reverse();
  for (const contender of order) {
    const t0 = performance.now();
    const sum = await contender.run();
    const seconds = (performance.now() - t0) / 1000;
    if (sum !== expectedSeqSum)
      throw new Error(`${contender.key}: seq sum ${sum}, expected ${expectedSeqSum}`);
    if (round >= WARMUP_ROUNDS) rates.get(contender.key)!.push(EVENTS / seconds);
  }
}
const elapsed = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Report

const base = rates.get("baseline")!;
const mb = payload.length / 1e6;
const resultsTable = table(
  ["Contender", "Chunks", "events/s (median)", "MB/s", "/ baseline (median, min–max)"],
  CONTENDERS.map((c) => {
    const r = rates.get(c.key)!;
    return [
      c.label,
      c.chunks,
      int(median(r)),
      ((median(r) * mb) / EVENTS).toFixed(0),
      c.key === "baseline" ? "1.00" : spread(r.map((v, i) => v / base[i]!)),
    ];
  }),
);
const streamRate = median(rates.get("stream16k")!);
const targetTable = table(
  ["Target", "Measured", "Status"],
  [
    [
      `\`readNdjson\`, 16 KiB chunks >= ${int(TARGET_EVENTS_PER_S)} events/s`,
      `${int(streamRate)} events/s`,
      streamRate >= TARGET_EVENTS_PER_S ? "PASS" : "MISS",
    ],
  ],
);

const avgLine = (payload.length / EVENTS).toFixed(0);
const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
const section = `${SECTION}

Written by \`bench/ndjson.bench.ts\` (\`cd bench && npx tsx ndjson.bench.ts\`), which replaces only this
section. Read the ratios rather than the absolute figures.

- Date: ${new Date().toISOString()}; Node ${process.version}; ${cpu} (${cpus().length} cores); run time ${elapsed.toFixed(0)} s
- Workload: ${int(EVENTS)} generated RunEvent lines, ${avgLine} bytes each on average (${mb.toFixed(1)} MB
  in all), \`\\n\`-terminated, about a fifth with non-ASCII text.
- Method: ${ROUNDS} rounds after ${WARMUP_ROUNDS} of warm-up; each round parses the whole payload once per
  contender, in an order that rotates and alternates; events/s is the median over the rounds, the ratio
  the median (min–max) of the per-round ratios to the baseline. Every pass checks the sum of \`seq\`.
- The baseline decodes the whole body and splits it, as \`await response.text()\` would allow: meant as a
  ceiling, not a streaming parser. It holds every parsed value at once, which makes V8's young-generation
  GC copy and promote them all; the control row parses the same split lines but drops each value once
  read, as a streaming consumer does, and is the truer ceiling for the parsing work itself.
- Why the streaming decoder can beat the control here: one non-ASCII character makes the whole-body
  string two-byte (UTF-16) throughout, which \`JSON.parse\` reads more slowly, and it is parsed long after
  it was decoded; the decoder parses each 16 KiB piece while it is fresh in cache. On an all-ASCII
  payload (tried by hand) the control runs at the decoder's speed.

${resultsTable}

${targetTable}
`;

writeResultsSection(SECTION, section);

console.log(
  `\nNDJSON parse throughput: ${int(EVENTS)} RunEvent lines of ~${avgLine} bytes, median of ${ROUNDS} rounds\n`,
);
console.log(resultsTable);
console.log(`\n${targetTable}`);
console.log(`\nUpdated the NDJSON section of bench/results.md (${elapsed.toFixed(0)} s).`);
