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
import type { Exchange, ProbeResult } from "./probe.js";
import type { CheckOutcome } from "./runner.js";

/** `openapi/run-gateway.openapi.yaml#paths`: a place in the service's OpenAPI document. */
export function openapiRef(service: ServiceSpec, fragment: string): string {
  return `openapi/${service.key}.openapi.yaml#${fragment}`;
}

/** `openapi/run-gateway.openapi.yaml#start_run`. */
export function operationRef(service: ServiceSpec, op: OperationSpec): string {
  return openapiRef(service, op.operationId);
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

/** The value at a JSON pointer (RFC 6901) in `data`, or undefined when there is none. */
export function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === "") return data;
  let value = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * One issue as a line. A null where the schema wants a value is named as such: a lenient reader
 * takes it for an absent field, but the spec has no nullable fields (absent ones are left out).
 */
export function issueText(issue: ValidationIssue, data?: unknown): string {
  const where = issue.pointer === "" ? "(body)" : issue.pointer;
  const aboutValue = issue.keyword !== "required" && issue.keyword !== "additionalProperties";
  if (aboutValue && issue.pointer !== "" && valueAt(data, issue.pointer) === null) {
    return `\`${where}\` is null; absent fields must be omitted`;
  }
  return `${where} ${issue.message}`;
}

/** At most 20 issue lines; `data`, the value validated, lets nulls be named (see {@link issueText}). */
export function describeIssues(
  validate: CompiledValidator,
  issues: readonly ValidationIssue[],
  data?: unknown,
): string[] {
  // A null breaks `type` and often `enum` too: one line says it.
  return [...new Set(issues.map((i) => issueText(i, data)))]
    .slice(0, 20)
    .concat(issuesTruncated(validate.errors) ? ["(more issues not shown)"] : []);
}

/** `no answer: <why>` when the probe got none; undefined otherwise. */
export function noAnswer(result: ProbeResult): CheckOutcome | undefined {
  if (result.exchange.response !== null) return undefined;
  return { status: "FAIL", message: `no answer: ${result.exchange.error}`, exchange: result.exchange };
}

/**
 * The problems of an error answer's body: it must be `application/json` and a valid `ErrorEnvelope`
 * (by `envelope`, the run's validator of it). Empty when it is both.
 */
export function errorBodyProblems(result: ProbeResult, envelope: CompiledValidator): string[] {
  const response = result.exchange.response;
  if (response === null) return [`no answer: ${result.exchange.error}`];
  const problems: string[] = [];
  if (result.mediaType !== "application/json") {
    problems.push(`Content-Type ${response.content_type ?? "(none)"}, expected application/json`);
  }
  if (!result.isJson) {
    problems.push("body is not JSON, expected an ErrorEnvelope");
  } else {
    const issues = issuesOf(envelope, result.json, false);
    if (issues.length > 0) {
      problems.push(`body is not an ErrorEnvelope: ${formatIssues(issues)}`);
    }
  }
  return problems;
}

/**
 * The problems of an error answer: it must be a 4xx, `application/json`, and a schema-valid
 * `ErrorEnvelope`. Empty when it is all three.
 */
export function errorAnswerProblems(result: ProbeResult, envelope: CompiledValidator): string[] {
  const response = result.exchange.response;
  if (response === null) return [`no answer: ${result.exchange.error}`];
  // A 401/403 is an envelope and a 4xx, but it judged nothing: the request never got past auth.
  if (response.status === 401 || response.status === 403) {
    return [
      `status ${response.status}: the request did not get past authentication, so nothing else was judged; give a token with --headers 'Authorization=Bearer ...'`,
    ];
  }
  const status =
    response.status < 400 || response.status > 499 ? [`status ${response.status}, expected a 4xx`] : [];
  return [...status, ...errorBodyProblems(result, envelope)];
}

/** A random id no service has: `arp-conformance-unknown-<uuid>`. */
export function unknownId(): string {
  return `arp-conformance-unknown-${crypto.randomUUID()}`;
}

/** The `Accept` header for an operation's success answer. */
export function acceptFor(op: OperationSpec): string {
  return op.response.kind === "ndjson" ? "application/x-ndjson, application/json" : "application/json";
}

/**
 * SKIP when an optional operation answers as not implemented: 501, and where the checker asks about
 * something that exists (a finished run's stream), also 404 and 405 (no such route). Undefined
 * otherwise, or for a required operation.
 */
export function optionalNotThere(
  op: OperationSpec,
  exchange: Exchange,
  statuses: readonly number[] = [501],
): CheckOutcome | undefined {
  const status = exchange.response?.status;
  if (op.conformance !== "optional" || status === undefined || !statuses.includes(status)) return undefined;
  return { status: "SKIP", message: `optional operation not implemented (${status})`, exchange };
}
