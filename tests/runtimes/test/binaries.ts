/**
 * The Bun and Deno binaries of npm's platform packages (`@oven/bun-linux-x64`,
 * `@deno/linux-x64-glibc`: plain files in the package, no install script needed), or the paths
 * ARP_TEST_BUN and ARP_TEST_DENO name (on another platform).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

function binary(variable: string, pkg: string, file: string): string {
  const fromEnv = process.env[variable];
  if (fromEnv) return fromEnv;
  let path: string;
  try {
    path = join(dirname(require.resolve(`${pkg}/package.json`)), file);
  } catch {
    throw new Error(`${pkg} is not installed (it installs on linux-x64 only): set ${variable} to a binary`);
  }
  if (!existsSync(path)) throw new Error(`${path} is missing: reinstall ${pkg}`);
  return path;
}

export const bun = (): string => binary("ARP_TEST_BUN", "@oven/bun-linux-x64", "bin/bun");
export const deno = (): string => binary("ARP_TEST_DENO", "@deno/linux-x64-glibc", "deno");

/** The environment both runtimes run in: no colours in what they print, no update checks. */
export const runtimeEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
  ...extra,
});
