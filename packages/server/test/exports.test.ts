/**
 * Pins the public surface of the built package: a change to what `@arp/server` or
 * `@arp/server/express` exports must show up in review (the snapshot file). The ESM and CJS builds
 * must export the same names. Run `npx tsup` after changing `src/`.
 */
import { createRequire } from "node:module";
import { expect, it } from "vitest";

const require = createRequire(import.meta.url);

/** The runtime export names of one entry point, ESM and CJS. Paths are variables: tsc must not resolve dist/. */
async function exportsOf(entry: "index" | "express"): Promise<{ esm: string[]; cjs: string[] }> {
  const esmPath = `../dist/${entry}.js`;
  const cjsPath = `../dist/${entry}.cjs`;
  const esm = Object.keys((await import(esmPath)) as object).sort();
  const cjs = Object.keys(require(cjsPath) as object)
    .filter((k) => k !== "__esModule")
    .sort();
  return { esm, cjs };
}

it("ESM and CJS builds export the same, pinned names (core and express entry points)", async () => {
  const core = await exportsOf("index");
  const express = await exportsOf("express");
  expect(core.cjs).toEqual(core.esm);
  expect(express.cjs).toEqual(express.esm);
  const pinned = ["# @arp/server", ...core.esm, "", "# @arp/server/express", ...express.esm, ""].join("\n");
  await expect(pinned).toMatchFileSnapshot("./__snapshots__/exports.txt");
});
