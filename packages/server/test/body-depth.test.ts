/**
 * The byte scanner behind `maxJsonDepth`, against the depth of the value `JSON.parse` builds: seeded
 * random documents whose strings hold brackets, quotes, backslashes and multi-byte characters.
 */
import { seededRandom } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import { nestsDeeperThan, valueNestsDeeperThan } from "../src/core/body.js";

function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

const PIECES = ["[", "]", "{", "}", '"', "\\", "\\\\", '\\"', "é", "😀", "a", " "];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 0 && r < 0.35)
    return Array.from({ length: Math.floor(next() * 3) }, () => randomValue(next, depth - 1));
  if (depth > 0 && r < 0.7) {
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 3); i > 0; i--) out[randomString(next)] = randomValue(next, depth - 1);
    return out;
  }
  return r < 0.85 ? randomString(next) : Math.floor(next() * 100);
}

function randomString(next: () => number): string {
  return Array.from(
    { length: Math.floor(next() * 6) },
    () => PIECES[Math.floor(next() * PIECES.length)],
  ).join("");
}

describe("nestsDeeperThan", () => {
  it("agrees with the parsed depth on 3,000 random documents, at every limit around it", () => {
    const next = seededRandom(9);
    for (let n = 0; n < 3_000; n++) {
      const value = randomValue(next, 8);
      const text = JSON.stringify(value);
      const depth = depthOf(value);
      const bytes = Buffer.from(text, "utf8");
      for (const max of [depth - 1, depth, depth + 1]) {
        if (max < 0) continue;
        expect(nestsDeeperThan(bytes, max), `${text} at ${max}`).toBe(depth > max);
        expect(valueNestsDeeperThan(value, max), `${text} at ${max}`).toBe(depth > max);
      }
    }
  });

  it("ignores brackets in strings, with escaped quotes and backslashes before them", () => {
    const text = Buffer.from(String.raw`{"a":"x\"[[[[","b":"\\","c":[["q\\\"]]"]]}`);
    expect(nestsDeeperThan(text, 3)).toBe(false);
    expect(nestsDeeperThan(text, 2)).toBe(true);
  });

  it("leaves an unterminated string to JSON.parse", () => {
    expect(nestsDeeperThan(Buffer.from('[["abc'), 5)).toBe(false);
  });
});
