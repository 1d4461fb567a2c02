/**
 * `arp-conformance check` refuses what it cannot carry out before it sends anything (durations
 * that would overflow the timer, an `--out` it cannot write, a port fetch blocks), and tells an
 * internal error (exit 3) from a usage error (exit 2). Each against a real server on loopback.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUrl, FETCH_BAD_PORTS } from "../src/check/targets.js";
import { main } from "../src/cli.js";
import { runConformance, UsageError } from "../src/index.js";
import { bundledSpecRoot, capture, cli, lastLine, tempTree } from "./helpers.js";

const HEALTH = { status: "ok", time: "2026-01-15T09:30:00Z" };
const VERSION = { service_name: "x", service_version: "1", supported_api_versions: ["v1"] };

let server: Server;
let url = "";
/** The requests the server got, in order. */
const seen: string[] = [];
/** Called on each request before it is answered (a test looks at the world then). */
let onRequest: (req: IncomingMessage) => void = () => undefined;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    onRequest(req);
    // A little later than a timer that fired at once (the overflow) would give up.
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.url === "/v1/health" ? HEALTH : VERSION));
    }, 50);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Runs the CLI and returns what it did, with the requests it sent. */
async function run(
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string; sent: string[] }> {
  seen.length = 0;
  const result = await cli(...argv);
  return { ...result, sent: [...seen] };
}

describe("durations past one day are usage errors (a larger timer would fire at once)", () => {
  it.each(["--timeout", "--poll-timeout", "--poll-interval"])(
    "%s 3000000: exit 2, nothing sent",
    async (option) => {
      const { code, stderr, sent } = await run("check", "pdp", "--url", url, option, "3000000");
      expect(code).toBe(2);
      expect(stderr).toContain(
        `arp-conformance: ${option} must be at most 86400 seconds (one day), not 3000000`,
      );
      expect(sent).toEqual([]);
    },
  );

  it("--timeout 86400 (the most) works: the requests wait for their answers", async () => {
    const { code, stdout, sent } = await run("check", "pdp", "--url", url, "--timeout", "86400");
    expect(code).toBe(0);
    expect(lastLine(stdout)).toBe("7 passed, 0 failed, 0 warned, 0 skipped");
    expect(sent).toEqual(["GET /v1/health", "GET /v1/version"]);
  });

  it.each([
    [{ timeoutMs: 2 ** 31 }, /^timeoutMs must be at most 86400000 ms/],
    [{ timeoutMs: 0 }, /^timeoutMs must be a number of milliseconds > 0, not 0/],
    [{ timeoutMs: Number.NaN }, /^timeoutMs must be a number of milliseconds > 0, not NaN/],
    [{ pollTimeoutMs: 86_400_001 }, /^pollTimeoutMs must be at most 86400000 ms/],
    [{ pollIntervalMs: 3e9 }, /^pollIntervalMs must be at most 86400000 ms/],
    [{ pollIntervalMs: -1 }, /^pollIntervalMs must be a number of milliseconds ≥ 0/],
    [{ retries: 1.5 }, /^retries must be a whole number ≥ 0, not 1.5/],
  ])("runConformance(%o) throws a UsageError before any request", async (options, message) => {
    seen.length = 0;
    const error = await runConformance({ service: "pdp", url, ...options }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect(seen).toEqual([]);
  });

  it("runConformance with the most (one day) still waits for the answers", async () => {
    const report = await runConformance({ service: "pdp", url, timeoutMs: 86_400_000 });
    expect(report.ok).toBe(true);
  });
});

describe("--out FILE is checked before any request", () => {
  it("a folder that does not exist: exit 2, nothing sent", async () => {
    const dir = tempTree({});
    const out = join(dir, "missing", "report.xml");
    const { code, stderr, sent } = await run("check", "pdp", "--url", url, "--format", "junit", "--out", out);
    expect(code).toBe(2);
    expect(stderr).toContain(`arp-conformance: cannot write --out ${out}: no folder ${join(dir, "missing")}`);
    expect(sent).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it("a folder as FILE: exit 2, nothing sent", async () => {
    const dir = tempTree({ "sub/x.txt": "" });
    const { code, stderr, sent } = await run("check", "pdp", "--url", url, "--out", join(dir, "sub"));
    expect(code).toBe(2);
    expect(stderr).toContain("it is a folder");
    expect(sent).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)("a folder that is not writable: exit 2, nothing sent", async () => {
    const dir = tempTree({});
    const locked = join(dir, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      const { code, stderr, sent } = await run("check", "pdp", "--url", url, "--out", join(locked, "r.json"));
      expect(code).toBe(2);
      expect(stderr).toContain("is not writable");
      expect(sent).toEqual([]);
    } finally {
      chmodSync(locked, 0o755);
    }
  });

  it("an existing file keeps its content while the checks run, and gets the report at the end", async () => {
    const dir = tempTree({ "report.json": "previous report\n" });
    const out = join(dir, "report.json");
    const during: string[] = [];
    onRequest = () => during.push(readFileSync(out, "utf8"));
    try {
      const { code, sent } = await run("check", "pdp", "--url", url, "--format", "json", "--out", out);
      expect(code).toBe(0);
      expect(sent.length).toBe(2);
      expect(during).toEqual(["previous report\n", "previous report\n"]);
      expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ service: "pdp", ok: true });
    } finally {
      onRequest = () => undefined;
    }
  });

  it("a new file in a writable folder is fine", async () => {
    const dir = tempTree({});
    const out = join(dir, "new.xml");
    const { code } = await run("check", "pdp", "--url", url, "--format", "junit", "--out", out);
    expect(code).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/^<\?xml/);
  });
});

describe("exit code 3 for an internal error, 2 only for usage errors", () => {
  /** An output whose stdout breaks: an internal error in the middle of a run. */
  function broken() {
    const { output, text } = capture();
    return {
      output: {
        ...output,
        stdout: () => {
          throw new Error("the output broke\nsecond line");
        },
      },
      text,
    };
  }

  it("one `internal error` line, exit 3, no stack by default", async () => {
    const { output, text } = broken();
    const code = await main(["check", "pdp", "--url", url], output, { bundledSpecRoot, debug: false });
    expect(code).toBe(3);
    expect(text.stderr).toBe(
      "arp-conformance: internal error: the output broke second line (set ARP_CONFORMANCE_DEBUG=1 for the stack)\n",
    );
  });

  it("the stack with ARP_CONFORMANCE_DEBUG=1", async () => {
    const { output, text } = broken();
    const before = process.env.ARP_CONFORMANCE_DEBUG;
    process.env.ARP_CONFORMANCE_DEBUG = "1";
    try {
      const code = await main(["check", "pdp", "--url", url], output, { bundledSpecRoot });
      expect(code).toBe(3);
    } finally {
      if (before === undefined) delete process.env.ARP_CONFORMANCE_DEBUG;
      else process.env.ARP_CONFORMANCE_DEBUG = before;
    }
    const lines = text.stderr.split("\n");
    expect(lines[0]).toBe("arp-conformance: internal error: the output broke second line");
    expect(text.stderr).toMatch(/\n\s+at /);
  });

  it("--help documents exit codes 0 to 3, for both commands", async () => {
    for (const command of ["check", "vectors"]) {
      const { stdout } = await cli(command, "--help");
      expect(stdout.replace(/\s+/g, " ")).toMatch(
        /Exit codes: 0 .*, 1 .*, 2 usage error.*, 3 internal error of arp-conformance \(a bug; ARP_CONFORMANCE_DEBUG=1 prints its stack\)/,
      );
    }
  });
});

describe("ports fetch blocks are refused with a clear message", () => {
  it("checkUrl knows the Fetch Standard's list (and the default ports are fine)", () => {
    expect(FETCH_BAD_PORTS.size).toBe(82);
    for (const port of [6000, 10080, 22, 6666, 4190]) expect(FETCH_BAD_PORTS.has(port)).toBe(true);
    for (const ok of [
      "http://127.0.0.1:8080",
      "http://127.0.0.1:80",
      "https://x:443",
      "http://x",
      "http://x:6001",
    ]) {
      expect(checkUrl(ok, "--url")).toBe(ok);
    }
  });

  it.each([6000, 10080])(
    "a service on port %i: exit 2 naming the port and why, nothing sent",
    async (port) => {
      // A service really listens there when the port is free; fetch would not reach it anyway.
      const there = createServer((_req, res) => res.end("{}"));
      const listening = await new Promise<boolean>((resolve) => {
        there.once("error", () => resolve(false));
        there.listen(port, "127.0.0.1", () => resolve(true));
      });
      let hits = 0;
      there.on("request", () => hits++);
      try {
        const target = `http://127.0.0.1:${port}`;
        const { code, stderr, stdout } = await cli("check", "pdp", "--url", target);
        expect(code).toBe(2);
        expect(stdout).toBe("");
        expect(stderr).toContain(
          `arp-conformance: --url uses port ${port}, which fetch refuses to connect to`,
        );
        expect(stderr).toContain("https://fetch.spec.whatwg.org/#port-blocking");
        const all = await cli("check", "all", "--pdp-url", target, "--selection-url", url);
        expect(all.code).toBe(2);
        expect(all.stderr).toContain(`--pdp-url uses port ${port}`);
        await expect(runConformance({ service: "pdp", url: target })).rejects.toThrow(/^url uses port/);
        expect(hits).toBe(0);
      } finally {
        if (listening) await new Promise<void>((r) => there.close(() => r()));
      }
    },
  );
});
