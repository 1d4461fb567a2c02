/**
 * `arp-mcp serve` (`@arp/mcp`'s `createArpMcpServer` + `serveHttp`) in front of the real reference
 * stack, driven by the MCP SDK's own `Client` over Streamable HTTP: the `arp.ref.*` node types are
 * the tools; a pipeline runs to completion with progress; `arp.ref.fail` is a tool error; a sleep
 * canceled by the MCP client ends its ARP run `canceled`; outputs too large for the run's events are
 * read from the coordinator when it is given.
 */
import { RunGatewayClient } from "@arp/client";
import {
  type ArpMcpServer,
  createArpMcpServer,
  RUN_META_KEY,
  type RunningHttpServer,
  serveHttp,
} from "@arp/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningStack, startStack } from "../src/stack.js";
import { ANY_PORT, QUIET } from "./run-log.js";

const WAIT = { timeout: 20_000, interval: 25 };
const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

let stack: RunningStack;
let arp: ArpMcpServer;
let http: RunningHttpServer;
let client: Client;
let gateway: RunGatewayClient;

type ToolResult = Awaited<ReturnType<Client["callTool"]>>;

function runOf(result: ToolResult): { run_id: string; state: string } {
  return (result._meta as Record<string, unknown>)[RUN_META_KEY] as { run_id: string; state: string };
}

function textOf(result: ToolResult): string {
  return (result.content as { type: string; text: string }[])[0]!.text;
}

beforeAll(async () => {
  stack = await startStack({ ports: ANY_PORT, logger: QUIET });
  arp = createArpMcpServer({
    gatewayUrl: stack.urls["run-gateway"],
    registryUrl: stack.urls["node-registry"],
    coordinatorUrl: stack.urls["run-coordinator"],
    progressIntervalMs: 0,
    logger: QUIET,
  });
  http = await serveHttp(arp, { port: 0 });
  client = new Client({ name: "reference-stack-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
  gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
});

afterAll(async () => {
  await client?.close();
  await http?.close();
  await arp?.close();
  await stack?.close();
});

describe("the reference stack as MCP tools", () => {
  it("lists the arp.ref.* node types as tools, with their schemas", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of [
      "arp.ref.echo",
      "arp.ref.fail",
      "arp.ref.sleep",
      "arp.ref.pipeline",
      "arp.ref.text.upper",
    ])
      expect(names).toContain(name);
    const sleep = tools.find((t) => t.name === "arp.ref.sleep")!;
    expect(sleep.inputSchema).toMatchObject({ type: "object", required: ["ms"] });
    expect(sleep.outputSchema).toMatchObject({ type: "object", required: ["slept_ms"] });
  });

  it("runs a pipeline to completion, with a progress notification per event", async () => {
    const progress: { progress: number; message?: string }[] = [];
    const result = await client.callTool(
      {
        name: "arp.ref.pipeline",
        arguments: {
          steps: [{ node_type: ref("text.upper") }, { node_type: ref("text.reverse") }],
          input: { text: "hello mcp" },
        },
      },
      undefined,
      { onprogress: (p) => void progress.push(p), timeout: 60_000 },
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ text: "PCM OLLEH" });
    expect(JSON.parse(textOf(result))).toEqual({ text: "PCM OLLEH" });
    const run = runOf(result);
    expect(run.state).toBe("succeeded");
    expect((await gateway.getRun(run.run_id)).state).toBe("succeeded");
    // One notification per event of the run's log (interval 0), the last one its run_completed.
    let events = 0;
    for await (const _ of gateway.streamRunEvents(run.run_id)) events += 1;
    expect(progress.map((p) => p.progress)).toEqual(Array.from({ length: events }, (_, i) => i + 1));
    expect(progress[0]!.message).toBe("run_started arp.ref.pipeline running");
    expect(progress.some((p) => p.message === "atomic_executed arp.ref.text.upper succeeded")).toBe(true);
    expect(progress.at(-1)!.message).toBe("run_completed succeeded");
  });

  it("answers arp.ref.fail with isError and its ARP error", async () => {
    const result = await client.callTool({
      name: "arp.ref.fail",
      arguments: { code: "nope", message: "failed for the test" },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^nope: ARP run mcp-\S+ failed: failed for the test$/);
    expect((await gateway.getRun(runOf(result).run_id)).state).toBe("failed");
  });

  it("refuses arguments its input schema does not allow, before any run", async () => {
    const result = await client.callTool({ name: "arp.ref.sleep", arguments: { ms: "soon" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      "invalid_arguments: the arguments do not match arp.ref.sleep's input schema: /ms must be integer",
    );
  });

  it("cancels the ARP run of a sleep the MCP client cancels mid-run", async () => {
    const controller = new AbortController();
    const progress: { message?: string; _meta?: Record<string, unknown> }[] = [];
    const call = client.callTool({ name: "arp.ref.sleep", arguments: { ms: 30_000 } }, undefined, {
      signal: controller.signal,
      onprogress: (p) => void progress.push(p),
    });
    // Mid-run: the sleep is running at the atomic executor.
    await vi.waitFor(
      () => expect(progress.map((p) => p.message)).toContain("node_run_assigned arp.ref.sleep running"),
      WAIT,
    );
    // Progress names the run, so that a client can find the run of a call it canceled.
    const runId = (progress[0]!._meta![RUN_META_KEY] as { run_id: string }).run_id;
    expect(runId).toMatch(/^mcp-/);
    const started = Date.now();
    controller.abort();
    await expect(call).rejects.toBeDefined();
    await vi.waitFor(async () => expect((await gateway.getRun(runId)).state).toBe("canceled"), WAIT);
    let last: string | undefined;
    for await (const event of gateway.streamRunEvents(runId))
      last = `${event.type} ${String(event.data?.state)}`;
    expect(last).toBe("run_completed canceled");
    expect(Date.now() - started).toBeLessThan(20_000); // long before the 30 s sleep would end
  });

  it("reads outputs too large for the run's events from the coordinator", async () => {
    const text = "x".repeat(20_000); // over the events' 16 KiB per field
    const result = await client.callTool({ name: "arp.ref.echo", arguments: { text } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ text });
  });
});
