/** One `arp-mcp` subcommand: its options (for `node:util` `parseArgs` and the help) and what it does. */
export interface OptionSpec {
  name: string;
  type: "string" | "boolean";
  /** Given more than once (`--server a=... --server b=...`): every value, in order. */
  multiple?: boolean;
  /** `NAME=COMMAND|URL`: how the help shows the value. */
  value?: string;
  help: string;
}

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborts on SIGINT/SIGTERM: the command closes what it opened and resolves. */
  signal: AbortSignal;
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  options: readonly OptionSpec[];
  /** Runs until `io.signal` aborts (a service) or the work is done; resolves to the exit code. */
  run(values: ParsedValues, io: CommandIo): Promise<number>;
}

/** An argument problem: one `arp-mcp: <message>` line and the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
