/** `npm start -- --once`, as a user runs it (a child process; every port OS-chosen, so CI never collides). */
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SERVICE_KEYS } from "../src/urls.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const anyPort = [...SERVICE_KEYS.flatMap((key) => [`--${key}-port`, "0"]), "--viewer-port", "0"];

describe("npm start", () => {
  it("--once: prints the stack and the viewer, the demo's events and its tree, and exits 0", async () => {
    const { stdout } = await run(tsx, ["src/main.ts", "--once", ...anyPort], { cwd: root, timeout: 90_000 });
    for (const key of SERVICE_KEYS)
      expect(stdout).toMatch(new RegExp(`^  ${key} +http://127\\.0\\.0\\.1:\\d+$`, "m"));
    expect(stdout).toMatch(/^ +0 run_started running$/m);
    expect(stdout).toMatch(/ run_completed succeeded$/m);
    expect(stdout).toMatch(/^run run-[\w-]+: succeeded$/m);
    expect(stdout).toMatch(/^ +arp\.ref\.sha256 \S+ succeeded \{"sha256":"[0-9a-f]{64}"\}$/m);
    expect(stdout).toMatch(/^ {2}viewer +http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(stdout).not.toContain("See it in the run viewer"); // --once: the viewer is gone by then
  });

  it("--once --processes: every service a process of its own (its pid printed); the demo succeeds", async () => {
    const { stdout } = await run(tsx, ["src/main.ts", "--once", "--processes", ...anyPort], {
      cwd: root,
      timeout: 110_000,
    });
    const pids = SERVICE_KEYS.map((key) => {
      const line = new RegExp(`^  ${key} +http://127\\.0\\.0\\.1:\\d+ \\(pid (\\d+)\\)$`, "m").exec(stdout);
      expect(line, key).not.toBeNull();
      return Number(line![1]);
    });
    expect(new Set(pids).size).toBe(SERVICE_KEYS.length);
    expect(stdout).toMatch(/^run run-[\w-]+: succeeded$/m);
  }, 120_000); // seven processes start one after another: slow on a loaded 2-core machine

  it("without --once: prints the link to the demo run in the viewer, serves it, and Ctrl-C stops it", async () => {
    const child = spawn(tsx, ["src/main.ts", ...anyPort], { cwd: root });
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes("The stack is up")) resolve(text);
        });
        child.once("exit", (code) => reject(new Error(`npm start exited with ${code}: ${text}`)));
      });
      const link = /^See it in the run viewer: (http:\/\/127\.0\.0\.1:\d+\/)#run=(run-[\w-]+)$/m.exec(stdout);
      expect(link).not.toBeNull();
      expect(stdout).toContain(`  viewer              ${link![1]}\n`);
      const gateway = /^ {2}run-gateway +(\S+)$/m.exec(stdout)![1];
      const config = await (await fetch(`${link![1]}config.json`)).json();
      expect(config).toEqual({ gateway });
      expect(
        ((await (await fetch(`${gateway}/v1/runs/${link![2]}`)).json()) as { state: string }).state,
      ).toBe("succeeded");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  });

  it("a bad flag is exit 2 with the usage", async () => {
    const failed = await run(tsx, ["src/main.ts", "--nope"], { cwd: root }).catch((e: unknown) => e);
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/Usage: npm start -- \[--once\]/),
    });
    const badPort = await run(tsx, ["src/main.ts", "--viewer-port", "x"], { cwd: root }).catch(
      (e: unknown) => e,
    );
    expect(badPort).toMatchObject({
      code: 2,
      stderr: "--viewer-port must be a port number (0-65535), not x\n",
    });
  });

  it("--coordinators N needs a postgres:// --store: exit 2 with why", async () => {
    const env = { ...process.env, ARP_STORE_URL: "" };
    const [failed, bad] = await Promise.all([
      run(tsx, ["src/main.ts", "--coordinators", "2"], { cwd: root, env }).catch((e: unknown) => e),
      run(tsx, ["src/main.ts", "--store", "mysql://u:secret@h/db"], { cwd: root }).catch((e: unknown) => e),
    ]);
    expect(failed).toMatchObject({
      code: 2,
      stderr:
        "--coordinators 2 needs --store postgres://... (or ARP_STORE_URL): a memory store cannot be shared across processes\n",
    });
    expect(bad).toMatchObject({
      code: 2,
      stderr: "--store: unknown store mysql://u:***@h/db: use memory or postgres://...\n",
    });
  });

  it("--processes with --policy: exit 2 with why (a process cannot be handed the document)", async () => {
    const failed = await run(tsx, ["src/main.ts", "--processes", "--policy", "p.json"], { cwd: root }).catch(
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({
      code: 2,
      stderr:
        "--processes: the PDP's policy cannot be handed to a process; leave out --policy or --processes\n",
    });
  });
});

describe("serve: one service alone", () => {
  it("node-registry --port 0 prints its URL and serves the built-in node types; SIGTERM stops it", async () => {
    const child = spawn(tsx, ["src/serve.ts", "node-registry", "--port", "0"], { cwd: root });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim().split(" ")[1]!));
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const types = (await (await fetch(`${url}/v1/node-types?kind=composite`)).json()) as {
        node_type_id: string;
      }[];
      expect(types.map((t) => t.node_type_id)).toEqual(["arp.ref.parallel", "arp.ref.pipeline"]);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  it("run-coordinator --store memory --sweep-ms 0: prints its URL, serves, and SIGTERM stops it (exit 0)", async () => {
    const child = spawn(
      tsx,
      [
        "src/serve.ts",
        "run-coordinator",
        "--port",
        "0",
        "--store",
        "memory",
        "--sweep-ms",
        "0",
        "--lease-ms",
        "500",
      ],
      { cwd: root },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()));
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
      });
      expect(line).toMatch(/^run-coordinator http:\/\/127\.0\.0\.1:\d+\n$/);
      const url = line.trim().split(" ")[1]!;
      expect((await fetch(`${url}/v1/runs/nope`)).status).toBe(404);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  it("the coordinator's flags elsewhere, or a bad number, are exit 2", async () => {
    const [elsewhere, bad] = await Promise.all([
      run(tsx, ["src/serve.ts", "pdp", "--store", "memory"], { cwd: root }).catch((e: unknown) => e),
      run(tsx, ["src/serve.ts", "run-coordinator", "--lease-ms", "soon"], { cwd: root }).catch(
        (e: unknown) => e,
      ),
    ]);
    expect(elsewhere).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^--store is for run-coordinator only\nUsage: /),
    });
    expect(bad).toMatchObject({
      code: 2,
      stderr: "--lease-ms must be a whole number of milliseconds >= 0, not soon\n",
    });
  });

  it("an unknown service is exit 2 with the usage", async () => {
    const failed = await run(tsx, ["src/serve.ts", "nope"], { cwd: root }).catch((e: unknown) => e);
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^Usage: npx tsx src\/serve\.ts </),
    });
  });
});
