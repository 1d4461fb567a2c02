/**
 * Emits `@arp/server`'s generated half, per service: the request type of every handler
 * (`RunGatewayRequests["getRun"]`), read from the operation table, and one abstract base class.
 * Required operations are abstract methods; optional ones answer 501 `not_implemented` until
 * overridden; `health` and `version` come from the hand-written base
 * (`packages/server/src/core/server.ts`).
 */
import type { OperationIR, ServiceIR } from "../ir/index.js";
import { header } from "./header.js";
import { serviceConstName } from "./operations.js";
import { CodeWriter, propertyKey } from "./writer.js";

/** Operations every service has, implemented once by the base class. */
const PROVIDED_BY_BASE = new Set(["health", "version"]);

function requestType(op: OperationIR): string {
  const body = op.requestBody ? `T.${op.requestBody.schema}` : "undefined";
  const params = [
    ...op.pathParams.map((p) => `${propertyKey(p.name)}: string`),
    ...op.queryParams.map(
      (p) => `${propertyKey(p.name)}${p.required ? "" : "?"}: ${p.schema ? `T.${p.schema}` : "string"}`,
    ),
  ];
  return params.length ? `ArpRequest<${body}, { ${params.join("; ")} }>` : `ArpRequest<${body}>`;
}

/** `RunGatewayRequests`: the name of a service's request-type map. */
export function requestsTypeName(service: ServiceIR): string {
  return `${service.name}Requests`;
}

function writeRequests(w: CodeWriter, service: ServiceIR): void {
  const name = requestsTypeName(service);
  const example =
    service.operations.find((o) => !PROVIDED_BY_BASE.has(o.operationId)) ?? service.operations[0];
  const usage = example ? ` (\`${example.name}(req: ${name}["${example.name}"])\`)` : "";
  w.doc(
    `The request each ${service.title} handler receives, by method name${usage}.`,
    "`body` and `params` are typed from the operation table (path parameters are strings, query parameters their schema's type).",
  );
  w.block(`export interface ${name} {`, () => {
    for (const op of service.operations) {
      w.doc(`\`${op.method} ${op.path}\` (\`${op.operationId}\`).`);
      w.line(`${propertyKey(op.name)}: ${requestType(op)};`);
    }
  });
}

function resultType(op: OperationIR): string {
  const r = op.response;
  if (r.kind === "ndjson")
    return `AsyncIterable<T.${r.itemSchema}> | Promise<AsyncIterable<T.${r.itemSchema}>>`;
  if (r.kind === "empty") return "void | Promise<void>";
  const t = `T.${r.schema}${r.array ? "[]" : ""}`;
  return `${t} | Promise<${t}>`;
}

function writeOperation(w: CodeWriter, op: OperationIR, requests: string): void {
  const req = `${requests}[${JSON.stringify(op.name)}]`;
  const answer =
    op.response.kind === "empty"
      ? "Answer 204 by returning nothing."
      : op.response.kind === "ndjson"
        ? "Return the events as an async iterable; they are written as NDJSON as they are produced."
        : "";
  if (op.conformance === "optional") {
    w.doc(
      op.summary,
      op.description,
      `\`${op.method} ${op.path}\`. Optional: answers 501 \`not_implemented\` unless overridden. ${answer}`.trim(),
    );
    w.block(`${op.name}(_req: ${req}): ${resultType(op)} {`, () => {
      w.line(`throw notImplemented("${op.operationId} is not implemented by this service");`);
    });
  } else {
    w.doc(op.summary, op.description, `\`${op.method} ${op.path}\`. Required. ${answer}`.trim());
    w.line(`abstract ${op.name}(req: ${req}): ${resultType(op)};`);
  }
}

export function emitServers(services: readonly ServiceIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import type * as T from "@arp/model";');
  w.line(`import { ${services.map(serviceConstName).join(", ")} } from "@arp/model";`);
  w.line('import { notImplemented } from "../core/errors.js";');
  w.line('import type { ArpRequest } from "../core/request.js";');
  w.line('import { ArpServerBase, type ServerOptions } from "../core/server.js";');
  for (const service of services) {
    w.line();
    writeRequests(w, service);
    w.line();
    w.doc(
      `Base class of an ${service.title} implementation: extend it and implement the abstract methods.`,
      service.description,
      "The base routes, authenticates, validates requests and responses, answers errors with ARP error " +
        "envelopes and streams NDJSON; throw an `ArpServerError` (or a helper such as `notFound`) to answer an error.",
    );
    w.block(`export abstract class Base${service.name}Server extends ArpServerBase {`, () => {
      w.doc("The operation table this class is generated from.");
      w.line(`static readonly service = ${serviceConstName(service)};`);
      w.line();
      w.block("constructor(options: ServerOptions = {}) {", () => {
        w.line(`super(${serviceConstName(service)}, options);`);
      });
      for (const op of service.operations.filter((o) => !PROVIDED_BY_BASE.has(o.operationId))) {
        w.line();
        writeOperation(w, op, requestsTypeName(service));
      }
    });
  }
  return w.toString();
}
