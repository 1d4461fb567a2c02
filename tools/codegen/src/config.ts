/** Facts the generator needs that the spec files themselves do not carry. */

/** The spec tag this tree implements; package versions track it. */
export const SPEC_REF = "spec/v1@v0.3.7";

/**
 * Canonical `$id` prefix given to every schema by the loader. The `.invalid` top-level domain is
 * reserved (RFC 2606): these ids name schemas, they are never fetched.
 */
export const SCHEMA_ID_BASE = "https://arp.invalid/spec/v1/schemas/";

/** The command that rewrites every generated file; printed in headers and by `codegen:check`. */
export const REGENERATE_COMMAND = "npm run codegen";

/** Vendor extensions our spec uses to tell the generator what OpenAPI cannot say. */
export const X_NDJSON_ITEM = "x-arp-ndjson-item";
export const X_OPTIONAL = "x-arp-optional";
export const X_IDEMPOTENT = "x-arp-idempotent";
export const X_IDEMPOTENCY_KEY = "x-arp-idempotency-key";
export const X_STREAM_SCOPE = "x-arp-stream-scope";
export const X_STREAM_END = "x-arp-stream-end";

/**
 * JavaScript globals a schema title must not shadow when it becomes an exported type. Such a schema
 * is named after its file instead (`error_detail.schema.json`, titled `Error`, becomes `ErrorDetail`).
 */
export const RESERVED_TYPE_NAMES = new Set([
  "Array",
  "Boolean",
  "Date",
  "Error",
  "Function",
  "JSON",
  "Map",
  "Math",
  "Number",
  "Object",
  "Promise",
  "Record",
  "RegExp",
  "Set",
  "String",
  "Symbol",
]);
