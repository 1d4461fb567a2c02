import type { Logger } from "@arp/server";

/** The default logger: one line per warning or error on stderr (never stdout: MCP may use it). */
export function stderrLogger(prefix: string): Logger {
  const line = (level: string, message: string) =>
    void process.stderr.write(`${prefix}: ${level}: ${message}\n`);
  return { warn: (m) => line("warning", m), error: (m) => line("error", m) };
}
