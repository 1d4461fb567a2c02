/**
 * Runs the checks of a tier against one service and collects their results. A check is data plus
 * one `run(ctx)`; the runner gives each a context whose `probe` memoises exchanges, so the checks
 * that judge one answer (status, content type, body) share a single request, and whose `send`
 * does not (the calls of the core and deep tiers, which would otherwise be kept for the whole run).
 */
import { type CompiledValidator, type SchemaName, type ServiceSpec, SPEC_REF } from "@arp/model";
import { coreChecks } from "./checks/core.js";
import { type DeepOptions, deepChecks } from "./checks/deep.js";
import { smokeChecks } from "./checks/smoke.js";
import { streamChecks } from "./checks/streams.js";
import { surfaceChecks } from "./checks/surface.js";
import { Failure, StepFailed } from "./failure.js";
import { DEFAULT_FIXTURES, type Fixtures } from "./fixtures.js";
import { type Exchange, type ProbeOptions, type ProbeRequest, type ProbeResult, probe } from "./probe.js";
import { PRECOMPILED, type SchemaSource, withSchemas } from "./schemas.js";
import { probeStream, type StreamOptions, type StreamRequest, type StreamResult } from "./stream.js";

/** The tiers, cumulative: each runs the checks of the tiers before it too. */
export const TIERS = ["smoke", "surface", "core", "deep"] as const;
export type Tier = (typeof TIERS)[number];
/** The tiers whose checks exist in this version: all of them (kept for code written against 0.3.x). */
export const IMPLEMENTED_TIERS: readonly Tier[] = ["smoke", "surface", "core", "deep"];

export type CheckStatus = "PASS" | "FAIL" | "WARN" | "SKIP";

/** What a check's `run` returns. */
export interface CheckOutcome {
  status: CheckStatus;
  message: string;
  errors?: string[];
  exchange?: Exchange | null;
}

/** What the checks that create things need (`--allow-mutations`). */
export interface MutationOptions {
  readonly fixtures: Fixtures;
  /** How long to wait for a run to reach a terminal state. */
  readonly pollTimeoutMs: number;
  /** The pause between two reads of a run while waiting. */
  readonly pollIntervalMs: number;
}

export interface CheckContext {
  /** The service's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly service: ServiceSpec;
  /** The headers given by the user (`Authorization`, ...), sent on every request. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * One exchange; the same `key` answers from memory (one request per key and run). Every result
   * is kept until the run ends: only for answers several checks judge.
   */
  probe(key: string, request: ProbeRequest): Promise<ProbeResult>;
  /** One exchange with the same headers, timeout and retries, never memoised (each call sends). */
  send(request: ProbeRequest): Promise<ProbeResult>;
  /**
   * One NDJSON stream read with the run's headers, retries and request timeout (never memoised);
   * `read` bounds the body (see {@link StreamOptions}).
   */
  stream(request: StreamRequest, read?: Pick<StreamOptions, "bodyMs" | "endEvent">): Promise<StreamResult>;
  /** The validator of a schema, from the run's spec (the bundled one, or `--spec-path`'s tree). */
  schema(name: SchemaName): CompiledValidator;
  /** Undefined without `allowMutations`: the checks that create things are then skipped. */
  readonly mutations: MutationOptions | undefined;
  /**
   * A step shared by several checks (publish a node type, start a run), made once per run by the
   * first check that asks. `make` throws {@link Failure} to fail it; the step then rejects with
   * {@link StepFailed} for every check that asks.
   */
  step<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** Something to undo after the last check (cancel a run still going), unless cleanup is off. */
  cleanup(undo: () => Promise<unknown>): void;
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
  if (upTo >= TIERS.indexOf("core")) checks.push(...coreChecks(service));
  if (upTo >= TIERS.indexOf("deep"))
    checks.push(...deepChecks(service, deepOptions), ...streamChecks(service));
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
  /** Called before each check runs (the text report's progress line on a terminal). */
  onStart?: (check: Check) => void;
  /**
   * A spec tree (a `v1` folder) whose golden vectors seed the invalid bodies derived from each
   * request schema; without one, only the three schema-blind invalid bodies are sent.
   */
  specRoot?: string;
  /**
   * Lets the core and deep tiers create things (node types, runs, node runs, executions); without
   * it their checks are reported as SKIP.
   */
  allowMutations?: boolean;
  /** The request bodies used to create things; default {@link DEFAULT_FIXTURES}. */
  fixtures?: Fixtures;
  /** How long a run may take to reach a terminal state. Default 30 000 ms. */
  pollTimeoutMs?: number;
  /** Default 250 ms. */
  pollIntervalMs?: number;
  /** Leave what the checks created (runs still going are canceled otherwise). Default true. */
  cleanup?: boolean;
  /**
   * The validators the checks judge with (`treeSchemas()` of a compiled spec tree); default the
   * precompiled ones. Give `specRoot` the same tree so its golden vectors seed the invalid bodies.
   */
  schemas?: SchemaSource;
  /** Shown as the report's `spec_ref` (default the bundled `spec/v1@...`): the tree's path with `schemas`. */
  specRef?: string;
  /** Deep tier: probe a protected operation without a token and with a garbage one (expect 401s). */
  authProbe?: boolean;
}

export const DEFAULT_POLL_TIMEOUT_MS = 30_000;
export const DEFAULT_POLL_INTERVAL_MS = 250;

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

/** The first line of `message`, at most 120 characters (the failing check's own result has it all). */
function shorten(message: string): string {
  const line = message.split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** The outcome of a check that threw a failed step: the step's own, or SKIP for a check that needed it. */
function failedStep(checkId: string, err: unknown): CheckOutcome | undefined {
  if (err instanceof Failure) return err.outcome;
  if (!(err instanceof StepFailed)) return undefined;
  if (err.owner === checkId) return err.outcome;
  return {
    status: "SKIP",
    message: `not checked: it needs what ${err.owner} makes, which failed (${shorten(err.outcome.message)})`,
    exchange: err.outcome.exchange ?? null,
  };
}

/** Runs the checks of `options.tier` (default `smoke`) against one service, one after another. */
export async function runChecks(options: RunChecksOptions): Promise<CheckReport> {
  const tier = options.tier ?? "smoke";
  const baseUrl = options.url.replace(/\/+$/, "");
  const headers = options.headers ?? {};
  const schemas = options.schemas ?? PRECOMPILED;
  const service = withSchemas(options.service, schemas);
  const probeOptions: ProbeOptions = {
    headers,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  };
  const memo = new Map<string, Promise<ProbeResult>>();
  const steps = new Map<string, Promise<unknown>>();
  const undo: (() => Promise<unknown>)[] = [];
  let current = "";
  const ctx: CheckContext = {
    baseUrl,
    service,
    schema: schemas,
    headers,
    probe(key, request) {
      let result = memo.get(key);
      if (result === undefined) {
        result = probe(request, probeOptions);
        memo.set(key, result);
      }
      return result;
    },
    send(request) {
      return probe(request, probeOptions);
    },
    stream(request, read = {}) {
      return probeStream(request, { ...probeOptions, ...read });
    },
    mutations: options.allowMutations
      ? {
          fixtures: options.fixtures ?? DEFAULT_FIXTURES,
          pollTimeoutMs: options.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS,
          pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
        }
      : undefined,
    step<T>(key: string, make: () => Promise<T>): Promise<T> {
      let made = steps.get(key) as Promise<T> | undefined;
      if (made === undefined) {
        const owner = current;
        made = make().catch((err: unknown) => {
          if (err instanceof Failure) throw new StepFailed(owner, err.outcome);
          throw err;
        });
        made.catch(() => undefined); // asked for again later, or never: not an unhandled rejection
        steps.set(key, made);
      }
      return made;
    },
    cleanup(fn) {
      undo.push(fn);
    },
  };
  const started = Date.now();
  const results: CheckResult[] = [];
  const record = (result: CheckResult): void => {
    results.push(result);
    options.onResult?.(result);
  };
  const deepOptions = { authProbe: options.authProbe ?? false };
  for (const check of checksFor(service, tier, options.specRoot, deepOptions)) {
    options.onStart?.(check);
    const t0 = performance.now();
    current = check.id;
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(ctx);
    } catch (err) {
      outcome = failedStep(check.id, err) ?? {
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
  if (options.cleanup !== false) {
    // Best effort, unreported: what the service does with a cancel is judged by the checks.
    for (const fn of undo.reverse()) await fn().catch(() => undefined);
  }
  const report: CheckReport = {
    service: options.service.key,
    base_url: baseUrl,
    tier,
    spec_ref: options.specRef ?? SPEC_REF,
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
