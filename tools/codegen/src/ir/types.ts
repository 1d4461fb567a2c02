/** The intermediate model: what the emitters need to know about the spec, with every `$ref` resolved to a name. */

export type TypeNode =
  | { kind: "ref"; name: string }
  | { kind: "string"; enum?: string[]; format?: string }
  | { kind: "integer" | "number"; minimum?: number; maximum?: number }
  | { kind: "boolean" }
  | { kind: "unknown" }
  | { kind: "array"; items: TypeNode; minItems?: number }
  | { kind: "object"; properties: PropertyIR[]; additional: TypeNode | false; patternKeys: string[] };

export interface PropertyIR {
  name: string;
  required: boolean;
  description?: string;
  type: TypeNode;
}

export interface NamedSchemaIR {
  /** Exported TypeScript name: the title, unless it shadows a JavaScript global. */
  name: string;
  title: string;
  /** Path below `schemas/`. */
  file: string;
  /** JSON pointer inside the file; "" for the file's root schema. */
  pointer: string;
  /** Canonical id, with `#pointer` for schemas nested in a file. */
  id: string;
  description?: string;
  type: TypeNode;
}

export interface ParamIR {
  name: string;
  required: boolean;
  /** Named schema of the value, when the spec refers to one (`NodeKind`); else a plain string. */
  schema?: string;
  description?: string;
}

export type ResponseIR =
  | { status: number; kind: "json"; schema: string; array: boolean }
  | {
      status: number;
      kind: "ndjson";
      itemSchema: string;
      /** The path parameter naming what the stream is about; each item carries it in the field of that name. */
      scope: string;
      /** The item `type` after which the stream is complete (`run_completed`); absent: it ends when the server closes it. */
      endEvent?: string;
    }
  | { status: number; kind: "empty" };

export interface OperationIR {
  /** As written in the spec: `start_run`. */
  operationId: string;
  /** Method name: `startRun`. */
  name: string;
  method: "GET" | "POST";
  path: string;
  summary: string;
  description?: string;
  /** In the order they appear in the path. */
  pathParams: ParamIR[];
  queryParams: ParamIR[];
  requestBody?: { schema: string; required: boolean };
  response: ResponseIR;
  conformance: "required" | "optional";
  auth: "bearer" | "none";
  /**
   * Whether a failed attempt may be sent again: `safe` (GETs, and operations marked `x-arp-idempotent`),
   * `keyed` (only when the body carries every `idempotencyKey` field), `unsafe` (otherwise).
   */
  retry: "safe" | "keyed" | "unsafe";
  /** For `keyed`: the path of the key in the body; `*` stands for every item of a non-empty array. */
  idempotencyKey?: string[];
}

export interface ServiceIR {
  /** From the file name: `run-gateway`. */
  key: string;
  /** `RunGateway`, the stem of `RunGatewayClient` and `BaseRunGatewayServer`. */
  name: string;
  title: string;
  description?: string;
  file: string;
  operations: OperationIR[];
}

export interface SpecIR {
  hash: string;
  schemas: NamedSchemaIR[];
  services: ServiceIR[];
}
