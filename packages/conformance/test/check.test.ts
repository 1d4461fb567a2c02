/** Every tier against correct services (every check passes) and the fault table. */
import { join } from "node:path";
import { SERVICES } from "@arp/model";
import { repoRoot } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import { authProbeOperation } from "../src/check/checks/deep.js";
import { type CheckResult, IMPLEMENTED_TIERS, runChecks } from "../src/check/runner.js";
import { FAULTS } from "./support/faults.js";
import { CORRECT, withAuth } from "./support/services.js";

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

/** What a correct service may get besides PASS: one SKIP per tier not (fully) implemented yet. */
function undocumented(results: readonly CheckResult[]): string[] {
  return results
    .filter(
      (r) =>
        r.status !== "PASS" &&
        !(
          r.status === "SKIP" &&
          r.check_id === `${r.tier}.not_implemented` &&
          !IMPLEMENTED_TIERS.includes(r.tier)
        ),
    )
    .map((r) => `${r.check_id}: ${r.status} ${r.message} ${r.errors.join("; ")}`);
}

describe("correct services pass the deep tier's checks", () => {
  for (const key of Object.keys(SERVICES) as Key[]) {
    it(`${key}: deep, auth off (no auth probes listed)`, async () => {
      const running = await CORRECT[key]!().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "deep",
          strict: true,
        });
        expect(undocumented(report.results)).toEqual([]);
        const deep = report.results.filter((r) => r.tier === "deep" && r.status === "PASS");
        expect(deep.map((r) => r.check_id)).toEqual(["deep.unknown_route"]);
      } finally {
        await running.close();
      }
    });

    it(`${key}: deep with auth probes, auth required, a valid token in the headers`, async () => {
      const running = await withAuth(CORRECT[key]!).listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "deep",
          authProbe: true,
          headers: running.headers!,
        });
        expect(undocumented(report.results)).toEqual([]);
        const auth = report.results.filter((r) => r.check_id.startsWith("deep.auth."));
        const op = authProbeOperation(SERVICES[key])!;
        expect(auth.map((r) => r.check_id)).toEqual([
          `deep.auth.${op.name}.no_token`,
          `deep.auth.${op.name}.garbage_token`,
        ]);
        for (const r of auth) {
          expect(r.message).toMatch(/^401, WWW-Authenticate: Bearer/);
          // The user's token is replaced or removed, and never shown.
          expect(JSON.stringify(r.exchange)).not.toContain(running.headers!.Authorization!.slice(7));
        }
        const sent = (r: CheckResult) =>
          Object.keys(r.exchange?.request.headers ?? {}).map((h) => h.toLowerCase());
        expect(sent(auth[0]!)).not.toContain("authorization");
        expect(auth[1]!.exchange?.request.headers).toMatchObject({ authorization: "<redacted>" });
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
          tier: fault.tier ?? "surface",
          authProbe: fault.authProbe ?? false,
          ...(running.headers === undefined ? {} : { headers: running.headers }),
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

describe("invalid bodies derived from the request schemas (with a spec tree)", () => {
  const specRoot = join(repoRoot, "spec/v1");

  it("correct services reject every derived body with an envelope", async () => {
    for (const key of ["run-gateway", "run-coordinator", "node-registry", "pdp"] as Key[]) {
      const running = await CORRECT[key]!().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "surface",
          specRoot,
        });
        const derived = report.results.filter((r) => /\.invalid_body\.[a-zA-Z]+--/.test(r.check_id));
        expect(derived.length, key).toBeGreaterThan(3);
        expect(derived.filter((r) => r.status !== "PASS").map((r) => r.check_id)).toEqual([]);
      } finally {
        await running.close();
      }
    }
  });

  it("a service that answers 200 to every body fails each derived check, one per broken constraint", async () => {
    const fault = FAULTS.find((f) => f.name === "a 200 for invalid bodies")!;
    const running = await fault.make().listen({ port: 0 });
    try {
      const report = await runChecks({ service: SERVICES.pdp, url: running.url, tier: "surface", specRoot });
      const derived = report.results.filter((r) =>
        r.check_id.startsWith("surface.decidePolicy.invalid_body."),
      );
      expect(derived.length).toBeGreaterThan(fault.fails.length);
      expect(derived.every((r) => r.status === "FAIL")).toBe(true);
      // Named after the constraint each body breaks, as the invalid golden vectors are.
      expect(derived.map((r) => r.check_id)).toContain("surface.decidePolicy.invalid_body.required--/action");
    } finally {
      await running.close();
    }
  });
});
