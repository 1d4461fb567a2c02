/**
 * Text output: a header line, one line per vector, then `N passed, N failed` alone on the last line.
 *
 *     ok        valid    core/run/minimal.json
 *     mismatch  invalid  core/run/required--run_id.json  expected a rejection, but it validated
 */
import type { VectorResult } from "../vectors.js";
import { type Output, type Reporter, type VectorsReport, writeProblems } from "./reporter.js";

function line(result: VectorResult): string {
  const head = `${result.status.padEnd(10)}${result.expected.padEnd(9)}${result.path}`;
  return result.status === "mismatch" ? `${head}  ${result.detail}` : head;
}

export function textReporter(out: Output): Reporter {
  return {
    vectors(report: VectorsReport): void {
      writeProblems(out, report);
      // Nothing could be judged (e.g. a bad --spec-path): the errors above say it all.
      if (report.results.length === 0 && report.errors.length > 0) return;
      let text = `spec ${report.specRef}`;
      if (report.vectors !== null) text += `; valid: ${report.vectors}`;
      if (report.invalidVectors !== null) text += `; invalid: ${report.invalidVectors}`;
      text += "\n";
      for (const result of report.results) text += `${line(result)}\n`;
      text += `${report.passed} passed, ${report.failed} failed\n`;
      out.stdout(text);
    },
  };
}
