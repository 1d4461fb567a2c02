/** Pins the public surface: a change to what @arp/client exports must show up in review. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { builtExports } from "@arp/testkit";
import { expect, it } from "vitest";
import { CLIENT_VERSION } from "../src/index.js";

it("ESM and CJS builds export the same, pinned names", async () => {
  const { esm, cjs } = await builtExports(fileURLToPath(new URL("..", import.meta.url)));
  expect(cjs).toEqual(esm);
  await expect(esm.join("\n")).toMatchFileSnapshot("./__snapshots__/exports.txt");
});

it("CLIENT_VERSION (the default User-Agent) is the package version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  expect(CLIENT_VERSION).toBe(pkg.version);
});
