import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { MINI } from "./fixture.js";

function sink() {
  const chunks: string[] = [];
  return { write: (s: string) => chunks.push(s), text: () => chunks.join("") };
}

describe("codegen CLI", () => {
  it("writes, then checks clean, then reports drift and stale files with the fix command", () => {
    const root = mkdtempSync(join(tmpdir(), "arp-codegen-cli-"));
    const run = (cmd: string) => {
      const out = sink();
      const err = sink();
      const code = main([cmd, "--spec", MINI], root, out, err);
      return { code, out: out.text(), err: err.text() };
    };
    expect(run("write").code).toBe(0);
    expect(run("check")).toMatchObject({ code: 0, out: expect.stringContaining("up to date") });

    const types = join(root, "packages/model/src/generated/types.gen.ts");
    writeFileSync(types, `${readFileSync(types, "utf8")}// hand edit\n`);
    const drift = run("check");
    expect(drift.code).toBe(1);
    expect(drift.err).toContain("differs: packages/model/src/generated/types.gen.ts");
    expect(drift.err).toContain("Fix: run `npm run codegen`");

    writeFileSync(join(root, "packages/model/src/generated/old.gen.ts"), "");
    expect(run("check").err).toContain("stale:   packages/model/src/generated/old.gen.ts");

    const rewrite = run("write");
    expect(rewrite.out).toContain("removed stale packages/model/src/generated/old.gen.ts");
    expect(run("check").code).toBe(0);
    rmSync(root, { recursive: true, force: true });
  });

  it("rejects an unknown command", () => {
    const err = sink();
    expect(main(["frobnicate"], tmpdir(), sink(), err)).toBe(2);
    expect(err.text()).toContain("usage");
  });
});
