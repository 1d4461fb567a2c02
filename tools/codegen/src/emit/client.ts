/**
 * Emits `@arp/client`'s generated half: one class per service whose methods map typed arguments onto
 * the hand-written core (`packages/client/src/core/client.ts`), and `paths` types for the low-level
 * openapi-fetch client that name the `@arp/model` types instead of redefining them.
 */
import type { NamedSchemaIR, OperationIR, ParamIR, ServiceIR } from "../ir/index.js";
import { SpecLoadError } from "../load.js";
import { camelCase } from "../names.js";
import { header } from "./header.js";
import { serviceConstName } from "./operations.js";
import { CodeWriter, propertyKey } from "./writer.js";

/** Per-call option names of the core; a query parameter must not take one of them. */
export const CALL_OPTION_KEYS = [
  "signal",
  "timeoutMs",
  "headers",
  "idempotent",
  "retry",
  "follow",
  "idleTimeoutMs",
];

function paramType(p: ParamIR): string {
  return p.schema ? `T.${p.schema}` : "string";
}

/** The options argument of a method: the core's call or stream options, plus its query parameters. */
function optionsType(op: OperationIR): string {
  const base = op.response.kind === "ndjson" ? "StreamOptions" : "CallOptions";
  const members = op.queryParams.map((p) =>
    p.required
      ? `${propertyKey(p.name)}: ${paramType(p)}`
      : `${propertyKey(p.name)}?: ${paramType(p)} | undefined`,
  );
  return members.length ? `${base} & { ${members.join("; ")} }` : base;
}

/** `RunGatewayCallOptions`: each method's options type, by method name. */
function optionsInterfaceName(service: ServiceIR): string {
  return `${service.name}CallOptions`;
}

function returnType(op: OperationIR): string {
  const r = op.response;
  if (r.kind === "ndjson") return `EventStream<T.${r.itemSchema}>`;
  if (r.kind === "empty") return "Promise<void>";
  return `Promise<T.${r.schema}${r.array ? "[]" : ""}>`;
}

function writeMethod(w: CodeWriter, service: ServiceIR, op: OperationIR): void {
  for (const q of op.queryParams) {
    if (CALL_OPTION_KEYS.includes(q.name)) {
      throw new SpecLoadError(
        `openapi/${service.file} ${op.operationId}: query parameter "${q.name}" clashes with a call option`,
      );
    }
  }
  const pathArgs = op.pathParams.map((p) => camelCase(p.name));
  const args = pathArgs.map((name) => `${name}: string`);
  if (op.requestBody) args.push(`body: T.${op.requestBody.schema}`);
  const stream = op.response.kind === "ndjson";
  const optionsRequired = op.queryParams.some((q) => q.required);
  args.push(
    `options${optionsRequired ? "" : "?"}: ${optionsInterfaceName(service)}[${JSON.stringify(op.name)}]`,
  );

  const auth = op.auth === "bearer" ? "Sends the bearer token." : "Open: no token is sent.";
  const conformance =
    op.conformance === "optional" ? "Optional in ARP v1: a service may answer 501 `not_implemented`." : "";
  w.doc(op.summary, op.description, `\`${op.method} ${op.path}\`. ${auth} ${conformance}`.trim());
  const opRef = `${serviceConstName(service)}.operations.${op.name}`;
  const pathList = `[${pathArgs.join(", ")}]`;
  w.block(`${op.name}(${args.join(", ")}): ${returnType(op)} {`, () => {
    if (stream) {
      w.line(`return this.stream(${opRef}, ${pathList}, options);`);
    } else {
      const body = op.requestBody ? "body" : "undefined";
      w.line(`return this.call(${opRef}, ${pathList}, ${body}, options);`);
    }
  });
}

export function emitClients(services: readonly ServiceIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import type * as T from "@arp/model";');
  w.line(`import { ${services.map(serviceConstName).join(", ")} } from "@arp/model";`);
  w.line('import { ArpClientBase, type EventStream } from "../core/client.js";');
  w.line('import type { CallOptions, StreamOptions } from "../core/options.js";');
  for (const service of services) {
    w.line();
    w.doc(
      `The options argument of each \`${service.name}Client\` method, by method name:`,
      `\`${optionsInterfaceName(service)}["${service.operations.find((o) => o.queryParams.length)?.name ?? service.operations[0]!.name}"]\`.`,
    );
    w.block(`export interface ${optionsInterfaceName(service)} {`, () => {
      for (const op of service.operations) w.line(`${propertyKey(op.name)}: ${optionsType(op)};`);
    });
    w.line();
    w.doc(
      `A typed client of the ${service.title}.`,
      service.description,
      "Every method rejects with an `ArpError`: `ArpApiError` for an error answered by the service, " +
        "`ArpTransportError`, `ArpTimeoutError`, `ArpValidationError` or `ArpProtocolError` for local failures, " +
        "or the caller's abort reason.",
    );
    w.block(`export class ${service.name}Client extends ArpClientBase {`, () => {
      w.doc("The operation table this client is generated from.");
      w.line(`static readonly service = ${serviceConstName(service)};`);
      for (const op of service.operations) {
        w.line();
        writeMethod(w, service, op);
      }
    });
  }
  w.line();
  w.doc("Every client class, by service key (the OpenAPI file name without `.openapi.yaml`).");
  w.block(
    "export const CLIENTS = {",
    () => {
      for (const s of services) w.line(`${JSON.stringify(s.key)}: ${s.name}Client,`);
    },
    "} as const;",
  );
  return w.toString();
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const NO_PARAMS = "{ query?: never; header?: never; path?: never; cookie?: never }";

function parameters(op: OperationIR): string {
  const path = op.pathParams.map((p) => `${propertyKey(p.name)}: string`);
  const query = op.queryParams.map((p) => `${propertyKey(p.name)}${p.required ? "" : "?"}: ${paramType(p)}`);
  const queryPart = query.length
    ? `query${op.queryParams.some((q) => q.required) ? "" : "?"}: { ${query.join("; ")} }`
    : "query?: never";
  const pathPart = path.length ? `path: { ${path.join("; ")} }` : "path?: never";
  return `{ ${queryPart}; header?: never; ${pathPart}; cookie?: never }`;
}

/**
 * The `paths` shape openapi-typescript would produce and openapi-fetch consumes, written from the IR
 * so that every body type is the `@arp/model` type itself (openapi-typescript would inline a second
 * copy of each schema).
 */
export function emitPaths(services: readonly ServiceIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.line('import type * as T from "@arp/model";');
  const headers = "headers: { [name: string]: unknown }";
  const errorResponse = `default: { ${headers}; content: { "application/json": T.ErrorEnvelope } };`;
  for (const service of services) {
    w.line();
    w.doc(
      `Paths of the ${service.title}, for the low-level client: \`createPathClient<${service.name}Paths>(...)\`.`,
    );
    w.block(`export interface ${service.name}Paths {`, () => {
      const byPath = new Map<string, OperationIR[]>();
      for (const op of service.operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);
      for (const [path, ops] of byPath) {
        w.block(`${JSON.stringify(path)}: {`, () => {
          w.line(`parameters: ${NO_PARAMS};`);
          for (const method of METHODS) {
            const op = ops.find((o) => o.method.toLowerCase() === method);
            if (!op) {
              w.line(`${method}?: never;`);
              continue;
            }
            w.doc(op.summary);
            w.block(`${method}: {`, () => {
              w.line(`parameters: ${parameters(op)};`);
              if (op.requestBody) {
                const opt = op.requestBody.required ? "" : "?";
                w.line(`requestBody${opt}: { content: { "application/json": T.${op.requestBody.schema} } };`);
              } else {
                w.line("requestBody?: never;");
              }
              w.block("responses: {", () => {
                const r = op.response;
                if (r.kind === "json") {
                  w.line(
                    `${r.status}: { ${headers}; content: { "application/json": T.${r.schema}${r.array ? "[]" : ""} } };`,
                  );
                } else if (r.kind === "ndjson") {
                  w.line(`${r.status}: { ${headers}; content: { "application/x-ndjson": string } };`);
                } else {
                  w.line(`${r.status}: { ${headers}; content?: never };`);
                }
                w.line(errorResponse);
              });
            });
          }
        });
      }
    });
  }
  return w.toString();
}

/**
 * The model types, re-exported by `@arp/client` so that an app names `Run` or `RunEvent` without a
 * second install (type-only: nothing of the model's runtime comes with them).
 */
export function emitModelTypes(schemas: readonly NamedSchemaIR[], specHash: string): string {
  const w = new CodeWriter();
  w.line(header(specHash)).line();
  w.block(
    "export type {",
    () => {
      for (const s of [...schemas].sort((a, b) => a.name.localeCompare(b.name))) w.line(`${s.name},`);
    },
    '} from "@arp/model";',
  );
  return w.toString();
}
