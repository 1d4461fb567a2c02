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
  issuesTruncated,
  MAX_VALIDATION_ISSUES,
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

/** The most issues a 400 lists in `details.errors` (the validators stop at `MAX_VALIDATION_ISSUES`). */
export const MAX_REPORTED_ISSUES = 20;
/** The longest pointer or message echoed in an issue, in characters; longer ones end in `…`. */
export const MAX_ECHOED_CHARS = 200;

function cut(text: string): string {
  return text.length <= MAX_ECHOED_CHARS ? text : `${text.slice(0, MAX_ECHOED_CHARS - 1)}…`;
}

type IssueDetails = {
  errors: { pointer: string; message: string }[];
  /** Present (true) when issues were left out: the validator stopped, or more than the cap were found. */
  truncated?: true;
  /** How many issues there are, when known (the validator did not stop early) and more than listed. */
  total?: number;
};

/**
 * The issues as a 400 (or a log line) reports them: at most {@link MAX_REPORTED_ISSUES}, each pointer
 * and message at most {@link MAX_ECHOED_CHARS} characters (an unknown key is echoed in its pointer), and
 * `truncated`/`total` when the list was cut. `stopped`: the validator stopped at its limit, so the
 * total is unknown.
 */
export function issueDetails(issues: readonly ValidationIssue[], stopped = false): IssueDetails {
  const out: IssueDetails = {
    errors: issues
      .slice(0, MAX_REPORTED_ISSUES)
      .map((i) => ({ pointer: cut(i.pointer), message: cut(i.message) })),
  };
  if (stopped || issues.length > MAX_REPORTED_ISSUES) out.truncated = true;
  if (!stopped && issues.length > MAX_REPORTED_ISSUES) out.total = issues.length;
  return out;
}

/**
 * Throws 400 `invalid_request` (issues in `details.errors`, see {@link issueDetails}) when `data` fails
 * `check`. The validator stops after `MAX_VALIDATION_ISSUES` errors, so a huge invalid body costs no
 * more than its first issues.
 */
export function checkRequest(
  check: CompiledValidator,
  schema: string,
  data: unknown,
  what: string,
  pointerPrefix = "",
): void {
  if (check(data)) return;
  const issues = toIssues(check.errors).map((i) => ({ ...i, pointer: pointerPrefix + i.pointer }));
  const details = issueDetails(issues, issuesTruncated(check.errors));
  const shown = details.truncated ? ` (the first ${details.errors.length} issues)` : "";
  throw badRequest(`${what} does not match ${schema}${shown}`, { details });
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
    let stopped: boolean;
    if (!isArray) {
      if (check(data)) return true;
      issues = toIssues(check.errors);
      stopped = issuesTruncated(check.errors);
    } else {
      issues = arrayIssues(check, data);
      if (!issues) return true;
      // arrayIssues stops at the limit: a list that long may have been cut.
      stopped = issues.length >= MAX_VALIDATION_ISSUES;
    }
    this.#logger[mode === "strict" ? "error" : "warn"](
      `${op.operationId} returned a ${schema}${isArray ? "[]" : ""} that does not match the spec`,
      issueDetails(issues, stopped),
    );
    return mode !== "strict";
  }
}
