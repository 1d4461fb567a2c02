/**
 * The public surface of "ARP runs as MCP tools", as users get it (the built ESM and CJS entries),
 * and its types. Only this half's names: the other half pins its own.
 */
import { builtExports } from "@arp/testkit";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ArpMcpServer,
  type ArpMcpServerOptions,
  createArpMcpServer,
  type HttpOptions,
  type RunningHttpServer,
  type StdioConnection,
  serveHttp,
  serveStdio,
} from "../src/index.js";

const pkgRoot = new URL("..", import.meta.url).pathname;
const SERVE_EXPORTS = [
  "DEFAULT_MAX_MESSAGE_BYTES",
  "HTTP_DEFAULTS",
  "NODE_TYPE_META_KEY",
  "RUN_META_KEY",
  "SERVER_INFO",
  "SERVE_DEFAULTS",
  "createArpMcpServer",
  "serveHttp",
  "serveStdio",
];

describe("exports", () => {
  it("the built entries export these names, in both module systems", async () => {
    const { esm, cjs } = await builtExports(pkgRoot);
    for (const names of [esm, cjs]) expect(names).toEqual(expect.arrayContaining(SERVE_EXPORTS));
    // Nothing of src/serve/ beyond them (the catalog, the run logic, the checker stay internal).
    for (const internal of [
      "ToolCatalog",
      "runTool",
      "SchemaChecker",
      "toolsOf",
      "compareVersions",
      "ProgressReporter",
    ])
      expect(esm).not.toContain(internal);
  });

  it("has the types the README shows", () => {
    expectTypeOf(createArpMcpServer).parameter(0).toEqualTypeOf<ArpMcpServerOptions>();
    expectTypeOf(createArpMcpServer).returns.toEqualTypeOf<ArpMcpServer>();
    expectTypeOf<ArpMcpServer["createServer"]>().returns.toEqualTypeOf<Server>();
    expectTypeOf(serveHttp).parameter(1).toEqualTypeOf<HttpOptions | undefined>();
    expectTypeOf(serveHttp).returns.resolves.toEqualTypeOf<RunningHttpServer>();
    expectTypeOf(serveStdio).returns.resolves.toEqualTypeOf<StdioConnection>();
    // Compiled, never called.
    const _negatives = () => {
      // @ts-expect-error registryUrl is required
      createArpMcpServer({ gatewayUrl: "http://127.0.0.1:8080" });
      // @ts-expect-error a limit is a number
      createArpMcpServer({ gatewayUrl: "http://a", registryUrl: "http://b", callTimeoutMs: "5" });
    };
    expect(typeof _negatives).toBe("function");
  });
});
