/**
 * The README's examples and a CommonJS consumer are compiled against the built package (its .d.ts
 * files, skipLibCheck off). They are type-checked, not run; the behaviour they show is covered by
 * the other tests.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeExamples, typecheck, writeExamples } from "@arp/testkit";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const consumer = join(pkgRoot, "test/consumer");

it("README examples type-check against the built declaration files", () => {
  const examples = readmeExamples(join(pkgRoot, "README.md"));
  expect(examples.length).toBeGreaterThanOrEqual(5);
  writeExamples(consumer, examples);
  typecheck(consumer);
}, 180_000);
