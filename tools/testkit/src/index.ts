/**
 * README examples are part of the product: these helpers pull the ```ts blocks out of a README,
 * write them as ES modules into a consumer folder (whose tsconfig has skipLibCheck off and resolves
 * the package by name, so the built .d.ts files are what is checked), and compile or run them.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

/** The ```ts code blocks of each README, in order. */
export function readmeExamples(...readmes: string[]): string[] {
  return readmes.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!),
  );
}

/** Writes the examples to `<consumerDir>/readme/example-N.mts` (a fresh folder) and returns the paths. */
export function writeExamples(consumerDir: string, examples: readonly string[]): string[] {
  const dir = join(consumerDir, "readme");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return examples.map((code, i) => {
    const path = join(dir, `example-${i + 1}.mts`);
    writeFileSync(path, `${code}\nexport {};\n`);
    return path;
  });
}

/** Compiles `<consumerDir>/tsconfig.json`; throws with tsc's output when it fails. */
export function typecheck(consumerDir: string): void {
  const tsc = require.resolve("typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(consumerDir, "tsconfig.json")], { encoding: "utf8" });
  } catch (err) {
    throw new Error(`tsc failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
  }
}

/** Runs a TypeScript file with tsx and returns what it printed. */
export function run(file: string): string {
  return execFileSync(process.execPath, [require.resolve("tsx/cli"), file], { encoding: "utf8" });
}

/** The `// → text` comments of an example: output it must print. */
export function expectedOutputs(code: string): string[] {
  return [...code.matchAll(/\/\/.*?→ (.+)$/gm)].map((m) => m[1]!);
}

/**
 * The runtime export names of a built entry point (`dist/<entry>.js` and `.cjs`), sorted: what an
 * export-map pin compares. Built files, not sources: the pin is about what users get.
 */
export async function builtExports(
  pkgRoot: string,
  entry = "index",
): Promise<{ esm: string[]; cjs: string[] }> {
  const esm = Object.keys(
    (await import(pathToFileURL(join(pkgRoot, "dist", `${entry}.js`)).href)) as object,
  ).sort();
  const cjs = Object.keys(require(join(pkgRoot, "dist", `${entry}.cjs`)) as object)
    .filter((k) => k !== "__esModule")
    .sort();
  return { esm, cjs };
}

export { browserBundle, validatorsIn } from "./bundle.js";
export { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from "./chromium.js";
export { seededRandom } from "./random.js";
export {
  goldenVector,
  hasReference,
  invalidVectorsDir,
  readVectors,
  referenceSpecRoot,
  repoRoot,
  specRoot,
  type Vector,
  vectorsDir,
} from "./vectors.js";
