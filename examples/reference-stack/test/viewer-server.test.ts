/**
 * The run viewer without a browser: its web server (three paths, their content types, nothing
 * else: no traversal, no other methods, no other Host), the gateway's CORS for the viewer's origin
 * only, the page's run model fed a real run's events in Node, and the workflows config.json adds
 * for MCP tools (their untrusted descriptions cut to one line; the page's check of what it reads).
 */
import { request } from "node:http";
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type { NodeType } from "@arp/model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_RUN } from "../src/demo.js";
import { type RunningStack, startStack } from "../src/stack.js";
import { SERVICE_KEYS, type ServiceKey } from "../src/urls.js";
import { MAX_MCP_WORKFLOWS, MCP_GROUP, mcpWorkflows, oneLine, startingInput } from "../src/viewer/mcp.js";
import { applyEvent, newRun, walk } from "../src/viewer/page/model.js";
import { extraWorkflows, WORKFLOWS, type Workflow } from "../src/viewer/page/workflows.js";
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

const tool = (
  id: string,
  description: string | undefined,
  input_schema: Record<string, unknown>,
): NodeType => ({
  node_type_id: id,
  version: "1.2.0+abc",
  kind: "atomic",
  ...(description === undefined ? {} : { description }),
  input_schema,
});
/** What a hostile MCP server could put in a tool's description. */
const HOSTILE = `<img src=x onerror="alert(1)">\n\t<b>bold</b>\u202Eexe.txt\u200B   ${"and a long tail ".repeat(10)}`;

describe("the MCP tools' workflows (src/viewer/mcp.ts)", () => {
  it("one per node type, by id: labelled with the tool and its description, starting a run of it", () => {
    const types = [
      tool("mcp.fx.text", "Echoes a text as text content.", {
        type: "object",
        properties: { text: { type: "string" } },
        required: ["text"],
      }),
      tool("mcp.fx.structured", "Adds two numbers; answers structuredContent.", {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      }),
      tool("mcp.fx.bare", undefined, { type: "object" }),
    ];
    expect(mcpWorkflows(types)).toEqual([
      {
        id: "mcp.fx.bare@1.2.0+abc",
        label: "mcp.fx.bare",
        group: MCP_GROUP,
        request: { root_node_type_ref: { node_type_id: "mcp.fx.bare", version: "1.2.0+abc" }, input: {} },
      },
      {
        id: "mcp.fx.structured@1.2.0+abc",
        label: "mcp.fx.structured — Adds two numbers; answers structuredContent.",
        group: "MCP tools",
        request: {
          root_node_type_ref: { node_type_id: "mcp.fx.structured", version: "1.2.0+abc" },
          input: { a: 0, b: 0 },
        },
      },
      {
        id: "mcp.fx.text@1.2.0+abc",
        label: "mcp.fx.text — Echoes a text as text content.",
        group: "MCP tools",
        request: {
          root_node_type_ref: { node_type_id: "mcp.fx.text", version: "1.2.0+abc" },
          input: { text: "" },
        },
      },
    ]);
    // The node types given are not changed (the bridge hands out copies, but still).
    expect(types.map((t) => t.node_type_id)).toEqual(["mcp.fx.text", "mcp.fx.structured", "mcp.fx.bare"]);
  });

  it("cuts an untrusted description to one line of 80 characters, without control or format characters", () => {
    const line = oneLine(HOSTILE);
    expect(line).toBe('<img src=x onerror="alert(1)"> <b>bold</b>exe.txt and a long tail and a long ta…');
    expect([...line]).toHaveLength(80);
    expect(oneLine("  short\r\n\u0000 text  ")).toBe("short text");
    expect(oneLine("😀".repeat(100))).toBe(`${"😀".repeat(79)}…`); // cut between code points
    const [w] = mcpWorkflows([tool("mcp.evil.x", HOSTILE, { type: "object" })]);
    expect(w?.label).toBe(`mcp.evil.x — ${line}`);
  });

  it("fills an input schema's required properties with placeholders of their types", () => {
    expect(
      startingInput({
        type: "object",
        properties: {
          s: { type: "string" },
          n: { type: "number", minimum: 2.5 },
          i: { type: "integer", minimum: 1.5 },
          z: { type: "integer" },
          yes: { type: "boolean" },
          list: { type: "array", items: { type: "string" } },
          nullable: { type: ["null", "string"] },
          d: { type: "string", default: "hello" },
          c: { const: 7 },
          e: { enum: ["first", "second"] },
          any: { anyOf: [{ type: "number" }, { type: "string" }] },
          nested: {
            type: "object",
            properties: { deep: { properties: { x: { type: "string" } }, required: ["x"] } },
            required: ["deep"],
          },
          free: {},
          optional: { type: "string" },
        },
        required: [
          "s",
          "n",
          "i",
          "z",
          "yes",
          "list",
          "nullable",
          "d",
          "c",
          "e",
          "any",
          "nested",
          "free",
          "undeclared",
        ],
      }),
    ).toEqual({
      s: "",
      n: 2.5,
      i: 2,
      z: 0,
      yes: false,
      list: [],
      nullable: "",
      d: "hello",
      c: 7,
      e: "first",
      any: 0,
      nested: { deep: { x: "" } },
      free: null,
      undeclared: null,
    });
    expect(startingInput({ type: "object", properties: { a: { type: "string" } } })).toEqual({});
    expect(startingInput({ type: "string" })).toEqual({});
    expect(startingInput(true)).toEqual({});
    // No own property from the prototype, and depth is bounded.
    const proto = startingInput({ type: "object", required: ["__proto__", "constructor"] });
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(proto).toEqual({ constructor: null });
    const deep = (n: number): Record<string, unknown> =>
      n === 0 ? { type: "string" } : { type: "object", properties: { x: deep(n - 1) }, required: ["x"] };
    expect(startingInput(deep(10))).toEqual({ x: { x: { x: { x: {} } } } });
  });

  it(`offers at most ${MAX_MCP_WORKFLOWS} tools, the first by id`, () => {
    const many = Array.from({ length: MAX_MCP_WORKFLOWS + 5 }, (_, i) =>
      tool(`mcp.big.t${String(i).padStart(4, "0")}`, "x", { type: "object" }),
    ).reverse();
    const offered = mcpWorkflows(many);
    expect(offered).toHaveLength(MAX_MCP_WORKFLOWS);
    expect(offered[0]?.id).toBe("mcp.big.t0000@1.2.0+abc");
    expect(offered.at(-1)?.id).toBe(`mcp.big.t${String(MAX_MCP_WORKFLOWS - 1).padStart(4, "0")}@1.2.0+abc`);
  });

  it("the page keeps the workflows of config.json that have a workflow's shape and a new id", () => {
    const ok: Workflow = {
      id: "mcp.fx.a@1",
      label: "a",
      group: "MCP tools",
      request: { root_node_type_ref: { node_type_id: "mcp.fx.a", version: "1" }, input: {} },
    };
    const builtIn = new Set(WORKFLOWS.map((w) => w.id));
    expect(extraWorkflows(undefined, builtIn)).toEqual([]);
    expect(extraWorkflows({ 0: ok }, builtIn)).toEqual([]);
    expect(
      extraWorkflows(
        [
          ok,
          { ...ok, label: "the same id again" },
          { ...ok, id: "pipeline" }, // a built-in's id
          { ...ok, id: 7 },
          { ...ok, id: "b", label: { html: "<b>" } },
          { ...ok, id: "c", request: "{}" },
          { ...ok, id: "d", group: 1 },
          null,
          "x",
          { id: "e", label: "no group", request: { any: "thing" } },
        ],
        builtIn,
      ),
    ).toEqual([ok, { id: "e", label: "no group", request: { any: "thing" } }]);
  });
});

describe("the viewer's server with workflows", () => {
  let viewer: RunningViewer;
  let offered: Workflow[] = [];
  let reads = 0;
  beforeAll(async () => {
    viewer = await startViewer({
      port: 0,
      gateway: () => "http://127.0.0.1:9/",
      workflows: () => {
        reads++;
        return offered;
      },
    });
  });
  afterAll(() => viewer.close());

  it("config.json carries them, read at each request, untrusted text as one line of JSON text", async () => {
    const config = async () => {
      const answer = await raw(viewer.url, "/config.json");
      expect([answer.status, answer.headers["content-type"]]).toEqual([
        200,
        "application/json; charset=utf-8",
      ]);
      return JSON.parse(answer.body) as { gateway: string; workflows?: Workflow[] };
    };
    expect(await config()).toEqual({ gateway: "http://127.0.0.1:9/", workflows: [] });
    offered = mcpWorkflows([tool("mcp.evil.x", HOSTILE, { type: "object" })]);
    const second = await config();
    expect(second.workflows).toEqual(offered);
    expect(second.workflows?.[0]?.label).toBe(`mcp.evil.x — ${oneLine(HOSTILE)}`);
    expect(second.workflows?.[0]?.label).not.toMatch(/[\n\t\u202E\u200B]/);
    expect(reads).toBe(2);
    // The page and its script are not what changes: no list is read for them.
    await raw(viewer.url, "/");
    await raw(viewer.url, "/viewer.js");
    expect(reads).toBe(2);
  });
});
