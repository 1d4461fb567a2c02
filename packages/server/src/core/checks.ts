/**
 * Request and response checks against the spec's schemas: the compiled validators of an operation
 * (looked up once per operation table, see router.ts), query parameters, the request body, and
 * responses and stream events per the `validateResponses` mode. Request failures are 400
 * `invalid_request` with JSON-pointer issues; response failures are logged, and in `strict` mode
 * not sent.
 */
import {
  arrayIssues,
  type CompiledValidator,
  type OperationSpec,
  type OperationValidators,
  operationValidators,
  toIssues,
  type ValidationIssue,
} from "@arp/model";
import { badRequest } from "./errors.js";
import type { Logger } from "./logger.js";

export type ResponseValidation = "off" | "warn" | "strict";

interface QueryCheck {
  readonly name: string;
  readonly schema: string;
  readonly required: boolean;
  readonly check: CompiledValidator | undefined;
}

/** The checks of one operation, looked up once. */
export interface OperationChecks extends OperationValidators {
  readonly query: readonly QueryCheck[];
}

export function operationChecks(op: OperationSpec): OperationChecks {
  return {
    ...operationValidators(op),
    query: op.queryParams.map((p) => ({
      name: p.name,
      schema: p.schema ?? "",
      required: p.required,
      check: p.validate,
    })),
  };
}

function issueDetails(issues: readonly ValidationIssue[]): {
  errors: { pointer: string; message: string }[];
} {
  return { errors: issues.map((i) => ({ pointer: i.pointer, message: i.message })) };
}

/** Throws 400 `invalid_request` (issues in `details.errors`) when `data` fails `check`. */
export function checkRequest(
  check: CompiledValidator,
  schema: string,
  data: unknown,
  what: string,
  pointerPrefix = "",
): void {
  if (check(data)) return;
  const issues = toIssues(check.errors).map((i) => ({ ...i, pointer: pointerPrefix + i.pointer }));
  throw badRequest(`${what} does not match ${schema}`, { details: issueDetails(issues) });
}

/** Adds the query parameters of `query` (the raw query string) to `params`, checked. */
export function readQuery(
  checks: readonly QueryCheck[],
  query: string | undefined,
  params: Record<string, string>,
): void {
  const search = query === undefined ? undefined : new URLSearchParams(query);
  for (const p of checks) {
    const value = search?.get(p.name) ?? null;
    if (value === null) continue;
    if (p.check) checkRequest(p.check, p.schema, value, `query parameter ${p.name}`, `/${p.name}`);
    params[p.name] = value;
  }
  for (const p of checks) {
    if (p.required && params[p.name] === undefined) throw badRequest(`query parameter ${p.name} is required`);
  }
}

/** Checks responses and stream events per the `validateResponses` mode; one per server. */
export class ResponseChecks {
  readonly mode: ResponseValidation;
  readonly #logger: Logger;

  constructor(mode: ResponseValidation, logger: Logger) {
    this.mode = mode;
    this.#logger = logger;
  }

  /** Logs a value of `schema` that breaks it; false when it must not be sent (strict). */
  check(op: OperationSpec, checks: OperationChecks, schema: string, data: unknown, isArray = false): boolean {
    const mode = this.mode;
    if (mode === "off") return true;
    const check = checks.response!;
    let issues: ValidationIssue[] | undefined;
    if (!isArray) {
      if (check(data)) return true;
      issues = toIssues(check.errors);
    } else {
      issues = arrayIssues(check, data);
      if (!issues) return true;
    }
    this.#logger[mode === "strict" ? "error" : "warn"](
      `${op.operationId} returned a ${schema}${isArray ? "[]" : ""} that does not match the spec`,
      issueDetails(issues),
    );
    return mode !== "strict";
  }
}
