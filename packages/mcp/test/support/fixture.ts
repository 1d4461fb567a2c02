/** The MCP server of test/fixtures/mcp-server.mjs, over stdio (a target) or HTTP (a child process). */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { Logger } from "@arp/server";
import type { StdioTarget } from "../../src/index.js";

export const FIXTURE = fileURLToPath(new URL("../fixtures/mcp-server.mjs", import.meta.url));

/** The fixture as a stdio server named `name`, with more of its flags (`--version`, `--page-size`). */
export function stdioTarget(name: string, ...flags: string[]): StdioTarget {
  return { name, transport: "stdio", command: process.execPath, args: [FIXTURE, "--stdio", ...flags] };
}

/** `NAME=COMMAND` for `--server`: the fixture over stdio. */
export function stdioSpec(name: string, ...flags: string[]): string {
  return `${name}=${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE)} --stdio ${flags.join(" ")}`.trim();
}

export interface HttpFixture {
  url: string;
  port: number;
  /** Kills the process (SIGKILL: gone at once, as a crash) and waits for its exit. */
  kill(): Promise<void>;
}

/** Starts the fixture over Streamable HTTP (on `port`, else any free one) and waits for its URL. */
export async function startHttpFixture(port = 0, ...flags: string[]): Promise<HttpFixture> {
  const child = spawn(process.execPath, [FIXTURE, "--http", "--port", String(port), ...flags], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the HTTP fixture did not start: ${out}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const m = /listening (\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the HTTP fixture exited ${code}: ${out}`));
    });
  });
  return { url, port: Number(new URL(url).port), kill: () => kill(child) };
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** A port that was free a moment ago (nothing listens on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A logger that keeps what it is told, for assertions (and keeps the test output clean). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m) => void lines.push(`warn: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
    debug: (m) => void lines.push(`debug: ${m}`),
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
