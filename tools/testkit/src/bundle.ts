/**
 * Browser bundles of the built packages, for the tree-shaking tests: esbuild (minified, ESM, browser
 * platform) of a one-line module, resolving package names from `resolveDir` as a user's app would.
 */
import { build } from "esbuild";

/** The minified browser bundle of `contents` (a module importing the built packages by name). */
export async function browserBundle(contents: string, resolveDir: string): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir, loader: "js" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** How many ajv validators a bundle holds: each assigns its `.evaluated` record once. */
export const validatorsIn = (code: string): number => code.split(".evaluated=").length - 1;
