/**
 * Which validator judges each schema: the precompiled ones of `@arp/model` (the bundled spec), or
 * those of a spec tree compiled at run time (`--spec-path`). The checks ask the run's
 * {@link SchemaSource} by name, and read operations from a table whose validators it supplied.
 */
import { type CompiledValidator, SCHEMAS, type SchemaName, type ServiceSpec } from "@arp/model";
import { UsageError } from "../errors.js";
import type { SchemaValidators } from "../spec-tree.js";

export type SchemaSource = (name: SchemaName) => CompiledValidator;

/** The bundled spec's precompiled validators. */
export const PRECOMPILED: SchemaSource = (name) => SCHEMAS[name].validate;

/** Every schema name a service's checks judge with: its bodies', and the envelope and event schemas. */
function namesOf(service: ServiceSpec): SchemaName[] {
  const names = new Set<SchemaName>(["ErrorEnvelope", "RunEvent"]);
  for (const op of Object.values(service.operations)) {
    if (op.requestBody !== undefined) names.add(op.requestBody.schema);
    if (op.response.kind === "json") names.add(op.response.schema);
    if (op.response.kind === "ndjson") names.add(op.response.itemSchema);
  }
  return [...names];
}

/**
 * The validators of a compiled spec tree, by schema name (each name's file, as in the bundled
 * spec). Throws {@link UsageError} when the tree lacks a file `service`'s checks need.
 */
export function treeSchemas(validators: SchemaValidators, service: ServiceSpec, root: string): SchemaSource {
  const missing = namesOf(service).filter((name) => !validators.has(SCHEMAS[name].file));
  if (missing.length > 0) {
    throw new UsageError(
      `spec tree ${root} has no ${missing.map((n) => `schemas/${SCHEMAS[n].file} (${n})`).join(", ")}, which the ${service.key} checks need`,
      { path: root },
    );
  }
  return (name) => validators.get(SCHEMAS[name].file) ?? SCHEMAS[name].validate;
}

/** `service`'s table with every body validator taken from `schemas` (the table itself when precompiled). */
export function withSchemas(service: ServiceSpec, schemas: SchemaSource): ServiceSpec {
  if (schemas === PRECOMPILED) return service;
  const operations = Object.fromEntries(
    Object.entries(service.operations).map(([name, op]) => {
      const response =
        op.response.kind === "json"
          ? { ...op.response, validate: schemas(op.response.schema) }
          : op.response.kind === "ndjson"
            ? { ...op.response, validate: schemas(op.response.itemSchema) }
            : op.response;
      const requestBody =
        op.requestBody === undefined
          ? {}
          : { requestBody: { ...op.requestBody, validate: schemas(op.requestBody.schema) } };
      return [name, { ...op, ...requestBody, response }];
    }),
  );
  return { ...service, operations } as ServiceSpec;
}
