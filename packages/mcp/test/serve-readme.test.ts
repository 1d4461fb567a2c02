/**
 * The TypeScript examples of the README's "ARP runs as MCP tools" section (only that section's: the
 * other half of the package has its own) compile against the built package (its .d.ts files,
 * skipLibCheck off). Type-checked, not run: the behaviour they show is what the serve tests run.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { typecheck, writeExamples } from "@arp/testkit";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const HEADING = "## ARP runs as MCP tools";

/** The ```ts blocks between the section's heading and the next `## ` heading. */
function sectionExamples(): string[] {
  const readme = readFileSync(join(pkgRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n${HEADING}\n`);
  if (start < 0) throw new Error(`README.md has no "${HEADING}" section`);
  const rest = readme.slice(start + HEADING.length + 2);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

it("the section's examples type-check against the built declaration files", () => {
  if (!existsSync(join(pkgRoot, "dist", "index.d.ts")))
    throw new Error("dist/index.d.ts is missing: run `npm run build` in packages/mcp first");
  const examples = sectionExamples();
  expect(examples.length).toBeGreaterThanOrEqual(2);
  const consumer = join(pkgRoot, "test/serve-consumer");
  writeExamples(consumer, examples);
  typecheck(consumer);
}, 120_000);
