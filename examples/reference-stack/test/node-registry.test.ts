import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ArpApiError, NodeRegistryClient } from "@arp/client";
import type { NodeType } from "@arp/model";
import type { RunningServer } from "@arp/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATOMIC_NODE_TYPES, BUILTIN_NODE_TYPES } from "../src/catalog/index.js";
import { compareVersions, ReferenceNodeRegistry } from "../src/services/node-registry.js";

const CHECKER = fileURLToPath(
  new URL("../../../packages/conformance/bin/arp-conformance.js", import.meta.url),
);
const quiet = { auth: { mode: "disabled" as const }, logger: { warn: () => {}, error: () => {} } };

const type = (node_type_id: string, version: string, extra: Partial<NodeType> = {}): NodeType => ({
  node_type_id,
  version,
  kind: "atomic",
  ...extra,
});

async function serve(registry: ReferenceNodeRegistry) {
  const running = await registry.listen({ port: 0 });
  return { running, client: new NodeRegistryClient({ baseUrl: running.url, retry: false }) };
}

const apiError = async (p: Promise<unknown>): Promise<ArpApiError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArpApiError);
  return err as ArpApiError;
};

describe("compareVersions", () => {
  it("orders by semver precedence (the spec's own example), non-semver first", () => {
    const ordered = [
      "", // not semver: before every semver version, by code units among themselves
      "1.0",
      "latest",
      "v2.0.0",
      "0.9.0",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.0+build.1", // equal precedence: code units decide, so the order is total
      "1.0.1",
      "1.9.0",
      "1.10.0",
      "2.0.0",
      "10.0.0",
      "99999999999999999999.0.0", // beyond Number's exact integers: compared as digits
      "99999999999999999999.0.1",
    ];
    const shuffled = [...ordered].reverse();
    shuffled.push(...shuffled.splice(0, 7));
    expect(shuffled.sort(compareVersions)).toEqual(ordered);
    expect(compareVersions("1.2.3", "1.2.3")).toBe(0);
    expect(compareVersions("1.02.3", "1.2.3")).toBeLessThan(0); // a leading zero is not semver
  });
});

describe("ReferenceNodeRegistry", () => {
  let running: RunningServer;
  let client: NodeRegistryClient;
  beforeAll(async () => {
    ({ running, client } = await serve(new ReferenceNodeRegistry({ server: quiet })));
  });
  afterAll(() => running.close());

  it("is seeded with the built-in node types, the atomic executor's among them", async () => {
    const all = await client.listNodeTypes();
    expect(all).toHaveLength(BUILTIN_NODE_TYPES.length);
    for (const t of ATOMIC_NODE_TYPES) {
      expect(await client.getNodeType(t.node_type_id)).toEqual(t);
      expect(all).toContainEqual(t);
    }
  });

  it("publishes, answers what it stored, and gets it back; the same id and version again is a 409", async () => {
    const t = type("com.example.pub", "1.0.0", {
      description: "Published in a test.",
      input_schema: { type: "object" },
      metadata: { labels: { team: "a" } },
    });
    expect(await client.publishNodeType({ node_type: t })).toEqual(t);
    expect(await client.getNodeType("com.example.pub", { version: "1.0.0" })).toEqual(t);
    const err = await apiError(client.publishNodeType({ node_type: { ...t, description: "other" } }));
    expect([err.status, err.code]).toEqual([409, "conflict"]);
    expect(err.details).toEqual({ node_type_id: "com.example.pub", version: "1.0.0" });
    expect((await client.getNodeType("com.example.pub")).description).toBe("Published in a test.");
  });

  it("without version, get answers the latest by semver; with one, exactly that version", async () => {
    for (const v of ["1.9.0", "1.10.0-rc.1", "1.10.0", "0.1.0", "1.2.0", "not-semver"]) {
      await client.publishNodeType({ node_type: type("com.example.semver", v, { description: `v ${v}` }) });
    }
    expect((await client.getNodeType("com.example.semver")).version).toBe("1.10.0");
    expect((await client.getNodeType("com.example.semver", { version: "1.10.0-rc.1" })).description).toBe(
      "v 1.10.0-rc.1",
    );
    expect((await client.getNodeType("com.example.semver", { version: "not-semver" })).version).toBe(
      "not-semver",
    );
    await client.publishNodeType({ node_type: type("com.example.semver", "2.0.0-beta.1") });
    // Semver precedence, as documented: a pre-release of a higher version is the latest.
    expect((await client.getNodeType("com.example.semver")).version).toBe("2.0.0-beta.1");

    const missing = await apiError(client.getNodeType("com.example.semver", { version: "1.10" }));
    expect([missing.status, missing.code]).toEqual([404, "not_found"]);
    expect((await apiError(client.getNodeType("com.example.nothing"))).status).toBe(404);
  });

  it("ids with / and spaces are one path segment", async () => {
    const t = type("org/with spaces:x", "1.0.0");
    await client.publishNodeType({ node_type: t });
    expect(await client.getNodeType("org/with spaces:x")).toEqual(t);
  });

  it("lists by q (case-insensitive, id or description) and kind, sorted by id then newest first", async () => {
    await client.publishNodeType({
      node_type: type("com.example.q.b", "1.0.0", { description: "Finds ZEBRAS." }),
    });
    await client.publishNodeType({ node_type: type("com.example.q.a", "1.0.0") });
    await client.publishNodeType({ node_type: type("com.example.q.a", "1.1.0") });
    await client.publishNodeType({
      node_type: type("com.example.Q.composite", "1.0.0", { kind: "composite", description: "Plans." }),
    });

    const ids = (list: NodeType[]) => list.map((t) => `${t.node_type_id}@${t.version}`);
    expect(ids(await client.listNodeTypes({ q: "EXAMPLE.Q." }))).toEqual([
      "com.example.Q.composite@1.0.0",
      "com.example.q.a@1.1.0",
      "com.example.q.a@1.0.0",
      "com.example.q.b@1.0.0",
    ]);
    expect(ids(await client.listNodeTypes({ q: "zebra" }))).toEqual(["com.example.q.b@1.0.0"]);
    expect(ids(await client.listNodeTypes({ q: "example.q.", kind: "composite" }))).toEqual([
      "com.example.Q.composite@1.0.0",
    ]);
    expect(ids(await client.listNodeTypes({ q: "example.q.", kind: "atomic" }))).not.toContain(
      "com.example.Q.composite@1.0.0",
    );
    expect(await client.listNodeTypes({ q: "no such thing anywhere" })).toEqual([]);
    const atomic = await client.listNodeTypes({ kind: "atomic" });
    expect(atomic.every((t) => t.kind === "atomic")).toBe(true);
    expect(ids(atomic)).toEqual(expect.arrayContaining(ids([...ATOMIC_NODE_TYPES])));
    // The same answer every time.
    expect(await client.listNodeTypes()).toEqual(await client.listNodeTypes());
  });
});

describe("ReferenceNodeRegistry limits", () => {
  it("holds at most maxNodeTypes versions, the seed included: then 403 registry_full", async () => {
    const { running, client } = await serve(
      new ReferenceNodeRegistry({
        server: quiet,
        seed: [type("a", "1.0.0"), type("b", "1.0.0")],
        maxNodeTypes: 3,
      }),
    );
    try {
      await client.publishNodeType({ node_type: type("c", "1.0.0") });
      const err = await apiError(client.publishNodeType({ node_type: type("d", "1.0.0") }));
      expect([err.status, err.code, err.retryable]).toEqual([403, "registry_full", false]);
      expect(err.details).toEqual({ max_node_types: 3 });
      // A duplicate is still a 409, full or not.
      expect((await apiError(client.publishNodeType({ node_type: type("a", "1.0.0") }))).status).toBe(409);
      expect(await client.listNodeTypes()).toHaveLength(3);
    } finally {
      await running.close();
    }
  });

  it("refuses a node type over maxNodeTypeBytes of JSON: 413 node_type_too_large", async () => {
    const { running, client } = await serve(
      new ReferenceNodeRegistry({ server: quiet, seed: [], maxNodeTypeBytes: 200 }),
    );
    try {
      await client.publishNodeType({ node_type: type("small", "1.0.0", { description: "x".repeat(50) }) });
      const err = await apiError(
        client.publishNodeType({ node_type: type("big", "1.0.0", { description: "é".repeat(100) }) }),
      );
      expect([err.status, err.code]).toEqual([413, "node_type_too_large"]);
      expect((await apiError(client.getNodeType("big"))).status).toBe(404);
    } finally {
      await running.close();
    }
  });

  it("keeps its own copies: changing a seed object later changes nothing", async () => {
    const seed = [type("mutable", "1.0.0", { description: "before" })];
    const { running, client } = await serve(new ReferenceNodeRegistry({ server: quiet, seed }));
    try {
      (seed[0] as NodeType).description = "after";
      expect((await client.getNodeType("mutable")).description).toBe("before");
    } finally {
      await running.close();
    }
  });

  it("rejects bad limits, a seed over the limit and a duplicate seed at construction", () => {
    expect(() => new ReferenceNodeRegistry({ maxNodeTypes: 0 })).toThrow(RangeError);
    expect(() => new ReferenceNodeRegistry({ maxNodeTypeBytes: Number.NaN })).toThrow(RangeError);
    expect(
      () => new ReferenceNodeRegistry({ seed: [type("a", "1"), type("b", "1")], maxNodeTypes: 1 }),
    ).toThrow("maximum of 1");
    expect(() => new ReferenceNodeRegistry({ seed: [type("a", "1"), type("a", "1")] })).toThrow(
      "already published",
    );
  });
});

describe("ReferenceNodeRegistry conformance", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await new ReferenceNodeRegistry({ server: quiet }).listen({ port: 0 });
  });
  afterAll(() => running.close());

  it("passes --tier deep --allow-mutations --strict", async () => {
    const args = ["check", "node-registry", "--url", running.url, "--tier", "deep", "--allow-mutations"];
    const { stdout } = await promisify(execFile)(process.execPath, [
      CHECKER,
      ...args,
      "--strict",
      "--format",
      "json",
    ]).catch((err: { stdout?: string; code?: number }) => {
      throw new Error(`arp-conformance exited ${err.code}: ${err.stdout ?? ""}`);
    });
    const report = JSON.parse(stdout) as {
      ok: boolean;
      counts: { passed: number; failed: number; warned: number; skipped: number };
      results: { check_id: string; status: string }[];
    };
    expect(report.counts).toMatchObject({ failed: 0, warned: 0, skipped: 0 });
    expect(report.ok).toBe(true);
    const passed = new Set(report.results.filter((r) => r.status === "PASS").map((r) => r.check_id));
    for (const id of [
      "core.publishNodeType.duplicate",
      "core.getNodeType.latest",
      "core.getNodeType.unknown_version",
      "core.listNodeTypes.kind",
    ]) {
      expect(passed, id).toContain(id);
    }
  });
});
