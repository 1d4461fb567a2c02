/**
 * The README's TypeScript examples are compiled against the built package (its .d.ts files,
 * skipLibCheck off). Type-checked, not run; the behaviour they show is covered by the other tests.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeExamples, typecheck, writeExamples } from "@arp/testkit";
import { expect, it } from "vitest";
import { requireBuild } from "./helpers.js";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));

it("README examples type-check against the built declaration files", () => {
  requireBuild();
  const examples = readmeExamples(join(pkgRoot, "README.md"));
  expect(examples.length).toBeGreaterThanOrEqual(2);
  writeExamples(join(pkgRoot, "test/consumer"), examples);
  typecheck(join(pkgRoot, "test/consumer"));
}, 180_000);
