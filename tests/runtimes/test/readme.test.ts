/**
 * The Bun and Deno examples of @arp/server's README (its `typescript` blocks, which the package's own
 * README type-check leaves out: tsc there has no Bun or Deno globals) run under the real binaries:
 * each is written to test-output/, started with the command its first line gives (PORT=0), and
 * served a few calls by @arp/client before it is stopped with SIGTERM, as its own handler expects.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ArpApiError, RunGatewayClient } from "@arp/client";
import { afterEach, describe, expect, it } from "vitest";
import { bun, deno, runtimeEnv } from "./binaries.js";

const here = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(here, "../../packages/server/README.md"), "utf8");
const examples = [...readme.matchAll(/```typescript\n([\s\S]*?)```/g)].map((m) => m[1]!);

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** The example whose first line is `// <command> server.ts`, written to its own folder. */
function example(runtime: "bun" | "deno"): { file: string; args: string[] } {
  const code = examples.find((text) => text.startsWith(`// ${runtime} `));
  if (code === undefined) throw new Error(`no \`typescript\` block starting "// ${runtime} " in the README`);
  const words = code.slice(3, code.indexOf("\n")).split(" ");
  expect(words.at(-1)).toBe("server.ts");
  const dir = join(here, "test-output", runtime);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "server.ts");
  writeFileSync(file, code);
  return { file, args: [...words.slice(1, -1), ...(runtime === "deno" ? ["--no-lock"] : []), file] };
}

/** Starts the example and resolves with the URL it prints, or rejects with what it printed instead. */
function start(command: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, { cwd: here, env: runtimeEnv({ PORT: "0" }), stdio: "pipe" });
  started.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const url = /run gateway on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ url, child });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited (${code}) before listening:\n${output}`)));
  });
}

describe.each([
  { runtime: "bun" as const, command: bun },
  { runtime: "deno" as const, command: deno },
])("the README's $runtime example", ({ runtime, command }) => {
  it("serves the gateway, and stops on SIGTERM", { timeout: 150_000 }, async () => {
    const { file, args } = example(runtime);
    const { url, child } = await start(command(), args);
    const client = new RunGatewayClient({ baseUrl: url });
    expect((await client.health()).status).toBe("ok");
    const run = await client.startRun({
      root_node_type_ref: { node_type_id: "com.example.summarize", version: "1.2.0" },
      input: { text: file },
    });
    expect(await client.cancelRun(run.run_id)).toMatchObject({ run_id: run.run_id, state: "canceled" });
    const missing = await client.getRun("run_missing").catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ArpApiError);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
