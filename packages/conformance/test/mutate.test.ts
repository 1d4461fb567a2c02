import { join } from "node:path";
import {
  type CompiledValidator,
  SCHEMAS,
  type SchemaName,
  SERVICES,
  toIssues,
  validatorFor,
} from "@arp/model";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MUTATION_LIMIT,
  deriveMutations,
  invalidBodiesFor,
  MUTATION_CONSTRAINTS,
  type Mutation,
  type MutationConstraint,
  readSchemaDocuments,
  readStartingDocument,
} from "../src/check/mutate.js";
import { repoRoot } from "./helpers.js";

const specRoot = join(repoRoot, "spec", "v1");
const docs = readSchemaDocuments(specRoot);

/** Every schema used as a request body, with the operations that send it. */
const requestSchemas = new Map<SchemaName, string[]>();
for (const service of Object.values(SERVICES)) {
  for (const op of Object.values(service.operations)) {
    if (!op.requestBody) continue;
    const list = requestSchemas.get(op.requestBody.schema) ?? [];
    list.push(`${service.key}#${op.operationId}`);
    requestSchemas.set(op.requestBody.schema, list);
  }
}

/** Asserts the body fails for exactly the intended reason: one issue, the intended keyword and pointer. */
function expectRejectedFor(validate: CompiledValidator, m: Mutation): void {
  const ok = validate(m.body);
  const issues = toIssues(validate.errors).map((i) => ({ keyword: i.keyword, pointer: i.pointer }));
  expect({ id: m.id, ok, issues }).toEqual({
    id: m.id,
    ok: false,
    issues: [{ keyword: m.keyword, pointer: m.pointer }],
  });
}

describe("derived invalid bodies of the spec's request schemas", () => {
  it("covers every operation with a request body", () => {
    expect(requestSchemas.size).toBeGreaterThanOrEqual(8);
  });

  const produced = new Set<MutationConstraint>();
  for (const [name, ops] of requestSchemas) {
    it(`${name} (${ops.join(", ")}): the start passes, every mutation fails for its intended reason`, () => {
      const file = SCHEMAS[name].file;
      const start = readStartingDocument(specRoot, file);
      expect(start, `golden vector of ${file}`).toBeDefined();
      const validate = validatorFor(name);
      expect(validate(start!.document)).toBe(true);

      const mutations = invalidBodiesFor(specRoot, name);
      expect(mutations.length).toBeGreaterThan(0);
      expect(mutations.length).toBeLessThanOrEqual(DEFAULT_MUTATION_LIMIT);
      expect(new Set(mutations.map((m) => m.id)).size).toBe(mutations.length);
      for (const m of mutations) {
        expect(m.id).toBe(`${m.constraint}--${m.pointer || "(root)"}`);
        expectRejectedFor(validate, m);
        produced.add(m.constraint);
      }
      // the start document is left alone
      expect(validate(start!.document)).toBe(true);
    });
  }

  it("produces each constraint kind the request schemas contain", () => {
    // All nine; the spec's request schemas have no string `pattern`: `pattern` comes from the
    // extensions keys.
    expect([...produced].sort()).toEqual([...MUTATION_CONSTRAINTS].sort());
  });

  it("is deterministic, and another seed changes only the arbitrary choices (the wrong-typed values)", () => {
    for (const name of requestSchemas.keys()) {
      const a = invalidBodiesFor(specRoot, name, { limit: Infinity });
      const b = invalidBodiesFor(specRoot, name, { limit: Infinity });
      expect(b).toEqual(a);
      const c = invalidBodiesFor(specRoot, name, { seed: 7, limit: Infinity });
      expect(c.map((m) => m.id)).toEqual(a.map((m) => m.id));
      a.forEach((m, i) => {
        if (m.constraint !== "type") expect(c[i]).toEqual(m);
      });
    }
    const all = [...requestSchemas.keys()].flatMap((n) => invalidBodiesFor(specRoot, n, { limit: Infinity }));
    const other = [...requestSchemas.keys()].flatMap((n) =>
      invalidBodiesFor(specRoot, n, { seed: 7, limit: Infinity }),
    );
    expect(
      other.filter((m, i) => JSON.stringify(m.body) !== JSON.stringify(all[i]!.body)).length,
    ).toBeGreaterThan(0);
  });

  it("caps the list deterministically, keeping every kind, in document order", () => {
    const all = invalidBodiesFor(specRoot, "RunStartRequest", { limit: Infinity });
    expect(all.length).toBeGreaterThan(DEFAULT_MUTATION_LIMIT);
    const capped = invalidBodiesFor(specRoot, "RunStartRequest");
    expect(capped).toHaveLength(DEFAULT_MUTATION_LIMIT);
    expect(new Set(capped.map((m) => m.constraint))).toEqual(new Set(all.map((m) => m.constraint)));
    const order = capped.map((m) => all.indexOf(m as never));
    const positions = capped.map((m) => all.findIndex((x) => x.id === m.id));
    expect(order.every((i) => i === -1)).toBe(true); // fresh objects, not shared
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    const small = invalidBodiesFor(specRoot, "RunStartRequest", { limit: 3 });
    expect(small.map((m) => m.constraint)).toEqual(["type", "required", "enum"]);
    expect(small.map((m) => m.id)).toEqual([
      "type--(root)",
      "required--/root_node_type_ref",
      "enum--/constraints/gates/side_effect_class",
    ]);
  });

  it("the pure core gives the same list from documents already read", () => {
    const start = readStartingDocument(specRoot, SCHEMAS.NodeRunsCreateRequest.file)!.document;
    expect(deriveMutations(docs, SCHEMAS.NodeRunsCreateRequest.file, start)).toEqual(
      invalidBodiesFor(specRoot, "NodeRunsCreateRequest"),
    );
    expect(() => deriveMutations(docs, "no/such.schema.json", {})).toThrow(/no schema file/);
  });

  it("includes the ids the brief names", () => {
    const ids = invalidBodiesFor(specRoot, "RunStartRequest", { limit: Infinity }).map((m) => m.id);
    expect(ids).toContain("required--/root_node_type_ref/version");
    expect(ids).toContain("type--(root)");
    expect(ids).toContain("pattern--/extensions/unnamespaced");
    expect(ids).not.toContain("additionalProperties--/input/conformance_unknown_property"); // open map
  });
});

// ---------------------------------------------------------------------------------------------
// Fixture schemas: one per constraint kind, judged by ajv compiled from the same fixtures.

function fixture(schemas: Record<string, unknown>) {
  const map = new Map<string, unknown>(Object.entries(schemas));
  const ajv = new Ajv2020({ allErrors: true, strict: false, messages: false });
  ajv.addFormat("date-time", (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s));
  for (const [file, schema] of map)
    ajv.addSchema({ $id: `https://x.invalid/${file}`, ...(schema as object) });
  const validate = (file: string) =>
    ajv.getSchema(`https://x.invalid/${file}`) as unknown as CompiledValidator;
  return { docs: map, validate };
}

describe("fixture schemas, one constraint kind each", () => {
  const cases: {
    kind: MutationConstraint;
    schema: Record<string, unknown>;
    start: unknown;
    id: string;
    body: unknown;
  }[] = [
    {
      kind: "required",
      schema: { type: "object", required: ["a"], properties: { a: { enum: [1] } } },
      start: { a: 1 },
      id: "required--/a",
      body: {},
    },
    {
      kind: "type",
      schema: { type: "object", properties: { n: { type: ["integer", "null"] } } },
      start: { n: 3 },
      id: "type--/n",
      body: undefined,
    },
    {
      kind: "enum",
      schema: { type: "object", properties: { s: { type: "string", enum: ["x", "y"] } } },
      start: { s: "x" },
      id: "enum--/s",
      body: { s: "not_a_listed_value" },
    },
    {
      kind: "pattern",
      schema: { type: "object", properties: { p: { type: "string", pattern: "^[a-z]+$" } } },
      start: { p: "abc" },
      id: "pattern--/p",
      body: { p: "" },
    },
    {
      kind: "format",
      schema: { type: "object", properties: { t: { type: "string", format: "date-time" } } },
      start: { t: "2024-01-01T00:00:00Z" },
      id: "format--/t",
      body: { t: "not-a-date-time" },
    },
    {
      kind: "additionalProperties",
      schema: { type: "object", additionalProperties: false, properties: { a: { enum: [1] } } },
      start: { a: 1 },
      id: "additionalProperties--/conformance_unknown_property",
      body: { a: 1, conformance_unknown_property: true },
    },
    {
      kind: "minimum",
      schema: { type: "object", properties: { i: { type: "integer", minimum: 1 } } },
      start: { i: 5 },
      id: "minimum--/i",
      body: { i: 0 },
    },
    {
      kind: "maximum",
      schema: { type: "object", properties: { x: { type: "number", maximum: 1.5 } } },
      start: { x: 1 },
      id: "maximum--/x",
      body: { x: 2.5 },
    },
    {
      kind: "minItems",
      schema: { type: "object", properties: { l: { type: "array", minItems: 2, items: { enum: [1, 2] } } } },
      start: { l: [1, 2, 1] },
      id: "minItems--/l",
      body: { l: [1] },
    },
  ];
  for (const c of cases) {
    it(`${c.kind}: derives ${c.id}, rejected for that reason`, () => {
      const { docs: fdocs, validate } = fixture({ "s.schema.json": c.schema });
      const v = validate("s.schema.json");
      expect(v(c.start)).toBe(true);
      const ms = deriveMutations(fdocs, "s.schema.json", c.start, { limit: Infinity });
      const m = ms.find((x) => x.id === c.id);
      expect(m, `${c.id} in ${ms.map((x) => x.id).join(", ")}`).toBeDefined();
      expect(m!.constraint).toBe(c.kind);
      if (c.body !== undefined) expect(m!.body).toEqual(c.body);
      for (const x of ms) expectRejectedFor(v, x);
    });
  }

  it("follows $refs between files, into array items, map values and patternProperties", () => {
    const { docs: fdocs, validate } = fixture({
      "a/root.schema.json": {
        type: "object",
        additionalProperties: false,
        properties: {
          items: { type: "array", items: { $ref: "../b/item.schema.json" } },
          tags: { type: "object", additionalProperties: { type: "string" } },
          open: { type: "object", additionalProperties: true },
          ext: { $ref: "../b/ext.schema.json" },
        },
      },
      "b/item.schema.json": {
        type: "object",
        required: ["k"],
        properties: { k: { type: "string", enum: ["a", "b"] } },
      },
      "b/ext.schema.json": {
        type: "object",
        patternProperties: { "^[a-z]+\\.[a-z]+$": { type: "integer" } },
        additionalProperties: false,
      },
    });
    const v = validate("a/root.schema.json");
    const start = {
      items: [{ k: "a" }, { k: "b" }],
      tags: { "x/y": "1", z: "2" },
      open: { any: 1 },
      ext: { "o.k": 1 },
    };
    expect(v(start)).toBe(true);
    const ms = deriveMutations(fdocs, "a/root.schema.json", start, { limit: Infinity });
    const ids = ms.map((m) => m.id);
    expect(ids).toContain("required--/items/0/k");
    expect(ids).toContain("enum--/items/0/k");
    expect(ids).not.toContain("enum--/items/1/k"); // one per position in the shape
    expect(ids).toContain("type--/tags/x~1y");
    expect(ids).toContain("type--/ext/o.k");
    expect(ids).toContain("pattern--/ext/unnamespaced");
    expect(ids).toContain("additionalProperties--/conformance_unknown_property");
    expect(ids.filter((id) => id.startsWith("additionalProperties--/open"))).toEqual([]);
    for (const m of ms) expectRejectedFor(v, m);
    const pattern = ms.find((m) => m.id === "pattern--/ext/unnamespaced")!;
    expect(pattern.keyword).toBe("additionalProperties");
  });

  it("the fixture check can fail: a body that is still valid is caught", () => {
    const { validate } = fixture({ "s.schema.json": { type: "object" } });
    expect(() =>
      expectRejectedFor(validate("s.schema.json"), {
        id: "type--(root)",
        constraint: "type",
        pointer: "",
        keyword: "type",
        description: "",
        body: {},
      }),
    ).toThrow();
  });
});
