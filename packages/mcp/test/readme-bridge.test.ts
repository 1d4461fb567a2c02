/**
 * The TypeScript examples of the README's "MCP tools as ARP node types" section (only those: the
 * other section has its own test) are compiled against the built package (its .d.ts files,
 * skipLibCheck off). Type-checked, not run; the behaviour they show is covered by the other tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { typecheck, writeExamples } from "@arp/testkit";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const HEADING = "## MCP tools as ARP node types";

/** The ```ts blocks between HEADING and the next `## ` heading. */
function sectionExamples(readme: string): string[] {
  const text = readFileSync(readme, "utf8");
  const start = text.indexOf(`${HEADING}\n`);
  if (start === -1) throw new Error(`${readme} has no '${HEADING}' section`);
  const next = text.indexOf("\n## ", start + HEADING.length);
  const section = text.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

it("the bridge section's examples type-check against the built declaration files", () => {
  expect(existsSync(join(pkgRoot, "dist", "index.d.ts")), "run `npm run build` in packages/mcp first").toBe(
    true,
  );
  const examples = sectionExamples(join(pkgRoot, "README.md"));
  expect(examples.length).toBe(2);
  writeExamples(join(pkgRoot, "test/consumer-bridge"), examples);
  typecheck(join(pkgRoot, "test/consumer-bridge"));
}, 120_000);
