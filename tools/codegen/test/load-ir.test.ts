import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA_ID_BASE } from "../src/config.js";
import { emitClients } from "../src/emit/client.js";
import { buildIR } from "../src/ir/index.js";
import { loadSpec, stripAnnotations } from "../src/load.js";
import { MINI, miniWith } from "./fixture.js";

describe("loadSpec", () => {
  it("gives every schema a canonical $id and makes every $ref absolute", () => {
    const spec = loadSpec(MINI);
    expect(spec.schemas.map((s) => s.file)).toEqual([
      "common/color.schema.json",
      "common/error_detail.schema.json",
      "widgets/widget.schema.json",
    ]);
    const widget = spec.schemas[2]!.schema as { $id: string; properties: Record<string, { $ref?: string }> };
    expect(widget.$id).toBe(`${SCHEMA_ID_BASE}widgets/widget.schema.json`);
    expect(widget.properties.color!.$ref).toBe(`${SCHEMA_ID_BASE}common/color.schema.json`);
  });

  it("hashes the input: the same tree gives the same hash, any byte changed gives another", () => {
    const widget = readFileSync(join(MINI, "schemas/widgets/widget.schema.json"), "utf8");
    expect(loadSpec(MINI).hash).toBe(loadSpec(MINI).hash);
    const changed = miniWith({
      "schemas/widgets/widget.schema.json": widget.replace("A widget.", "A widget!"),
    });
    expect(loadSpec(changed).hash).not.toBe(loadSpec(MINI).hash);
  });

  it.each([
    [
      "a schema that sets $id",
      { "schemas/common/color.schema.json": '{"$id":"x","title":"Color","type":"string"}' },
      /must not set \$id/,
    ],
    [
      "a file that is not JSON",
      { "schemas/common/color.schema.json": "{ title: Color" },
      /color\.schema\.json: not valid JSON/,
    ],
  ])("rejects %s, naming the file", (_what, files, message) => {
    expect(() => loadSpec(miniWith(files))).toThrow(message);
  });

  it("rejects a folder that is not a spec tree", () => {
    expect(() => loadSpec("/nonexistent/v1")).toThrow(/spec folder not found/);
  });

  it("strips annotations but keeps a property named description", () => {
    const schema = {
      title: "T",
      description: "d",
      "x-y": 1,
      properties: { description: { type: "string", description: "p" } },
    };
    expect(stripAnnotations(schema)).toEqual({ properties: { description: { type: "string" } } });
  });
});

describe("buildIR", () => {
  const ir = buildIR(loadSpec(MINI));

  it("names types from titles, renames globals after the file, and names titled sub-schemas", () => {
    expect(ir.schemas.map((s) => [s.name, s.file, s.pointer])).toEqual([
      ["Color", "common/color.schema.json", ""],
      ["ErrorDetail", "common/error_detail.schema.json", ""],
      ["Widget", "widgets/widget.schema.json", ""],
      ["Part", "widgets/widget.schema.json", "/properties/parts/items"],
    ]);
    const widget = ir.schemas.find((s) => s.name === "Widget")!.type;
    expect(widget.kind === "object" && widget.properties.find((p) => p.name === "parts")!.type).toEqual({
      kind: "array",
      items: { kind: "ref", name: "Part" },
      minItems: 1,
    });
  });

  it("describes each operation", () => {
    const [service] = ir.services;
    expect(service).toMatchObject({
      key: "widgets",
      name: "Widgets",
      title: "Widget API",
      description: "Widgets.",
    });
    expect(
      service!.operations.map((o) => [o.name, o.method, o.auth, o.conformance, o.response.kind]),
    ).toEqual([
      ["health", "GET", "none", "required", "json"],
      ["listWidgets", "GET", "bearer", "required", "json"],
      ["createWidget", "POST", "bearer", "required", "json"],
      ["destroyPart", "POST", "bearer", "optional", "empty"],
      ["streamWidgetEvents", "GET", "bearer", "required", "ndjson"],
    ]);
    const destroy = service!.operations[3]!;
    // Path order, not declaration order.
    expect(destroy.pathParams.map((p) => p.name)).toEqual(["widget_id", "part_id"]);
    const list = service!.operations[1]!;
    expect(list.queryParams).toEqual([
      { name: "color", required: false, schema: "Color" },
      { name: "q", required: false },
    ]);
    expect(list.response).toEqual({ status: 200, kind: "json", schema: "Widget", array: true });
    expect(service!.operations[2]!.requestBody).toEqual({ schema: "Widget", required: true });
    expect(service!.operations[4]!.response).toEqual({
      status: 200,
      kind: "ndjson",
      itemSchema: "Widget",
      scope: "widget_id",
    });
  });

  it("says from the table which operations may be repeated, and by which key", () => {
    const ops = ir.services[0]!.operations;
    expect(ops.map((o) => [o.name, o.retry, o.idempotencyKey])).toEqual([
      ["health", "safe", undefined], // a GET
      ["listWidgets", "safe", undefined],
      ["createWidget", "keyed", ["parts", "*", "key"]], // x-arp-idempotency-key
      ["destroyPart", "safe", undefined], // x-arp-idempotent
      ["streamWidgetEvents", "safe", undefined],
    ]);
  });

  const openapi = readFileSync(join(MINI, "openapi/widgets.openapi.yaml"), "utf8");
  it.each([
    [
      "an NDJSON response without its line schema",
      { "openapi/widgets.openapi.yaml": openapi.replace(/\n\s+x-arp-ndjson-item:.*/, "") },
      /GET \/v1\/widgets\/\{widget_id\}\/events: an application\/x-ndjson response must name its line schema with x-arp-ndjson-item/,
    ],
    [
      "a keyword the generator does not understand",
      {
        "schemas/common/color.schema.json": '{"title":"Color","type":"string","enum":["red"],"const":"red"}',
      },
      /schemas\/common\/color\.schema\.json: keyword "const" is not supported/,
    ],
    [
      "a schema file without a title",
      { "schemas/common/color.schema.json": '{"type":"string"}' },
      /color\.schema\.json: every schema file needs a title/,
    ],
    [
      "a required property that is not declared",
      {
        "schemas/common/error_detail.schema.json":
          '{"title":"Error","type":"object","required":["x"],"properties":{}}',
      },
      /required property "x" is not declared/,
    ],
    [
      "an undeclared path parameter",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "- { name: part_id, in: path, required: true, schema: { type: string } }",
          "",
        ),
      },
      /path parameter \{part_id\} is not declared/,
    ],
    [
      "an NDJSON operation without its stream scope",
      { "openapi/widgets.openapi.yaml": openapi.replace(/\n\s+x-arp-stream-scope:.*/, "") },
      /events: an NDJSON operation must name its x-arp-stream-scope/,
    ],
    [
      "a stream scope that is not a path parameter",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "x-arp-stream-scope: widget_id",
          "x-arp-stream-scope: id",
        ),
      },
      /x-arp-stream-scope id is not a path parameter/,
    ],
    [
      "a stream end event that the item schema has no `type` value for",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "x-arp-stream-scope: widget_id",
          "x-arp-stream-scope: widget_id\n      x-arp-stream-end: done",
        ),
      },
      /x-arp-stream-end must be one of the values of Widget.type/,
    ],
    [
      "an idempotency key that the body does not have",
      { "openapi/widgets.openapi.yaml": openapi.replace("/parts/*/key", "/parts/*/nope") },
      /x-arp-idempotency-key \/parts\/\*\/nope: no property "nope"/,
    ],
    [
      "an idempotency key that is not a string",
      { "openapi/widgets.openapi.yaml": openapi.replace("/parts/*/key", "/parts/*/n") },
      /x-arp-idempotency-key \/parts\/\*\/n must name a string field/,
    ],
    [
      "a misspelt vendor key",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "x-arp-stream-scope: widget_id",
          "x-arp-stream-scope: widget_id\n      x-arp-stream-ends: done",
        ),
      },
      /unknown or misplaced vendor key x-arp-stream-ends/,
    ],
    [
      "a vendor key in a place it is not read",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "    Widget:\n",
          "    Widget:\n      x-arp-optional: true\n",
        ),
      },
      /unknown or misplaced vendor key x-arp-optional/,
    ],
    [
      "x-arp-optional that is not true",
      { "openapi/widgets.openapi.yaml": openapi.replace("x-arp-optional: true", 'x-arp-optional: "true"') },
      /x-arp-optional must be true when present/,
    ],
    [
      "a retry extension on a GET",
      {
        "openapi/widgets.openapi.yaml": openapi.replace(
          "x-arp-stream-scope: widget_id",
          "x-arp-stream-scope: widget_id\n      x-arp-idempotent: true",
        ),
      },
      /GET operations are always safe to repeat/,
    ],
  ])("fails generation on %s", (_what, files, message) => {
    expect(() => buildIR(loadSpec(miniWith(files)))).toThrow(message);
  });
});

describe("client emitter", () => {
  it("fails when a query parameter would shadow a per-call option", () => {
    const openapi = readFileSync(join(MINI, "openapi/widgets.openapi.yaml"), "utf8");
    const spec = miniWith({
      "openapi/widgets.openapi.yaml": openapi.replace("name: q, in: query", "name: signal, in: query"),
    });
    const ir = buildIR(loadSpec(spec));
    expect(() => emitClients(ir.services, ir.hash)).toThrow(
      /list_widgets: query parameter "signal" clashes with a call option/,
    );
  });
});
