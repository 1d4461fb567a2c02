/** `arp-conformance check`: exit codes, formats, headers, baselines, dead and silent services. */

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import type { CheckReport, CheckRunReport } from "../src/index.js";
import { runConformance } from "../src/index.js";
import { bundledSpecRoot, capture, cli, lastLine, tempTree } from "./helpers.js";
import { FAULTS } from "./support/faults.js";
import { CORRECT, withAuth } from "./support/services.js";

const SUMMARY = /^\d+ passed, \d+ failed, \d+ warned, \d+ skipped$/;
const running: { url: string; close(): Promise<void> }[] = [];
let gateway = "";
let pdp = "";
let broken = "";
let seen: Record<string, string | string[] | undefined>[] = [];

beforeAll(async () => {
  const g = await CORRECT["run-gateway"]!().listen({ port: 0 });
  const p = await CORRECT.pdp!().listen({ port: 0 });
  const b = await FAULTS.find((f) => f.name === "an unknown run id answered 200")!
    .make()
    .listen({ port: 0 });
  running.push(g, p, b);
  gateway = g.url;
  pdp = p.url;
  broken = b.url;
});
afterAll(async () => {
  for (const r of running) await r.close();
});

describe("arp-conformance check", () => {
  it("exit 0 and one line per check for a correct service, summary last", async () => {
    const { code, stdout, stderr } = await cli("check", "run-gateway", "--url", gateway, "--tier", "surface");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^PASS {2}run-gateway {2}smoke\.health\.status {2}200$/m);
    expect(stdout).toMatch(/^PASS {2}run-gateway {2}surface\.startRun\.invalid_body\.empty /m);
    expect(lastLine(stdout)).toMatch(SUMMARY);
    expect(lastLine(stdout)).toMatch(/ 0 failed, 0 warned, 0 skipped$/);
  });

  it("on a terminal, the running check is shown on a line its result then overwrites; piped, plain lines", async () => {
    const { output, text } = capture();
    const code = await main(
      ["check", "pdp", "--url", pdp],
      { ...output, terminal: true },
      { bundledSpecRoot },
    );
    expect(code).toBe(0);
    expect(text.stdout).toContain(
      "\r\x1b[2K… pdp  smoke.health.status\r\x1b[2KPASS  pdp  smoke.health.status  200\n",
    );
    expect(lastLine(text.stdout)).toMatch(SUMMARY);
    const piped = await cli("check", "pdp", "--url", pdp);
    expect(piped.stdout).not.toContain("\x1b");
    expect(piped.stdout).not.toContain("…");
  });

  it("exit 1 for a failure, with the request and the answer", async () => {
    const { code, stdout } = await cli("check", "run-coordinator", "--url", broken, "--tier", "surface");
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^FAIL {2}run-coordinator {2}surface\.getRun\.unknown_id {2}status 200, expected a 4xx$/m,
    );
    expect(stdout).toMatch(/> GET http:\/\/127\.0\.0\.1:\d+\/v1\/runs\/arp-conformance-unknown-/);
    expect(stdout).toMatch(/< 200 application\/json/);
    expect(lastLine(stdout)).toMatch(/ 1 failed,/);
  });

  it("--expected-failures: a listed failure passes the run; a listed pass or a new failure fails it", async () => {
    const listed = tempTree({ "x.txt": "# known\nrun-coordinator/surface.getRun.unknown_id\n" });
    expect(
      (
        await cli(
          "check",
          "run-coordinator",
          "--url",
          broken,
          "--tier",
          "surface",
          "--expected-failures",
          join(listed, "x.txt"),
        )
      ).code,
    ).toBe(0);
    const stale = await cli(
      "check",
      "run-gateway",
      "--url",
      gateway,
      "--expected-failures",
      join(listed, "x.txt").replace("x.txt", "x.txt"),
    );
    expect(stale.code).toBe(0); // listed for another service: does not apply
    const other = tempTree({ "y.txt": "smoke.health.status\n" });
    const passes = await cli(
      "check",
      "run-gateway",
      "--url",
      gateway,
      "--expected-failures",
      join(other, "y.txt"),
    );
    expect(passes.code).toBe(1);
    expect(passes.stdout).toContain("listed as an expected failure, but did not fail: smoke.health.status");
    const empty = tempTree({ "z.txt": "# nothing\n" });
    expect(
      (
        await cli(
          "check",
          "run-coordinator",
          "--url",
          broken,
          "--tier",
          "surface",
          "--expected-failures",
          join(empty, "z.txt"),
        )
      ).code,
    ).toBe(1);
    const bad = tempTree({ "b.txt": "not a check id!\n" });
    const usage = await cli(
      "check",
      "run-gateway",
      "--url",
      gateway,
      "--expected-failures",
      join(bad, "b.txt"),
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/b\.txt:1: not a check id/);
  });

  it("--tier deep without --allow-mutations: one FAIL says so, the checks that create things SKIP", async () => {
    const loose = await cli("check", "run-gateway", "--url", gateway, "--tier", "deep");
    expect(loose.code).toBe(1);
    expect(loose.stdout).toMatch(/^FAIL {2}run-gateway {2}core\.mutations_allowed {2}.*--allow-mutations/m);
    expect(loose.stdout).toMatch(
      /^SKIP {2}run-gateway {2}deep\.streamRunEvents\.finished_run {2}not checked: .*--allow-mutations$/m,
    );
    expect(loose.stdout).not.toContain("not_implemented");
    const mutating = await cli(
      "check",
      "run-gateway",
      "--url",
      gateway,
      "--tier",
      "deep",
      "--allow-mutations",
      "--poll-interval",
      "0.02",
      "--strict",
    );
    expect(mutating.stdout).toMatch(
      /^PASS {2}run-gateway {2}deep\.streamRunEvents\.finished_run {2}3 events(, then the stream ended|, ending with run_completed .*)$/m,
    );
    expect(mutating.code).toBe(0);
    expect((await cli("check", "pdp", "--url", pdp, "--tier", "deep")).stdout).toMatch(
      /^SKIP {2}pdp {2}core\.decidePolicy\.decide {2}not checked: .*--allow-mutations$/m,
    );
    expect((await cli("check", "pdp", "--url", pdp, "--tier", "core", "--strict")).code).toBe(1);
    expect((await cli("check", "pdp", "--url", pdp, "--tier", "surface", "--strict")).code).toBe(0);
  });

  it("--auth-probe (deep tier): a protected operation without a token and with a garbage one answers 401", async () => {
    const authed = await withAuth(CORRECT.pdp!).listen({ port: 0 });
    running.push(authed);
    const token = authed.headers!.Authorization!;
    const probed = await cli(
      "check",
      "pdp",
      "--url",
      authed.url,
      "--tier",
      "deep",
      "--allow-mutations",
      "--auth-probe",
      "--headers",
      `Authorization=${token}`,
    );
    expect(probed.stderr).toBe("");
    expect(probed.code).toBe(0);
    expect(probed.stdout).toMatch(
      /^PASS {2}pdp {2}deep\.auth\.decidePolicy\.no_token {2}401, WWW-Authenticate: Bearer /m,
    );
    expect(probed.stdout).toMatch(/^PASS {2}pdp {2}deep\.auth\.decidePolicy\.garbage_token {2}401, /m);
    expect(probed.stdout).toMatch(/^PASS {2}pdp {2}deep\.unknown_route {2}404 ErrorEnvelope$/m);
    expect(probed.stdout).toMatch(/^PASS {2}pdp {2}deep\.health\.open {2}200 without a token$/m);
    expect(probed.stdout).not.toContain(token.slice(7));
    expect(lastLine(probed.stdout)).toMatch(/ 0 failed, 0 warned, 0 skipped$/);

    // Without the flag the probes are not listed; a service with auth off fails them.
    const plain = await cli("check", "pdp", "--url", pdp, "--tier", "deep", "--allow-mutations");
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain("deep.auth.");
    const open = await cli("check", "pdp", "--url", pdp, "--tier", "deep", "--auth-probe");
    expect(open.code).toBe(1);
    expect(open.stdout).toMatch(
      /^FAIL {2}pdp {2}deep\.auth\.decidePolicy\.no_token {2}status 400, expected 401 for a request without a token/m,
    );

    const early = await cli("check", "pdp", "--url", pdp, "--tier", "surface", "--auth-probe");
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/^arp-conformance: --auth-probe is a deep-tier check: add --tier deep$/m);
    const help = await cli("check", "--help");
    expect(help.stdout).toMatch(/^ {6}--auth-probe {2,}Deep tier: /m);
  });

  it("--format json: the Python report's fields", async () => {
    const { code, stdout } = await cli("check", "pdp", "--url", pdp, "--format", "json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as CheckReport;
    expect(report).toMatchObject({ service: "pdp", tier: "smoke", ok: true, counts: { failed: 0 } });
    expect(report.spec_ref).toMatch(/^spec\/v1@v/);
    expect(report.finished_at_epoch_ms).toBeGreaterThanOrEqual(report.started_at_epoch_ms);
    const first = report.results[0]!;
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining([
        "check_id",
        "name",
        "status",
        "message",
        "errors",
        "duration_ms",
        "exchange",
        "spec_reference",
      ]),
    );
    expect(first.spec_reference).toEqual(["openapi/pdp.openapi.yaml#health"]);
    // The Python tool's counts keys and flat exchange fields, beside ours.
    const raw = JSON.parse(stdout) as {
      counts: Record<string, number>;
      results: { exchange: Record<string, unknown> }[];
    };
    expect(raw.counts).toMatchObject({ PASS: 7, FAIL: 0, WARN: 0, SKIP: 0, passed: 7 });
    expect(raw.results[0]!.exchange).toMatchObject({
      method: "GET",
      url: `${pdp}/v1/health`,
      request_body: null,
      status_code: 200,
      content_type: expect.stringMatching(/^application\/json/),
      response_body: expect.stringContaining('"status"'),
      request: { method: "GET" },
      response: { status: 200 },
    });
  });

  it("--expected-failures takes derived check ids (JSON pointers, parentheses); a listed SKIP is ignored", async () => {
    const fault = await FAULTS.find((f) => f.name === "a 200 for invalid bodies")!
      .make()
      .listen({ port: 0 });
    running.push(fault);
    const first = await cli("check", "pdp", "--url", fault.url, "--tier", "surface", "--format", "json");
    const failed = (JSON.parse(first.stdout) as CheckReport).results
      .filter((r) => r.status === "FAIL")
      .map((r) => `pdp/${r.check_id}`);
    expect(failed.some((id) => id.includes("--/") || id.includes("(root)"))).toBe(true);
    const dir = tempTree({ "known.txt": [...failed, "pdp/core.decidePolicy.decide"].join("\n") });
    const known = await cli(
      "check",
      "pdp",
      "--url",
      fault.url,
      "--tier",
      "core",
      "--expected-failures",
      join(dir, "known.txt"),
    );
    // core.mutations_allowed is a new failure; the listed, skipped core.decidePolicy.decide is ignored.
    expect(known.stdout).toMatch(/core\.mutations_allowed/);
    const surface = await cli(
      "check",
      "pdp",
      "--url",
      fault.url,
      "--tier",
      "surface",
      "--expected-failures",
      join(dir, "known.txt"),
    );
    expect(surface.code).toBe(0);
  });

  it("check all: one report per service, wrapped as { reports, ok }; --out with json keeps text on stdout", async () => {
    const dir = tempTree({});
    const file = join(dir, "report.json");
    const { code, stdout } = await cli(
      "check",
      "all",
      "--run-gateway-url",
      gateway,
      "--pdp-url",
      pdp,
      "--format",
      "json",
      "--out",
      file,
    );
    expect(code).toBe(0);
    expect(lastLine(stdout)).toMatch(SUMMARY);
    const run = JSON.parse(readFileSync(file, "utf8")) as CheckRunReport;
    expect(run.ok).toBe(true);
    expect(run.reports.map((r) => r.service)).toEqual(["pdp", "run-gateway"]);
  });

  it("--format junit: well-formed XML, one testsuite per service, failures marked", async () => {
    const { code, stdout } = await cli(
      "check",
      "all",
      "--run-coordinator-url",
      broken,
      "--pdp-url",
      pdp,
      "--tier",
      "surface",
      "--format",
      "junit",
    );
    expect(code).toBe(1);
    expect(XMLValidator.validate(stdout)).toBe(true);
    expect(stdout.match(/<testsuite /g)).toHaveLength(2);
    expect(stdout).toMatch(
      /<testcase classname="run-coordinator\.surface" name="surface\.getRun\.unknown_id" time="[\d.]+">\n\s+<failure message="status 200, expected a 4xx"/,
    );
    expect(XMLValidator.validate(stdout.replace("</testsuites>", ""))).not.toBe(true);
  });

  it("sends --headers and --headers-file headers on every request, and never reports their values", async () => {
    const server: Server = createServer((req, res) => {
      seen.push({ ...req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          req.url === "/v1/health"
            ? { status: "ok", time: "2026-01-15T09:30:00Z" }
            : { service_name: "x", service_version: "1", supported_api_versions: ["v1"] },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      seen = [];
      const dir = tempTree({ "h.txt": "# auth\nAuthorization=Bearer secret-token\nX-Tenant=acme\n" });
      const { code, stdout } = await cli(
        "check",
        "selection",
        "--url",
        url,
        "--headers-file",
        join(dir, "h.txt"),
        "--headers",
        "X-Tenant=beta",
        "--format",
        "json",
      );
      expect(code).toBe(0);
      expect(seen.length).toBe(2);
      for (const h of seen)
        expect(h).toMatchObject({ authorization: "Bearer secret-token", "x-tenant": "beta" });
      expect(stdout).not.toContain("secret-token");
      expect(stdout).toContain('"Authorization": "<redacted>"');
      const bad = await cli("check", "selection", "--url", url, "--headers", "novalue");
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--headers: expected KEY=VALUE/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("a URL with nothing listening: every check FAILs (or SKIPs) with the transport error", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const { code, stdout } = await cli("check", "pdp", "--url", `http://127.0.0.1:${port}`, "--retries", "1");
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^FAIL {2}pdp {2}smoke\.health\.status {2}no answer: fetch failed: .*ECONNREFUSED/m,
    );
    expect(lastLine(stdout)).toBe("0 passed, 2 failed, 0 warned, 5 skipped");
    const report = await runConformance({ service: "pdp", url: `http://127.0.0.1:${port}`, retries: 2 });
    expect(report.results[0]?.exchange?.attempts).toBe(3);
  });

  it("a server that never answers: --timeout ends each request", async () => {
    const server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { code, stdout } = await cli("check", "pdp", "--url", url, "--timeout", "0.2");
      expect(code).toBe(1);
      expect(stdout).toMatch(/smoke\.health\.status {2}no answer: no answer within 0\.2 s$/m);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("usage errors exit 2", async () => {
    for (const argv of [
      ["check"],
      ["check", "nope", "--url", gateway],
      ["check", "pdp"],
      ["check", "pdp", "--url", "ftp://x"],
      ["check", "all"],
      ["check", "all", "--url", gateway],
      ["check", "pdp", "--pdp-url", pdp],
      ["check", "pdp", "--url", pdp, "--tier", "gold"],
      ["check", "pdp", "--url", pdp, "--timeout", "0"],
      ["check", "pdp", "--url", pdp, "--retries", "1.5"],
      ["check", "pdp", "--url", pdp, "--allow-everything"],
    ]) {
      const { code, stderr } = await cli(...argv);
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(stderr).toMatch(/^arp-conformance: /);
    }
  });

  it("runConformance: the programmatic form, with a baseline", async () => {
    const report = await runConformance({ service: "run-coordinator", url: broken, tier: "surface" });
    expect(report.ok).toBe(false);
    const known = await runConformance({
      service: "run-coordinator",
      url: broken,
      tier: "surface",
      expectedFailures: ["surface.getRun.unknown_id"],
    });
    expect(known.ok).toBe(true);
    expect(known.results.find((r) => r.check_id === "surface.getRun.unknown_id")?.expected_failure).toBe(
      true,
    );
  });
});
