/**
 * The README's examples and two small consumers are compiled against the built package (its .d.ts
 * files, skipLibCheck off) and the README examples are run, so the documentation cannot rot.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const consumer = join(pkgRoot, "test/consumer");
const require = createRequire(import.meta.url);

// This package's README, and the repository README, whose examples use this package.
const READMES = [join(pkgRoot, "README.md"), join(pkgRoot, "../../README.md")];

function readmeExamples(): string[] {
  return READMES.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!),
  );
}

describe("README examples and consumers", () => {
  const examples = readmeExamples();
  beforeAll(() => {
    rmSync(join(consumer, "readme"), { recursive: true, force: true });
    mkdirSync(join(consumer, "readme"), { recursive: true });
    for (const [i, code] of examples.entries()) {
      writeFileSync(
        join(consumer, `readme/example-${i + 1}.mts`),
        `${code}
export {};
`,
      );
    }
  });

  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it("type-check against the built declaration files", () => {
    const tsc = require.resolve("typescript/bin/tsc");
    try {
      execFileSync(process.execPath, [tsc, "-p", join(consumer, "tsconfig.json")], { encoding: "utf8" });
    } catch (err) {
      throw new Error(`tsc failed:\n${(err as { stdout?: string }).stdout ?? err}`);
    }
  }, 60_000);

  it("run and print what the README says they print", () => {
    const tsx = require.resolve("tsx/cli");
    const outputs = examples.map((_, i) =>
      execFileSync(process.execPath, [tsx, join(consumer, `readme/example-${i + 1}.mts`)], {
        encoding: "utf8",
      }),
    );
    // Every `// → text` comment in an example is output that example must print.
    let checked = 0;
    examples.forEach((code, i) => {
      for (const m of code.matchAll(/\/\/.*?→ (.+)$/gm)) {
        expect(outputs[i]).toContain(m[1]!);
        checked++;
      }
    });
    expect(checked).toBeGreaterThanOrEqual(7);
  }, 60_000);
});
