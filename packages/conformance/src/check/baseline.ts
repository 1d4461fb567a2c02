/**
 * Expected failures (a baseline): known FAILs that do not fail the run. The run fails on a FAIL
 * that is not listed, and on a listed check that ran and did not FAIL (the list is out of date:
 * remove the entry). Listed checks that did not run (another tier, another service) or were
 * skipped are ignored.
 *
 * File format: one entry per line, `<check_id>` (any service) or `<service>/<check_id>`; blank lines
 * and lines starting with `#` are ignored.
 *
 *     # known: our gateway answers FastAPI's 404 for unknown runs
 *     run-gateway/surface.getRun.unknown_id
 *     smoke.health.content_type
 */
import { UsageError } from "../errors.js";
import { type CheckReport, reportOk } from "./runner.js";

export interface Baseline {
  /** `<service>/<check_id>` or `<check_id>`, as listed. */
  readonly entries: readonly string[];
}

/**
 * Any id without white space, with an optional `<service>/` prefix: derived ids carry JSON pointers
 * and parentheses (`surface.startRun.invalid_body.required--/root_node_type_ref/version`).
 */
const ENTRY = /^(?:[a-z][a-z0-9-]*\/)?[a-z]+\.\S+$/;

export function parseBaseline(text: string, path = "expected failures"): Baseline {
  const entries: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!ENTRY.test(line)) {
      throw new UsageError(`${path}:${i + 1}: not a check id or <service>/<check id>: ${line}`, { path });
    }
    entries.push(line);
  }
  return { entries };
}

function listed(baseline: Baseline, service: string, checkId: string): boolean {
  return baseline.entries.includes(checkId) || baseline.entries.includes(`${service}/${checkId}`);
}

/** Marks the listed failures, records how the run compares with the baseline, and recomputes `ok`. */
export function applyBaseline(report: CheckReport, baseline: Baseline): CheckReport {
  const unexpected_failures: string[] = [];
  const unexpected_passes: string[] = [];
  for (const result of report.results) {
    const expected = listed(baseline, report.service, result.check_id);
    if (result.status === "FAIL") {
      if (expected) result.expected_failure = true;
      else unexpected_failures.push(result.check_id);
    } else if (expected && result.status !== "SKIP") {
      // A SKIP judged nothing: it neither confirms nor refutes the entry.
      unexpected_passes.push(result.check_id);
    }
  }
  report.baseline = { unexpected_failures, unexpected_passes };
  report.ok = reportOk(report);
  return report;
}
