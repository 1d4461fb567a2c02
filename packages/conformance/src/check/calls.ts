/**
 * Calls of one operation, judged against its table entry: the core and deep tiers call operations
 * with real bodies and read what comes back as the spec says it must be.
 */
import type { OperationSpec } from "@arp/model";
import { Failure } from "./failure.js";
import { describeIssues, errorAnswerProblems, issuesOf, noAnswer } from "./judge.js";
import type { ProbeResult } from "./probe.js";
import type { CheckContext, CheckOutcome } from "./runner.js";

export interface CallInput {
  /** Path parameters by name (URL-encoded here). */
  params?: Readonly<Record<string, string>>;
  /** Query parameters; undefined values are left out. */
  query?: Readonly<Record<string, string | undefined>>;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

/**
 * `op`'s path with each `{name}` replaced by its value, URL-encoded: `params[name]`, or `params(name)`
 * (`pathFor(op, unknownId)`: a fresh random id in each). Throws when a parameter has no value: a
 * check that forgets one must not send a request to another route (`/v1/runs//events`).
 */
export function pathFor(
  op: Pick<OperationSpec, "name" | "path">,
  params: Readonly<Record<string, string>> | ((name: string) => string),
): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = typeof params === "function" ? params(name) : params[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${op.name}`);
    return encodeURIComponent(value);
  });
}

/**
 * One exchange, sent with `ctx.send`: never memoised, so each call sends, and nothing of it is
 * kept once the caller drops the result (a poll reads a run many times; each answer may be 1 MiB).
 * It is sent again after a transport error only when the table says the operation is safe to
 * repeat (`op.retry`). A path parameter without a value rejects (see {@link pathFor}).
 */
export async function call(
  ctx: CheckContext,
  op: OperationSpec,
  input: CallInput = {},
): Promise<ProbeResult> {
  const path = pathFor(op, input.params ?? {});
  const query = Object.entries(input.query ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return ctx.send({
    method: op.method,
    url: `${ctx.baseUrl}${path}${query === "" ? "" : `?${query}`}`,
    retry: op.retry,
    ...(input.body === undefined ? {} : { json: input.body }),
    ...(input.headers === undefined ? {} : { headers: input.headers }),
  });
}

export const fail = (result: Pick<ProbeResult, "exchange">, problems: readonly string[]): CheckOutcome => ({
  status: "FAIL",
  message: problems[0] ?? "failed",
  errors: [...problems],
  exchange: result.exchange,
});

/**
 * The problems of a success answer: the operation's status, and for JSON its media type and a
 * body that validates strictly (formats included, no `null` for an absent field).
 */
export function successProblems(op: OperationSpec, result: ProbeResult): string[] {
  const response = result.exchange.response;
  if (response === null) return [`no answer: ${result.exchange.error}`];
  const expected = op.response.status;
  if (response.status !== expected) {
    const why = result.isJson ? ` ${JSON.stringify(result.json).slice(0, 300)}` : "";
    return [`status ${response.status}, expected ${expected}${why}`];
  }
  if (op.response.kind !== "json") return [];
  const problems: string[] = [];
  if (result.mediaType !== "application/json") {
    problems.push(`Content-Type ${response.content_type ?? "(none)"}, expected application/json`);
  }
  if (!result.isJson) return [...problems, "body is not JSON"];
  const { schema, validate, array } = op.response;
  const issues = issuesOf(validate, result.json, array);
  if (issues.length > 0)
    problems.push(
      `not a valid ${schema}${array ? "[]" : ""}`,
      ...describeIssues(validate, issues, result.json),
    );
  return problems;
}

/** The success body, or a {@link Failure} naming what is wrong with the answer. */
export function success<T>(op: OperationSpec, result: ProbeResult): T {
  const problems = successProblems(op, result);
  if (problems.length > 0) throw new Failure(fail(result, problems));
  return result.json as T;
}

/** PASS, or FAIL with the problems (empty = PASS). */
export function verdict(result: ProbeResult, problems: readonly string[], passMessage: string): CheckOutcome {
  return problems.length === 0
    ? { status: "PASS", message: passMessage, exchange: result.exchange }
    : fail(result, problems);
}

/** A 404 `ErrorEnvelope` (`application/json`), as for an id the service does not have. */
export function notFoundOutcome(ctx: CheckContext, result: ProbeResult, what: string): CheckOutcome {
  const none = noAnswer(result);
  if (none) return none;
  const problems = errorAnswerProblems(result, ctx.schema("ErrorEnvelope"));
  const status = result.exchange.response!.status;
  if (status !== 404) problems.unshift(`status ${status} for ${what}, expected 404`);
  return verdict(result, problems, `404 ErrorEnvelope for ${what}`);
}

/** Waits `ms` (the pause between polls). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
