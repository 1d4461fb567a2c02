/**
 * JSON output: the whole report as one object on stdout (usage problems included, under `errors`),
 * for CI systems and dashboards. Problems also go to stderr, as with the text reporter.
 */
import { type Output, type Reporter, type VectorsReport, writeProblems } from "./reporter.js";

export function jsonReporter(out: Output): Reporter {
  return {
    vectors(report: VectorsReport): void {
      writeProblems(out, report);
      out.stdout(`${JSON.stringify(report, null, 2)}\n`);
    },
  };
}
