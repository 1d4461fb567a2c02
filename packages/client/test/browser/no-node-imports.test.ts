/**
 * Static guard for the browser promise: neither the sources nor the built ESM (and CJS) bundle
 * import or require a Node built-in (`node:*`, or a bare built-in name such as `fs` or `crypto`).
 * The browser test proves it at run time; this one names the offending file and line in milliseconds.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const SRC_DIR = join(PACKAGE_DIR, "src");
const DIST_ESM = join(PACKAGE_DIR, "dist/index.js");
const DIST_CJS = join(PACKAGE_DIR, "dist/index.cjs");

/** `fs`, `fs/promises`, `node:test`, ...: Node's own list, so no built-in is forgotten. */
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split("/")[0]!]));

/** Module specifiers in a line: `from "x"`, `import "x"`, `import("x")`, `require("x")`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(["'])([^"'\n]+)\1/g;

interface Finding {
  file: string;
  line: number;
  specifier: string;
  text: string;
}

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]!);
}

/** Every import or require of a Node built-in in `source`, with its 1-based line. */
function findNodeImports(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  source.split("\n").forEach((text, i) => {
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[2]!;
      if (isNodeBuiltin(specifier)) findings.push({ file, line: i + 1, specifier, text: text.trim() });
    }
  });
  return findings;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function scan(files: readonly string[]): string[] {
  return files.flatMap((path) =>
    findNodeImports(relative(PACKAGE_DIR, path), readFileSync(path, "utf8")).map(
      (f) => `${f.file}:${f.line}: imports Node built-in "${f.specifier}": ${f.text}`,
    ),
  );
}

describe("no Node built-in in @arp/client", () => {
  it("the scanner finds every form of import and require (it can fail)", () => {
    const sample = [
      'import { readFileSync } from "node:fs";',
      "import * as path from 'path';",
      'export { createHash } from "crypto";',
      'import "node:stream/web";',
      'const http = await import("http");',
      'const { spawn } = require("child_process");',
      'const url = require( "url" );',
      'import { Buffer } from "buffer";',
      'import { x } from "./fs.js";',
      'import { validate } from "@arp/model";',
      'import createClient from "openapi-fetch";',
      "// the word fs, and from here on nothing else",
    ].join("\n");
    expect(findNodeImports("sample.ts", sample).map((f) => `${f.line}:${f.specifier}`)).toEqual([
      "1:node:fs",
      "2:path",
      "3:crypto",
      "4:node:stream/web",
      "5:http",
      "6:child_process",
      "7:url",
      "8:buffer",
    ]);
  });

  it("src/**/*.ts imports none", () => {
    const files = tsFiles(SRC_DIR);
    expect(files.length).toBeGreaterThan(5);
    expect(scan(files)).toEqual([]);
  });

  it("the built dist/index.js (and dist/index.cjs) import or require none", () => {
    if (!existsSync(DIST_ESM)) {
      throw new Error(
        `${relative(PACKAGE_DIR, DIST_ESM)} is missing: build first (npm run build, or npx tsup)`,
      );
    }
    const files = [DIST_ESM, ...(existsSync(DIST_CJS) ? [DIST_CJS] : [])];
    // The bundle keeps its dependencies as imports: the check sees real specifiers, not an empty file.
    expect(readFileSync(DIST_ESM, "utf8")).toMatch(/from\s*["']@arp\/model["']/);
    expect(scan(files)).toEqual([]);
  });
});
