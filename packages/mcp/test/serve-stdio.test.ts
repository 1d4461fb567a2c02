/**
 * `serveStdio` on in-process streams (the real SDK transport; the child-process test in
 * serve-cli.test.ts is the real stdio): the line limit, and the end of stdin.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ArpMcpServer, createArpMcpServer, serveStdio } from "../src/index.js";
import { startTestStack, type TestStack } from "./support/serve-stack.js";

const QUIET = { warn: () => undefined, error: () => undefined };
let stack: TestStack;
let arp: ArpMcpServer;

beforeAll(async () => {
  stack = await startTestStack();
  arp = createArpMcpServer({ gatewayUrl: stack.gatewayUrl, registryUrl: stack.registryUrl, logger: QUIET });
});

afterAll(async () => {
  await arp?.close();
  await stack?.close();
});

function pipes() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const lines: unknown[] = [];
  let buffered = "";
  stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      lines.push(JSON.parse(buffered.slice(0, i)));
      buffered = buffered.slice(i + 1);
    }
  });
  return { stdin, stdout, lines };
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

it("answers JSON-RPC lines, and ends when stdin ends", async () => {
  const { stdin, stdout, lines } = pipes();
  const connection = await serveStdio(arp, { stdin, stdout });
  stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
  await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1);
  expect(lines[0]).toMatchObject({
    id: 1,
    result: { serverInfo: { name: "arp-mcp" }, capabilities: { tools: { listChanged: true } } },
  });
  stdin.end();
  await connection.closed;
});

it("ends the connection on a line longer than maxMessageBytes", async () => {
  const { stdin, stdout, lines } = pipes();
  const connection = await serveStdio(arp, { stdin, stdout, maxMessageBytes: 1_000 });
  stdin.write(
    `${JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, padding: "x".repeat(2_000) } })}\n`,
  );
  await connection.closed;
  expect(lines).toEqual([]);
});
