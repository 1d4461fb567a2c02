/**
 * Which MCP server to connect to, from the `NAME=COMMAND|URL` of `arp-mcp executor --server`:
 * an `http://` or `https://` URL is a Streamable HTTP server, anything else a command line started
 * as a child process that speaks MCP on its stdin and stdout.
 */
import { brand, brandCheck } from "@arp/model";

/** An MCP server started as a child process, spoken to over its stdin and stdout. */
export interface StdioTarget {
  name: string;
  transport: "stdio";
  command: string;
  args: string[];
  /** Extra environment variables (added to the SDK's safe default set: HOME, PATH, ...). */
  env?: Record<string, string>;
  cwd?: string;
}

/** An MCP server reached over Streamable HTTP. */
export interface HttpTarget {
  name: string;
  transport: "http";
  url: string;
  /** Sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
}

export type McpServerTarget = StdioTarget | HttpTarget;

/** A `--server` value, a server name or a command line that cannot be used. */
export class McpTargetError extends Error {
  // `instanceof` holds across the ESM and CJS builds (one class per build): a brand, not identity.
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/mcp.McpTargetError");
  override name = "McpTargetError";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    brand(this, "@arp/mcp.McpTargetError");
  }
}

/** The longest server name: `mcp.<name>.<tool>` stays readable. */
export const MAX_SERVER_NAME_LENGTH = 64;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Throws McpTargetError unless `name` can be the `<name>` of `mcp.<name>.<tool>`. */
export function checkServerName(name: string): string {
  if (name.length === 0 || name.length > MAX_SERVER_NAME_LENGTH || !SERVER_NAME.test(name)) {
    throw new McpTargetError(
      `server name '${name}' must be 1 to ${MAX_SERVER_NAME_LENGTH} letters, digits, '_' or '-', starting with a letter or digit (it becomes mcp.<name>.<tool>)`,
    );
  }
  return name;
}

/** Parses `NAME=COMMAND|URL`; throws McpTargetError with what is wrong. */
export function parseServerTarget(spec: string): McpServerTarget {
  const eq = spec.indexOf("=");
  if (eq === -1) throw new McpTargetError(`'${spec}' is not NAME=COMMAND or NAME=URL`);
  const name = checkServerName(spec.slice(0, eq));
  const rest = spec.slice(eq + 1).trim();
  if (/^https?:\/\//i.test(rest)) {
    if (!URL.canParse(rest)) throw new McpTargetError(`server ${name}: '${rest}' is not a valid URL`);
    return { name, transport: "http", url: rest };
  }
  const [command, ...args] = splitCommandLine(rest);
  if (command === undefined) throw new McpTargetError(`server ${name}: the command line is empty`);
  return { name, transport: "stdio", command, args };
}

/**
 * Splits a command line into words, without a shell: blanks separate words; 'single quotes' keep
 * everything literally; "double quotes" keep blanks, and a backslash in them escapes `"` or `\`;
 * outside quotes a backslash escapes the next character. No variables, globs or pipes.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new McpTargetError("the command line ends in a lone backslash");
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new McpTargetError(`the command line has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}
