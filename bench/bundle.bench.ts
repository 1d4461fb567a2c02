/**
 * Browser bundle size of `@arp/model` and `@arp/client`: what a program pays for one import. Each
 * entry is bundled by esbuild for the browser (ESM, minified, as a bundler would from the packages'
 * built `dist/`), then gzipped (level 9). Sizes are deterministic: one build per entry, no rounds.
 * Prints a table and replaces (or appends) the section `## Browser bundle size (@arp/model,
 * @arp/client)` of `bench/results.md`.
 *
 * Run: `npm run build && npm run bench:bundle` (it bundles the built packages).
 */
import { gzipSync } from "node:zlib";
import { build, version as esbuildVersion } from "esbuild";
import { table, writeResultsSection } from "./lib.js";

const SECTION = "## Browser bundle size (@arp/model, @arp/client)";
const KB = 1000; // sizes are quoted in kB (1,000 bytes), as bundlers print them

interface Entry {
  name: string;
  code: string;
  /** Minified bytes allowed, when there is a target. */
  target?: number;
  /** Before tree-shaking (commit e6bdce1: all validators in one function scope), same entry, same esbuild. */
  before: { min: number; gzip: number };
}

const ALL_CLIENTS = [
  "AtomicExecutorClient",
  "CompositeExecutorClient",
  "NodeRegistryClient",
  "PdpClient",
  "RunCoordinatorClient",
  "RunGatewayClient",
  "SelectionClient",
];

const ENTRIES: Entry[] = [
  {
    name: "`RUN_STATES` alone (`@arp/model`)",
    code: 'import { RUN_STATES } from "@arp/model"; console.log(RUN_STATES);',
    target: 1 * KB,
    before: { min: 145_443, gzip: 13_917 },
  },
  {
    name: "`RunGatewayClient` alone (`@arp/client`)",
    code: 'import { RunGatewayClient } from "@arp/client"; console.log(new RunGatewayClient({ baseUrl: "http://x" }));',
    target: 80 * KB,
    before: { min: 161_140, gzip: 19_762 },
  },
  {
    name: "all seven clients",
    code: `import * as c from "@arp/client"; console.log(${ALL_CLIENTS.map((n) => `c.${n}`).join(", ")});`,
    before: { min: 171_786, gzip: 20_698 },
  },
];

// Context rows: one guard, and the by-name API (which reaches every validator by design).
const CONTEXT: Omit<Entry, "before">[] = [
  { name: "`isRun` alone (one guard)", code: 'import { isRun } from "@arp/model"; console.log(isRun);' },
  {
    name: "`validate` alone (by name: every validator)",
    code: 'import { validate } from "@arp/model"; console.log(validate);',
  },
];

async function measure(code: string): Promise<{ min: number; gzip: number; validators: number }> {
  const result = await build({
    stdin: { contents: code, resolveDir: import.meta.dirname, loader: "js" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "error",
  });
  const out = result.outputFiles[0]!.contents;
  const text = result.outputFiles[0]!.text;
  // Each ajv validator assigns its `.evaluated` record once.
  return {
    min: out.length,
    gzip: gzipSync(out, { level: 9 }).length,
    validators: text.split(".evaluated=").length - 1,
  };
}

const kb = (bytes: number): string => (bytes / KB).toFixed(bytes < 10 * KB ? 2 : 1);
const started = performance.now();

const rows: string[][] = [];
const targets: string[][] = [];
for (const e of ENTRIES) {
  const m = await measure(e.code);
  rows.push([
    e.name,
    kb(e.before.min),
    kb(e.before.gzip),
    kb(m.min),
    kb(m.gzip),
    String(m.validators),
    `${(e.before.min / m.min).toFixed(1)}×`,
  ]);
  if (e.target !== undefined)
    targets.push([
      `${e.name} <= ${kb(e.target)} kB minified`,
      `${kb(m.min)} kB`,
      m.min <= e.target ? "PASS" : "MISS",
    ]);
}
for (const e of CONTEXT) {
  const m = await measure(e.code);
  rows.push([e.name, "—", "—", kb(m.min), kb(m.gzip), String(m.validators), "—"]);
}

const resultsTable = table(
  [
    "Entry (esbuild, browser, minified)",
    "before (kB)",
    "before gzip (kB)",
    "now (kB)",
    "now gzip (kB)",
    "validators inside",
    "before / now",
  ],
  rows,
);
const targetTable = table(["Target", "Measured", "Status"], targets);
const elapsed = (performance.now() - started) / 1000;

const section = `${SECTION}

Written by \`bench/bundle.bench.ts\` (\`npm run bench:bundle\`, after \`npm run build\`), which replaces only
this section. Sizes are deterministic for a given build and esbuild version.

- Date: ${new Date().toISOString()}; Node ${process.version}; esbuild ${esbuildVersion}; run time ${elapsed.toFixed(1)} s
- Method: each entry is a one-line module importing the built packages by name, bundled by esbuild
  (\`platform: "browser"\`, ESM, \`minify: true\`); gzip at level 9; 1 kB = 1,000 bytes. "validators inside"
  counts the ajv validator functions in the bundle (each assigns its \`.evaluated\` record once), out of 51.
- Before: the same entries bundled from commit \`e6bdce1\`, where every validator lived in one function
  scope that no bundler could split (an import of anything from \`@arp/model\` carried all 51).
- Now: one \`/* @__PURE__ */\` closure per schema in \`validators.gen.js\`; guards and operation tables
  reference their validators directly; only \`SCHEMAS\`, \`validate\`, \`isValid\`, \`assertValid\` and
  \`validatorFor\` look them up by name (and so bring all of them).

${resultsTable}

${targetTable}
`;

writeResultsSection(SECTION, section);
console.log(
  `\n${resultsTable}\n\n${targetTable}\n\nUpdated the bundle-size section of bench/results.md (${elapsed.toFixed(1)} s).`,
);
