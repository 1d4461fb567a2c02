/** The smoke and surface tiers against correct services (every check passes) and the fault table. */
import { SERVICES } from "@arp/model";
import { describe, expect, it } from "vitest";
import { runChecks } from "../src/check/runner.js";
import { FAULTS } from "./support/faults.js";
import { CORRECT } from "./support/services.js";

type Key = keyof typeof SERVICES;

describe("correct services pass every check", () => {
  for (const key of Object.keys(SERVICES) as Key[]) {
    it(`${key}: smoke and surface`, async () => {
      const running = await CORRECT[key]!().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "surface",
          strict: true,
        });
        const notPassed = report.results.filter((r) => r.status !== "PASS");
        expect(notPassed.map((r) => `${r.check_id}: ${r.message} ${r.errors.join("; ")}`)).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.results.some((r) => r.tier === "surface")).toBe(true);
        const smoke = await runChecks({ service: SERVICES[key], url: running.url });
        expect(smoke.results.every((r) => r.tier === "smoke")).toBe(true);
        expect(smoke.results.length).toBeGreaterThanOrEqual(7);
      } finally {
        await running.close();
      }
    });
  }
});

describe("fault table: each broken service fails exactly its checks", () => {
  for (const fault of FAULTS) {
    it(`${fault.service}: ${fault.name}`, async () => {
      const running = await fault.make().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[fault.service as Key],
          url: running.url,
          tier: "surface",
        });
        const ids = report.results.map((r) => r.check_id);
        for (const id of [...fault.fails, ...(fault.warns ?? [])]) expect(ids).toContain(id);
        const failed = report.results.filter((r) => r.status === "FAIL").map((r) => r.check_id);
        expect(failed.sort()).toEqual([...fault.fails].sort());
        const warned = report.results.filter((r) => r.status === "WARN").map((r) => r.check_id);
        expect(warned).toEqual(fault.warns ?? []);
        for (const r of report.results.filter((x) => x.status === "FAIL")) {
          expect(r.exchange?.request.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
          expect(r.exchange?.response).not.toBeNull();
          expect(r.spec_reference[0]).toMatch(/^openapi\/[a-z-]+\.openapi\.yaml#[a-z_]+$/);
        }
        expect(report.ok).toBe(fault.fails.length === 0);
      } finally {
        await running.close();
      }
    });
  }
});
