/** Verdicts shared by the checks: spec references, strict body validation, error envelopes. */
import {
  arrayIssues,
  type CompiledValidator,
  formatIssues,
  issuesTruncated,
  type OperationSpec,
  SCHEMAS,
  type SchemaName,
  type ServiceSpec,
  toIssues,
  type ValidationIssue,
} from "@arp/model";
import type { ProbeResult } from "./probe.js";
import type { CheckOutcome } from "./runner.js";

/** `openapi/run-gateway.openapi.yaml#start_run`. */
export function operationRef(service: ServiceSpec, op: OperationSpec): string {
  return `openapi/${service.key}.openapi.yaml#${op.operationId}`;
}

/** `schemas/core/run.schema.json`. */
export function schemaRef(schema: SchemaName): string {
  return `schemas/${SCHEMAS[schema].file}`;
}

export const ERROR_ENVELOPE_REF = schemaRef("ErrorEnvelope");

/** The issues of `data` against `validate` (each item's, when `array`), formats included. */
export function issuesOf(validate: CompiledValidator, data: unknown, array: boolean): ValidationIssue[] {
  if (array) return arrayIssues(validate, data) ?? [];
  if (validate(data)) return [];
  return toIssues(validate.errors);
}

/** The value at a JSON pointer (`/a/0/b`) of `data`, or undefined. */
function at(data: unknown, pointer: string): unknown {
  let value = data;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * One line per issue (at most 20). A `null` the schema does not allow is named as such: ARP leaves
 * an absent field out, and a lenient client would have let it pass.
 */
export function describeIssues(
  validate: CompiledValidator,
  issues: readonly ValidationIssue[],
  data: unknown,
): string[] {
  return issues
    .map((i) => {
      const where = i.pointer === "" ? "(body)" : i.pointer;
      if (i.pointer !== "" && at(data, i.pointer) === null) {
        return `${where} is null: an absent field must be left out, not sent as null (${i.message})`;
      }
      return `${where} ${i.message}`;
    })
    .slice(0, 20)
    .concat(issuesTruncated(validate.errors) ? ["(more issues not shown)"] : []);
}

/** `no answer: <why>` when the probe got none; undefined otherwise. */
export function noAnswer(result: ProbeResult): CheckOutcome | undefined {
  if (result.exchange.response !== null) return undefined;
  return { status: "FAIL", message: `no answer: ${result.exchange.error}`, exchange: result.exchange };
}

/** The path with every parameter replaced by `id` (URL-encoded). */
export function pathWith(op: OperationSpec, id: (name: string) => string): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(id(name)));
}

/**
 * The problems of an error answer: it must be a 4xx, `application/json`, and a schema-valid
 * `ErrorEnvelope`. Empty when it is all three.
 */
export function errorAnswerProblems(result: ProbeResult): string[] {
  const response = result.exchange.response;
  if (response === null) return [`no answer: ${result.exchange.error}`];
  const problems: string[] = [];
  if (response.status < 400 || response.status > 499)
    problems.push(`status ${response.status}, expected a 4xx`);
  if (result.mediaType !== "application/json") {
    problems.push(`Content-Type ${response.content_type ?? "(none)"}, expected application/json`);
  }
  if (!result.isJson) {
    problems.push("body is not JSON, expected an ErrorEnvelope");
  } else {
    const validate = SCHEMAS.ErrorEnvelope.validate;
    const issues = issuesOf(validate, result.json, false);
    if (issues.length > 0) {
      problems.push(`body is not an ErrorEnvelope: ${formatIssues(issues)}`);
    }
  }
  return problems;
}

/** A random id no service has: `arp-conformance-unknown-<uuid>`. */
export function unknownId(): string {
  return `arp-conformance-unknown-${crypto.randomUUID()}`;
}

/** The `Accept` header for an operation's success answer. */
export function acceptFor(op: OperationSpec): string {
  return op.response.kind === "ndjson" ? "application/x-ndjson, application/json" : "application/json";
}
