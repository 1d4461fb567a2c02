/**
 * Emits the operation tables: one constant per service listing every operation with what a client
 * or server needs to call or route it. Logic that reads the tables is hand-written, once.
 */
import type { OperationIR, ParamIR, ServiceIR } from "../ir/index.js";
import { constantCase } from "../names.js";
import { header } from "./header.js";
import { CodeWriter, propertyKey } from "./writer.js";

function param(p: ParamIR): string {
  const schema = p.schema ? `, schema: ${JSON.stringify(p.schema)}, validate: V.${p.schema}` : "";
  return `{ name: ${JSON.stringify(p.name)}, required: ${p.required}${schema} }`;
}

function writeOperation(w: CodeWriter, op: OperationIR): void {
  w.doc(op.summary, op.description, `\`${op.method} ${op.path}\` (${op.conformance})`);
  w.block(
    `${propertyKey(op.name)}: {`,
    () => {
      w.line(`operationId: ${JSON.stringify(op.operationId)},`);
      w.line(`name: ${JSON.stringify(op.name)},`);
      w.line(`method: ${JSON.stringify(op.method)},`);
      w.line(`path: ${JSON.stringify(op.path)},`);
      w.line(`pathParams: [${op.pathParams.map(param).join(", ")}],`);
      w.line(`queryParams: [${op.queryParams.map(param).join(", ")}],`);
      if (op.requestBody) {
        w.line(
          `requestBody: { schema: ${JSON.stringify(op.requestBody.schema)}, required: ${op.requestBody.required}, validate: V.${op.requestBody.schema} },`,
        );
      }
      const r = op.response;
      if (r.kind === "json") {
        w.line(
          `response: { status: ${r.status}, kind: "json", schema: ${JSON.stringify(r.schema)}, array: ${r.array}, validate: V.${r.schema} },`,
        );
      } else if (r.kind === "ndjson") {
        const end = r.endEvent ? `, endEvent: ${JSON.stringify(r.endEvent)}` : "";
        w.line(
          `response: { status: ${r.status}, kind: "ndjson", itemSchema: ${JSON.stringify(r.itemSchema)}, validate: V.${r.itemSchema}, scope: ${JSON.stringify(r.scope)}${end} },`,
        );
      } else {
        w.line(`response: { status: ${r.status}, kind: "empty" },`);
      }
      w.line(`conformance: ${JSON.stringify(op.conformance)},`);
      w.line(`auth: ${JSON.stringify(op.auth)},`);
      w.line(`retry: ${JSON.stringify(op.retry)},`);
      if (op.idempotencyKey)
        w.line(`idempotencyKey: [${op.idempotencyKey.map((k) => JSON.stringify(k)).join(", ")}],`);
    },
    "},",
  );
}

/** `RunGateway` → `RUN_GATEWAY_SERVICE`. */
export function serviceConstName(service: ServiceIR): string {
  return `${constantCase(service.name)}_SERVICE`;
}

export function emitOperations(services: readonly ServiceIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import type { ServiceSpec } from "../operations.js";');
  // Each schema named in a table comes with its validator, so a bundle keeps only the tables' own.
  w.line('import * as V from "./validators.gen.js";');
  for (const service of services) {
    w.line();
    w.doc(service.title, service.description, `Spec: \`spec/v1/openapi/${service.file}\``);
    w.block(
      `export const ${serviceConstName(service)} = {`,
      () => {
        w.line(`key: ${JSON.stringify(service.key)},`);
        w.line(`name: ${JSON.stringify(service.name)},`);
        w.line(`title: ${JSON.stringify(service.title)},`);
        w.block(
          "operations: {",
          () => {
            for (const op of service.operations) writeOperation(w, op);
          },
          "},",
        );
      },
      "} as const satisfies ServiceSpec;",
    );
  }
  w.line();
  w.doc("Every service, by key (the OpenAPI file name without `.openapi.yaml`).");
  w.block(
    "export const SERVICES = {",
    () => {
      for (const s of services) w.line(`${JSON.stringify(s.key)}: ${serviceConstName(s)},`);
    },
    "} as const;",
  );
  return w.toString();
}
