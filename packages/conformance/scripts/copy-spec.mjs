// Copies the repository's spec/v1 (openapi, schemas, conformance) into dist/spec/v1, so the published
// package carries the spec its `vectors` command checks by default. Runs after tsup (`npm run build`).
import { cpSync, existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../../../spec/v1/", import.meta.url));
const target = fileURLToPath(new URL("../dist/spec/v1/", import.meta.url));
const parts = ["openapi", "schemas", "conformance"];

for (const part of parts) {
  if (!existsSync(`${source}${part}`)) {
    console.error(`copy-spec: ${source}${part} not found; run the build from the arp-ts repository`);
    process.exit(1);
  }
}
rmSync(target, { recursive: true, force: true });
for (const part of parts) cpSync(`${source}${part}`, `${target}${part}`, { recursive: true });
console.log(`copy-spec: ${source} -> ${target}`);
