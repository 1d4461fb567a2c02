/** `runConformance()`: the programmatic form of `arp-conformance check` for one service. */
import { fileURLToPath } from "node:url";
import { SERVICES, type ServiceSpec } from "@arp/model";
import { UsageError } from "../errors.js";
import { compileSpecTree } from "../spec-tree.js";
import { applyBaseline, parseBaseline } from "./baseline.js";
import { type Fixtures, parseFixtures } from "./fixtures.js";
import { checkDurationMs } from "./limits.js";
import { type CheckReport, type CheckResult, runChecks, TIERS, type Tier } from "./runner.js";
import { treeSchemas } from "./schemas.js";
import { checkUrl } from "./targets.js";

export type ServiceKey = keyof typeof SERVICES;

export interface RunConformanceOptions {
  /** `run-gateway`, ... (a key of `SERVICES`), or the service's operation table itself. */
  service: ServiceKey | ServiceSpec;
  /** Base URL of the running service (`http://localhost:8080`). */
  url: string;
  /** Default `smoke`. Tiers are cumulative. */
  tier?: Tier;
  /** Sent on every request, e.g. `{ Authorization: "Bearer ..." }`. */
  headers?: Readonly<Record<string, string>>;
  /** Deadline of one request, headers and body, at most 86 400 000 (one day). Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Retries after a transport error (never after an answer), only of the operations the spec marks
   * safe to repeat. Default 0.
   */
  retries?: number;
  /** Also fail on WARN and SKIP. */
  strict?: boolean;
  /** Expected failures: check ids or `<service>/<check id>` (see `baseline.ts` for the file form). */
  expectedFailures?: readonly string[];
  /** Called after each check, in order. */
  onResult?: (result: CheckResult) => void;
  /**
   * The spec tree whose golden vectors seed the invalid bodies derived from each request schema.
   * Default: the spec this package bundles.
   */
  specRoot?: string;
  /**
   * Judge against this spec tree instead (`--spec-path`): its schemas are compiled at run time, its
   * golden vectors seed the invalid bodies, and the report's `spec_ref` is its path. Throws
   * {@link UsageError} for a tree that does not compile or lacks a schema the checks need.
   */
  specPath?: string;
  /** Let the core tier create node types, runs, node runs and executions; its checks SKIP without. */
  allowMutations?: boolean;
  /** The core tier's request bodies, over {@link DEFAULT_FIXTURES} (see `parseFixtures`). */
  fixtures?: Partial<Fixtures>;
  /** How long a run may take to reach a terminal state, at most one day. Default 30 000 ms. */
  pollTimeoutMs?: number;
  /** Pause between two reads of a run while waiting, at most one day. Default 250 ms. */
  pollIntervalMs?: number;
  /** Cancel the runs still going at the end. Default true. */
  cleanup?: boolean;
  /** Deep tier: probe a protected operation without a token and with a garbage one (`--auth-probe`). */
  authProbe?: boolean;
}

/** The `spec/v1` this package bundles (`dist/spec/v1`, beside the built module), if it can be found. */
function bundledSpecRoot(): string | undefined {
  try {
    return fileURLToPath(new URL("./spec/v1/", import.meta.url));
  } catch {
    return undefined; // no module URL (a bundler's CommonJS output): the schema-blind bodies only
  }
}

/**
 * Runs the checks of a tier against one running service and returns the report (never throws for
 * what the service does). Throws {@link UsageError} for options it cannot run with, before any
 * request: an unknown service or tier, a URL that is not http(s) or uses a port fetch blocks, a
 * duration that is not a number of milliseconds or is over one day, a retry count that is not a
 * whole number.
 */
export async function runConformance(options: RunConformanceOptions): Promise<CheckReport> {
  const service = typeof options.service === "string" ? SERVICES[options.service] : options.service;
  if (service === undefined) {
    throw new UsageError(
      `unknown service: ${String(options.service)} (services: ${Object.keys(SERVICES).join(", ")})`,
    );
  }
  const tier = options.tier ?? "smoke";
  if (!TIERS.includes(tier)) throw new UsageError(`unknown tier: ${tier} (tiers: ${TIERS.join(", ")})`);
  if (options.authProbe === true && tier !== "deep") {
    throw new UsageError("authProbe is a deep-tier check: use tier deep");
  }
  checkUrl(options.url, "url");
  if (options.timeoutMs !== undefined) checkDurationMs("timeoutMs", options.timeoutMs);
  if (options.pollTimeoutMs !== undefined) checkDurationMs("pollTimeoutMs", options.pollTimeoutMs, true);
  if (options.pollIntervalMs !== undefined) checkDurationMs("pollIntervalMs", options.pollIntervalMs, true);
  if (options.retries !== undefined && !(Number.isInteger(options.retries) && options.retries >= 0)) {
    throw new UsageError(`retries must be a whole number ≥ 0, not ${String(options.retries)}`);
  }
  const tree = options.specPath === undefined ? undefined : compileSpecTree(options.specPath);
  const specRoot = tree?.root ?? options.specRoot ?? bundledSpecRoot();
  const report = await runChecks({
    service,
    url: options.url,
    tier,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.strict === undefined ? {} : { strict: options.strict }),
    ...(options.onResult === undefined ? {} : { onResult: options.onResult }),
    ...(specRoot === undefined ? {} : { specRoot }),
    ...(tree === undefined
      ? {}
      : { schemas: treeSchemas(tree.validators, service, tree.root), specRef: tree.root }),
    ...(options.allowMutations === undefined ? {} : { allowMutations: options.allowMutations }),
    ...(options.fixtures === undefined ? {} : { fixtures: parseFixtures(options.fixtures, "fixtures") }),
    ...(options.pollTimeoutMs === undefined ? {} : { pollTimeoutMs: options.pollTimeoutMs }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.cleanup === undefined ? {} : { cleanup: options.cleanup }),
    ...(options.authProbe === undefined ? {} : { authProbe: options.authProbe }),
  });
  if (options.expectedFailures === undefined) return report;
  return applyBaseline(report, parseBaseline(options.expectedFailures.join("\n")));
}
