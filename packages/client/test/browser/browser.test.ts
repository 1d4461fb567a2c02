import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from "@arp/testkit";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Arp from "../../src/index.js";

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
/** Nothing external, browser platform: a bare name is bundled, a Node built-in is a build error. */
const BROWSER_BUILD: BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "silent",
  absWorkingDir: PACKAGE_DIR,
};

const TOKEN = "tok-browser-5ecret-0123";
const RUN = {
  run_id: "run_browser_1",
  state: "running",
  root_node_run_id: "nr_root_1",
  started_at: "2026-01-15T09:30:00Z",
};
const START_REQUEST = {
  run_id: "run_browser_2",
  root_node_type_ref: { node_type_id: "com.example.summarize", version: "1.0.0" },
  input: { text: "héllo ✓ 🚀", max_words: 12 },
};
const STARTED = { run_id: "run_browser_2", state: "queued", root_node_run_id: "nr_root_2" };
const NOTE = "café ✓ 日本 🚀";
const EVENTS = [
  { run_id: RUN.run_id, seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" },
  {
    run_id: RUN.run_id,
    node_run_id: "nr_root_1",
    seq: 1,
    type: "node_run_assigned",
    time: "2026-01-15T09:30:01Z",
    data: { note: NOTE },
  },
  { run_id: RUN.run_id, seq: 2, type: "atomic_executed", time: "2026-01-15T09:30:02Z", data: { ms: 4650 } },
  { run_id: RUN.run_id, seq: 3, type: "node_evaluated", time: "2026-01-15T09:30:03Z" },
  { run_id: RUN.run_id, seq: 4, type: "run_completed", time: "2026-01-15T09:30:04Z", data: { state: "ok" } },
];

let bundle: Promise<{ code: string; metafile: Metafile }> | undefined;
/** The browser bundle of `src/index.ts`, built once per file. */
function browserBundle(): Promise<{ code: string; metafile: Metafile }> {
  bundle ??= build({ ...BROWSER_BUILD, entryPoints: [ENTRY] }).then((result) => ({
    code: result.outputFiles?.[0]?.text ?? "",
    metafile: result.metafile!,
  }));
  return bundle;
}

describe("esbuild browser bundle of src/index.ts", () => {
  it("bundles @arp/model and openapi-fetch into one file with no import left", async () => {
    const { code, metafile } = await browserBundle();
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((p) => p.includes("node_modules/openapi-fetch/"))).toBe(true);
    expect(inputs.some((p) => /(^|\/)(packages\/)?model\/dist\/index\.js$/.test(p))).toBe(true);
    const imports = Object.values(metafile.outputs).flatMap((o) => o.imports);
    expect(imports).toEqual([]);
    expect(code).toContain("RunGatewayClient");
  });

  it("the same options reject a Node built-in (the guard can fail)", async () => {
    await expect(
      build({
        ...BROWSER_BUILD,
        stdin: { contents: 'import { readFileSync } from "node:fs"; export const f = readFileSync;' },
      }),
    ).rejects.toThrow(/node:fs/);
  });
});

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  accept: string | undefined;
  body: string;
}

/** A promise with its resolver, for the server's hand-shakes with the page. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Resolves true when `p` settles within `ms`, false otherwise. */
const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), delay(ms).then(() => false)]);

if (!HAS_CHROMIUM) {
  console.warn(
    `[browser tests] SKIPPED: ${CHROMIUM} not found. Install Debian's chromium (apt-get install -y chromium), as .ci/run does.`,
  );
}

describe.skipIf(!HAS_CHROMIUM)("@arp/client in headless Chromium", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const seen: Seen[] = [];
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];
  /** The page saw event 1 before the server wrote event 2: proof that the stream is parsed incrementally. */
  const ack = deferred();
  /** The stream's connection closed (the client stops after run_completed; the server never ends it). */
  const streamClosed = deferred();
  let ackedInTime: boolean | undefined;

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  async function streamEvents(res: ServerResponse): Promise<void> {
    res.on("close", () => streamClosed.resolve());
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    const lines = EVENTS.map((e) => Buffer.from(`${JSON.stringify(e)}\n`));
    const [l0, l1, l2, l3, l4] = lines as [Buffer, Buffer, Buffer, Buffer, Buffer];
    // Split line 1 inside the 4-byte UTF-8 of 🚀 and line 3 mid-token, across writes with pauses.
    const cut1 = l1.indexOf(Buffer.from("🚀")) + 2;
    res.write(Buffer.concat([l0, l1.subarray(0, cut1)]));
    await delay(40);
    res.write(l1.subarray(cut1));
    ackedInTime = await within(ack.promise, 15_000);
    res.write(Buffer.concat([l2.subarray(0, -1), Buffer.from("\r\n\n"), l3.subarray(0, 20)]));
    await delay(40);
    res.write(l3.subarray(20));
    await delay(40);
    res.write(l4);
    // Not ended: a run stream is over at run_completed, so the client must close it itself.
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? "/", origin).pathname;
    const body = Buffer.concat(chunks).toString("utf8");
    seen.push({
      method: req.method ?? "",
      path,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      accept: req.headers.accept,
      body,
    });
    const route = `${req.method} ${path}`;
    const authorized = req.headers.authorization === `Bearer ${TOKEN}`;
    const unauthorized = { error: { code: "unauthenticated", message: "missing or wrong bearer token" } };
    switch (route) {
      case "GET /":
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8" })
          .end(
            '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">' +
              '<script type="module">import * as arp from "/arp-client.js"; globalThis.arp = arp;' +
              'document.title = "ready";</script></head><body>arp</body></html>',
          );
        return;
      case "GET /arp-client.js":
        res
          .writeHead(200, { "content-type": "text/javascript; charset=utf-8" })
          .end((await browserBundle()).code);
        return;
      case "POST /__test/ack":
        ack.resolve();
        res.writeHead(204).end();
        return;
      case `GET /v1/runs/${RUN.run_id}`:
        if (!authorized) return send(res, 401, unauthorized);
        return send(res, 200, RUN);
      case "POST /v1/runs": {
        if (!authorized) return send(res, 401, unauthorized);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        const problems = [
          req.headers["content-type"]?.startsWith("application/json") ? "" : "content-type",
          JSON.stringify(parsed) === JSON.stringify(START_REQUEST) ? "" : `body ${body}`,
        ].filter(Boolean);
        if (problems.length > 0) {
          return send(res, 400, { error: { code: "invalid_request", message: problems.join("; ") } });
        }
        return send(res, 200, STARTED);
      }
      case "GET /v1/runs/run_missing":
        // Echoes the token, as a careless server might: the client must redact it.
        return send(res, 404, {
          error: {
            code: "not_found",
            message: `run run_missing not found (request had token ${TOKEN})`,
            details: { run_id: "run_missing" },
            retryable: false,
          },
        });
      case `GET /v1/runs/${RUN.run_id}/events`:
        if (!authorized) return send(res, 401, unauthorized);
        return streamEvents(res);
      default:
        res.writeHead(404, { "content-type": "text/plain" }).end(`no route for ${route}`);
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const [launched] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 15_000 }),
      browserBundle(),
    ]);
    browser = launched;
    page = await browser.newPage();
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.title === "ready", undefined, { timeout: 5_000 });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("getRun, startRun, an ArpApiError and an NDJSON stream, from the page", async () => {
    const result = await page.evaluate(
      async ({ token, startRequest }) => {
        const arp = (globalThis as unknown as { arp: typeof Arp }).arp;
        const client = new arp.RunGatewayClient({ baseUrl: location.origin, bearerToken: token });
        const run = await client.getRun("run_browser_1");
        const started = await client.startRun(startRequest);
        let failure: Record<string, unknown> = { thrown: false };
        try {
          await client.getRun("run_missing");
        } catch (err) {
          const e = err as InstanceType<typeof arp.ArpApiError>;
          failure = {
            thrown: true,
            isApiError: err instanceof arp.ArpApiError,
            isArpError: err instanceof arp.ArpError,
            isTransportError: err instanceof arp.ArpTransportError,
            name: e.name,
            code: e.code,
            status: e.status,
            message: e.message,
            details: e.details,
            retryable: e.retryable,
          };
        }
        const seqs: number[] = [];
        const types: string[] = [];
        let note: unknown;
        let streamError: string | undefined;
        try {
          // Bounded, so a stream that never ends fails here with what it did deliver.
          const signal = AbortSignal.timeout(8_000);
          for await (const event of client.streamRunEvents("run_browser_1", { signal })) {
            seqs.push(event.seq);
            types.push(event.type);
            if (event.seq === 1) {
              note = event.data?.note;
              await fetch("/__test/ack", { method: "POST" });
            }
          }
        } catch (err) {
          streamError = String(err);
        }
        return { run, started, failure, seqs, types, note, streamError, userAgent: navigator.userAgent };
      },
      { token: TOKEN, startRequest: START_REQUEST },
    );
    const diagnostics = `page errors: ${pageErrors.join(" | ") || "none"}; console: ${consoleLines.join(" | ")}`;

    expect(result.run, diagnostics).toEqual(RUN);
    expect(result.started, diagnostics).toEqual(STARTED);
    expect(result.failure).toEqual({
      thrown: true,
      isApiError: true,
      isArpError: true,
      isTransportError: false,
      name: "ArpApiError",
      code: "not_found",
      status: 404,
      message: expect.stringContaining("run run_missing not found"),
      details: { run_id: "run_missing" },
      retryable: false,
    });
    expect(result.failure.message).not.toContain(TOKEN);
    expect(result.failure.message).toContain("[redacted]");
    expect({ seqs: result.seqs, streamError: result.streamError }).toEqual({
      seqs: [0, 1, 2, 3, 4],
      streamError: undefined,
    });
    expect(result.types).toEqual(EVENTS.map((e) => e.type));
    expect(result.note).toBe(NOTE);
    expect(result.userAgent).toMatch(/HeadlessChrome|Chrome/);

    // Incremental: event 1 reached the page's loop while the server still held events 2 to 4 back.
    expect(ackedInTime).toBe(true);
    // After run_completed the client closed the stream the server had left open.
    expect(await within(streamClosed.promise, 15_000)).toBe(true);

    // What went over the wire: the token on every ARP call, the POST body as JSON.
    const arpCalls = seen.filter((s) => s.path.startsWith("/v1/"));
    expect(arpCalls.map((s) => `${s.method} ${s.path}`)).toEqual([
      "GET /v1/runs/run_browser_1",
      "POST /v1/runs",
      "GET /v1/runs/run_missing",
      "GET /v1/runs/run_browser_1/events",
    ]);
    for (const call of arpCalls) expect(call.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(arpCalls[1]!.body)).toEqual(START_REQUEST);
    expect(arpCalls[1]!.contentType).toMatch(/^application\/json/);
    expect(arpCalls[3]!.accept).toBe("application/x-ndjson");
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
