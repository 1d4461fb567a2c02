/**
 * The shape of one `arp-conformance` command. The CLI (`../cli.ts`) keeps a table of these: it
 * parses the arguments against the command's options, renders its help from them, and calls `run`.
 * Adding a command is adding one entry to that table.
 */
import type { Output } from "../report/reporter.js";

/** One option of a command, as `--name` (and `-s` when it has a short form). */
export interface OptionSpec {
  /** The long name, without the leading `--`. */
  readonly name: string;
  /** A one-letter short form, without the leading `-`. */
  readonly short?: string;
  /**
   * The placeholder of the option's value in the usage (`DIR`); absent for a flag, which takes no
   * value.
   */
  readonly value?: string;
  /** What the value is, for the message when it is missing or empty (`a folder`). */
  readonly valueNoun?: string;
  /** The only values accepted, when there are a few (`text`, `json`). */
  readonly choices?: readonly string[];
  /** May be given more than once; the values are collected in order (a `string[]`). */
  readonly multiple?: boolean;
  /** One line (wrapped at will) for the help. */
  readonly help: string;
}

/** The arguments after parsing: option values by long name, and the positional arguments. */
export interface ParsedArgs {
  /**
   * A string for an option with a value, `true` for a flag, every value in order for a `multiple`
   * option; absent when not given.
   */
  readonly values: Readonly<Record<string, string | readonly string[] | true | undefined>>;
  /** The positional arguments after the command's name. */
  readonly positionals: readonly string[];
}

/** What a command gets besides its arguments. */
export interface CommandContext {
  readonly out: Output;
  /** The bundled `spec/v1` folder (see `MainOptions.bundledSpecRoot`). */
  readonly bundledSpecRoot: string;
}

export interface Command {
  /** What the user types: `arp-conformance <name>`. */
  readonly name: string;
  /** One line for the list of commands in the top-level help. */
  readonly summary: string;
  /** The options, in the order the help lists them (`-h`/`-v` are added for every command). */
  readonly options: readonly OptionSpec[];
  /** Names of the positional arguments it takes, in order (none by default). */
  readonly arguments?: readonly string[];
  /** Text after the options in the command's help: what runs when, layouts, exit codes. */
  readonly details: string;
  /** Carries the command out and returns the exit code. Never calls `process.exit`. */
  run(args: ParsedArgs, context: CommandContext): number | Promise<number>;
}

/** The value of a string option, or undefined when it was not given. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

/** Every value of a `multiple` option, in order (empty when not given). */
export function listOption(args: ParsedArgs, name: string): readonly string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}
