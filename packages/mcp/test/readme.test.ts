/**
 * The README's TypeScript examples, both halves, are compiled against the built package (its .d.ts
 * files, skipLibCheck off) as a strict user project. The quick start's two functions are also run:
 * the first against the real MCP fixture server (stdio) and a registry on loopback, the second
 * against a gateway and registry on loopback. The other examples are type-checked: the behaviour
 * they show is what the bridge and serve tests run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { AtomicExecutorClient } from "@arp/client";
import type { NodeType } from "@arp/model";
import { readmeExamples, typecheck, writeExamples } from "@arp/testkit";
import { beforeAll, expect, it } from "vitest";
import { stdioSpec } from "./support/fixture.js";
import { startRegistry } from "./support/registry.js";
import { startTestStack } from "./support/serve-stack.js";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const consumer = join(pkgRoot, "test/consumer");
const examples = readmeExamples(join(pkgRoot, "README.md"));
let files: string[] = [];

interface QuickStart {
  toolsAsNodeTypes(
    server: string,
    registryUrl: string,
  ): Promise<{ executorUrl: string; nodeTypes: NodeType[]; close(): Promise<void> }>;
  runAsTool(gatewayUrl: string, registryUrl: string, tool: string, args: object): Promise<unknown>;
}

async function quickStart(): Promise<QuickStart> {
  const index = examples.findIndex((code) => code.includes("export async function toolsAsNodeTypes("));
  expect(index, "the README's quick start").toBeGreaterThanOrEqual(0);
  return (await import(pathToFileURL(files[index] as string).href)) as QuickStart;
}

beforeAll(() => {
  if (!existsSync(join(pkgRoot, "dist", "index.d.ts")))
    throw new Error("dist/index.d.ts is missing: run `npm run build` in packages/mcp first");
  files = writeExamples(consumer, examples);
});

it("README examples type-check against the built declaration files", () => {
  // The quick start, two for the bridge (a host executor, McpAtomicExecutor), two for serve.
  expect(examples.length).toBeGreaterThanOrEqual(5);
  typecheck(consumer);
}, 120_000);

it("the quick start's toolsAsNodeTypes: published to the registry, and executed", async () => {
  const { toolsAsNodeTypes } = await quickStart();
  const { registry, running } = await startRegistry();
  const tools = await toolsAsNodeTypes(stdioSpec("fx"), running.url);
  try {
    const structured = tools.nodeTypes.find((t) => t.node_type_id === "mcp.fx.structured");
    expect(structured).toBeDefined();
    expect(registry.ids()).toEqual(tools.nodeTypes.map((t) => t.node_type_id).sort());
    const executor = new AtomicExecutorClient({ baseUrl: tools.executorUrl });
    const result = await executor.executeAtomicNodeRun({
      node_run_id: "nr-readme",
      run_id: "run-readme",
      node_type_ref: { node_type_id: "mcp.fx.structured", version: structured?.version as string },
      inputs: { a: 2, b: 40 },
    });
    expect(result).toMatchObject({ state: "succeeded", outputs: { sum: 42 } });
  } finally {
    await tools.close();
    await running.close();
  }
}, 60_000);

it("the quick start's runAsTool: a run through the gateway, its outputs back", async () => {
  const { runAsTool } = await quickStart();
  const stack = await startTestStack();
  try {
    expect(await runAsTool(stack.gatewayUrl, stack.registryUrl, "test.echo", { text: "hello" })).toEqual({
      text: "hello",
    });
    await expect(
      runAsTool(stack.gatewayUrl, stack.registryUrl, "test.fail", { message: "on purpose" }),
    ).rejects.toThrow(/test\.fail failed: .*on purpose/);
  } finally {
    await stack.close();
  }
}, 60_000);
