/** Node types → tools as pure data: version choice, tool names, schema normalization, the tool bound. */
import type { NodeType } from "@arp/model";
import { describe, expect, it } from "vitest";
import { latestVersions, toInputSchema, toOutputSchema, toolsOf } from "../src/serve/tools.js";
import { compareVersions } from "../src/serve/versions.js";

const nodeType = (node_type_id: string, version = "1.0.0", extra: Partial<NodeType> = {}): NodeType => ({
  node_type_id,
  version,
  kind: "atomic",
  ...extra,
});

describe("compareVersions (semver precedence)", () => {
  it.each([
    ["1.0.0", "2.0.0"],
    ["1.9.0", "1.10.0"],
    ["1.0.9", "1.0.10"],
    ["1.0.0-alpha", "1.0.0"],
    ["1.0.0-alpha", "1.0.0-alpha.1"],
    ["1.0.0-alpha.1", "1.0.0-alpha.beta"],
    ["1.0.0-beta.2", "1.0.0-beta.11"],
    ["1.0.0-rc.1", "1.0.0"],
    ["latest", "0.0.1"], // not semver ranks below semver
    ["a", "b"], // neither semver: by string
    ["99999999999999999999.0.0", "99999999999999999999.0.1"], // beyond Number's precision
  ])("%s < %s", (older, newer) => {
    expect(compareVersions(older, newer)).toBeLessThan(0);
    expect(compareVersions(newer, older)).toBeGreaterThan(0);
  });

  it("ignores build metadata and a leading v", () => {
    expect(compareVersions("1.0.0+build.1", "1.0.0+build.2")).toBe(0);
    expect(compareVersions("v1.2.3", "1.2.3")).toBe(0);
  });
});

describe("latestVersions", () => {
  it("keeps the latest version of each id, in id order, whatever the listing order", () => {
    const listed = [
      nodeType("b", "1.0.0"),
      nodeType("a", "1.10.0"),
      nodeType("a", "1.9.0"),
      nodeType("a", "2.0.0-rc.1"),
    ];
    expect(latestVersions(listed).map((n) => `${n.node_type_id}@${n.version}`)).toEqual([
      "a@2.0.0-rc.1",
      "b@1.0.0",
    ]);
    expect(latestVersions([...listed].reverse()).map((n) => n.version)).toEqual(["2.0.0-rc.1", "1.0.0"]);
  });
});

describe("schemas", () => {
  it.each([
    ["absent: any object", undefined, { type: "object" }],
    ["an object schema: as it is", { type: "object", required: ["a"] }, { type: "object", required: ["a"] }],
    ["no type: made an object schema", { properties: { a: {} } }, { properties: { a: {} }, type: "object" }],
    ["a type list with object", { type: ["object", "null"] }, { type: "object" }],
    ["a type without object: none", { type: "string" }, undefined],
    ["a type list without object: none", { type: ["string", "array"] }, undefined],
  ])("input schema %s", (_name, given, want) => {
    expect(toInputSchema(given as Record<string, unknown> | undefined)).toEqual(want);
  });

  it("takes an output schema only when it is an explicit object schema", () => {
    expect(toOutputSchema({ type: "object" })).toEqual({ type: "object" });
    expect(toOutputSchema({ properties: {} })).toBeUndefined();
    expect(toOutputSchema({ type: "array" })).toBeUndefined();
    expect(toOutputSchema(undefined)).toBeUndefined();
  });
});

describe("toolsOf", () => {
  it("skips ids that are not MCP tool names, with the reason", () => {
    const long = "x".repeat(129);
    const { tools, skipped } = toolsOf(
      [nodeType("ok.name_1-2"), nodeType("has space"), nodeType(long), nodeType("é")],
      10,
    );
    expect([...tools.keys()]).toEqual(["ok.name_1-2"]);
    expect(skipped.map((s) => s.node_type_id)).toEqual(["has space", long, "é"].sort());
    expect(toolsOf([nodeType("x".repeat(128))], 10).tools.size).toBe(1);
  });

  it("lists at most maxTools tools, the first by name, and says which were left out", () => {
    const { tools, skipped } = toolsOf([nodeType("c"), nodeType("a"), nodeType("b")], 2);
    expect([...tools.keys()]).toEqual(["a", "b"]);
    expect(skipped).toEqual([
      { node_type_id: "c", version: "1.0.0", reason: "more than maxTools (2) node types" },
    ]);
  });

  it("describes a tool by its node type, or by its id when it has no description", () => {
    const { tools } = toolsOf(
      [nodeType("a", "1.0.0", { description: "Does a." }), nodeType("b", "2.0.0", { kind: "composite" })],
      10,
    );
    expect(tools.get("a")!.tool.description).toBe("Does a. (ARP atomic node type a@1.0.0)");
    expect(tools.get("b")!.tool.description).toBe("ARP composite node type b@2.0.0");
    expect(tools.get("b")!.ref).toEqual({ node_type_id: "b", version: "2.0.0" });
  });
});
