/**
 * `arp-conformance`: the command line. `main()` parses the arguments, runs the command and returns
 * the exit code, so tests run it in-process; the bin calls it when this file is the entry point.
 *
 *     arp-conformance vectors [--spec-path DIR] [--vectors DIR] [--invalid-vectors DIR] [--format text|json]
 *
 * Exit codes: 0 every vector did what its folder says; 1 a mismatch; 2 a usage error.
 */
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SPEC_REF } from "@arp/model";
import { problemsOf, UsageError } from "./errors.js";
import { jsonReporter } from "./report/json.js";
import {
  type Output,
  PROGRAM,
  type ReportedError,
  type Reporter,
  type VectorsReport,
} from "./report/reporter.js";
import { textReporter } from "./report/text.js";
import { compileSpecTree, precompiledValidators, type SchemaValidators } from "./spec-tree.js";
import { runVectors } from "./vectors.js";

export const USAGE = `Usage: ${PROGRAM} <command> [options]

Commands:
  vectors    Check JSON golden vectors against the ARP v1 schemas: every file under the
             valid folder must validate, every file under the invalid folder must be rejected.

Options of vectors:
  --spec-path DIR        Judge against this spec tree, compiled at run time, instead of the
                         bundled spec/v1 (precompiled). DIR is a v1 folder, a folder that
                         contains v1/, or a repository root that contains spec/v1.
  --vectors DIR          Folder of vectors that must validate.
  --invalid-vectors DIR  Folder of vectors that must be rejected.
  --format text|json     Output format (default: text).
  -h, --help             Print this help.

With neither --vectors nor --invalid-vectors, both conformance folders of the spec tree run
(the bundled one, or --spec-path's). With only one of them, only that folder runs.
<group>/<name>.json and <group>/<name>/<case>.json map to schemas/<group>/<name>.schema.json.

Exit codes: 0 all vectors pass, 1 a vector does not do what its folder says, 2 usage error.
`;

export interface MainOptions {
  /**
   * The bundled `spec/v1` folder, whose `conformance/` vectors run by default. Defaults to
   * `spec/v1/` next to the built `cli.js`, where `npm run build` copies it.
   */
  bundledSpecRoot?: string;
}

const processOutput: Output = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

function defaultBundledSpecRoot(): string {
  return fileURLToPath(new URL("./spec/v1/", import.meta.url));
}

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

interface VectorsArgs {
  specPath: string | undefined;
  vectors: string | undefined;
  invalidVectors: string | undefined;
}

function runVectorsCommand(args: VectorsArgs, reporter: Reporter, bundledSpecRoot: string): number {
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
  if (args.specPath !== undefined) {
    try {
      const tree = compileSpecTree(args.specPath);
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

  let vectorsDir = args.vectors;
  let invalidVectorsDir = args.invalidVectors;
  if (vectorsDir === undefined && invalidVectorsDir === undefined) {
    if (args.specPath === undefined && !isDirectory(specRoot)) {
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
}

/**
 * Runs the command line `argv` (without `node` and the script: `process.argv.slice(2)`), writing to
 * `out`, and resolves to the exit code. Never calls `process.exit`.
 */
export async function main(
  argv: readonly string[],
  out: Output = processOutput,
  options: MainOptions = {},
): Promise<number> {
  const usageError = (message: string): number => {
    out.stderr(`${PROGRAM}: ${message}\n${PROGRAM}: run \`${PROGRAM} --help\` for usage\n`);
    return 2;
  };

  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.stdout(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (command === undefined) return usageError("missing command (the only command is `vectors`)");
  if (command !== "vectors")
    return usageError(`unknown command: ${command} (the only command is \`vectors\`)`);
  if (extra.length > 0) return usageError(`unexpected argument: ${extra[0]}`);
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json")
    return usageError(`--format must be text or json, not ${format}`);
  for (const name of ["spec-path", "vectors", "invalid-vectors"] as const) {
    if (values[name] === "") return usageError(`--${name} needs a folder`);
  }

  const reporter = format === "json" ? jsonReporter(out) : textReporter(out);
  return runVectorsCommand(
    { specPath: values["spec-path"], vectors: values.vectors, invalidVectors: values["invalid-vectors"] },
    reporter,
    options.bundledSpecRoot ?? defaultBundledSpecRoot(),
  );
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      "spec-path": { type: "string" },
      vectors: { type: "string" },
      "invalid-vectors": { type: "string" },
      format: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/**
 * Runs the CLI as a program: sets the exit code and turns a closed pipe into a quiet end. The bin
 * (`bin/arp-conformance.js`, committed so npm can link it before `dist/` exists) calls this.
 */
export function runCli(argv: readonly string[]): void {
  // `arp-conformance vectors | head`: a closed pipe ends the output, not the process with a stack.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(process.exitCode ?? 0);
    });
  }
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `${PROGRAM}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
