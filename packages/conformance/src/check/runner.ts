/**
 * Runs the checks of a tier against one service and collects their results. A check is data plus
 * one `run(ctx)`; the runner gives each a context whose `probe` memoises exchanges, so the checks
 * that judge one answer (status, content type, body) share a single request.
 */
import { type ServiceSpec, SPEC_REF } from "@arp/model";
import { type DeepOptions, deepChecks } from "./checks/deep.js";
import { smokeChecks } from "./checks/smoke.js";
import { surfaceChecks } from "./checks/surface.js";
import { type Exchange, type ProbeOptions, type ProbeRequest, type ProbeResult, probe } from "./probe.js";

/** The tiers, cumulative: each runs the checks of the tiers before it too. */
export const TIERS = ["smoke", "surface", "core", "deep"] as const;
export type Tier = (typeof TIERS)[number];
/**
 * The tiers whose checks exist today; the others are reported as skipped (`deep` has the checks that
 * need no created resources, but not its stream checks, so it is skipped as partly implemented).
 */
export const IMPLEMENTED_TIERS: readonly Tier[] = ["smoke", "surface"];

export type CheckStatus = "PASS" | "FAIL" | "WARN" | "SKIP";

/** What a check's `run` returns. */
export interface CheckOutcome {
  status: CheckStatus;
  message: string;
  errors?: string[];
  exchange?: Exchange | null;
}

export interface CheckContext {
  /** The service's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly service: ServiceSpec;
  /** The headers given by the user (`Authorization`, ...), sent on every request. */
  readonly headers: Readonly<Record<string, string>>;
  /** One exchange; the same `key` answers from memory (one request per key and run). */
  probe(key: string, request: ProbeRequest): Promise<ProbeResult>;
}

export interface Check {
  /** Stable: `smoke.health.status`, `surface.startRun.invalid_body.empty`. */
  readonly id: string;
  readonly name: string;
  readonly tier: Tier;
  /** Where the spec says it: `openapi/run-gateway.openapi.yaml#health` and, for bodies, the schema file. */
  readonly specRef: readonly string[];
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

/** One result, in the report's (Python-compatible) field names. */
export interface CheckResult {
  check_id: string;
  name: string;
  tier: Tier;
  status: CheckStatus;
  message: string;
  errors: string[];
  duration_ms: number;
  exchange: Exchange | null;
  spec_reference: string[];
  /** Present (true) when the failure is listed in the expected-failures file. */
  expected_failure?: boolean;
}

export interface CheckCounts {
  passed: number;
  failed: number;
  warned: number;
  skipped: number;
}

/** Everything one service's run produced. */
export interface CheckReport {
  service: string;
  base_url: string;
  tier: Tier;
  /** The spec the checks judge against (`spec/v1@v0.3.7`). */
  spec_ref: string;
  started_at_epoch_ms: number;
  finished_at_epoch_ms: number;
  counts: CheckCounts;
  /** No FAIL (outside the baseline), no stale baseline entry; with `strict`, no WARN or SKIP either. */
  ok: boolean;
  strict: boolean;
  results: CheckResult[];
  /** Present when an expected-failures file was given: how the run compares with it. */
  baseline?: {
    /** FAILs not listed. */
    unexpected_failures: string[];
    /** Listed, ran, and did not FAIL: the list is out of date. */
    unexpected_passes: string[];
  };
}

/** The checks of `tier` and the tiers before it, in order. */
export function checksFor(
  service: ServiceSpec,
  tier: Tier,
  specRoot?: string,
  deepOptions: DeepOptions = {},
): Check[] {
  const upTo = TIERS.indexOf(tier);
  const checks: Check[] = [...smokeChecks(service)];
  if (upTo >= TIERS.indexOf("surface")) checks.push(...surfaceChecks(service, specRoot));
  if (upTo >= TIERS.indexOf("deep")) checks.push(...deepChecks(service, deepOptions));
  return checks;
}

export interface RunChecksOptions extends ProbeOptions {
  service: ServiceSpec;
  /** The service's base URL (`http://localhost:8080`); a trailing slash is ignored. */
  url: string;
  tier?: Tier;
  strict?: boolean;
  /** Called after each check, in order (the text report's live lines). */
  onResult?: (result: CheckResult) => void;
  /**
   * A spec tree (a `v1` folder) whose golden vectors seed the invalid bodies derived from each
   * request schema; without one, only the three schema-blind invalid bodies are sent.
   */
  specRoot?: string;
  /** Deep tier: probe a protected operation without a token and with a garbage one (expect 401s). */
  authProbe?: boolean;
}

export function countResults(results: readonly CheckResult[]): CheckCounts {
  const counts: CheckCounts = { passed: 0, failed: 0, warned: 0, skipped: 0 };
  for (const r of results) {
    if (r.status === "PASS") counts.passed++;
    else if (r.status === "FAIL") counts.failed++;
    else if (r.status === "WARN") counts.warned++;
    else counts.skipped++;
  }
  return counts;
}

/** Whether a report is a success: see {@link CheckReport.ok}. */
export function reportOk(report: Pick<CheckReport, "results" | "strict" | "baseline">): boolean {
  if (report.baseline !== undefined) {
    if (report.baseline.unexpected_failures.length > 0 || report.baseline.unexpected_passes.length > 0) {
      return false;
    }
  } else if (report.results.some((r) => r.status === "FAIL")) {
    return false;
  }
  return !report.strict || report.results.every((r) => r.status === "PASS" || r.expected_failure === true);
}

/** Runs the checks of `options.tier` (default `smoke`) against one service, one after another. */
export async function runChecks(options: RunChecksOptions): Promise<CheckReport> {
  const tier = options.tier ?? "smoke";
  const baseUrl = options.url.replace(/\/+$/, "");
  const headers = options.headers ?? {};
  const probeOptions: ProbeOptions = {
    headers,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  };
  const memo = new Map<string, Promise<ProbeResult>>();
  const ctx: CheckContext = {
    baseUrl,
    service: options.service,
    headers,
    probe(key, request) {
      let result = memo.get(key);
      if (result === undefined) {
        result = probe(request, probeOptions);
        memo.set(key, result);
      }
      return result;
    },
  };
  const started = Date.now();
  const results: CheckResult[] = [];
  const record = (result: CheckResult): void => {
    results.push(result);
    options.onResult?.(result);
  };
  const deepOptions = { authProbe: options.authProbe ?? false };
  for (const check of checksFor(options.service, tier, options.specRoot, deepOptions)) {
    const t0 = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(ctx);
    } catch (err) {
      outcome = {
        status: "FAIL",
        message: `the check itself failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    record({
      check_id: check.id,
      name: check.name,
      tier: check.tier,
      status: outcome.status,
      message: outcome.message,
      errors: outcome.errors ?? [],
      duration_ms: Math.round(performance.now() - t0),
      exchange: outcome.exchange ?? null,
      spec_reference: [...check.specRef],
    });
  }
  for (const missing of TIERS.slice(0, TIERS.indexOf(tier) + 1)) {
    if (IMPLEMENTED_TIERS.includes(missing)) continue;
    const ran = results.filter((r) => r.tier === missing).length;
    record({
      check_id: `${missing}.not_implemented`,
      name: `${missing} tier`,
      tier: missing,
      status: "SKIP",
      message:
        ran === 0
          ? `the ${missing} tier has no checks yet in this version of arp-conformance (implemented: ${IMPLEMENTED_TIERS.join(", ")})`
          : `the ${missing} tier is only partly implemented in this version of arp-conformance (${ran} of its checks ran; implemented: ${IMPLEMENTED_TIERS.join(", ")})`,
      errors: [],
      duration_ms: 0,
      exchange: null,
      spec_reference: [],
    });
  }
  const report: CheckReport = {
    service: options.service.key,
    base_url: baseUrl,
    tier,
    spec_ref: SPEC_REF,
    started_at_epoch_ms: started,
    finished_at_epoch_ms: Date.now(),
    counts: countResults(results),
    ok: false,
    strict: options.strict ?? false,
    results,
  };
  report.ok = reportOk(report);
  return report;
}
