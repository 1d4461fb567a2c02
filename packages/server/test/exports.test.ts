/**
 * Pins the public surface of the built package: a change to what `@arp/server`,
 * `@arp/server/express` or `@arp/server/fetch` exports must show up in review (the snapshot file). The ESM and CJS builds
 * must export the same names. Run `npx tsup` after changing `src/`.
 */
import { fileURLToPath } from "node:url";
import { builtExports } from "@arp/testkit";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));

it("ESM and CJS builds export the same, pinned names (core, express and fetch entry points)", async () => {
  const core = await builtExports(pkgRoot, "index");
  const express = await builtExports(pkgRoot, "express");
  const fetch = await builtExports(pkgRoot, "fetch");
  expect(core.cjs).toEqual(core.esm);
  expect(express.cjs).toEqual(express.esm);
  expect(fetch.cjs).toEqual(fetch.esm);
  const pinned = [
    "# @arp/server",
    ...core.esm,
    "",
    "# @arp/server/express",
    ...express.esm,
    "",
    "# @arp/server/fetch",
    ...fetch.esm,
    "",
  ].join("\n");
  await expect(pinned).toMatchFileSnapshot("./__snapshots__/exports.txt");
});
