/**
 * `arp-conformance vectors`: check golden vectors against the bundled spec (precompiled validators)
 * or a spec tree compiled at run time.
 *
 * Exit codes: 0 every vector did what its folder says; 1 a mismatch; 2 a usage problem.
 */
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SPEC_REF } from "@arp/model";
import { problemsOf, UsageError } from "../errors.js";
import { jsonReporter } from "../report/json.js";
import type { ReportedError, VectorsReport } from "../report/reporter.js";
import { textReporter } from "../report/text.js";
import { compileSpecTree, precompiledValidators, type SchemaValidators } from "../spec-tree.js";
import { runVectors } from "../vectors.js";
import { type Command, stringOption } from "./command.js";

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function toReported(error: UsageError): ReportedError {
  return error.path === undefined ? { message: error.message } : { message: error.message, path: error.path };
}

export const vectorsCommand: Command = {
  name: "vectors",
  summary:
    "Check JSON golden vectors against the ARP v1 schemas: every file under the\nvalid folder must validate, every file under the invalid folder must be rejected.",
  options: [
    {
      name: "spec-path",
      value: "DIR",
      valueNoun: "a folder",
      help: "Judge against this spec tree, compiled at run time, instead of the\nbundled spec/v1 (precompiled). DIR is a v1 folder, a folder that\ncontains v1/, or a repository root that contains spec/v1.",
    },
    { name: "vectors", value: "DIR", valueNoun: "a folder", help: "Folder of vectors that must validate." },
    {
      name: "invalid-vectors",
      value: "DIR",
      valueNoun: "a folder",
      help: "Folder of vectors that must be rejected.",
    },
    { name: "format", value: "text|json", choices: ["text", "json"], help: "Output format (default: text)." },
  ],
  details: `With neither --vectors nor --invalid-vectors, both conformance folders of the spec tree run
(the bundled one, or --spec-path's). With only one of them, only that folder runs.
<group>/<name>.json and <group>/<name>/<case>.json map to schemas/<group>/<name>.schema.json.

Exit codes: 0 all vectors pass, 1 a vector does not do what its folder says, 2 usage error,
3 internal error of arp-conformance (a bug; ARP_CONFORMANCE_DEBUG=1 prints its stack).
`,

  run(args, { out, bundledSpecRoot }) {
    const specPath = stringOption(args, "spec-path");
    const reporter = stringOption(args, "format") === "json" ? jsonReporter(out) : textReporter(out);
    const report: VectorsReport = {
      command: "vectors",
      specRef: SPEC_REF,
      vectors: null,
      invalidVectors: null,
      passed: 0,
      failed: 0,
      results: [],
      errors: [],
      warnings: [],
    };
    const fail = (error: UsageError): number => {
      report.errors = problemsOf(error).map(toReported);
      reporter.vectors(report);
      return 2;
    };

    let validators: SchemaValidators;
    let specRoot: string;
    if (specPath !== undefined) {
      try {
        const tree = compileSpecTree(specPath);
        validators = tree.validators;
        specRoot = tree.root;
        report.specRef = tree.root;
        report.warnings = tree.warnings;
      } catch (err) {
        if (err instanceof UsageError) return fail(err);
        throw err;
      }
    } else {
      validators = precompiledValidators();
      specRoot = resolve(bundledSpecRoot);
    }

    let vectorsDir = stringOption(args, "vectors");
    let invalidVectorsDir = stringOption(args, "invalid-vectors");
    if (vectorsDir === undefined && invalidVectorsDir === undefined) {
      if (specPath === undefined && !isDirectory(specRoot)) {
        return fail(
          new UsageError(
            `bundled spec not found at ${specRoot} (build the package with \`npm run build\`, or pass --vectors/--invalid-vectors)`,
            { path: specRoot },
          ),
        );
      }
      vectorsDir = join(specRoot, "conformance", "json_vectors");
      invalidVectorsDir = join(specRoot, "conformance", "json_vectors_invalid");
    }
    report.vectors = vectorsDir === undefined ? null : resolve(vectorsDir);
    report.invalidVectors = invalidVectorsDir === undefined ? null : resolve(invalidVectorsDir);

    const run = runVectors({ validators, vectorsDir, invalidVectorsDir });
    report.results = run.results;
    report.passed = run.passed;
    report.failed = run.failed;
    report.errors = run.errors.map(toReported);
    reporter.vectors(report);
    if (run.errors.length > 0) return 2;
    return run.failed > 0 ? 1 : 0;
  },
};
