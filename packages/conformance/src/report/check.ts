/**
 * The reports of `arp-conformance check`: a text line per check as it runs, then the whole run as
 * text, JSON (the Python tool's field names) or JUnit XML. Pure functions of the results; the
 * command decides where each goes.
 */
import type { CheckReport, CheckResult } from "../check/runner.js";

/** What `check all` writes as JSON: every service's report and whether all are ok. */
export interface CheckRunReport {
  reports: CheckReport[];
  ok: boolean;
}

/** `PASS  surface.getRun.route  404 ErrorEnvelope for a random id`, plus request/answer lines on FAIL/WARN. */
export function checkLine(service: string, result: CheckResult): string {
  const expected = result.expected_failure === true ? " (expected failure)" : "";
  let text = `${result.status.padEnd(6)}${service}  ${result.check_id}  ${result.message}${expected}\n`;
  if (result.status === "FAIL" || result.status === "WARN") {
    // The message is often the first error; every other one gets its line.
    for (const error of result.errors) if (error !== result.message) text += `        ${error}\n`;
    const exchange = result.exchange;
    if (exchange !== null) {
      text += `        > ${exchange.request.method} ${exchange.request.url}`;
      text += exchange.request.body === null ? "\n" : ` ${exchange.request.body}\n`;
      const response = exchange.response;
      if (response !== null) {
        const body = response.body.length > 200 ? `${response.body.slice(0, 200)}…` : response.body;
        text += `        < ${response.status} ${response.content_type ?? "(no content type)"} ${body.replace(/\s+/g, " ")}\n`;
      }
      if (exchange.error !== null) text += `        ! ${exchange.error}\n`;
    }
    if (result.spec_reference.length > 0) text += `        spec: ${result.spec_reference.join(", ")}\n`;
  }
  return text;
}

/** The end of the text report: baseline notes, then `N passed, N failed, N warned, N skipped` last. */
export function textSummary(reports: readonly CheckReport[]): string {
  let text = "";
  const totals = { passed: 0, failed: 0, warned: 0, skipped: 0 };
  for (const report of reports) {
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += report.counts[key];
    const baseline = report.baseline;
    if (baseline !== undefined) {
      for (const id of baseline.unexpected_failures)
        text += `${report.service}: new failure (not in the expected failures): ${id}\n`;
      for (const id of baseline.unexpected_passes)
        text += `${report.service}: listed as an expected failure, but did not fail: ${id}\n`;
    }
  }
  text += `${totals.passed} passed, ${totals.failed} failed, ${totals.warned} warned, ${totals.skipped} skipped\n`;
  return text;
}

/** The whole run as text: every line, then the summary. */
export function renderText(reports: readonly CheckReport[]): string {
  let text = "";
  for (const report of reports) for (const r of report.results) text += checkLine(report.service, r);
  return text + textSummary(reports);
}

/** One service: its report; `check all`: `{ reports, ok }`. */
/**
 * A report in the JSON form: the Python tool's field names (`counts` keyed by status, each
 * exchange's flat `method`, `url`, `request_body`, `status_code`, `content_type`, `response_body`),
 * plus ours (`passed`/`failed`/... counts, the nested `request`/`response` of each exchange, its
 * `error`, `attempts`, `duration_ms`, and `spec_reference`, `baseline`).
 */
export function jsonShape(report: CheckReport): Record<string, unknown> {
  const { passed, failed, warned, skipped } = report.counts;
  return {
    ...report,
    counts: { PASS: passed, FAIL: failed, WARN: warned, SKIP: skipped, passed, failed, warned, skipped },
    results: report.results.map((r) => ({
      ...r,
      exchange:
        r.exchange === null
          ? null
          : {
              method: r.exchange.request.method,
              url: r.exchange.request.url,
              request_body: r.exchange.request.body,
              status_code: r.exchange.response?.status ?? null,
              content_type: r.exchange.response?.content_type ?? null,
              response_body: r.exchange.response?.body ?? null,
              ...r.exchange,
            },
    })),
  };
}

export function renderJson(reports: readonly CheckReport[], all: boolean): string {
  const value = all
    ? { reports: reports.map(jsonShape), ok: reports.every((r) => r.ok) }
    : jsonShape(reports[0]!);
  return `${JSON.stringify(value, null, 2)}\n`;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for XML and drops characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** JUnit XML: one `<testsuite>` per service, one `<testcase>` per check (SKIP → skipped, FAIL → failure). */
export function renderJunit(reports: readonly CheckReport[]): string {
  const totals = { tests: 0, failures: 0, skipped: 0 };
  let suites = "";
  for (const report of reports) {
    const seconds = (report.finished_at_epoch_ms - report.started_at_epoch_ms) / 1000;
    const failures = report.results.filter((r) => r.status === "FAIL" && r.expected_failure !== true).length;
    const skipped = report.results.filter((r) => r.status === "SKIP").length;
    totals.tests += report.results.length;
    totals.failures += failures;
    totals.skipped += skipped;
    // The Python tool's suite name, so dashboards that group by it keep working.
    suites += `  <testsuite name="arp-conformance:${xmlEscape(report.service)}:${report.tier}" tests="${report.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${new Date(report.started_at_epoch_ms).toISOString()}">\n`;
    suites += `    <properties><property name="base_url" value="${xmlEscape(report.base_url)}"/><property name="tier" value="${report.tier}"/><property name="spec_ref" value="${xmlEscape(report.spec_ref)}"/></properties>\n`;
    for (const r of report.results) {
      const open = `    <testcase classname="${xmlEscape(`${report.service}.${r.tier}`)}" name="${xmlEscape(r.check_id)}" time="${r.duration_ms / 1000}"`;
      const detail = xmlEscape(
        checkLine(report.service, { ...r, status: r.status === "PASS" ? "WARN" : r.status }),
      );
      if (r.status === "PASS") suites += `${open}/>\n`;
      else if (r.status === "SKIP")
        suites += `${open}>\n      <skipped message="${xmlEscape(r.message)}"/>\n    </testcase>\n`;
      else if (r.status === "WARN" || r.expected_failure === true)
        suites += `${open}>\n      <system-out>${detail}</system-out>\n    </testcase>\n`;
      else
        suites += `${open}>\n      <failure message="${xmlEscape(r.message)}" type="${r.tier}">${detail}</failure>\n    </testcase>\n`;
    }
    suites += "  </testsuite>\n";
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="arp-conformance" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}">\n${suites}</testsuites>\n`;
}
