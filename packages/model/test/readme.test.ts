/**
 * The README's examples and two small consumers are compiled against the built package (its .d.ts
 * files, skipLibCheck off) and the README examples are run, so the documentation cannot rot.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedOutputs, readmeExamples, run, typecheck, writeExamples } from "@arp/testkit";
import { beforeAll, describe, expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const consumer = join(pkgRoot, "test/consumer");
// This package's README, and the repository README, whose examples use this package.
const examples = readmeExamples(join(pkgRoot, "README.md"), join(pkgRoot, "../../README.md"));

describe("README examples and consumers", () => {
  let files: string[] = [];
  beforeAll(() => {
    files = writeExamples(consumer, examples);
  });

  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it("type-check against the built declaration files", () => typecheck(consumer), 180_000);

  it("run and print what the README says they print", () => {
    let checked = 0;
    for (const [i, file] of files.entries()) {
      const output = run(file);
      for (const line of expectedOutputs(examples[i]!)) {
        expect(output).toContain(line);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  }, 180_000);
});
