/** Pins the public surface: a change to what @arp/mcp exports must show up in review. */
import { fileURLToPath } from "node:url";
import { builtExports } from "@arp/testkit";
import { expect, it } from "vitest";

it("ESM and CJS builds export the same, pinned names", async () => {
  const { esm, cjs } = await builtExports(fileURLToPath(new URL("..", import.meta.url)));
  expect(cjs).toEqual(esm);
  await expect(esm.join("\n")).toMatchFileSnapshot("./__snapshots__/exports.txt");
  // The machinery stays internal: the serve half's catalog, run logic and checkers.
  for (const internal of ["ToolCatalog", "runTool", "SchemaChecker", "toolsOf", "compareVersions"])
    expect(esm).not.toContain(internal);
});
