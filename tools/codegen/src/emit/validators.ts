/**
 * Emits the precompiled validators: ajv's standalone code for every named schema, so nothing is
 * compiled when `@arp/model` is imported. The code is JavaScript (`validators.gen.js`) with a
 * declaration file beside it; TypeScript never has to type-check ajv's output.
 */
import { _, Ajv2020 } from "ajv/dist/2020.js";
import standalone from "ajv/dist/standalone/index.js";
import { formatValidators } from "../../../../packages/model/src/formats.js";
import type { NamedSchemaIR } from "../ir/index.js";
import { type JsonObject, type LoadedSchema, stripAnnotations } from "../load.js";
import { header } from "./header.js";
import { CodeWriter } from "./writer.js";

/** The options shared by the generated validators and anyone who must match them (benchmarks, tests). */
// allErrors: report every issue, not only the first. inlineRefs false: a referenced schema is one
// shared function instead of a copy in every caller (the module is 15% smaller). messages false:
// `validation.ts` writes the messages from keyword and params.
export const AJV_OPTIONS = { allErrors: true, strict: true, inlineRefs: false, messages: false } as const;

/** Compiles `schemas` into one ES module exporting a validator per named schema. */
export function emitValidators(
  files: readonly LoadedSchema[],
  schemas: readonly NamedSchemaIR[],
  specHash: string,
): { js: string; dts: string } {
  const ajv = new Ajv2020({
    ...AJV_OPTIONS,
    // CommonJS-style output (`exports.X = ...`), wrapped in a function below. The module imports our
    // own format checks under this name.
    code: { source: true, esm: false, lines: true, formats: _`arpFormats` },
  });
  for (const [name, check] of Object.entries(formatValidators)) ajv.addFormat(name, check);
  // Prose is not needed to validate; leaving it out keeps it out of the generated module.
  for (const file of files) ajv.addSchema(stripAnnotations(file.schema) as JsonObject);

  const exports: Record<string, string> = {};
  for (const schema of schemas) exports[schema.name] = schema.id;
  // A CommonJS module: under NodeNext its default import is `module.exports`, whose `.default` is the function.
  const code = standalone.default(ajv, exports).replace(/^"use strict";\n?/, "");
  const requires = code.match(/require\([^)]*\)/g);
  if (requires)
    throw new Error(`validator code needs runtime modules we do not ship: ${requires.join(", ")}`);

  // The validators live in one function scope rather than at module top level: V8 runs the same code
  // 3-5% slower when its functions and constants are ES-module bindings (measured in bench/).
  const js = [
    header(specHash),
    "// Compiled by ajv (standalone mode) from the JSON Schemas; see ../validation.ts for the API.",
    "",
    'import { formatValidators as arpFormats } from "../formats.js";',
    "",
    "const validators = ((exports) => {",
    code.trimEnd(),
    "return exports;",
    "})({});",
    "",
    ...schemas.map((s) => `export const ${s.name} = validators.${s.name};`),
    "",
  ].join("\n");

  const d = new CodeWriter();
  d.line(header(specHash)).line();
  d.line('import type { CompiledValidator } from "../validation.js";').line();
  for (const schema of schemas) {
    d.doc(`Precompiled validator for \`${schema.name}\` (\`spec/v1/schemas/${schema.file}\`).`);
    d.line(`export declare const ${schema.name}: CompiledValidator;`);
  }
  return { js, dts: d.toString() };
}
