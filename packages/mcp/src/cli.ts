/**
 * `arp-mcp`: the command line. `main()` parses the arguments against the table of commands, runs
 * one and resolves to its exit code (so tests run it in-process); the bin calls `runCli()`.
 *
 *     arp-mcp executor --port P --registry-url URL --server NAME=COMMAND|URL ...
 *     arp-mcp serve --gateway-url URL --registry-url URL [--port P]
 *
 * An argument problem is one `arp-mcp: <message>` line and the usage on stderr, exit code 2; an
 * unexpected exception (a bug) is exit code 3 with one `arp-mcp: internal error: <message>` line.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Command, type CommandIo, type ParsedValues, UsageError } from "./commands/command.js";
import { executorCommand } from "./commands/executor.js";
import { serveCommand } from "./commands/serve.js";

export const PROGRAM = "arp-mcp";
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;

/** The commands, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [executorCommand, serveCommand];

function version(): string {
  // `../package.json` is the package root both from `dist/cli.js` and from `src/cli.ts`.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return `${PROGRAM} ${pkg.version}`;
}

export function usage(command?: Command): string {
  if (command === undefined) {
    const lines = COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
    return `Usage: ${PROGRAM} <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun '${PROGRAM} <command> --help' for a command's options.\n`;
  }
  const options = command.options.map((o) => {
    const flag = `--${o.name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    return `  ${flag.padEnd(30)} ${o.help}${o.multiple ? " (repeatable)" : ""}`;
  });
  return `Usage: ${PROGRAM} ${command.name} [options]\n\n${command.summary}\n\nOptions:\n${options.join("\n")}\n  ${"--help".padEnd(30)} Print this help.\n`;
}

/** Runs one command line; resolves to the exit code. Never rejects. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`${PROGRAM}: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  let values: ParsedValues;
  try {
    const options = Object.fromEntries([
      ["help", { type: "boolean" as const }],
      ...command.options.map((o) => [o.name, { type: o.type, multiple: o.multiple === true }]),
    ]);
    values = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false })
      .values as ParsedValues; // parseArgs types string-or-boolean arrays; each option has one type
  } catch (err) {
    io.stderr(`${PROGRAM}: ${(err as Error).message}\n\n${usage(command)}`);
    return EXIT.usage;
  }
  if (values.help === true) {
    io.stdout(usage(command));
    return EXIT.ok;
  }
  try {
    return await command.run(values, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${PROGRAM}: ${err.message}\n\n${usage(command)}`);
      return EXIT.usage;
    }
    const message = err instanceof Error ? err.message || err.name : String(err);
    io.stderr(`${PROGRAM}: internal error: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    return EXIT.internal;
  }
}

/** The bin's entry: process argv and streams, SIGINT/SIGTERM abort the running command. */
export function runCli(argv: readonly string[]): void {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const io: CommandIo = {
    // stdout carries MCP's JSON-RPC under `serve` over stdio: a command writes there only on purpose.
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    signal: controller.signal,
  };
  void main(argv, io).then((code) => {
    process.exitCode = code;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  });
}
