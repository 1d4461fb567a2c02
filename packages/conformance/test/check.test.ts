/** Every tier against correct services (every check passes) and the fault table. */
import { join } from "node:path";
import { SERVICES } from "@arp/model";
import { repoRoot } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import { authProbeOperation } from "../src/check/checks/deep.js";
import { type CheckResult, runChecks, TIERS } from "../src/check/runner.js";
import { FAULTS } from "./support/faults.js";
import { CORRECT, withAuth } from "./support/services.js";

type Key = keyof typeof SERVICES;

/** Mutations allowed, with short waits: the test services answer at once. */
const MUTATIONS = { allowMutations: true, pollIntervalMs: 20, pollTimeoutMs: 3000 } as const;

describe("correct services pass every check of every tier", () => {
  for (const key of Object.keys(SERVICES) as Key[]) {
    it(`${key}: every tier, strict`, async () => {
      const running = await CORRECT[key]!().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "deep",
          strict: true,
          // The derived invalid bodies too: their seeds are the golden vectors of the spec tree.
          specRoot: join(repoRoot, "spec/v1"),
          ...MUTATIONS,
        });
        expect(notPassed(report.results)).toEqual([]);
        expect(report.ok).toBe(true);
        for (const tier of TIERS)
          expect(
            report.results.some((r) => r.tier === tier),
            tier,
          ).toBe(true);
        // No auth probes unless asked for.
        expect(report.results.filter((r) => r.check_id.startsWith("deep.auth."))).toEqual([]);
        const smoke = await runChecks({ service: SERVICES[key], url: running.url });
        expect(smoke.results.every((r) => r.tier === "smoke")).toBe(true);
        expect(smoke.results.length).toBeGreaterThanOrEqual(7);
      } finally {
        await running.close();
      }
    });

    it(`${key}: every tier with auth probes, auth required, a valid token in the headers`, async () => {
      const running = await withAuth(CORRECT[key]!).listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[key],
          url: running.url,
          tier: "deep",
          strict: true,
          authProbe: true,
          headers: running.headers!,
          ...MUTATIONS,
        });
        expect(notPassed(report.results)).toEqual([]);
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

function notPassed(results: readonly CheckResult[]): string[] {
  return results
    .filter((r) => r.status !== "PASS")
    .map((r) => `${r.check_id}: ${r.status} ${r.message} ${r.errors.join("; ")}`);
}

describe("fault table: each broken service fails exactly its checks", () => {
  for (const fault of FAULTS) {
    it(`${fault.service}: ${fault.name}`, async () => {
      const running = await fault.make().listen({ port: 0 });
      try {
        const report = await runChecks({
          service: SERVICES[fault.service as Key],
          url: running.url,
          tier: fault.tier ?? "surface",
          ...MUTATIONS,
          authProbe: fault.authProbe ?? false,
          ...(running.headers === undefined ? {} : { headers: running.headers }),
        });
        const ids = report.results.map((r) => r.check_id);
        for (const id of [...fault.fails, ...(fault.warns ?? []), ...(fault.skips ?? [])]) {
          expect(ids).toContain(id);
        }
        const failed = report.results.filter((r) => r.status === "FAIL").map((r) => r.check_id);
        expect(failed.sort()).toEqual([...fault.fails].sort());
        const warned = report.results.filter((r) => r.status === "WARN").map((r) => r.check_id);
        expect(warned).toEqual(fault.warns ?? []);
        const skipped = report.results.filter((r) => r.status === "SKIP").map((r) => r.check_id);
        expect(skipped.sort()).toEqual([...(fault.skips ?? [])].sort());
        for (const [id, pattern] of Object.entries(fault.says ?? {})) {
          const r = report.results.find((x) => x.check_id === id)!;
          expect([r.message, ...r.errors].join("\n")).toMatch(pattern);
        }
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
