/**
 * `arp-mcp serve`: argument problems and Streamable HTTP through `main()` in-process, and stdio as a
 * real child process (`bin/arp-mcp.js`, the built CLI) driven by the SDK's `StdioClientTransport`.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { RUN_META_KEY } from "../src/index.js";
import { startTestStack, type TestStack } from "./support/serve-stack.js";

const WAIT = { timeout: 15_000, interval: 20 };
const BIN = fileURLToPath(new URL("../bin/arp-mcp.js", import.meta.url));
const DIST_CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Runs `arp-mcp <argv>` in-process; `stop` aborts it as SIGINT would. */
function start(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const exit = main(argv, {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    signal: controller.signal,
  });
  return { exit, stop: () => controller.abort(), stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("arguments", () => {
  it.each([
    [[], "--gateway-url is required (or ARP_RUN_GATEWAY_URL)"],
    [["--gateway-url", "http://127.0.0.1:1"], "--registry-url is required (or ARP_NODE_REGISTRY_URL)"],
    [
      ["--gateway-url", "ftp://x", "--registry-url", "http://x"],
      "--gateway-url must be an http(s) URL (got 'ftp://x')",
    ],
    [
      ["--gateway-url", "http://x", "--registry-url", "http://x", "--port", "80a"],
      "--port must be a whole number from 0 to 65535 (got '80a')",
    ],
    [
      ["--gateway-url", "http://x", "--registry-url", "http://x", "--max-sessions", "0"],
      "--max-sessions must be a whole number from 1 to",
    ],
    [
      ["--gateway-url", "http://x", "--registry-url", "http://x", "--port", "0", "--path", "mcp"],
      "--path must start with /",
    ],
  ])("%j is a usage error", async (args, message) => {
    vi.stubEnv("ARP_RUN_GATEWAY_URL", "");
    vi.stubEnv("ARP_NODE_REGISTRY_URL", "");
    const run = start(["serve", ...args]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain(`arp-mcp: ${message}`);
    expect(run.stderr()).toContain("Usage: arp-mcp serve [options]");
    expect(run.stdout()).toBe("");
  });

  it("lists its options in --help", async () => {
    const run = start(["serve", "--help"]);
    expect(await run.exit).toBe(0);
    for (const flag of [
      "--gateway-url URL",
      "--registry-url URL",
      "--port P",
      "--call-timeout-ms MS",
      "--max-sessions N",
    ])
      expect(run.stdout()).toContain(flag);
  });
});

describe("--port: Streamable HTTP", () => {
  it("prints its URL on stderr, serves the tools, and stops with exit 0 on SIGINT", async () => {
    // URLs and token from the environment.
    vi.stubEnv("ARP_RUN_GATEWAY_URL", stack.gatewayUrl);
    vi.stubEnv("ARP_NODE_REGISTRY_URL", stack.registryUrl);
    vi.stubEnv("ARP_TOKEN", "from-env");
    const run = start(["serve", "--port", "0"]);
    await vi.waitFor(
      () => expect(run.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/mcp\n/),
      WAIT,
    );
    const url = /listening on (\S+)/.exec(run.stderr())![1]!;
    const client = new Client({ name: "serve-cli-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const result = await client.callTool({ name: "test.echo", arguments: { text: "over http" } });
    expect(result.structuredContent).toEqual({ text: "over http" });
    expect(stack.gateway.authorizations.at(-1)).toBe("Bearer from-env");
    await client.close();
    run.stop();
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe("");
    await expect(fetch(url, { method: "POST" })).rejects.toThrow(); // no longer listening
  });

  it("exits 1 when it cannot listen", async () => {
    const taken = start([
      "serve",
      "--gateway-url",
      stack.gatewayUrl,
      "--registry-url",
      stack.registryUrl,
      "--port",
      "0",
    ]);
    await vi.waitFor(() => expect(taken.stderr()).toContain("listening on"), WAIT);
    const port = new URL(/listening on (\S+)/.exec(taken.stderr())![1]!).port;
    const second = start([
      "serve",
      "--gateway-url",
      stack.gatewayUrl,
      "--registry-url",
      stack.registryUrl,
      "--port",
      port,
    ]);
    expect(await second.exit).toBe(1);
    expect(second.stderr()).toMatch(/arp-mcp serve: cannot listen: .*EADDRINUSE/);
    taken.stop();
    expect(await taken.exit).toBe(0);
  });
});

describe("stdio, as a child process", () => {
  it("serves the tools over stdin/stdout, with nothing else on stdout, and stops when stdin closes", async () => {
    if (!existsSync(DIST_CLI))
      throw new Error(`${DIST_CLI} is missing: run \`npm run build\` in packages/mcp first`);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        BIN,
        "serve",
        "--gateway-url",
        stack.gatewayUrl,
        "--registry-url",
        stack.registryUrl,
        "--progress-interval-ms",
        "0",
      ],
      env: { ARP_GATEWAY_TOKEN: "stdio-secret" },
      stderr: "pipe",
    });
    const stderr: string[] = [];
    transport.stderr?.on("data", (chunk: Buffer) => void stderr.push(chunk.toString()));
    const client = new Client({ name: "serve-stdio-test", version: "1.0.0" });
    const errors: Error[] = [];
    client.onerror = (e) => void errors.push(e); // a stray line on stdout would show here
    await client.connect(transport);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("test.echo");
    const progress: number[] = [];
    const result = await client.callTool({ name: "test.steps", arguments: { steps: 2 } }, undefined, {
      onprogress: (p) => void progress.push(p.progress),
    });
    expect(result.structuredContent).toEqual({ steps: 2 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stack.gateway.authorizations.at(-1)).toBe("Bearer stdio-secret");

    const failed = await client.callTool({ name: "test.fail", arguments: {} });
    expect(failed.isError).toBe(true);

    // A cancel over stdio: notifications/cancelled reaches the server, which cancels the run.
    const controller = new AbortController();
    const before = new Set(stack.gateway.runs.keys());
    const slow = client.callTool({ name: "test.slow", arguments: { ms: 30_000 } }, undefined, {
      signal: controller.signal,
    });
    await vi.waitFor(() => {
      const fresh = [...stack.gateway.runs.values()].filter((r) => !before.has(r.run.run_id));
      expect(fresh.some((r) => r.events.length >= 2)).toBe(true);
    }, WAIT);
    const slowRun = [...stack.gateway.runs.values()].find((r) => !before.has(r.run.run_id))!;
    controller.abort();
    await expect(slow).rejects.toBeDefined();
    await vi.waitFor(() => expect(slowRun.run.state).toBe("canceled"), WAIT);
    expect(stack.gateway.cancels).toContain(slowRun.run.run_id);
    expect(slowRun.run.run_id).toMatch(/^mcp-/);
    expect((failed._meta as Record<string, unknown>)[RUN_META_KEY]).toMatchObject({ state: "failed" });

    await client.close(); // ends the child's stdin
    await vi.waitFor(
      () => expect(stderr.join("")).toContain("arp-mcp serve: the client closed stdin; stopping"),
      WAIT,
    );
    expect(errors).toEqual([]);
  });
});
