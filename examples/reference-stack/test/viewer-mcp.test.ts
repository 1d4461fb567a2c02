/**
 * The run viewer of a stack with MCP tools (the @arp/mcp test fixture, over stdio): config.json
 * offers one workflow per MCP node type, read per request; in headless Chromium the picker lists
 * them under "MCP tools" after the built-in workflows, a tool's workflow fills the request box, and
 * a run of `mcp.fx.structured` started from the page succeeds there. A tool description changed at
 * run time to HTML is in the next config.json, cut to one line, and the reloaded page shows it as
 * text. Without /usr/bin/chromium the browser part is skipped (a failure under CI=true).
 */
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { RunGatewayClient } from "@arp/client";
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from "@arp/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../src/stack.js";
import { MCP_GROUP, mcpWorkflows, oneLine } from "../src/viewer/mcp.js";
import { WORKFLOWS, type Workflow } from "../src/viewer/page/workflows.js";
import { ANY_PORT, QUIET } from "./run-log.js";

const FIXTURE = fileURLToPath(new URL("../../../packages/mcp/test/fixtures/mcp-server.mjs", import.meta.url));
const WAIT = { timeout: 20_000 };
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
/** A description the fixture's `change_text` gives `mcp.fx.text`: markup, a newline, a bidi override. */
const HOSTILE = `<img src=x onerror="document.body.dataset.pwned='img'">\n<script>document.body.dataset.pwned='script'</script>\u202Etxt.exe ${"tail ".repeat(40)}`;

const MISSING = `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium), as .ci/run does`;
if (!HAS_CHROMIUM) {
  if (process.env.CI === "true") {
    describe("the run viewer's MCP tools in headless Chromium", () => {
      it("needs Chromium (CI=true)", () => {
        throw new Error(MISSING);
      });
    });
  } else {
    console.warn(`[viewer-mcp test] SKIPPED the browser part: ${MISSING}`);
  }
}

describe("the run viewer of a stack with MCP tools", () => {
  let stack: RunningStack;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startStack({
        ports: ANY_PORT,
        viewer: { port: 0 },
        logger: QUIET,
        mcp: [{ name: "fx", transport: "stdio", command: process.execPath, args: [FIXTURE, "--stdio"] }],
      }),
      HAS_CHROMIUM
        ? chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 20_000 })
        : undefined,
    ]);
    if (browser) {
      page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      page.on("pageerror", (err) => problems.push(`page error: ${String(err)}`));
      page.on("console", (msg) => {
        if (msg.type() === "error" || msg.type() === "warning")
          problems.push(`console ${msg.type()}: ${msg.text()}`);
      });
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const config = async () => {
    const res = await fetch(new URL("config.json", stack.viewer!.url));
    expect(res.status).toBe(200);
    return (await res.json()) as { gateway: string; workflows?: Workflow[] };
  };
  const versionOf = (id: string) => stack.mcp!.nodeTypes().find((t) => t.node_type_id === id)?.version;

  it("config.json offers one workflow per node type of the bridge, by id", async () => {
    const { gateway, workflows } = await config();
    expect(gateway).toBe(stack.urls["run-gateway"]);
    const types = stack.mcp!.nodeTypes();
    expect(types).toHaveLength(9);
    expect(workflows).toEqual(mcpWorkflows(types));
    expect(workflows?.map((w) => w.id)).toEqual(types.map((t) => `${t.node_type_id}@${t.version}`).sort());
    expect(workflows?.find((w) => w.id.startsWith("mcp.fx.structured@"))).toEqual({
      id: `mcp.fx.structured@${versionOf("mcp.fx.structured")}`,
      label: "mcp.fx.structured — Adds two numbers; answers structuredContent.",
      group: "MCP tools",
      request: {
        root_node_type_ref: { node_type_id: "mcp.fx.structured", version: versionOf("mcp.fx.structured") },
        input: { a: 0, b: 0 },
      },
    });
  });

  it.skipIf(!HAS_CHROMIUM)(
    "the picker lists the MCP tools under their group, after the built-in workflows",
    async () => {
      await page.goto(stack.viewer!.url);
      await page.waitForSelector("body[data-ready=true]", WAIT);
      const picker = await page.$$eval("#workflow > *", (children) =>
        children.map((c) =>
          c instanceof HTMLOptGroupElement
            ? { group: c.label, options: [...c.querySelectorAll("option")].map((o) => o.textContent) }
            : { option: c.textContent },
        ),
      );
      expect(picker).toEqual([
        ...WORKFLOWS.map((w) => ({ option: w.label })),
        { group: MCP_GROUP, options: mcpWorkflows(stack.mcp!.nodeTypes()).map((w) => w.label) },
      ]);
      expect(picker.at(-1)?.options).toContain(
        "mcp.fx.structured — Adds two numbers; answers structuredContent.",
      );
    },
  );

  it.skipIf(!HAS_CHROMIUM)(
    "starts mcp.fx.structured from the picker, edited to a: 2, b: 40, and shows it succeed",
    async () => {
      const version = versionOf("mcp.fx.structured")!;
      await page.selectOption("#workflow", {
        label: "mcp.fx.structured — Adds two numbers; answers structuredContent.",
      });
      const filled = JSON.parse(await page.inputValue("#request"));
      expect(filled).toEqual({
        root_node_type_ref: { node_type_id: "mcp.fx.structured", version },
        input: { a: 0, b: 0 },
      });
      await page.fill("#request", JSON.stringify({ ...filled, input: { a: 2, b: 40 } }, null, 2));
      await page.click("#start-run");
      await page.waitForFunction(
        () => {
          const items = [...document.querySelectorAll<HTMLElement>("#tree li[data-node-run-id]")];
          return (
            document.getElementById("run-state")?.dataset.state === "succeeded" &&
            items.length === 1 &&
            items[0]?.dataset.state === "succeeded"
          );
        },
        undefined,
        WAIT,
      );
      expect(await page.textContent("#tree li[data-node-run-id] > .row > .type")).toBe(
        `mcp.fx.structured@${version}`,
      );
      const runId = await page.evaluate(() => decodeURIComponent(location.hash.replace(/^#run=/, "")));
      expect(runId).toMatch(/^run-/);
      const gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
      expect((await gateway.getRun(runId)).state).toBe("succeeded");
      await page.click("#tree li[data-node-run-id] > .row");
      await page.waitForSelector("#details .outputs pre", WAIT);
      expect(JSON.parse((await page.textContent("#details .outputs pre"))!)).toEqual({ sum: 42 });
      expect(JSON.parse((await page.textContent("#details .inputs pre"))!)).toEqual({ a: 2, b: 40 });
    },
  );

  it("a tool's description changed to HTML is in the next config.json as one line, and shown as text", async () => {
    const gateway = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
    const before = versionOf("mcp.fx.text");
    let run = await gateway.startRun({
      root_node_type_ref: { node_type_id: "mcp.fx.change_text", version: versionOf("mcp.fx.change_text")! },
      input: { description: HOSTILE },
    });
    const deadline = Date.now() + 20_000;
    while (!TERMINAL.has(run.state) && Date.now() < deadline) {
      await delay(50);
      run = await gateway.getRun(run.run_id);
    }
    expect(run.state).toBe("succeeded");
    // The tool list changed (list_changed): a new version of mcp.fx.text, with the new description.
    await expect.poll(() => versionOf("mcp.fx.text"), WAIT).not.toBe(before);
    const label = `mcp.fx.text — ${oneLine(HOSTILE)}`;
    expect(label).toMatch(
      /^mcp\.fx\.text — <img src=x onerror="document\.body\.dataset\.pwned='img'"> <script>.*…$/,
    );
    expect(label).not.toMatch(/[\n\u202E]/);
    const text = (await config()).workflows?.find((w) => w.id.startsWith("mcp.fx.text@"));
    expect(text).toMatchObject({ id: `mcp.fx.text@${versionOf("mcp.fx.text")}`, label });
    if (!HAS_CHROMIUM) return;
    // The page read config.json when it loaded: a reload shows the new list, as text.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", WAIT);
    const options = await page.locator("#workflow optgroup option").allTextContents();
    expect(options).toContain(label);
    expect(options.filter((o) => o.startsWith("mcp.fx.text — "))).toEqual([label]);
    await page.selectOption("#workflow", { label });
    expect(JSON.parse(await page.inputValue("#request"))).toEqual({
      root_node_type_ref: { node_type_id: "mcp.fx.text", version: versionOf("mcp.fx.text") },
      input: { text: "" },
    });
    expect(await page.locator("img, script:not([src='/viewer.js']), b").count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
