/** The package's error classes: `instanceof` holds across its ESM and CJS builds (a brand). */
import { createRequire } from "node:module";
import { expect, it } from "vitest";
import { McpNotConnectedError, McpTargetError, parseServerTarget } from "../dist/index.js";

it("an error made by one build is an instance of the other build's class", () => {
  const cjs = createRequire(import.meta.url)("../dist/index.cjs") as typeof import("../dist/index.js");
  expect(cjs.McpTargetError).not.toBe(McpTargetError);
  let thrown: unknown;
  try {
    cjs.parseServerTarget("no equals sign");
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(McpTargetError);
  expect(thrown).toBeInstanceOf(cjs.McpTargetError);
  expect(thrown).toBeInstanceOf(Error);
  expect(() => parseServerTarget("x")).toThrow(cjs.McpTargetError);
  expect(new McpNotConnectedError("down")).toBeInstanceOf(cjs.McpNotConnectedError);
  // Brands are per class: one error class is not another.
  expect(new cjs.McpNotConnectedError("down")).not.toBeInstanceOf(McpTargetError);
  expect(new Error("plain")).not.toBeInstanceOf(McpTargetError);
});
