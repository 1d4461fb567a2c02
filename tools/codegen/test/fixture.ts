import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

/** The tiny spec the emitter tests run on. */
export const MINI = fileURLToPath(new URL("./fixtures/mini/v1", import.meta.url));
export const REPO_SPEC = fileURLToPath(new URL("../../../spec/v1", import.meta.url));

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A temp copy of the mini spec with some files replaced: `{ "schemas/x.schema.json": "..." }`. */
export function miniWith(files: Record<string, string>): string {
  const dir = join(tempDir("arp-codegen-"), "v1");
  cpSync(MINI, dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}
