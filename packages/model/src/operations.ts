/**
 * The shape of the generated operation tables (`generated/operations.gen.ts`): everything a client
 * or a server needs to call or route an operation, read by their hand-written cores.
 */
import type { SchemaName } from "./generated/schemas.gen.js";
import type { CompiledValidator } from "./validation.js";

export interface ParamSpec {
  /** Spec name (`run_id`, `node_type_id`, `q`). */
  readonly name: string;
  readonly required: boolean;
  /** Named schema of the value when the spec refers to one (`NodeKind`); else a plain string. */
  readonly schema?: SchemaName;
  /** `schema`'s precompiled validator, referenced directly (present exactly when `schema` is). */
  readonly validate?: CompiledValidator;
}

export type ResponseSpec =
  /** A JSON body of `schema` (an array of it when `array`); `validate` is `schema`'s validator (each item's). */
  | {
      readonly status: number;
      readonly kind: "json";
      readonly schema: SchemaName;
      readonly array: boolean;
      readonly validate: CompiledValidator;
    }
  /** `application/x-ndjson`: one `itemSchema` JSON value per line, each checked by `validate`. */
  | {
      readonly status: number;
      readonly kind: "ndjson";
      readonly itemSchema: SchemaName;
      readonly validate: CompiledValidator;
      /**
       * The path parameter naming what the stream is about (`run_id`, `node_run_id`); each item
       * carries the same value in the field of that name.
       */
      readonly scope: string;
      /** The item `type` after which the stream is complete (`run_completed`); absent: the server's close ends it. */
      readonly endEvent?: string;
    }
  /** No body (204). */
  | { readonly status: number; readonly kind: "empty" };

export interface OperationSpec {
  /** As written in the spec: `start_run`. */
  readonly operationId: string;
  /** Method name in the SDKs: `startRun`. */
  readonly name: string;
  readonly method: "GET" | "POST";
  /** OpenAPI path template, including custom-method suffixes: `/v1/runs/{run_id}:cancel`. */
  readonly path: string;
  /** Path parameters in the order they appear in `path`. */
  readonly pathParams: readonly ParamSpec[];
  readonly queryParams: readonly ParamSpec[];
  /** `validate` is `schema`'s precompiled validator, referenced directly (tree-shakeable). */
  readonly requestBody?: {
    readonly schema: SchemaName;
    readonly required: boolean;
    readonly validate: CompiledValidator;
  };
  readonly response: ResponseSpec;
  /** Whether a conforming service must implement it. */
  readonly conformance: "required" | "optional";
  /** `bearer`: a JWT bearer token is expected; `none`: open (health, version). */
  readonly auth: "bearer" | "none";
  /**
   * Whether a failed attempt may be sent again: `safe` (GETs and cancels: repeating has the same
   * effect), `keyed` (only when the body carries every {@link idempotencyKey} field, so a repeat cannot
   * create a second resource), `unsafe` (never, unless the caller declares the call idempotent).
   */
  readonly retry: "safe" | "keyed" | "unsafe";
  /** For `keyed` operations: the key's path in the body; `*` stands for every item of a non-empty array. */
  readonly idempotencyKey?: readonly string[];
}

export interface ServiceSpec {
  /** OpenAPI file name without `.openapi.yaml`: `run-gateway`. */
  readonly key: string;
  /** `RunGateway`: the stem of `RunGatewayClient` and `BaseRunGatewayServer`. */
  readonly name: string;
  readonly title: string;
  /** Operations by method name, in spec order. */
  readonly operations: { readonly [name: string]: OperationSpec };
}
