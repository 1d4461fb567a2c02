// Checks that every changeset in .changeset/ is one changesets can read: a front matter block of
// `"<package>": <bump>` lines between `---` fences, naming only the public packages, then a summary.
// Why a check: a Markdown formatter once rewrote `---` + `"@arp/client": minor` into a heading, and
// `changeset version` would only have failed at release time. Biome now skips these files.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("../.changeset/", import.meta.url));
const PACKAGES = new Set(["@arp/model", "@arp/client", "@arp/server", "@arp/conformance", "@arp/mcp"]);
const FRONT_MATTER = /^---\n((?:"[^"]+": (?:major|minor|patch)\n)+)---\n\n(\S[\s\S]*)$/;

const problems = [];
for (const name of readdirSync(dir).filter((f) => f.endsWith(".md") && f !== "README.md")) {
  const text = readFileSync(join(dir, name), "utf8");
  const match = FRONT_MATTER.exec(text);
  if (!match) {
    problems.push(
      `${name}: expected ---, "<package>": <major|minor|patch> lines, ---, a blank line, a summary`,
    );
    continue;
  }
  for (const line of match[1].trim().split("\n")) {
    const pkg = line.slice(1, line.indexOf('"', 1));
    if (!PACKAGES.has(pkg)) problems.push(`${name}: ${pkg} is not one of ${[...PACKAGES].join(", ")}`);
  }
}
if (problems.length > 0) {
  console.error(`Malformed changesets:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
