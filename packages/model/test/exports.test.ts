/** Pins the public surface: a change to what @arp/model exports must show up in review. */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { builtExports } from "@arp/testkit";
import { expect, it } from "vitest";

it("ESM and CJS builds export the same, pinned names", async () => {
  const { esm, cjs } = await builtExports(fileURLToPath(new URL("..", import.meta.url)));
  expect(cjs).toEqual(esm);
  await expect(esm.join("\n")).toMatchFileSnapshot("./__snapshots__/exports.txt");
});

it("package.json exposes only the root entry, with types per condition", () => {
  const pkg = createRequire(import.meta.url)("../package.json") as Record<string, unknown>;
  expect(pkg.exports).toEqual({
    ".": {
      import: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      require: { types: "./dist/index.d.cts", default: "./dist/index.cjs" },
    },
    "./package.json": "./package.json",
  });
  expect(pkg.sideEffects).toBe(false);
  expect(pkg.files).toEqual(["dist"]);
  expect(pkg.dependencies).toBeUndefined();
});
