/**
 * `@arp/server/express`: a RunGateway served by Express 5, as a whole app (`createApp`) and as a router
 * mounted under a prefix of an existing app (`createRouter`), driven over real loopback sockets by
 * `@arp/client`; and a check that the core entry point never loads Express.
 *
 * The last block spawns `node` on the BUILT package (`dist/`): run `npx tsup` (or `npm run build`)
 * after changing `src/`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { ArpApiError, RunGatewayClient } from "@arp/client";
import type { Run, RunEvent, RunStartRequest } from "@arp/model";
import express, { type Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, createRouter } from "../src/express.js";
import { type ArpRequest, BaseRunGatewayServer, notFound } from "../src/index.js";

const START: RunStartRequest = {
  run_id: "run_express_1",
  root_node_type_ref: { node_type_id: "com.example.echo", version: "1.0.0" },
  input: { text: "hello" },
};

/** An in-memory RunGateway; `startRun` records the body it was handed, to see which body path ran. */
class Gateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, Run>();
  readonly bodies: unknown[] = [];

  constructor() {
    super({ auth: { mode: "disabled" }, logger: { warn() {}, error() {} } });
  }

  startRun(req: ArpRequest<RunStartRequest>): Run {
    this.bodies.push(req.body);
    const run: Run = {
      run_id: req.body.run_id ?? `run_${this.runs.size + 1}`,
      state: "queued",
      root_node_run_id: "nr_root",
    };
    this.runs.set(run.run_id, run);
    return run;
  }

  getRun(req: ArpRequest<undefined, { run_id: string }>): Run {
    const run = this.runs.get(req.params.run_id);
    if (!run) throw notFound(`no run ${req.params.run_id}`);
    return run;
  }

  cancelRun(req: ArpRequest<undefined, { run_id: string }>): Run {
    const run = this.getRun(req);
    run.state = "canceled";
    return run;
  }

  override async *streamRunEvents(req: ArpRequest<undefined, { run_id: string }>): AsyncIterable<RunEvent> {
    const run_id = this.getRun(req).run_id;
    const time = "2026-01-15T09:30:00Z";
    yield { run_id, seq: 0, type: "run_started", time };
    yield { run_id, seq: 1, type: "node_run_assigned", time, node_run_id: "nr_root" };
    yield { run_id, seq: 2, type: "run_completed", time };
  }
}

interface Hosted {
  url: string;
  close(): Promise<void>;
}

/** `app.listen(0)` on loopback; `close()` also drops the client's keep-alive connections. */
function host(app: Express): Promise<Hosted> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(0, "127.0.0.1", (error?: Error) => {
      if (error) return reject(error);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** The ArpApiError `promise` rejects with; fails the test when it resolves or rejects with something else. */
async function apiError(promise: Promise<unknown>): Promise<ArpApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArpApiError);
  return error as ArpApiError;
}

const postJson = (url: string, body: string, type = "application/json"): Promise<Response> =>
  fetch(url, { method: "POST", headers: { "content-type": type }, body });

describe("createApp(service): a whole Express 5 app", () => {
  const gateway = new Gateway();
  let hosted: Hosted;
  let client: RunGatewayClient;

  beforeAll(async () => {
    hosted = await host(createApp(gateway));
    client = new RunGatewayClient({ baseUrl: hosted.url, retry: false });
  });
  afterAll(() => hosted.close());

  it("starts, gets and cancels a run", async () => {
    const started = await client.startRun(START);
    expect(started).toEqual({ run_id: "run_express_1", state: "queued", root_node_run_id: "nr_root" });
    expect(gateway.bodies.at(-1)).toEqual(START);
    expect(await client.getRun("run_express_1")).toEqual(started);
    expect(await client.cancelRun("run_express_1")).toMatchObject({ state: "canceled" });
    expect(await client.getRun("run_express_1")).toMatchObject({ state: "canceled" });
  });

  it("answers the service's 404 and an unknown route with ARP envelopes", async () => {
    const missing = await apiError(client.getRun("run_missing"));
    expect(missing.status).toBe(404);
    expect(missing.code).toBe("not_found");
    expect(missing.envelope).toEqual({ error: { code: "not_found", message: "no run run_missing" } });

    const res = await fetch(`${hosted.url}/v2/elsewhere`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no route for /v2/elsewhere" } });
  });

  it("answers an invalid body 400 invalid_request, with the failing pointers", async () => {
    const lenient = new RunGatewayClient({ baseUrl: hosted.url, retry: false, validateRequests: false });
    const bad = { ...START, run_id: 42 } as unknown as RunStartRequest;
    const error = await apiError(lenient.startRun(bad));
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_request");
    const errors = (error.details as { errors: { pointer: string; message: string }[] }).errors;
    expect(errors.map((e) => e.pointer)).toContain("/run_id");
    expect(gateway.runs.has("42")).toBe(false);
  });

  it("answers malformed JSON 400 invalid_json (the core reads the body itself)", async () => {
    const res = await postJson(`${hosted.url}/v1/runs`, "{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "invalid_json", message: "request body is not valid JSON" },
    });
  });

  it("answers a known path with the wrong method 405 with Allow", async () => {
    const res = await fetch(`${hosted.url}/v1/runs/run_express_1`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });

  it("does not advertise Express", async () => {
    const res = await fetch(`${hosted.url}/v1/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(await res.json()).toMatchObject({ status: "ok" });
  });

  it("streams run events as NDJSON", async () => {
    await client.startRun({ ...START, run_id: "run_stream" });
    const res = await fetch(`${hosted.url}/v1/runs/run_stream/events`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    expect((await res.text()).trimEnd().split("\n")).toHaveLength(3);

    const events: RunEvent[] = [];
    for await (const event of client.streamRunEvents("run_stream")) events.push(event);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, "run_started"],
      [1, "node_run_assigned"],
      [2, "run_completed"],
    ]);
  });
});

describe("createRouter(service) mounted under /arp in an app with its own routes and express.json()", () => {
  const gateway = new Gateway();
  let hosted: Hosted;
  let client: RunGatewayClient;

  beforeAll(async () => {
    const app = express();
    app.use(express.json()); // global, as many apps have it: it parses before the router sees the request
    app.get("/healthz", (_req, res) => {
      res.json({ app: "ok" });
    });
    // An app middleware that edits the parsed body: proves the service gets `req.body`, not the stream.
    app.use("/arp/v1/runs", (req, _res, next) => {
      const body = req.body as Record<string, unknown> | undefined;
      if (req.method === "POST" && body && typeof body === "object" && body.run_id === undefined) {
        body.run_id = "run_from_middleware";
      }
      next();
    });
    app.use("/arp", createRouter(gateway));
    app.get("/after", (_req, res) => {
      res.type("text/plain").send("after");
    });
    hosted = await host(app);
    client = new RunGatewayClient({ baseUrl: `${hosted.url}/arp`, retry: false });
  });
  afterAll(() => hosted.close());

  it("serves the service under the prefix", async () => {
    gateway.runs.set("run_seeded", { run_id: "run_seeded", state: "running", root_node_run_id: "nr_root" });
    expect(await client.getRun("run_seeded")).toMatchObject({ run_id: "run_seeded", state: "running" });
    expect(await client.cancelRun("run_seeded")).toMatchObject({ state: "canceled" });
    expect(await client.health()).toMatchObject({ status: "ok" });
    const missing = await apiError(client.getRun("run_missing"));
    expect([missing.status, missing.code]).toEqual([404, "not_found"]);
    const events: RunEvent[] = [];
    for await (const event of client.streamRunEvents("run_seeded")) events.push(event);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it("leaves the app's own routes alone, before and after the mount", async () => {
    const healthz = await fetch(`${hosted.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ app: "ok" });
    const after = await fetch(`${hosted.url}/after`);
    expect(await after.text()).toBe("after");
    // The service does not own /v1/... at the root: that is Express's own 404 page.
    const root = await fetch(`${hosted.url}/v1/health`);
    expect(root.status).toBe(404);
    expect(root.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("answers unknown paths under the prefix with an ARP 404 (routes after the mount are not reached)", async () => {
    const res = await fetch(`${hosted.url}/arp/after`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no route for /after" } });
  });

  // Regression: the core once recognised a pre-parsed body only by `req._body`, which body-parser 1.x
  // set and body-parser 2.x (Express 5's express.json()) does not; it then waited for the 'end' of a
  // stream express.json() had already consumed, and the request hung. The short client deadline turns
  // such a hang into a prompt failure.
  const withDeadline = () =>
    new RunGatewayClient({ baseUrl: `${hosted.url}/arp`, retry: false, timeoutMs: 1_000 });

  it("hands the body express.json() parsed (as the app's middleware left it) to the service", async () => {
    const { run_id: _omitted, ...withoutId } = START;
    const run = await withDeadline().startRun(withoutId);
    expect(run.run_id).toBe("run_from_middleware"); // set on req.body by the app's middleware
    expect(gateway.bodies.at(-1)).toEqual({ ...withoutId, run_id: "run_from_middleware" });
  });

  it("validates the body express.json() parsed: 400 invalid_request with pointers", async () => {
    const lenient = new RunGatewayClient({
      baseUrl: `${hosted.url}/arp`,
      retry: false,
      timeoutMs: 1_000,
      validateRequests: false,
    });
    const error = await apiError(lenient.startRun({ ...START, input: "not an object" } as never));
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_request");
    expect((error.details as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toContain(
      "/input",
    );
  });

  it("reads the body itself when express.json() skipped it (not JSON: 415 envelope)", async () => {
    const res = await postJson(`${hosted.url}/arp/v1/runs`, JSON.stringify(START), "text/plain");
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
  });

  it("leaves malformed JSON to Express's error handler: 400, not an ARP envelope", async () => {
    // express.json() fails before the router runs, so Express's final handler answers (an HTML page).
    // To have ARP answer 400 invalid_json instead, mount the router before express.json() (next test)
    // or apply express.json() to the app's own routes only.
    const bodiesBefore = gateway.bodies.length;
    const res = await postJson(`${hosted.url}/arp/v1/runs`, "{not json");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).not.toContain("invalid_json");
    expect(gateway.bodies.length).toBe(bodiesBefore); // the service never saw the request
  });
});

describe("createRouter(service) mounted before a global express.json()", () => {
  let hosted: Hosted;

  beforeAll(async () => {
    const app = express();
    app.use("/arp", createRouter(new Gateway()));
    app.use(express.json());
    app.post("/echo", (req, res) => {
      res.json(req.body);
    });
    hosted = await host(app);
  });
  afterAll(() => hosted.close());

  it("answers malformed JSON with the ARP envelope, and the app still parses its own bodies", async () => {
    const res = await postJson(`${hosted.url}/arp/v1/runs`, "{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "invalid_json", message: "request body is not valid JSON" },
    });
    const ok = await postJson(`${hosted.url}/arp/v1/runs`, JSON.stringify(START));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ run_id: START.run_id });
    const echo = await postJson(`${hosted.url}/echo`, '{"a":1}');
    expect(await echo.json()).toEqual({ a: 1 });
  });
});

describe("the core entry point does not load Express", () => {
  const dist = fileURLToPath(new URL("../dist/", import.meta.url));
  /** Runs `code` in a fresh `node`; it prints how many loaded modules live under node_modules/express/. */
  const expressModulesLoaded = (code: string, esm: boolean): number => {
    const count =
      "Object.keys(require.cache).filter((k) => k.replaceAll('\\\\', '/').includes('/node_modules/express/')).length";
    const script = esm
      ? `import { createRequire } from "node:module"; const require = createRequire(import.meta.url); ${code}; console.log(${count});`
      : `${code}; console.log(${count});`;
    const out = spawnSync(process.execPath, [...(esm ? ["--input-type=module"] : []), "-e", script], {
      cwd: dist,
      encoding: "utf8",
    });
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    return Number(out.stdout.trim());
  };

  beforeAll(() => {
    if (!existsSync(`${dist}index.js`)) throw new Error("build @arp/server first (npx tsup)");
  });

  it("ESM: import('@arp/server') leaves Express unloaded; '@arp/server/express' loads it", () => {
    expect(
      expressModulesLoaded(`const m = await import("./index.js"); m.BaseRunGatewayServer.name`, true),
    ).toBe(0);
    expect(expressModulesLoaded(`await import("./express.js")`, true)).toBeGreaterThan(0);
  });

  it("CJS: require('@arp/server') leaves Express unloaded; '@arp/server/express' loads it", () => {
    expect(expressModulesLoaded(`require("./index.cjs").BaseRunGatewayServer.name`, false)).toBe(0);
    expect(expressModulesLoaded(`require("./express.cjs")`, false)).toBeGreaterThan(0);
  });
});
