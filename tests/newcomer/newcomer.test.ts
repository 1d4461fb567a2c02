/**
 * The newcomer's path, end to end: `npm pack` the four public packages, install the tarballs into a
 * fresh project outside the repository (strict TypeScript, `exactOptionalPropertyTypes`,
 * `skipLibCheck: false`, NodeNext), compile a Run Gateway service and a client that calls it, run
 * them as ESM and as CommonJS on a loopback port, bundle the client for the browser, and run
 * `npx arp-conformance`. What a user meets first is what this test meets: the tarballs' contents and
 * metadata, npm's messages, tsc's errors, the runtime.
 *
 * npm installs from its cache (`--prefer-offline`), which `npm ci` in the repository filled.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(here, "..", "..");
const PACKAGES = ["model", "client", "server", "conformance", "mcp"] as const;
const REPOSITORY = "git+https://github.com/arp-ts/arp-ts.git";

interface Manifest {
  name: string;
  version: string;
  license?: string;
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
  bugs?: { url?: string };
}
interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

/** The environment of a child npm or node: without the `npm_*` variables of the npm running us. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

async function sh(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env: cleanEnv(), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`,
    );
  }
}

const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;

let root = "";
let app = "";
let packed: Packed[] = [];
let install = { stdout: "", stderr: "" };
const timings: string[] = [];

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  timings.push(`${name} ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

beforeAll(async () => {
  for (const name of PACKAGES) {
    const dist = join(repoRoot, "packages", name, "dist");
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` first`);
  }
  root = mkdtempSync(join(tmpdir(), "arp-newcomer-"));
  const tarballs = join(root, "tarballs");
  mkdirSync(tarballs);
  app = join(root, "app");
  cpSync(join(here, "app"), app, { recursive: true });

  const pack = await step("npm pack", () =>
    sh(
      "npm",
      [
        "pack",
        "--json",
        "--pack-destination",
        tarballs,
        ...PACKAGES.flatMap((name) => ["--workspace", `packages/${name}`]),
      ],
      repoRoot,
    ),
  );
  packed = JSON.parse(pack.stdout) as Packed[];

  const manifest = {
    name: "newcomer-app",
    version: "1.0.0",
    private: true,
    dependencies: Object.fromEntries(packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`])),
    devDependencies: { "@types/node": versionOf("@types/node"), typescript: versionOf("typescript") },
  };
  writeFileSync(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  install = await step("npm install", () =>
    sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], app),
  );
}, 240_000);

afterAll(() => {
  if (timings.length > 0) console.log(`newcomer path: ${timings.join(", ")}`);
  // ARP_NEWCOMER_KEEP=1 keeps the project, to look at what a user would get.
  if (process.env.ARP_NEWCOMER_KEEP === "1") console.log(`newcomer project kept at ${app}`);
  else if (root !== "") rmSync(root, { recursive: true, force: true });
});

describe("the packed packages", () => {
  it("are the five public packages, each with LICENSE, README, package.json and its dist", () => {
    expect(packed.map((p) => p.name).sort()).toEqual([
      "@arp/client",
      "@arp/conformance",
      "@arp/mcp",
      "@arp/model",
      "@arp/server",
    ]);
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
      expect(files.filter((f) => f.startsWith("dist/")).length, p.name).toBeGreaterThan(3);
      expect(
        files.filter((f) => !/^(dist|bin)\/|^(LICENSE|README\.md|package\.json)$/.test(f)),
        p.name,
      ).toEqual([]);
    }
  });

  it("say where they come from: repository (with its folder), homepage and bugs, all one repository", () => {
    for (const name of PACKAGES) {
      const pkg = JSON.parse(
        readFileSync(join(app, "node_modules", "@arp", name, "package.json"), "utf8"),
      ) as Manifest;
      expect(pkg.license, pkg.name).toBe("MIT");
      expect(pkg.repository, pkg.name).toEqual({
        type: "git",
        url: REPOSITORY,
        directory: `packages/${name}`,
      });
      expect(pkg.homepage, pkg.name).toBe(
        `https://github.com/arp-ts/arp-ts/tree/main/packages/${name}#readme`,
      );
      expect(pkg.bugs, pkg.name).toEqual({ url: "https://github.com/arp-ts/arp-ts/issues" });
    }
  });

  it("have READMEs whose links npm's page can resolve (absolute, or an anchor)", () => {
    for (const name of PACKAGES) {
      const readme = readFileSync(join(app, "node_modules", "@arp", name, "README.md"), "utf8");
      const links = [...readme.matchAll(/\]\(([^)\s]+)/g)].map((m) => m[1]!);
      expect(
        links.filter((link) => !/^(https?:|mailto:|#)/.test(link)),
        `relative links in @arp/${name}'s README`,
      ).toEqual([]);
    }
  });

  it("install without a warning", () => {
    expect(install.stderr).not.toMatch(/npm (warn|WARN|ERR)/);
    expect(install.stdout).toMatch(/added \d+ packages/);
  });
});

describe("a strict TypeScript app", () => {
  it("compiles against the installed .d.ts and .d.cts files (skipLibCheck off)", async () => {
    await step("tsc", () =>
      sh(process.execPath, [join(app, "node_modules/typescript/bin/tsc"), "-p", app], app),
    );
    expect(existsSync(join(app, "dist", "esm.mjs"))).toBe(true);
    expect(existsSync(join(app, "dist", "cjs.cjs"))).toBe(true);
  });

  it.each([
    ["ESM", "esm.mjs", "esm"],
    ["CommonJS", "cjs.cjs", "cjs"],
  ])("runs a service and a client as %s on a loopback port", async (_, file, module) => {
    const { stdout, stderr } = await sh(process.execPath, [join(app, "dist", file)], app);
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      module,
      events: ["run_started", "run_completed"],
      started: "queued",
      final: "canceled",
      missing: "404 not_found",
      health: "ok",
    });
  });

  it("uses @arp/mcp: a bridge, an executor and an MCP server over ARP, made and closed", async () => {
    const { stdout, stderr } = await sh(process.execPath, [join(app, "dist", "mcp.mjs")], app);
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      servers: ["files stdio connecting"],
      handles: true,
      executor: "atomic-executor",
      toolError: "mcp_tool_error",
    });
  });

  it("runs npx arp-mcp --version and a command's --help", async () => {
    const version = await sh("npx", ["arp-mcp", "--version"], app);
    expect(version.stdout).toBe(`arp-mcp ${versionOf("@arp/mcp")}\n`);
    const help = await sh("npx", ["arp-mcp", "executor", "--help"], app);
    expect(help.stdout).toMatch(/^Usage: arp-mcp executor \[options\]/);
    expect(help.stdout).toContain("--server NAME=COMMAND|URL");
  });

  it("bundles the client for the browser with nothing Node-only in it", async () => {
    const result = await step("esbuild", () =>
      build({
        absWorkingDir: app,
        entryPoints: [join(app, "src", "browser.mts")],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
      }),
    );
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes("node_modules/@arp/client/dist/index.js"))).toBe(true);
    expect(inputs.filter((i) => i.startsWith("node:"))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/["']node:[a-z_/]+["']/);
    expect(code).toContain("startEcho");
  });

  it("runs npx arp-conformance --version and vectors", async () => {
    const version = await sh("npx", ["arp-conformance", "--version"], app);
    expect(version.stdout).toMatch(
      new RegExp(
        `^arp-conformance ${versionOf("@arp/conformance").replaceAll(".", "\\.")} \\(spec/v1@v\\d+\\.\\d+\\.\\d+\\)\n$`,
      ),
    );
    const vectors = await step("arp-conformance vectors", () =>
      sh("npx", ["arp-conformance", "vectors"], app),
    );
    expect(vectors.stderr).toBe("");
    expect(vectors.stdout.trimEnd().split("\n").at(-1)).toMatch(/^[1-9]\d* passed, 0 failed$/);
  });

  it("passes its own gateway through every tier with npx arp-conformance check", async () => {
    const server = spawn(process.execPath, [join(app, "dist", "serve.mjs")], { cwd: app, env: cleanEnv() });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
        server.once("exit", (code) => reject(new Error(`serve.mjs exited with ${code}`)));
      });
      const check = await step("arp-conformance check --tier deep", () =>
        sh(
          "npx",
          [
            "arp-conformance",
            "check",
            "run-gateway",
            "--url",
            url,
            "--tier",
            "deep",
            "--allow-mutations",
            "--strict",
          ],
          app,
        ),
      );
      expect(check.stderr).toBe("");
      expect(check.stdout).toMatch(/^PASS {2}run-gateway {2}deep\.streamRunEvents\.finished_run /m);
      expect(check.stdout.trimEnd().split("\n").at(-1)).toMatch(
        /^[1-9]\d* passed, 0 failed, 0 warned, 0 skipped$/,
      );
    } finally {
      server.stdin.end();
      server.kill();
    }
  });
});
