/** Where the server's warnings and errors go. */
export interface Logger {
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** One line each on stderr. */
export const defaultLogger: Logger = {
  warn: (message, data) =>
    process.stderr.write(`[arp-server] warn: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
  error: (message, data) =>
    process.stderr.write(`[arp-server] error: ${message}${data ? ` ${JSON.stringify(data)}` : ""}\n`),
};
