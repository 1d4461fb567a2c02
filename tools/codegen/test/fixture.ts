import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The tiny spec the emitter tests run on. */
export const MINI = fileURLToPath(new URL("./fixtures/mini/v1", import.meta.url));
export const REPO_SPEC = fileURLToPath(new URL("../../../spec/v1", import.meta.url));

/** A temp copy of the mini spec with some files replaced: `{ "schemas/x.schema.json": "..." }`. */
export function miniWith(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), "arp-codegen-")), "v1");
  cpSync(MINI, dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}
