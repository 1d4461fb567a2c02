/** What the CLI writes, and the one interface it writes through. */
import type { VectorResult } from "../vectors.js";

/** Where output goes: `process.stdout`/`process.stderr` in the bin, buffers in tests. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * stdout is an interactive terminal: `check` then shows the check that is running on a line it
   * rewrites. Piped output (and CI logs) gets plain lines only.
   */
  readonly terminal?: boolean;
}

/** A usage problem as reported: the message names the path; `path` repeats it for machines. */
export interface ReportedError {
  message: string;
  path?: string;
}

/** Everything one `vectors` run produced. */
export interface VectorsReport {
  command: "vectors";
  /**
   * The spec the vectors were judged against: the bundled tag (`spec/v1@v0.3.7`, precompiled
   * validators) or, with `--spec-path`, the absolute path of the `v1` folder compiled at run time.
   */
  specRef: string;
  /** Absolute path of the folder of vectors that must validate; null when not run. */
  vectors: string | null;
  /** Absolute path of the folder of vectors that must be rejected; null when not run. */
  invalidVectors: string | null;
  passed: number;
  failed: number;
  results: VectorResult[];
  /** Usage problems; any of them makes the exit code 2. */
  errors: ReportedError[];
  /** Things worth knowing that do not fail the run (e.g. ajv ignoring an unknown format). */
  warnings: string[];
}

/** Renders reports; the CLI never writes anything else except its help and argument errors. */
export interface Reporter {
  vectors(report: VectorsReport): void;
}

/** The prefix of every line the CLI writes to stderr. */
export const PROGRAM = "arp-conformance";

/** Writes usage problems and warnings to stderr, one `arp-conformance: ...` line each. */
export function writeProblems(out: Output, report: Pick<VectorsReport, "errors" | "warnings">): void {
  for (const warning of report.warnings) out.stderr(`${PROGRAM}: warning: ${warning}\n`);
  for (const error of report.errors) out.stderr(`${PROGRAM}: ${error.message}\n`);
}
