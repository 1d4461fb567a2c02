/** Where the server's reports go. */
export interface Logger {
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
  /**
   * Routine events that are not failures of the server (a client that went away mid-request, a
   * malformed HTTP request answered 400): called only when given.
   */
  debug?(message: string, data?: Record<string, unknown>): void;
}

/** One line each on stderr for warnings and errors; debug lines are dropped. */
export const defaultLogger: Logger = {
  warn: (message, data) =>
    process.stderr.write(`[arp-server] warn: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    process.stderr.write(`[arp-server] error: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};
