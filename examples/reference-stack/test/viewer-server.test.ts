/**
 * The run viewer without a browser: its web server (three paths, their content types, nothing
 * else: no traversal, no other methods, no other Host), the gateway's CORS for the viewer's origin
 * only, and the page's run model fed a real run's events in Node.
 */
import { request } from "node:http";
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_RUN } from "../src/demo.js";
import { type RunningStack, startStack } from "../src/stack.js";
import { SERVICE_KEYS, type ServiceKey } from "../src/urls.js";
import { applyEvent, newRun, walk } from "../src/viewer/page/model.js";
import { type RunningViewer, startViewer } from "../src/viewer/server.js";

const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0])) as Record<ServiceKey, number>;
const QUIET = { warn: () => undefined, error: () => undefined };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the path sent exactly as given (fetch would normalize `..` away). */
function raw(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the viewer's web server", () => {
  let viewer: RunningViewer;
  let tokens = 0;
  beforeAll(async () => {
    viewer = await startViewer({
      port: 0,
      gateway: () => "http://127.0.0.1:9/",
      token: async () => ({ token: `t${++tokens}`, expiresAt: 1_900_000_000_000 }),
    });
  });
  afterAll(() => viewer.close());

  it("serves the page, its script and config.json with their content types", async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(viewer.origin).toBe(viewer.url.slice(0, -1));
    for (const path of ["/", "/index.html", "/?x=1"]) {
      const page = await raw(viewer.url, path);
      expect([page.status, page.headers["content-type"]]).toEqual([200, "text/html; charset=utf-8"]);
      expect(page.body).toContain('<script type="module" src="/viewer.js"></script>');
      expect(page.headers["content-security-policy"]).toContain("connect-src 'self' http://127.0.0.1:9;");
      expect(page.headers["x-content-type-options"]).toBe("nosniff");
    }
    const script = await raw(viewer.url, "/viewer.js");
    expect([script.status, script.headers["content-type"]]).toEqual([200, "text/javascript; charset=utf-8"]);
    expect(script.body).toContain("config.json");
    expect(script.body).toContain("/v1/runs"); // @arp/client is in it
    expect(script.body).not.toMatch(/\bimport\s*[("{*]|\bfrom\s*"/); // one bundle: nothing left to import
    const config = await raw(viewer.url, "/config.json");
    expect([config.status, config.headers["content-type"]]).toEqual([200, "application/json; charset=utf-8"]);
    expect(JSON.parse(config.body)).toEqual({
      gateway: "http://127.0.0.1:9/",
      token: "t1",
      token_expires_at: 1_900_000_000_000,
    });
    const head = await raw(viewer.url, "/viewer.js", { method: "HEAD" });
    expect([head.status, head.body, Number(head.headers["content-length"])]).toEqual([
      200,
      "",
      Buffer.byteLength(script.body),
    ]);
  });

  it("serves nothing else: other paths, traversal, other methods", async () => {
    for (const path of [
      "/../package.json",
      "/%2e%2e/package.json",
      "/..%2fpackage.json",
      "/viewer.js/../../stack.ts",
      "/./index.html",
      "//index.html",
      "/index.html/",
      "/page/main.ts",
      "/server.ts",
      "/src/viewer/index.html",
      "/favicon.ico",
    ]) {
      const answer = await raw(viewer.url, path);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
    }
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const answer = await raw(viewer.url, "/config.json", { method });
      expect([method, answer.status, answer.headers.allow]).toEqual([method, 405, "GET, HEAD"]);
    }
  });

  it("answers only under its own origin's host: the page is redirected there, config.json refused", async () => {
    const port = new URL(viewer.url).port;
    const page = await raw(viewer.url, "/", { headers: { host: `localhost:${port}` } });
    expect([page.status, page.headers.location]).toEqual([308, viewer.url]);
    const config = await raw(viewer.url, "/config.json", { headers: { host: `evil.example:${port}` } });
    expect(config.status).toBe(421);
    expect(config.body).not.toContain("token");
  });
});

describe("the stack with the viewer", () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack({ ports: ANY_PORT, viewer: { port: 0 }, logger: QUIET });
  });
  afterAll(() => stack.close());

  it("config.json names the gateway, which allows CORS for the viewer's origin and no other", async () => {
    const viewer = stack.viewer!;
    const gateway = stack.urls["run-gateway"];
    expect(JSON.parse((await raw(viewer.url, "/config.json")).body)).toEqual({ gateway });
    const preflight = (origin: string) =>
      raw(gateway, "/v1/runs", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    const ours = await preflight(viewer.origin);
    expect([ours.status, ours.headers["access-control-allow-origin"]]).toEqual([204, viewer.origin]);
    for (const other of ["http://evil.example", `http://localhost:${new URL(viewer.url).port}`, "null"]) {
      const theirs = await preflight(other);
      expect([other, theirs.headers["access-control-allow-origin"]]).toEqual([other, undefined]);
    }
    const get = await raw(gateway, "/v1/runs/nope", { headers: { origin: viewer.origin } });
    expect([get.status, get.headers["access-control-allow-origin"]]).toEqual([404, viewer.origin]);
    // The other services have no CORS at all.
    const coordinator = await raw(stack.urls["run-coordinator"], "/v1/runs/nope", {
      headers: { origin: viewer.origin },
    });
    expect(coordinator.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("the page's model builds the demo run's tree from its events alone", async () => {
    const gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
    const coordinator = new RunCoordinatorClient({ baseUrl: stack.urls["run-coordinator"] });
    const started = await gateway.startRun(DEMO_RUN);
    const run = newRun(started.run_id);
    for await (const event of gateway.streamRunEvents(started.run_id)) applyEvent(run, event);
    expect(run.state).toBe("succeeded");
    const tree = walk(run);
    expect(tree.map(({ node, depth }) => [node.node_type_ref?.node_type_id, depth, node.state])).toEqual([
      ["arp.ref.pipeline", 0, "succeeded"],
      ["arp.ref.text.upper", 1, "succeeded"],
      ["arp.ref.text.reverse", 1, "succeeded"],
      ["arp.ref.text.word_count", 1, "succeeded"],
      ["arp.ref.sha256", 1, "succeeded"],
    ]);
    // What the events said is what the coordinator holds.
    for (const { node } of tree) {
      const real = await coordinator.getNodeRun(node.id);
      expect({ id: node.id, kind: node.kind, inputs: node.inputs, outputs: node.outputs }).toEqual({
        id: real.node_run_id,
        kind: real.kind,
        inputs: real.inputs,
        outputs: real.outputs,
      });
      // Atomic node runs are checked with the PDP before they run; composites are not.
      expect(node.policy.map((p) => `${p.action}: ${p.decision}`)).toEqual(
        node.kind === "atomic" ? ["node.run.execute: allow"] : [],
      );
    }
    expect(run.policy.map((p) => `${p.action}: ${p.decision}`)).toEqual(["run.start: allow"]);
    expect(tree[0]!.node.inputs).toEqual(DEMO_RUN.input);
    expect(run.outputs).toEqual(tree[4]!.node.outputs);
    // A replayed event changes nothing.
    expect(applyEvent(run, run.events[3]!)).toEqual([]);
  });
});
