/**
 * `tsx src/cli.ts write [--spec DIR]`: regenerate every generated file.
 * `tsx src/cli.ts check [--spec DIR]`: regenerate in memory; exit 1 with the fix command when the
 * committed files differ (or a stale file lingers in a generated folder).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REGENERATE_COMMAND } from "./config.js";
import { GENERATED_DIRS, type GeneratedFile, generate } from "./generate.js";

const defaultRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Files that exist in a generated folder but are not produced any more. */
function staleFiles(files: readonly GeneratedFile[], repoRoot: string): string[] {
  const wanted = new Set(files.map((f) => f.path));
  return GENERATED_DIRS.flatMap((dir) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(repoRoot, dir), { recursive: true }) as string[];
    } catch {
      return [];
    }
    return entries
      .map((e) => `${dir}/${e.split("\\").join("/")}`)
      .filter((p) => !wanted.has(p) && /\.\w+$/.test(p));
  });
}

/** Runs a command; `repoRoot` is where outputs are written (a temp folder in tests). */
export function main(
  argv: readonly string[],
  repoRoot = defaultRoot,
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): number {
  const [command, ...rest] = argv;
  const specIndex = rest.indexOf("--spec");
  const specRoot =
    specIndex >= 0 && rest[specIndex + 1] ? resolve(rest[specIndex + 1]!) : join(repoRoot, "spec/v1");
  if (command !== "write" && command !== "check") {
    err.write("usage: codegen write|check [--spec DIR]\n");
    return 2;
  }
  const files = generate(specRoot);
  const stale = staleFiles(files, repoRoot);
  if (command === "write") {
    let changed = 0;
    for (const file of files) {
      const path = join(repoRoot, file.path);
      if (read(path) === file.content) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
      changed++;
      out.write(`wrote ${file.path}\n`);
    }
    for (const path of stale) {
      rmSync(join(repoRoot, path));
      out.write(`removed stale ${path}\n`);
    }
    out.write(`codegen: ${files.length} files, ${changed + stale.length} changed\n`);
    return 0;
  }
  const differing = files.filter((f) => read(join(repoRoot, f.path)) !== f.content).map((f) => f.path);
  const problems = [...differing.map((p) => `  differs: ${p}`), ...stale.map((p) => `  stale:   ${p}`)];
  if (problems.length > 0) {
    err.write(
      `codegen:check: generated files are out of date with spec/v1 or the generator:\n${problems.join("\n")}\n` +
        `Fix: run \`${REGENERATE_COMMAND}\` and commit the result.\n`,
    );
    return 1;
  }
  out.write(`codegen:check: ${files.length} generated files are up to date\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`codegen: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
