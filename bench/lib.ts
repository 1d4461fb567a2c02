/** Helpers shared by the benchmarks: statistics, Markdown tables and the results file. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const RESULTS_PATH = fileURLToPath(new URL("./results.md", import.meta.url));
const RESULTS_TITLE =
  "# Benchmark results\n\nEach `## ` section is written by one script in `bench/` (see README.md); the numbers depend on\nthe machine and its load: read the ratios, not the absolute figures.";

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const int = (n: number): string => Math.round(n).toLocaleString("en-US");

/** `median (min–max)` of per-round ratios; use 3 digits where a target is judged (0.996 is not 1.00). */
export const spread = (r: readonly number[], digits = 2): string =>
  `${median(r).toFixed(digits)} (${Math.min(...r).toFixed(digits)}–${Math.max(...r).toFixed(digits)})`;

/** A Markdown table, first column left-aligned, the rest right-aligned, padded as Biome formats it. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const pad = (cell: string, i: number) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/**
 * Replaces one `## ` section of bench/results.md (from its heading to the next `## ` heading) or
 * appends it, leaving the other scripts' sections alone. `body` starts with `heading`.
 */
export function writeResultsSection(heading: string, body: string, path = RESULTS_PATH): void {
  if (!body.startsWith(`${heading}\n`)) throw new Error(`section body must start with ${heading}`);
  const current = existsSync(path) ? readFileSync(path, "utf8") : "";
  const lines = (current.trim() === "" ? RESULTS_TITLE : current).split("\n");
  const start = lines.indexOf(heading);
  let next: string;
  if (start === -1) {
    next = `${lines.join("\n").trimEnd()}\n\n${body.trimEnd()}\n`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
    if (end === -1) end = lines.length;
    const before = lines.slice(0, start).join("\n").trimEnd();
    const after = lines.slice(end).join("\n").trim();
    next = `${[before, body.trimEnd(), after].filter((part) => part !== "").join("\n\n")}\n`;
  }
  writeFileSync(path, next);
}
