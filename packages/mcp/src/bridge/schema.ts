/**
 * Compiles a tool's JSON Schemas (its `inputSchema`, its `outputSchema`) into validators. MCP says a
 * schema without `$schema` is draft 2020-12; servers also send draft-07 (zod-to-json-schema does)
 * and 2019-09, so the dialect follows `$schema`. Lenient about keywords (`strict: false`): a vendor
 * keyword in a server's schema is ignored, not a reason to refuse the tool.
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

const options = { strict: false, allErrors: false, formats: fullFormats, validateSchema: true } as const;

/**
 * Compiles `schema`; throws when it is not a schema the dialect accepts. Each schema gets its own
 * ajv instance: two tools may use the same `$id` for different schemas. ajv stops at the first
 * issue (`allErrors` off): the work on a bad value is bounded, and so is the list of issues.
 */
export function compileSchema(schema: Record<string, unknown>): Validator {
  const dialect = typeof schema.$schema === "string" ? schema.$schema : "";
  let validate: ValidateFunction;
  if (dialect === "" || dialect.includes("2020-12")) validate = new Ajv2020(options).compile(schema);
  else if (dialect.includes("2019-09")) validate = new Ajv2019(options).compile(schema);
  else if (dialect.includes("draft-07")) validate = new Ajv(options).compile(schema);
  else {
    // draft-06, draft-04 or a dialect ajv does not know: read as draft-07, its closest relative.
    const { $schema: _dropped, ...rest } = schema;
    validate = new Ajv(options).compile(rest);
  }
  return (value) => {
    if (validate(value)) return undefined;
    return (validate.errors ?? []).map((e) => ({
      pointer: e.instancePath,
      message: e.message ?? e.keyword,
    }));
  };
}
