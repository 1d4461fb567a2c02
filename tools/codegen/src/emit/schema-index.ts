/**
 * Emits the schema table: name → type, validator and source file. The hand-written validation API
 * (`packages/model/src/validation.ts`) reads it for the by-name API; guards.gen.ts gives each schema a
 * named guard over its validator directly, so that a bundle using a guard carries no other schema.
 */
import { SPEC_REF } from "../config.js";
import type { NamedSchemaIR } from "../ir/index.js";
import { header } from "./header.js";
import { enumConstName } from "./types.js";
import { CodeWriter } from "./writer.js";

export function emitSchemaIndex(schemas: readonly NamedSchemaIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import type * as T from "./types.gen.js";');
  w.line('import * as V from "./validators.gen.js";').line();
  w.doc("The spec tag these sources implement.");
  w.line(`export const SPEC_REF = ${JSON.stringify(SPEC_REF)};`).line();
  w.doc("Schema name → the TypeScript type it validates.");
  w.block("export interface SchemaTypes {", () => {
    for (const s of schemas) w.line(`${s.name}: T.${s.name};`);
  });
  w.line();
  w.doc("Every schema name, in spec order.");
  w.line("export type SchemaName = keyof SchemaTypes;").line();
  w.doc("Schema name → its precompiled validator and where it is written in the spec.");
  w.block(
    "export const SCHEMAS = {",
    () => {
      for (const s of schemas) {
        const pointer = s.pointer ? `, pointer: ${JSON.stringify(s.pointer)}` : "";
        w.line(`${s.name}: { validate: V.${s.name}, file: ${JSON.stringify(s.file)}${pointer} },`);
      }
    },
    "} as const;",
  );
  w.line();
  w.doc(
    "Schema file (path below `spec/v1/schemas/`) → the name of the schema it holds at its root.",
    "Golden vectors map to schemas through it: `json_vectors/core/run.json` → `core/run.schema.json`.",
  );
  w.block(
    "export const SCHEMA_FILES: Readonly<Record<string, SchemaName>> = {",
    () => {
      for (const s of schemas.filter((x) => x.pointer === ""))
        w.line(`${JSON.stringify(s.file)}: ${JSON.stringify(s.name)},`);
    },
    "};",
  );
  return w.toString();
}

export function emitGuards(schemas: readonly NamedSchemaIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import { asserterFor } from "../validation.js";');
  w.line('import type * as T from "./types.gen.js";');
  w.line('import * as V from "./validators.gen.js";');
  for (const s of schemas) {
    const name = JSON.stringify(s.name);
    w.line();
    w.doc(`True when \`value\` is a valid {@link T.${s.name} | ${s.name}}.`);
    w.line(`export const is${s.name} = V.${s.name} as unknown as (value: unknown) => value is T.${s.name};`);
    w.doc(
      `Throws a \`ValidationError\` listing every issue unless \`value\` is a valid {@link T.${s.name} | ${s.name}}.`,
    );
    w.line(
      `export const assert${s.name}: (value: unknown) => asserts value is T.${s.name} = /* @__PURE__ */ asserterFor(${name}, V.${s.name});`,
    );
  }
  return w.toString();
}

/**
 * The generated half of the public surface, as explicit named exports (the hand-written half is
 * listed in `src/index.ts`). A pin test in `packages/model/test` fails when either half changes.
 */
export function emitPublicIndex(
  schemas: readonly NamedSchemaIR[],
  serviceConsts: readonly string[],
  specHash: string,
): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  const enums = schemas
    .filter((s) => s.type.kind === "string" && s.type.enum)
    .map((s) => enumConstName(s.name));
  w.block(
    "export {",
    () => {
      for (const e of enums) w.line(`${e},`);
    },
    '} from "./types.gen.js";',
  );
  w.block(
    "export type {",
    () => {
      for (const s of schemas) w.line(`${s.name},`);
    },
    '} from "./types.gen.js";',
  );
  w.block(
    "export {",
    () => {
      for (const s of schemas) w.line(`assert${s.name},`).line(`is${s.name},`);
    },
    '} from "./guards.gen.js";',
  );
  w.line(
    'export { SCHEMA_FILES, SCHEMAS, SPEC_REF, type SchemaName, type SchemaTypes } from "./schemas.gen.js";',
  );
  w.block(
    "export {",
    () => {
      for (const c of serviceConsts) w.line(`${c},`);
      w.line("SERVICES,");
    },
    '} from "./operations.gen.js";',
  );
  return w.toString();
}
