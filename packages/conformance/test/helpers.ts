/** Shared by the tests: paths, a temp-folder writer and an in-process runner of the CLI. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { main } from "../src/cli.js";
import type { Output } from "../src/index.js";

export { hasReference, referenceSpecRoot, repoRoot } from "@arp/testkit";

export const packageRoot = fileURLToPath(new URL("..", import.meta.url));
/** What `npm run build` copies; the CLI's default run reads it. */
export const bundledSpecRoot = join(packageRoot, "dist", "spec", "v1");

/** Fails the calling test with the fix when the package has not been built. */
export function requireBuild(): void {
  if (!existsSync(join(bundledSpecRoot, "conformance")) || !existsSync(join(packageRoot, "dist", "cli.js"))) {
    throw new Error(
      `${bundledSpecRoot} or dist/cli.js is missing: run \`npm run build\` in packages/conformance before the tests`,
    );
  }
}

const temps: string[] = [];
// Removing folders is disk work that a loaded CI machine can slow down a lot: its own deadline.
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** Writes `files` (relative path → text, or a value to serialise as JSON) into a fresh temp folder. */
export function tempTree(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), "arp-conformance-"));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An output that keeps what is written, for `main()` to write to. */
export function capture(): { output: Output; text: { stdout: string; stderr: string } } {
  const text = { stdout: "", stderr: "" };
  const output: Output = {
    stdout: (chunk) => {
      text.stdout += chunk;
    },
    stderr: (chunk) => {
      text.stderr += chunk;
    },
  };
  return { output, text };
}

/** Runs `main()` in-process with the built bundled spec, capturing its output. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const { output, text } = capture();
  const code = await main(argv, output, { bundledSpecRoot });
  return { code, ...text };
}

/** The last line of `text`, ignoring the final newline. */
export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}
