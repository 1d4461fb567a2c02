/** The pipeline: load → IR → emitters → the set of files the repository must contain. */
import { REGENERATE_COMMAND } from "./config.js";
import { emitClients, emitModelTypes, emitPaths } from "./emit/client.js";
import { emitOperations, serviceConstName } from "./emit/operations.js";
import { emitGuards, emitPublicIndex, emitSchemaIndex } from "./emit/schema-index.js";
import { emitServers } from "./emit/server.js";
import { emitTypes } from "./emit/types.js";
import { emitValidators } from "./emit/validators.js";
import { buildIR } from "./ir/index.js";
import { loadSpec } from "./load.js";

export interface GeneratedFile {
  /** Path relative to the repository root, with `/` separators. */
  path: string;
  content: string;
}

/** Folders whose every file the generator owns; anything else found there is stale. */
export const GENERATED_DIRS = [
  "packages/model/src/generated",
  "packages/client/src/generated",
  "packages/server/src/generated",
];

function readme(): string {
  return [
    "# Generated sources: do not edit",
    "",
    "Every file in this folder is written by `@arp/codegen` (`tools/codegen`) from `spec/v1`.",
    "Edit the spec or the generator instead, then run:",
    "",
    "```sh",
    REGENERATE_COMMAND,
    "```",
    "",
    "CI runs `npm run codegen:check`, which fails when these files differ from a fresh generation.",
    "",
  ].join("\n");
}

/** Generates every output for the spec tree at `specRoot` (a `spec/v1` folder). */
export function generate(specRoot: string): GeneratedFile[] {
  const spec = loadSpec(specRoot);
  const ir = buildIR(spec);
  const model = "packages/model/src/generated";
  const client = "packages/client/src/generated";
  const server = "packages/server/src/generated";
  const validators = emitValidators(spec.schemas, ir.schemas, ir.hash);
  return [
    { path: `${model}/README.md`, content: readme() },
    { path: `${model}/types.gen.ts`, content: emitTypes(ir.schemas, ir.hash) },
    { path: `${model}/validators.gen.js`, content: validators.js },
    { path: `${model}/validators.gen.d.ts`, content: validators.dts },
    { path: `${model}/schemas.gen.ts`, content: emitSchemaIndex(ir.schemas, ir.hash) },
    { path: `${model}/guards.gen.ts`, content: emitGuards(ir.schemas, ir.hash) },
    { path: `${model}/operations.gen.ts`, content: emitOperations(ir.services, ir.hash) },
    {
      path: `${model}/index.gen.ts`,
      content: emitPublicIndex(ir.schemas, ir.services.map(serviceConstName), ir.hash),
    },
    { path: `${client}/README.md`, content: readme() },
    { path: `${client}/clients.gen.ts`, content: emitClients(ir.services, ir.hash) },
    { path: `${client}/paths.gen.ts`, content: emitPaths(ir.services, ir.hash) },
    { path: `${client}/model-types.gen.ts`, content: emitModelTypes(ir.schemas, ir.hash) },
    { path: `${server}/README.md`, content: readme() },
    { path: `${server}/servers.gen.ts`, content: emitServers(ir.services, ir.hash) },
  ];
}
