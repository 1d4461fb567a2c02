/**
 * `serveStdio` on in-process streams (the real SDK transport; the child-process test in
 * serve-cli.test.ts is the real stdio): the line limit, and the end of stdin.
 */
import { PassThrough, Writable } from "node:stream";
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

it("a client that stops reading stdout cannot hold a call past its deadline: the run is canceled", async () => {
  const slow = createArpMcpServer({
    gatewayUrl: stack.gatewayUrl,
    registryUrl: stack.registryUrl,
    callTimeoutMs: 300,
    progressIntervalMs: 0,
    logger: QUIET,
  });
  const stdin = new PassThrough();
  // stdout as a pipe whose reader stops: while `blocked`, no write completes (so no 'drain').
  let blocked = false;
  const held: (() => void)[] = [];
  const lines: Record<string, unknown>[] = [];
  const stdout = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
      if (blocked) held.push(done);
      else done();
    },
  });
  const connection = await serveStdio(slow, { stdin, stdout });
  try {
    stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
    await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1);
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    blocked = true;
    const canceledBefore = stack.gateway.cancels.length;
    stdin.write(
      `${JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "test.slow", arguments: { ms: 30_000 }, _meta: { progressToken: "p" } },
      })}\n`,
    );
    // The first progress notification is written and never completes; the deadline still cancels.
    await expect.poll(() => held.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => stack.gateway.cancels.length, { timeout: 10_000 }).toBe(canceledBefore + 1);
    // The reader comes back: the call's answer is the deadline's.
    blocked = false;
    for (const done of held.splice(0)) done();
    await expect.poll(() => lines.find((l) => l.id === 2), { timeout: 10_000 }).toBeDefined();
    const answer = lines.find((l) => l.id === 2) as {
      result: { isError: boolean; content: { text: string }[] };
    };
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0]!.text).toMatch(
      /^deadline_exceeded: no result within 300 ms; ARP run mcp-\S+ was canceled$/,
    );
  } finally {
    blocked = false;
    for (const done of held.splice(0)) done();
    await connection.close();
    await slow.close();
  }
});
