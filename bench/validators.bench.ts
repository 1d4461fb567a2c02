/**
 * `@arp/model`'s precompiled validators against ajv compiling the same schemas in-process, side by
 * side in one run: (1) validation throughput over the golden vectors, (2) the start-up cost of
 * importing `@arp/model` against importing ajv and compiling every schema. Prints a table and
 * updates its section of `bench/results.md`. See README.md for what is measured and why the baseline is fair.
 *
 * Run: `npm run build && npm run bench` at the repository root.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CompiledValidator,
  formatValidators,
  isValid,
  SCHEMA_FILES,
  SCHEMAS,
  type SchemaName,
} from "@arp/model";
import { Ajv2020 } from "ajv/dist/2020.js";
import { int, median, spread, table, writeResultsSection } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// Settings

const ROUNDS = 20; // throughput rounds; each gives every contender SLICE_MS per workload
const SLICE_MS = 200; // per contender, workload and round ...
const CHUNKS = 8; // ... cut into this many interleaved chunks, so neighbours share the machine's noise
const WARMUP_MS = 300; // per contender and workload, before the first round
const IMPORT_RUNS = 20; // fresh child processes per side
const IMPORT_WARMUP_RUNS = 2; // per side, discarded (file-system cache)

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const schemasRoot = join(repoRoot, "spec/v1/schemas");
const vectorsRoot = join(repoRoot, "spec/v1/conformance");

/** The `$id` prefix the generator gives each schema (tools/codegen/src/config.ts, SCHEMA_ID_BASE). */
const ID_BASE = "https://arp.invalid/spec/v1/schemas/";

/**
 * The options the generator compiles `@arp/model`'s validators with: `AJV_OPTIONS` in
 * tools/codegen/src/emit/validators.ts (checked below, so a change there cannot go unnoticed).
 * The baseline differs in one option only, `strict: false`: the generator strips annotations and
 * `x-*` vendor keys before compiling in strict mode, the baseline compiles the files as they are.
 * Strict mode only vets schemas at compile time; it does not change the code that validates.
 */
const CODEGEN_AJV_OPTIONS = { allErrors: true, strict: true, inlineRefs: false, messages: false } as const;
const BASELINE_AJV_OPTIONS = { ...CODEGEN_AJV_OPTIONS, strict: false } as const;

function assertCodegenOptionsUnchanged(): void {
  const source = readFileSync(join(repoRoot, "tools/codegen/src/emit/validators.ts"), "utf8");
  const literal = /export const AJV_OPTIONS = (\{[^}]*\})/.exec(source)?.[1];
  const parsed: unknown = literal ? JSON.parse(literal.replace(/(\w+):/g, '"$1":')) : undefined;
  if (JSON.stringify(parsed) !== JSON.stringify(CODEGEN_AJV_OPTIONS)) {
    throw new Error(
      `AJV_OPTIONS in tools/codegen is ${literal}; update CODEGEN_AJV_OPTIONS in bench/validators.bench.ts`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const ms = (n: number): string => n.toFixed(1);
const ratio = (n: number): string => n.toFixed(2);

// ---------------------------------------------------------------------------------------------
// The workload: golden vectors, mapped to their schema file like packages/model/test/helpers.ts

interface Doc {
  path: string;
  name: SchemaName;
  id: string;
  data: unknown;
  valid: boolean;
}

function readVectors(folder: string, valid: boolean, keep: (file: string) => boolean): Doc[] {
  const dir = join(vectorsRoot, folder);
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => f.split(sep).join("/"))
    .filter((f) => f.endsWith(".json") && keep(f))
    .sort()
    .map((path) => {
      const flat = path.replace(/\.json$/, ".schema.json");
      const nested = path.replace(/\/[^/]+\.json$/, ".schema.json");
      const file = flat in SCHEMA_FILES ? flat : nested;
      const name = SCHEMA_FILES[file];
      if (!name) throw new Error(`${folder}/${path}: maps to no schema`);
      const data: unknown = JSON.parse(readFileSync(join(dir, path), "utf8"));
      return { path: `${folder}/${path}`, name, id: ID_BASE + file, data, valid };
    });
}

const validDocs = readVectors("json_vectors", true, (f) => /(^|\/)(full|minimal)\.json$/.test(f));
const invalidDocs = readVectors("json_vectors_invalid", false, () => true);

/** Every validator `@arp/model` ships, as the id ajv knows it by (a file, or a pointer into one). */
const schemaIds: string[] = (Object.keys(SCHEMAS) as SchemaName[]).map((name) => {
  const entry: { file: string; pointer?: string } = SCHEMAS[name];
  return ID_BASE + entry.file + (entry.pointer ? `#${entry.pointer}` : "");
});

// ---------------------------------------------------------------------------------------------
// The baseline, in-process: ajv compiling the spec files with the generator's options and formats

function compileBaseline(): Ajv2020 {
  const ajv = new Ajv2020(BASELINE_AJV_OPTIONS);
  for (const [name, check] of Object.entries(formatValidators)) ajv.addFormat(name, check);
  const files = (readdirSync(schemasRoot, { recursive: true }) as string[]).filter((f) =>
    f.endsWith(".schema.json"),
  );
  for (const f of files.sort()) {
    const file = f.split(sep).join("/");
    ajv.addSchema({ $id: ID_BASE + file, ...JSON.parse(readFileSync(join(schemasRoot, f), "utf8")) });
  }
  for (const id of schemaIds) if (!ajv.getSchema(id)) throw new Error(`baseline: cannot compile ${id}`);
  return ajv;
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput

type Check = (data: unknown) => boolean;

/**
 * The contenders. `ours` (`SCHEMAS[n].validate`), `guards` (the generated `isX` functions) and
 * `isValid` (name dispatch) are what `import "@arp/model"` gives; `baseline` is ajv.
 * Two controls read the others: `oursCjs` is the same validators from the package's CommonJS build
 * (same generated code, loaded as a script instead of an ES module), `baselineAA` is a second ajv
 * instance compiled like the first (an A/A run: how far apart two identical contenders land).
 * `baselineByName` is ajv's own by-name call, `ajv.validate(id, data)`: the like-for-like baseline of
 * `isValid(name, data)`, which also finds its validator by name on every call.
 */
const CONTENDERS = [
  "ours",
  "guards",
  "isValid",
  "oursCjs",
  "baseline",
  "baselineAA",
  "baselineByName",
] as const;
type Contender = (typeof CONTENDERS)[number];

interface Workload {
  label: string;
  docs: unknown[];
  names: SchemaName[];
  checks: Record<Exclude<Contender, "isValid" | "baselineByName">, Check[]>;
  /** The baseline's schema ids, for `ajv.validate(id, data)`. */
  ids: string[];
  ajv: Ajv2020;
  validCount: number;
}

type ModelModule = typeof import("@arp/model");
const model: ModelModule = await import("@arp/model");

function workload(
  label: string,
  docs: readonly Doc[],
  ajv: Ajv2020,
  ajvAA: Ajv2020,
  cjs: ModelModule,
): Workload {
  return {
    label,
    docs: docs.map((d) => d.data),
    names: docs.map((d) => d.name),
    ids: docs.map((d) => d.id),
    ajv,
    checks: {
      ours: docs.map((d) => SCHEMAS[d.name].validate as CompiledValidator),
      guards: docs.map((d) => model[`is${d.name}` as keyof ModelModule] as Check),
      oursCjs: docs.map((d) => cjs.SCHEMAS[d.name].validate as CompiledValidator),
      baseline: docs.map((d) => ajv.getSchema(d.id)!),
      baselineAA: docs.map((d) => ajvAA.getSchema(d.id)!),
    },
    validCount: docs.filter((d) => d.valid).length,
  };
}

/** One pass over the workload. All compiled contenders share this loop, so they share its call site. */
function sweep(checks: readonly Check[], docs: readonly unknown[]): number {
  let ok = 0;
  for (let i = 0; i < docs.length; i++) if (checks[i]!(docs[i])) ok++;
  return ok;
}

/** The same pass through the public API: `isValid(name, data)`. */
function sweepIsValid(names: readonly SchemaName[], docs: readonly unknown[]): number {
  let ok = 0;
  for (let i = 0; i < docs.length; i++) if (isValid(names[i]!, docs[i])) ok++;
  return ok;
}

/** The baseline's by-name pass: `ajv.validate(id, data)`, ajv's counterpart of `isValid`. */
function sweepByName(ajv: Ajv2020, ids: readonly string[], docs: readonly unknown[]): number {
  let ok = 0;
  for (let i = 0; i < docs.length; i++) if (ajv.validate(ids[i]!, docs[i])) ok++;
  return ok;
}

interface Tally {
  docs: number;
  ms: number;
}

/** Runs whole passes for `sliceMs` and adds what it did to `tally`. */
function slice(w: Workload, who: Contender, sliceMs: number, tally: Tally): void {
  let passes = 0;
  let ok = 0;
  const start = performance.now();
  const end = start + sliceMs;
  let now = start;
  do {
    ok +=
      who === "isValid"
        ? sweepIsValid(w.names, w.docs)
        : who === "baselineByName"
          ? sweepByName(w.ajv, w.ids, w.docs)
          : sweep(w.checks[who], w.docs);
    passes++;
    now = performance.now();
  } while (now < end);
  // Uses every result (no dead code to eliminate) and proves each pass judged every document right.
  if (ok !== passes * w.validCount)
    throw new Error(`${who} on ${w.label}: ${ok} valid, want ${passes * w.validCount}`);
  tally.docs += passes * w.docs.length;
  tally.ms += now - start;
}

/** Ours and the baseline must agree on every document, down to the errors, or the race is void. */
function assertSameVerdicts(docs: readonly Doc[], ajv: Ajv2020, cjs: ModelModule): void {
  const summary = (errors: CompiledValidator["errors"]) =>
    JSON.stringify((errors ?? []).map((e) => [e.instancePath, e.schemaPath, e.keyword, e.params]));
  for (const d of docs) {
    const sides: [string, CompiledValidator][] = [
      ["ours", SCHEMAS[d.name].validate as CompiledValidator],
      ["ours (CJS build)", cjs.SCHEMAS[d.name].validate as CompiledValidator],
      ["baseline", ajv.getSchema(d.id) as CompiledValidator],
    ];
    const seen = sides.map(([who, check]) => {
      if (check(d.data) !== d.valid) throw new Error(`${d.path}: ${who} says ${!d.valid}, want ${d.valid}`);
      return `${who}: ${summary(check.errors)}`;
    });
    if (new Set(seen.map((s) => s.slice(s.indexOf(":")))).size !== 1) {
      throw new Error(`${d.path}: the validators report different errors\n${seen.join("\n")}`);
    }
  }
}

interface ThroughputRow {
  label: string;
  docs: number;
  /** Median documents per second. */
  ops: Record<Contender, number>;
  /** Per round: contender / baseline. */
  ratios: Record<Contender, number[]>;
  /** Per round: nanoseconds `isValid` adds to each call over `SCHEMAS[n].validate`. */
  isValidOverheadNs: number[];
}

function measureThroughput(workloads: readonly Workload[]): ThroughputRow[] {
  for (const w of workloads) for (const who of CONTENDERS) slice(w, who, WARMUP_MS, { docs: 0, ms: 0 });

  const perSecond = workloads.map(
    () => Object.fromEntries(CONTENDERS.map((c) => [c, [] as number[]])) as Record<Contender, number[]>,
  );
  for (let round = 0; round < ROUNDS; round++) {
    workloads.forEach((w, i) => {
      const tallies = Object.fromEntries(CONTENDERS.map((c) => [c, { docs: 0, ms: 0 }])) as Record<
        Contender,
        Tally
      >;
      for (let chunk = 0; chunk < CHUNKS; chunk++) {
        // Who goes first alternates from chunk to chunk and from round to round.
        const order = (round + chunk) % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
        for (const who of order) slice(w, who, SLICE_MS / CHUNKS, tallies[who]);
      }
      for (const who of CONTENDERS) {
        const t = tallies[who];
        perSecond[i]![who].push(t.docs / (t.ms / 1000));
      }
    });
    process.stdout.write(`\r  throughput round ${round + 1}/${ROUNDS}`);
  }
  process.stdout.write("\n");

  return workloads.map((w, i) => {
    const s = perSecond[i]!;
    const ops = {} as Record<Contender, number>;
    const ratios = {} as Record<Contender, number[]>;
    for (const who of CONTENDERS) {
      ops[who] = median(s[who]);
      ratios[who] = s[who].map((v, r) => v / s.baseline[r]!);
    }
    const isValidOverheadNs = s.isValid.map((v, r) => (1 / v - 1 / s.ours[r]!) * 1e9);
    return { label: w.label, docs: w.docs.length, ops, ratios, isValidOverheadNs };
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Import / start-up cost, in fresh child processes

/**
 * The format checks, as plain JavaScript, for the baseline child: the `src/formats.ts` section of
 * `@arp/model`'s own bundle, i.e. exactly the code the precompiled validators call. The child must
 * not import `@arp/model` for them (that would charge our import to the baseline).
 */
function formatsSource(): string {
  const bundle = readFileSync(fileURLToPath(import.meta.resolve("@arp/model")), "utf8");
  const start = bundle.indexOf("// src/formats.ts\n");
  const end = bundle.indexOf("\n// src/", start + 1);
  const code = start < 0 || end < 0 ? "" : bundle.slice(start, end);
  if (!/\bvar formatValidators = /.test(code))
    throw new Error("cannot find src/formats.ts in @arp/model's bundle");
  return code;
}

function oursChildScript(doc: unknown): string {
  return `
const t0 = performance.now();
const m = await import("@arp/model");
const t1 = performance.now();
const ok = m.isValid("Run", ${JSON.stringify(doc)});
const t2 = performance.now();
console.log(JSON.stringify({ ok, import: t1 - t0, first: t2 - t1, total: t2 - t0 }));
`;
}

function baselineChildScript(doc: unknown): string {
  return `
const t0 = performance.now();
${formatsSource()}
const { Ajv2020 } = await import("ajv/dist/2020.js");
const { readdirSync, readFileSync } = await import("node:fs");
const t1 = performance.now();
const root = ${JSON.stringify(schemasRoot)};
const ajv = new Ajv2020(${JSON.stringify(BASELINE_AJV_OPTIONS)});
for (const [name, check] of Object.entries(formatValidators)) ajv.addFormat(name, check);
for (const f of readdirSync(root, { recursive: true }).filter((f) => f.endsWith(".schema.json")).sort()) {
  const file = f.split(${JSON.stringify(sep)}).join("/");
  ajv.addSchema({ $id: ${JSON.stringify(ID_BASE)} + file, ...JSON.parse(readFileSync(root + "/" + f, "utf8")) });
}
const t2 = performance.now();
for (const id of ${JSON.stringify(schemaIds)}) if (!ajv.getSchema(id)) throw new Error("cannot compile " + id);
const t3 = performance.now();
const ok = ajv.getSchema(${JSON.stringify(`${ID_BASE}core/run.schema.json`)})(${JSON.stringify(doc)});
const t4 = performance.now();
console.log(JSON.stringify({ ok, import: t1 - t0, read: t2 - t1, compile: t3 - t2, first: t4 - t3, total: t4 - t0 }));
`;
}

/** Phase name → milliseconds; `wall` is the whole child process as seen from here. */
type Phases = Record<string, number>;

function runChild(script: string): Phases {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // a plain node, whatever launched this script
  const start = performance.now();
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: benchDir,
    env,
    encoding: "utf8",
  });
  const wall = performance.now() - start;
  const parsed = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number | boolean>;
  if (parsed.ok !== true) throw new Error(`child: first validation failed: ${out}`);
  const phases: Phases = { wall };
  for (const [k, v] of Object.entries(parsed)) if (typeof v === "number") phases[k] = v;
  return phases;
}

interface StartupResult {
  ours: Phases[];
  baseline: Phases[];
}

function measureStartup(doc: unknown): StartupResult {
  const scripts = { ours: oursChildScript(doc), baseline: baselineChildScript(doc) };
  for (let i = 0; i < IMPORT_WARMUP_RUNS; i++) {
    runChild(scripts.ours);
    runChild(scripts.baseline);
  }
  const result: StartupResult = { ours: [], baseline: [] };
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const order: (keyof StartupResult)[] = i % 2 === 0 ? ["ours", "baseline"] : ["baseline", "ours"];
    for (const who of order) result[who].push(runChild(scripts[who]));
    process.stdout.write(`\r  start-up run ${i + 1}/${IMPORT_RUNS}`);
  }
  process.stdout.write("\n");
  return result;
}

// ---------------------------------------------------------------------------------------------
// Main

assertCodegenOptionsUnchanged();
const modelCjs = createRequire(import.meta.url)("@arp/model") as ModelModule;
const ajv = compileBaseline();
const ajvAA = compileBaseline();
assertSameVerdicts([...validDocs, ...invalidDocs], ajv, modelCjs);

const ajvVersion = (
  JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("ajv/package.json")), "utf8")) as {
    version: string;
  }
).version;
const cpu = cpus();
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpu[0]?.model.trim() ?? "unknown",
  cores: cpu.length,
};
console.log(`Node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, ajv ${ajvVersion}`);
console.log(
  `Workload: ${validDocs.length} valid (full + minimal) and ${invalidDocs.length} invalid golden vectors; ${schemaIds.length} validators`,
);

const runDoc = validDocs.find((d) => d.path === "json_vectors/core/run/full.json");
if (!runDoc) throw new Error("json_vectors/core/run/full.json not found");

const t0 = performance.now();
const throughput = measureThroughput([
  workload("valid + invalid", [...validDocs, ...invalidDocs], ajv, ajvAA, modelCjs),
  workload("valid only", validDocs, ajv, ajvAA, modelCjs),
  workload("invalid only", invalidDocs, ajv, ajvAA, modelCjs),
]);
const startup = measureStartup(runDoc.data);
const elapsed = (performance.now() - t0) / 1000;

// Throughput tables
const throughputTable = table(
  [
    "Workload",
    "Docs",
    "ours `SCHEMAS[n].validate` (docs/s)",
    "ours `isX(d)` guards (docs/s)",
    "ours `isValid(n, d)` (docs/s)",
    "ajv baseline (docs/s)",
    "ours / baseline",
    "guards / baseline",
    "`isValid` / baseline",
  ],
  throughput.map((t) => [
    t.label,
    String(t.docs),
    int(t.ops.ours),
    int(t.ops.guards),
    int(t.ops.isValid),
    int(t.ops.baseline),
    spread(t.ratios.ours),
    spread(t.ratios.guards),
    spread(t.ratios.isValid),
  ]),
);
const controlsTable = table(
  [
    "Workload",
    "A/A: 2nd ajv instance / baseline",
    "ours, CJS build / baseline",
    "ours ESM / ours CJS",
    "`isValid` cost per call (ns)",
    "`isValid` / ajv by name",
  ],
  throughput.map((t) => [
    t.label,
    spread(t.ratios.baselineAA),
    spread(t.ratios.oursCjs),
    ratio(median(t.ratios.ours.map((v, r) => v / t.ratios.oursCjs[r]!))),
    median(t.isValidOverheadNs).toFixed(0),
    spread(t.ratios.isValid.map((v, r) => v / t.ratios.baselineByName[r]!)),
  ]),
);

// Start-up table
const med = (side: Phases[], key: string) => median(side.map((p) => p[key] ?? 0));
const startupRows: [string, string][] = [
  ["import (`@arp/model`; `ajv` + format checks)", "import"],
  ["read + `addSchema` every schema file", "read"],
  ["compile every validator (`getSchema`)", "compile"],
  ["first validation (`Run`, full vector)", "first"],
  ["**total in the child: import → first validation**", "total"],
  ["child process wall time (node start-up included)", "wall"],
];
const startupTable = table(
  [`Phase (median of ${IMPORT_RUNS} fresh processes each)`, "ours (ms)", "baseline (ms)", "baseline / ours"],
  startupRows.map(([label, key]) => {
    const oursHas = startup.ours.some((p) => key in p);
    const baseHas = startup.baseline.some((p) => key in p);
    const ours = med(startup.ours, key);
    const base = med(startup.baseline, key);
    return [
      label,
      oursHas ? ms(ours) : "—",
      baseHas ? ms(base) : "—",
      oursHas && baseHas ? `${ratio(base / ours)}×` : "—",
    ];
  }),
);
const startupRatios = startup.ours.map((p, i) => startup.baseline[i]!.total! / p.total!);
const startupRatio = med(startup.baseline, "total") / med(startup.ours, "total");

// Targets
const mixed = throughput[0]!;
// Like for like: both find the validator by name on every call.
const isValidByName = mixed.ratios.isValid.map((v, r) => v / mixed.ratios.baselineByName[r]!);
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const targets = table(
  ["Target", "Measured", "Status"],
  [
    [
      "throughput ours / baseline >= 1.0 (valid + invalid, `SCHEMAS[n].validate`)",
      spread(mixed.ratios.ours, 3),
      verdict(median(mixed.ratios.ours) >= 1.0),
    ],
    [
      "throughput ours / baseline >= 1.0 (valid + invalid, generated `isX` guards)",
      spread(mixed.ratios.guards, 3),
      verdict(median(mixed.ratios.guards) >= 1.0),
    ],
    [
      "throughput ours / baseline >= 1.0 (valid + invalid, public `isValid` vs. ajv's by-name `ajv.validate(id, d)`)",
      spread(isValidByName, 3),
      verdict(median(isValidByName) >= 1.0),
    ],
    [
      "start-up: import + first validation >= 5× cheaper than compiling at start-up",
      `${startupRatio.toFixed(3)}× (pairs ${ratio(Math.min(...startupRatios))}–${ratio(Math.max(...startupRatios))}×)`,
      verdict(startupRatio >= 5),
    ],
  ],
);

const SECTION = "## Validators (@arp/model) vs. ajv compiling at run time";
const report = `${SECTION}

Written by \`bench/validators.bench.ts\`.

- Date: ${machine.date}
- Node: ${machine.node}; ajv ${ajvVersion}
- CPU: ${machine.cpu} (${machine.cores} cores)
- Run time: ${elapsed.toFixed(0)} s

### Method

Throughput: the golden vectors (every valid \`full.json\` and \`minimal.json\`, and every invalid vector) are
validated in one process by \`@arp/model\`'s precompiled validators and by ajv compiling the same schema files
with the same options and formats, ${ROUNDS} rounds × ${SLICE_MS} ms per contender, each round cut into ${CHUNKS}
interleaved chunks whose order alternates, after ${WARMUP_MS} ms of warm-up; ratios are medians of the
per-round ratios, with their min–max. Start-up: ${IMPORT_RUNS} fresh \`node\` processes per side, alternating, each
timing with \`performance.now()\` from before \`import("@arp/model")\` to the end of a first validation, against
importing ajv, reading and compiling every schema and the same first validation; medians are quoted.

### Throughput (documents validated per second, median of ${ROUNDS} rounds)

${throughputTable}

Controls (same rounds): an A/A run shows how far two identical contenders land apart; the CJS build runs
the very same generated code loaded as a script rather than an ES module.

${controlsTable}

### Start-up cost

${startupTable}

### Targets

${targets}

### How to reproduce

\`\`\`sh
npm run build && npm run bench
\`\`\`
`;

writeResultsSection(SECTION, report);

console.log("\nThroughput (documents/s, medians; ratios: median of per-round ratios (min–max))\n");
console.log(throughputTable);
console.log("\nControls\n");
console.log(controlsTable);
console.log("\nStart-up cost (medians)\n");
console.log(startupTable);
console.log("\nTargets\n");
console.log(targets);
console.log(`\nUpdated the validators section of bench/results.md (${elapsed.toFixed(0)} s).`);
