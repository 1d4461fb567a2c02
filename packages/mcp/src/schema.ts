/**
 * Compiles JSON Schemas (MCP tools' `inputSchema`/`outputSchema`, ARP node types' schemas) into
 * validators, for both halves of the package. MCP says a schema without `$schema` is draft 2020-12;
 * servers also send draft-07 (zod-to-json-schema does) and 2019-09, so the dialect follows `$schema`.
 * Lenient about keywords (`strict: false`): a vendor keyword is ignored, not a reason to refuse.
 *
 * Why one ajv per dialect, not one per schema: making an ajv (its meta-schemas, its formats) costs
 * some 20 times compiling a small schema, which a server with a thousand tools pays a thousand times
 * over. Schemas stay apart all the same: none is registered under its `$id` (`addUsedSchema: false`),
 * so two tools may use one `$id` for different schemas. ajv keeps every schema it compiled, so a
 * schema no longer used is `release()`d: the cache is as large as what is in use.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { fullFormats } from "ajv-formats/dist/formats.js";

/** One schema issue: where (a JSON pointer into the value) and what. */
export interface SchemaIssue {
  pointer: string;
  message: string;
}

export type Validator = (value: unknown) => SchemaIssue[] | undefined;

/**
 * ajv stops at the first issue (`allErrors` off): the work on a bad value is bounded, and so is the
 * list of issues.
 */
const options = {
  strict: false,
  allErrors: false,
  formats: fullFormats,
  validateSchema: true,
  addUsedSchema: false,
} as const;

type Dialect = "2020-12" | "2019-09" | "draft-07";
type AnyAjv = Ajv | Ajv2019 | Ajv2020;

export class SchemaCompiler {
  readonly #ajvs = new Map<Dialect, AnyAjv>();
  /** The object each given schema was compiled as (the same one, or a copy without `$schema`). */
  readonly #compiled = new WeakMap<object, { ajv: AnyAjv; schema: object }>();

  /** Compiles `schema`; throws when it is not a schema its dialect accepts. */
  compile(schema: Record<string, unknown>): Validator {
    const declared = typeof schema.$schema === "string" ? schema.$schema : "";
    let dialect: Dialect;
    // Compiled without its top-level `$id`: ajv's removeSchema(object) also deletes what is
    // registered under the object's `$id`, and a schema naming a meta-schema's id (a server may
    // send `$id: "https://json-schema.org/draft/2020-12/schema"`) would take that meta-schema out
    // of the shared ajv on release, and every later compile with it. A `$ref` resolved against that
    // `$id` cannot be followed then; local ones (`#/$defs/...`) are.
    const { $id: _id, ...rest } = schema;
    let compiled: Record<string, unknown> = rest;
    if (declared === "" || declared.includes("2020-12")) dialect = "2020-12";
    else if (declared.includes("2019-09")) dialect = "2019-09";
    else if (declared.includes("draft-07")) dialect = "draft-07";
    else {
      // draft-06, draft-04 or a dialect ajv does not know: read as draft-07, its closest relative.
      const { $schema: _dropped, ...older } = rest;
      dialect = "draft-07";
      compiled = older;
    }
    const ajv = this.#ajv(dialect);
    const validate: ValidateFunction = ajv.compile(compiled);
    this.#compiled.set(schema, { ajv, schema: compiled });
    return (value) => {
      if (validate(value)) return undefined;
      return (validate.errors ?? []).map((e) => ({
        pointer: e.instancePath,
        message: e.message ?? e.keyword,
      }));
    };
  }

  /** Forgets a schema given to `compile` (its validator must not be used after). */
  release(schema: object): void {
    const entry = this.#compiled.get(schema);
    if (entry === undefined) return;
    this.#compiled.delete(schema);
    entry.ajv.removeSchema(entry.schema);
  }

  #ajv(dialect: Dialect): AnyAjv {
    let ajv = this.#ajvs.get(dialect);
    if (ajv === undefined) {
      ajv =
        dialect === "2020-12"
          ? new Ajv2020(options)
          : dialect === "2019-09"
            ? new Ajv2019(options)
            : new Ajv(options);
      this.#ajvs.set(dialect, ajv);
    }
    return ajv;
  }
}
