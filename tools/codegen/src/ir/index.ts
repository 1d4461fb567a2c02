/**
 * The intermediate model: what the emitters need to know about the spec, with every `$ref`
 * resolved to a name. Building it is where the spec is checked for things the generator cannot
 * express; each such case fails generation with a message naming the file.
 */
import type { LoadedSpec } from "../load.js";
import { buildSchemas } from "./schemas.js";
import { buildServices } from "./services.js";
import type { SpecIR } from "./types.js";

export type * from "./types.js";

export function buildIR(spec: LoadedSpec): SpecIR {
  const schemas = buildSchemas(spec);
  return { hash: spec.hash, schemas, services: buildServices(spec, schemas) };
}
