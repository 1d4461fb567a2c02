import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MAX_VALIDATION_ISSUES } from "@arp/model";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { serviceConstName } from "../src/emit/operations.js";
import { emitServers } from "../src/emit/server.js";
import { enumConstName, inlineType } from "../src/emit/types.js";
import { addErrorLimit, emitValidators } from "../src/emit/validators.js";
import { CodeWriter } from "../src/emit/writer.js";
import { generate } from "../src/generate.js";
import { buildIR, type OperationIR, type TypeNode } from "../src/ir/index.js";
import { type LoadedSchema, loadSpec } from "../src/load.js";
import { MINI, REPO_SPEC, tempDir } from "./fixture.js";

describe("type expressions", () => {
  const obj = (extra: Partial<Extract<TypeNode, { kind: "object" }>>): TypeNode => ({
    kind: "object",
    properties: [],
    additional: false,
    patternKeys: [],
    ...extra,
  });
  it.each<[string, TypeNode, string]>([
    ["a ref", { kind: "ref", name: "Run" }, "Run"],
    ["a string enum", { kind: "string", enum: ["a", "b"] }, '"a" | "b"'],
    ["a formatted string", { kind: "string", format: "uri" }, "string"],
    ["an integer", { kind: "integer", minimum: 0 }, "number"],
    ["an array of refs", { kind: "array", items: { kind: "ref", name: "Part" } }, "Part[]"],
    [
      "an array of a union",
      { kind: "array", items: { kind: "string", enum: ["a", "b"] } },
      'Array<"a" | "b">',
    ],
    ["an open map", obj({ additional: { kind: "unknown" } }), "Record<string, unknown>"],
    ["a map of strings", obj({ additional: { kind: "string" } }), "Record<string, string>"],
    ["a closed empty object", obj({}), "Record<string, never>"],
    ["a pattern-keyed map", obj({ patternKeys: ["^a\\.b$"] }), "{ [key: string]: unknown }"],
    [
      "an object literal",
      obj({
        properties: [
          { name: "a", required: true, type: { kind: "string" } },
          { name: "b-c", required: false, type: { kind: "boolean" } },
        ],
      }),
      '{ a: string; "b-c"?: boolean }',
    ],
  ])("%s", (_what, given, want) => {
    expect(inlineType(given)).toBe(want);
  });

  it.each([
    ["RunState", "RUN_STATES"],
    ["Status", "STATUSES"],
    ["SideEffectClass", "SIDE_EFFECT_CLASSES"],
    ["NodeRunTerminalState", "NODE_RUN_TERMINAL_STATES"],
    ["Category", "CATEGORIES"],
    ["Key", "KEYS"],
  ])("enum constant for %s is %s", (given, want) => {
    expect(enumConstName(given)).toBe(want);
  });

  it("service constants", () => {
    expect(serviceConstName({ name: "RunGateway" } as never)).toBe("RUN_GATEWAY_SERVICE");
    expect(serviceConstName({ name: "Pdp" } as never)).toBe("PDP_SERVICE");
  });
});

describe("server request types", () => {
  const op = (extra: Partial<OperationIR>): OperationIR => ({
    operationId: "get_thing",
    name: "getThing",
    method: "GET",
    path: "/v1/things/{thing_id}",
    summary: "get",
    pathParams: [],
    queryParams: [],
    response: { status: 200, kind: "json", schema: "Thing", array: false },
    conformance: "required",
    retry: "safe",
    auth: "bearer",
    ...extra,
  });
  it.each<[string, Partial<OperationIR>, string]>([
    ["no body, no parameters", {}, "getThing: ArpRequest<undefined>;"],
    ["a body", { requestBody: { schema: "ThingIn", required: true } }, "getThing: ArpRequest<T.ThingIn>;"],
    [
      "path and query parameters",
      {
        pathParams: [{ name: "thing_id", required: true }],
        queryParams: [
          { name: "kind", required: false, schema: "Kind" },
          { name: "page-size", required: true },
        ],
      },
      'getThing: ArpRequest<undefined, { thing_id: string; kind?: T.Kind; "page-size": string }>;',
    ],
  ])("%s", (_what, given, want) => {
    const service = { key: "things", name: "Things", title: "Things API", file: "", operations: [op(given)] };
    const out = emitServers([service], "sha256:0");
    expect(out).toContain("export interface ThingsRequests {");
    expect(out).toContain(want);
    expect(out).toContain('abstract getThing(req: ThingsRequests["getThing"]): T.Thing | Promise<T.Thing>;');
  });
});

describe("CodeWriter", () => {
  it("indents blocks and writes short and long doc comments", () => {
    const w = new CodeWriter();
    w.doc("Short.").block("interface A {", () => w.doc("One.", "Two */ three.").line("a: string;"));
    expect(w.toString()).toBe(
      [
        "/** Short. */",
        "interface A {",
        "  /**",
        "   * One.",
        "   *",
        "   * Two *\\/ three.",
        "   */",
        "  a: string;",
        "}",
        "",
      ].join("\n"),
    );
  });
});

describe("the mini spec's generated files", () => {
  const files = generate(MINI);
  it.each(files.map((f) => [f.path.split("/").pop()!, f] as const))(
    "%s matches its snapshot",
    async (name, file) => {
      await expect(file.content).toMatchFileSnapshot(`./snapshots/mini/${name}`);
    },
  );

  it("marks every generated source with the generator, the spec hash and the regenerate command", () => {
    const hash = loadSpec(MINI).hash;
    for (const f of files.filter((x) => /\.(ts|js)$/.test(x.path))) {
      expect(f.content.split("\n").slice(0, 3)).toEqual([
        "// Generated by @arp/codegen (tools/codegen) from spec/v1. DO NOT EDIT.",
        `// Spec content hash: sha256:${hash}`,
        "// Regenerate with: npm run codegen",
      ]);
    }
  });
});

describe("the emitted validators", () => {
  it("run, with our formats, for root and named sub-schemas", async () => {
    const spec = loadSpec(MINI);
    const { js } = emitValidators(spec.schemas, buildIR(spec).schemas, spec.hash);
    expect(js).not.toMatch(/require\(/);
    const dir = tempDir("arp-validators-");
    mkdirSync(join(dir, "generated"));
    writeFileSync(join(dir, "generated/validators.gen.js"), js);
    const formats = pathToFileURL(join(REPO_SPEC, "../../packages/model/src/formats.ts")).href;
    writeFileSync(join(dir, "formats.js"), `export { formatValidators } from ${JSON.stringify(formats)};\n`);
    const v = (await import(pathToFileURL(join(dir, "generated/validators.gen.js")).href)) as Record<
      string,
      ((d: unknown) => boolean) & { errors?: { keyword: string; instancePath: string }[] }
    >;
    expect(Object.keys(v).sort()).toEqual(["Color", "ErrorDetail", "Part", "Widget"]);
    expect(v.Widget!({ id: "w", parts: [{ n: 1 }], made_at: "2026-01-15T09:30:00Z" })).toBe(true);
    expect(v.Widget!({ id: "w", parts: [{ n: 1 }], made_at: "2026-01-15T09:30:00" })).toBe(false);
    expect(v.Widget!.errors!.map((e) => [e.keyword, e.instancePath])).toEqual([["format", "/made_at"]]);
    expect(v.Widget!({ id: "w", parts: [] })).toBe(false);
    expect(v.Part!({ n: -1 })).toBe(false);
    expect(v.Color!("red")).toBe(true);
  });
});

describe("the validators' error limit (MAX_VALIDATION_ISSUES)", () => {
  const base = "https://arp.invalid/spec/v1/schemas/";
  async function load(schemas: Record<string, Record<string, unknown>>) {
    const files: LoadedSchema[] = Object.entries(schemas).map(([name, schema]) => ({
      file: `${name}.schema.json`,
      id: `${base}${name}.schema.json`,
      schema: { $id: `${base}${name}.schema.json`, ...schema } as LoadedSchema["schema"],
    }));
    const named = files.map((f) => ({
      name: f.file.replace(".schema.json", ""),
      title: f.file,
      file: f.file,
      pointer: "",
      id: f.id,
      type: { kind: "unknown" } as unknown as TypeNode,
    }));
    const { js } = emitValidators(files, named, "0");
    const dir = tempDir("arp-limit-");
    mkdirSync(join(dir, "generated"));
    writeFileSync(join(dir, "generated/validators.gen.js"), js);
    const formats = pathToFileURL(join(REPO_SPEC, "../../packages/model/src/formats.ts")).href;
    writeFileSync(join(dir, "formats.js"), `export { formatValidators } from ${JSON.stringify(formats)};\n`);
    return (await import(pathToFileURL(join(dir, "generated/validators.gen.js")).href)) as Record<
      string,
      ((d: unknown) => boolean) & { errors?: unknown[] | null }
    >;
  }

  it("stops a loop over items, and a caller adding a nested validator's errors, at the limit", async () => {
    const v = await load({
      Item: { type: "object", properties: { a: {}, b: {} }, required: ["a", "b"] },
      List: { type: "array", items: { $ref: `${base}Item.schema.json` } },
      Keys: { type: "object", additionalProperties: false },
    });
    const items = Array.from({ length: 10_000 }, () => ({}));
    expect(v.List!(items)).toBe(false);
    expect(v.List!.errors).toHaveLength(MAX_VALIDATION_ISSUES);
    expect(v.Keys!(Object.fromEntries(items.map((_, i) => [`k${i}`, i])))).toBe(false);
    expect(v.Keys!.errors).toHaveLength(MAX_VALIDATION_ISSUES);
    // Under the limit, every error is still reported.
    expect(v.List!(items.slice(0, 3))).toBe(false);
    expect(v.List!.errors).toHaveLength(6);
    expect(v.List!([{ a: 1, b: 2 }])).toBe(true);
  });

  it("does not stop inside a branch that may be rolled back (anyOf): a valid document stays valid", async () => {
    const v = await load({
      Either: {
        anyOf: [
          { type: "array", items: { type: "string" } },
          { type: "array", items: { type: "number" } },
        ],
      },
    });
    const numbers = Array.from({ length: 3 * MAX_VALIDATION_ISSUES }, (_, i) => i);
    expect(v.Either!(numbers)).toBe(true);
    expect(v.Either!([...numbers, "x"])).toBe(false);
  });

  it("inserts exits only after statements that count errors", () => {
    const code = addErrorLimit(
      "function validate1(data){\nlet vErrors = null;\nlet errors = 0;\nif(!data){\nerrors++;\n}\nvalidate1.errors = vErrors;\nreturn errors === 0;\n}",
      7,
    );
    expect(code).toContain("errors++;\nif(errors >= 7){\nvalidate1.errors = vErrors;\nreturn false;\n}\n}");
    expect(code.match(/errors >= 7/g)).toHaveLength(1);
  });
});

describe("the validators' layout (tree-shakeable, nothing on the hot path at module level)", () => {
  const spec = loadSpec(MINI);
  const { js } = emitValidators(spec.schemas, buildIR(spec).schemas, spec.hash);
  const body = js.slice(js.indexOf("import "));

  it("is one pure closure per schema, which receives the validators it refers to", () => {
    // At top level: the import and one `export const` per schema, bound to a call; all else is inside.
    const file = ts.createSourceFile("v.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const kinds = file.statements.map((st) =>
      ts.isImportDeclaration(st)
        ? "import"
        : ts.isVariableStatement(st) && ts.isCallExpression(st.declarationList.declarations[0]!.initializer!)
          ? "const = call"
          : ts.SyntaxKind[st.kind],
    );
    expect(kinds).toEqual(["import", "const = call", "const = call", "const = call", "const = call"]);
    const exportsLines = body.split("\n").filter((l) => l.startsWith("export "));
    expect(exportsLines.map((l) => l.replace(/ = .*/, ""))).toEqual([
      "export const Color",
      "export const ErrorDetail",
      "export const Widget",
      "export const Part",
    ]);
    for (const l of exportsLines) expect(l).toMatch(/^export const \w+ = \/\* @__PURE__ \*\/ \(\(/);
    // Widget refers to Color and ErrorDetail: their validators come in as arguments, not copies.
    expect(body).toMatch(
      /export const Widget = \/\* @__PURE__ \*\/ \(\((validate\d+), (validate\d+)\) => \{/,
    );
    expect(body).toContain("})(Color, ErrorDetail);");
    expect(body.match(/^function validate/gm)).toHaveLength(4);
  });

  it("keeps only the constants the validators read", () => {
    // ajv emits every schema as a constant; only Color's enum reads its own.
    expect(body.match(/^const schema\d+ = /gm)).toHaveLength(1);
    expect(body).not.toContain('widget.schema.json","type"');
  });

  it("reports a $ref cycle across schemas instead of miscompiling it", () => {
    const base = "https://arp.invalid/spec/v1/schemas/";
    const files: LoadedSchema[] = [
      {
        file: "a.schema.json",
        id: `${base}a.schema.json`,
        schema: {
          $id: `${base}a.schema.json`,
          type: "object",
          properties: { b: { $ref: `${base}b.schema.json` } },
        },
      },
      {
        file: "b.schema.json",
        id: `${base}b.schema.json`,
        schema: {
          $id: `${base}b.schema.json`,
          type: "object",
          properties: { a: { $ref: `${base}a.schema.json` } },
        },
      },
    ];
    const named = files.map((f) => ({
      name: f.file[0]!.toUpperCase(),
      title: f.file,
      file: f.file,
      pointer: "",
      id: f.id,
      type: { kind: "unknown" } as unknown as TypeNode,
    }));
    expect(() => emitValidators(files, named, "0")).toThrow(/recursive \$ref between validators/);
  });
});

describe("generate on spec/v1", () => {
  it("is deterministic", () => {
    expect(generate(REPO_SPEC)).toEqual(generate(REPO_SPEC));
  });

  it("matches the reviewed summary of every service's operations", async () => {
    const ir = buildIR(loadSpec(REPO_SPEC));
    const lines = ir.services.flatMap((s) => [
      `## ${s.name} (${s.file})`,
      "",
      ...s.operations.map((o) => {
        const params = [
          ...o.pathParams.map((p) => p.name),
          ...o.queryParams.map((p) => `?${p.name}${p.schema ? `:${p.schema}` : ""}`),
        ];
        const body = o.requestBody ? ` body:${o.requestBody.schema}` : "";
        const r = o.response;
        const res =
          r.kind === "json"
            ? `${r.schema}${r.array ? "[]" : ""}`
            : r.kind === "ndjson"
              ? `ndjson<${r.itemSchema}>`
              : "empty";
        return `- ${o.name}: ${o.method} ${o.path} (${params.join(", ")})${body} → ${r.status} ${res} [${o.conformance}, ${o.auth}]`;
      }),
      "",
    ]);
    const types = ir.schemas.map((s) => `- ${s.name}: ${s.file}${s.pointer ? `#${s.pointer}` : ""}`);
    await expect(
      ["# spec/v1 as the generator sees it", "", ...lines, "## Types", "", ...types, ""].join("\n"),
    ).toMatchFileSnapshot("./snapshots/spec-v1.summary.md");
  });
});
