/**
 * The README's TypeScript examples, both halves, are compiled against the built package (its .d.ts
 * files, skipLibCheck off) as a strict user project. Type-checked, not run: the behaviour they show
 * is what the bridge and serve tests run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeExamples, typecheck, writeExamples } from "@arp/testkit";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));

it("README examples type-check against the built declaration files", () => {
  if (!existsSync(join(pkgRoot, "dist", "index.d.ts")))
    throw new Error("dist/index.d.ts is missing: run `npm run build` in packages/mcp first");
  const examples = readmeExamples(join(pkgRoot, "README.md"));
  // Two for the bridge (library, host executor), at least two for serve.
  expect(examples.length).toBeGreaterThanOrEqual(4);
  writeExamples(join(pkgRoot, "test/consumer"), examples);
  typecheck(join(pkgRoot, "test/consumer"));
}, 120_000);
