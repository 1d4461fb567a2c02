/**
 * `arp-conformance`: the command line. `main()` parses the arguments against a table of commands,
 * runs one and returns the exit code, so tests run it in-process; the bin calls `runCli()`.
 *
 *     arp-conformance <command> [options]
 *     arp-conformance --help | --version
 *
 * Every argument problem (an unknown command or option, a missing or wrong value) is answered with
 * one `arp-conformance: <message>` line and the usage, on stderr, and exit code 2. Anything else
 * that goes wrong inside the CLI (an exception that is not a `UsageError`: a bug) is exit code 3,
 * with one `arp-conformance: internal error: <message>` line, and the stack with
 * `ARP_CONFORMANCE_DEBUG=1`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SPEC_REF } from "@arp/model";
import { checkCommand } from "./commands/check.js";
import type { Command, OptionSpec, ParsedArgs } from "./commands/command.js";
import { vectorsCommand } from "./commands/vectors.js";
import { UsageError } from "./errors.js";
import { type Output, PROGRAM } from "./report/reporter.js";

/** The commands, in the order the help lists them. A new command is one more entry. */
export const COMMANDS: readonly Command[] = [vectorsCommand, checkCommand];

/** Options every command (and the bare program) accepts. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "help", short: "h", help: "Print this help." },
  {
    name: "version",
    short: "v",
    help: "Print the version of arp-conformance and of the spec it implements.",
  },
];

export interface MainOptions {
  /**
   * The bundled `spec/v1` folder, whose `conformance/` vectors run by default. Defaults to
   * `spec/v1/` next to the built `cli.js`, where `npm run build` copies it.
   */
  bundledSpecRoot?: string;
  /** Print an internal error's stack. Default: `ARP_CONFORMANCE_DEBUG=1` in the environment. */
  debug?: boolean;
}

/** The exit codes of every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;

/** The environment variable that makes an internal error print its stack. */
export const DEBUG_VARIABLE = "ARP_CONFORMANCE_DEBUG";

/**
 * The lines for an internal error: one `arp-conformance: internal error: <message>` line (a
 * multi-line message joined), then the stack with `debug`.
 */
export function internalErrorText(err: unknown, debug: boolean): string {
  const message = (err instanceof Error ? err.message || err.name : String(err)).replace(/\s*\n\s*/g, " ");
  const line = `${PROGRAM}: internal error: ${message}`;
  if (!debug) return `${line} (set ${DEBUG_VARIABLE}=1 for the stack)\n`;
  return `${line}\n${err instanceof Error && err.stack !== undefined ? err.stack : String(err)}\n`;
}

const processOutput: Output = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  terminal: process.stdout.isTTY === true && process.env.CI === undefined && process.env.TERM !== "dumb",
};

function defaultBundledSpecRoot(): string {
  return fileURLToPath(new URL("./spec/v1/", import.meta.url));
}

/** `arp-conformance 0.3.7 (spec/v1@v0.3.7)`: the package's version and the spec it carries. */
export function versionLine(): string {
  // `../package.json` is the package root both from `dist/cli.js` and from `src/cli.ts`.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return `${PROGRAM} ${pkg.version} (${SPEC_REF})`;
}

// --- help -------------------------------------------------------------------------------------

/** Two columns: labels, then help text whose continuation lines line up under the first. */
function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows
    .map(([label, help]) => `  ${label.padEnd(width)}${help.split("\n").join(`\n  ${" ".repeat(width)}`)}\n`)
    .join("");
}

function optionLabel(option: OptionSpec): string {
  const long = `--${option.name}${option.value === undefined ? "" : ` ${option.value}`}`;
  return option.short === undefined ? `    ${long}` : `-${option.short}, ${long}`;
}

function synopsis(command: Command): string {
  const options = command.options.map((o) => `[--${o.name}${o.value === undefined ? "" : ` ${o.value}`}]`);
  return [`${PROGRAM} ${command.name}`, ...options, ...(command.arguments ?? [])].join(" ");
}

function programUsage(): string {
  return `Usage: ${PROGRAM} <command> [options]\n       ${PROGRAM} --help | --version\n`;
}

/** The top-level help: commands, global options, where to read more. */
export function programHelp(): string {
  return `${programUsage()}
Commands:
${columns(COMMANDS.map((c) => [c.name, c.summary]))}
Options:
${columns(GLOBAL_OPTIONS.map((o) => [optionLabel(o), o.help]))}
Run \`${PROGRAM} <command> --help\` for the options of a command.
`;
}

/** The help of one command, generated from its table entry. */
export function commandHelp(command: Command): string {
  const options = [...command.options, ...GLOBAL_OPTIONS];
  return `Usage: ${synopsis(command)}

${command.summary}

Options:
${columns(options.map((o) => [optionLabel(o), o.help]))}
${command.details}`;
}

// --- parsing ----------------------------------------------------------------------------------

class ArgumentError extends Error {}

/**
 * Parses `args` (the command's name already removed) against `options`. Uses `parseArgs` only to
 * split the arguments into tokens; every judgement, and every message, is ours.
 */
function parseOptions(args: readonly string[], options: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(options.map((o) => [o.name, o]));
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const o of options) {
    config[o.name] = {
      type: o.value === undefined ? "boolean" : "string",
      ...(o.short === undefined ? {} : { short: o.short }),
    };
  }
  const { tokens } = parseArgs({
    args: [...args],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | string[] | true> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const option = byName.get(token.name);
    if (option === undefined) throw new ArgumentError(`unknown option: ${token.rawName}`);
    const label = `--${option.name}`;
    if (option.value === undefined) {
      if (token.value !== undefined) throw new ArgumentError(`${label} takes no value`);
      values[option.name] = true;
      continue;
    }
    const value = token.value;
    // `--vectors --format json`: parseArgs would take `--format` as the folder.
    if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("-"))) {
      throw new ArgumentError(`${label} needs ${option.valueNoun ?? "a value"}`);
    }
    if (option.choices !== undefined && !option.choices.includes(value)) {
      throw new ArgumentError(`${label} must be ${option.choices.join(" or ")}, not ${value}`);
    }
    if (option.multiple === true) {
      const previous = values[option.name];
      values[option.name] = Array.isArray(previous) ? [...previous, value] : [value];
    } else {
      values[option.name] = value;
    }
  }
  return { values, positionals };
}

/** The index of the command's name: the first argument that is not an option (or -1). */
function commandIndex(argv: readonly string[]): number {
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (!arg.startsWith("-") || arg === "-") return i;
  }
  return -1;
}

// --- main -------------------------------------------------------------------------------------

/**
 * Runs the command line `argv` (without `node` and the script: `process.argv.slice(2)`), writing to
 * `out`, and resolves to the exit code (see {@link EXIT}). Never calls `process.exit`, and rejects
 * only when `out` itself fails while reporting an internal error.
 */
export async function main(
  argv: readonly string[],
  out: Output = processOutput,
  options: MainOptions = {},
): Promise<number> {
  try {
    return await runCommandLine(argv, out, options);
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr(`${PROGRAM}: ${err.message}\n`);
      return EXIT.usage;
    }
    out.stderr(internalErrorText(err, options.debug ?? process.env[DEBUG_VARIABLE] === "1"));
    return EXIT.internal;
  }
}

async function runCommandLine(argv: readonly string[], out: Output, options: MainOptions): Promise<number> {
  const at = commandIndex(argv);
  const name = at === -1 ? undefined : argv[at];
  const command = COMMANDS.find((c) => c.name === name);
  const usageError = (message: string): number => {
    const usage = command === undefined ? programUsage() : `Usage: ${synopsis(command)}\n`;
    const more = command === undefined ? `${PROGRAM} --help` : `${PROGRAM} ${command.name} --help`;
    out.stderr(`${PROGRAM}: ${message}\n${usage}Run \`${more}\` for more.\n`);
    return 2;
  };
  if (name !== undefined && command === undefined) {
    return usageError(`unknown command: ${name} (commands: ${COMMANDS.map((c) => c.name).join(", ")})`);
  }

  let args: ParsedArgs;
  try {
    const rest = at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
    args = parseOptions(rest, [...(command?.options ?? []), ...GLOBAL_OPTIONS]);
  } catch (err) {
    if (err instanceof ArgumentError) return usageError(err.message);
    throw err;
  }

  if (args.values.help === true) {
    out.stdout(command === undefined ? programHelp() : commandHelp(command));
    return 0;
  }
  if (args.values.version === true) {
    out.stdout(`${versionLine()}\n`);
    return 0;
  }
  if (command === undefined) return usageError("missing command");
  const allowed = command.arguments?.length ?? 0;
  if (args.positionals.length > allowed) {
    return usageError(`unexpected argument: ${args.positionals[allowed]}`);
  }
  return command.run(args, {
    out,
    bundledSpecRoot: options.bundledSpecRoot ?? defaultBundledSpecRoot(),
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
      // Only when writing the internal error itself failed: say it on stderr directly.
      process.stderr.write(internalErrorText(err, process.env[DEBUG_VARIABLE] === "1"));
      process.exitCode = EXIT.internal;
    },
  );
}
