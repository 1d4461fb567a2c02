/**
 * The validation API over the precompiled validators: typed results, readable issues (JSON pointer
 * and message), type guards and an assert form that throws {@link ValidationError}.
 */
import { brand, brandCheck } from "./brand.js";
import { SCHEMAS, type SchemaName, type SchemaTypes } from "./generated/schemas.gen.js";
import type { OperationSpec } from "./operations.js";

/** What an ajv-compiled validator reports; only the fields we read. */
export interface CompiledError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A precompiled validator: returns true when valid; otherwise `errors` says why. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: CompiledError[] | null;
}

/** One reason a value does not match its schema. */
export interface ValidationIssue {
  /** JSON pointer (RFC 6901) to the offending value; `""` is the value itself. */
  pointer: string;
  /** Human-readable, e.g. `must be one of "queued", "running"`. */
  message: string;
  /** The JSON Schema keyword that failed (`required`, `enum`, `format`, ...). */
  keyword: string;
  /** Keyword-specific details from the validator (e.g. `{ allowedValues: [...] }`). */
  params: Record<string, unknown>;
}

/**
 * The most issues a validator reports. Every compiled validator stops once it has found this many
 * errors (the generator inserts the exits; a valid document never reaches them), so checking a huge
 * invalid document costs no more than finding its first issues; `toIssues` and `arrayIssues` return at
 * most this many. A list this long may have been cut: `truncated` (on `ValidationResult`,
 * `ValidationError`, or `issuesTruncated(errors)`) says so.
 */
export const MAX_VALIDATION_ISSUES = 100;

/** The longest pointer `formatIssues` writes out (a longer one is cut, with `…`). */
const MAX_SHOWN_POINTER = 200;

export type ValidationResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** At most {@link MAX_VALIDATION_ISSUES}. */
      errors: ValidationIssue[];
      /** True when the validator stopped at {@link MAX_VALIDATION_ISSUES}: there may be more issues. */
      truncated: boolean;
    };

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Keyword → message. The validators are compiled without messages; they are written here, once. */
function message(e: CompiledError): { pointer?: string; message: string } {
  const p = e.params;
  switch (e.keyword) {
    case "required":
      return {
        pointer: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`,
        message: "is required",
      };
    case "additionalProperties":
      return {
        pointer: `${e.instancePath}/${escapePointer(String(p.additionalProperty))}`,
        message:
          "is not allowed (unknown property; vendor fields go under `extensions`, with namespaced keys)",
      };
    case "enum":
      return {
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "type":
      return { message: `must be ${p.type === "integer" ? "an integer" : `of type ${String(p.type)}`}` };
    case "format":
      return { message: `must be a valid ${String(p.format)} string` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { message: `must be ${String(p.comparison)} ${String(p.limit)}` };
    case "minItems":
      return { message: `must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}` };
    case "maxItems":
      return { message: `must have at most ${String(p.limit)} items` };
    case "minLength":
      return { message: `must be at least ${String(p.limit)} characters long` };
    case "maxLength":
      return { message: `must be at most ${String(p.limit)} characters long` };
    case "pattern":
      return { message: `must match the pattern ${String(p.pattern)}` };
    default:
      return { message: e.message ?? `fails the "${e.keyword}" constraint` };
  }
}

function describe(e: CompiledError): ValidationIssue {
  const m = message(e);
  return { pointer: m.pointer ?? e.instancePath, message: m.message, keyword: e.keyword, params: e.params };
}

/**
 * Turns a validator's raw errors into issues, without duplicates: at most
 * {@link MAX_VALIDATION_ISSUES} (see {@link issuesTruncated} for whether the validator stopped early).
 */
export function toIssues(errors: readonly CompiledError[] | null | undefined): ValidationIssue[] {
  const seen = new Set<string>();
  const out: ValidationIssue[] = [];
  for (const e of errors ?? []) {
    const issue = describe(e);
    const key = `${issue.pointer}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
      if (out.length === MAX_VALIDATION_ISSUES) break;
    }
  }
  return out;
}

/**
 * True when a validator's raw errors reached {@link MAX_VALIDATION_ISSUES}: it stopped there, so the
 * document may have more issues than were reported.
 */
export function issuesTruncated(errors: readonly CompiledError[] | null | undefined): boolean {
  return (errors?.length ?? 0) >= MAX_VALIDATION_ISSUES;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * `/state must be one of ...; /run_id is required` (at most `limit` issues, then a count; with
 * `truncated`, the count says that validation stopped). Pointers longer than 200 characters (an
 * unknown key is echoed in its pointer) are cut, with `…`.
 */
export function formatIssues(issues: readonly ValidationIssue[], limit = 3, truncated = false): string {
  const shown = issues
    .slice(0, limit)
    .map((i) => `${i.pointer ? shorten(i.pointer, MAX_SHOWN_POINTER) : "(root)"} ${i.message}`);
  const more = issues.length - Math.min(limit, issues.length);
  if (truncated) shown.push(`and ${more} more (validation stopped after ${issues.length} issues)`);
  else if (more > 0) shown.push(`and ${more} more`);
  return shown.join("; ");
}

/** Thrown by `assertValid` and the `assertX` guards when a value does not match its schema. */
export class ValidationError extends Error {
  override name = "ValidationError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/model.ValidationError");
  /** Stable string code, shared with the other ARP error classes. */
  readonly code = "validation_failed";

  constructor(
    /** The schema the value was checked against. */
    readonly schema: string,
    /** The issues found: all of them, up to {@link MAX_VALIDATION_ISSUES}. */
    readonly errors: readonly ValidationIssue[],
    /** True when validation stopped at {@link MAX_VALIDATION_ISSUES}: there may be more issues. */
    readonly truncated = false,
  ) {
    super(`Invalid ${schema}: ${formatIssues(errors, 3, truncated)}`);
    brand(this, "@arp/model.ValidationError");
  }
}

// By name: a Map (a lookup here costs about half of a keyed lookup on the 51-entry SCHEMAS object),
// built by a pure call, so that a bundle that never looks a validator up by name carries none of them.
const VALIDATORS: ReadonlyMap<string, CompiledValidator> = /* @__PURE__ */ validatorsByName();

function validatorsByName(): ReadonlyMap<string, CompiledValidator> {
  return new Map(Object.entries(SCHEMAS).map(([name, entry]) => [name, entry.validate as CompiledValidator]));
}

/**
 * The precompiled validator of a schema, by name; throws a `TypeError` for an unknown name. Code that
 * validates often holds on to the result (or imports the `isX` guard) instead of naming the schema on
 * every call. Looking validators up by name brings every schema into a bundle; the guards and the
 * operation tables reference theirs directly.
 */
export function validatorFor(schema: SchemaName | (string & {})): CompiledValidator {
  const check = VALIDATORS.get(schema);
  if (check) return check;
  throw new TypeError(
    `Unknown ARP schema name ${JSON.stringify(schema)}; expected one of: ${[...VALIDATORS.keys()].join(", ")}`,
  );
}

/** An assertion bound to one schema's validator (the generated `assertX` functions). */
export function asserterFor<K extends SchemaName>(
  schema: K,
  check: CompiledValidator,
): (value: unknown) => asserts value is SchemaTypes[K] {
  return (value: unknown): asserts value is SchemaTypes[K] => {
    if (!check(value))
      throw new ValidationError(schema, toIssues(check.errors), issuesTruncated(check.errors));
  };
}

/**
 * The issues of an array of `check`'s schema: `undefined` when `data` is an array whose every item
 * passes; otherwise one issue when it is not an array, or each failing item's issues with its index
 * in front of the pointer (`/2/state`). What a client and a server report for an array response.
 * Stops at {@link MAX_VALIDATION_ISSUES} issues: a list that long may have been cut.
 */
export function arrayIssues(check: CompiledValidator, data: unknown): ValidationIssue[] | undefined {
  if (!Array.isArray(data))
    return [{ pointer: "", message: "must be of type array", keyword: "type", params: { type: "array" } }];
  let issues: ValidationIssue[] | undefined;
  for (let i = 0; i < data.length; i++) {
    if (check(data[i])) continue;
    issues ??= [];
    for (const e of toIssues(check.errors)) {
      issues.push({ ...e, pointer: `/${i}${e.pointer}` });
      if (issues.length === MAX_VALIDATION_ISSUES) return issues;
    }
  }
  return issues;
}

/** The compiled validators of one operation (see {@link operationValidators}). */
export interface OperationValidators {
  /** The request body's schema; undefined when the operation takes no body. */
  readonly request: CompiledValidator | undefined;
  /** The response's schema (each item's, for an array response), or each NDJSON event's; undefined for 204. */
  readonly response: CompiledValidator | undefined;
}

const operationCache = new WeakMap<OperationSpec, OperationValidators>();

/**
 * The validators a request body and a response (or each stream event) of `op` must pass: the ones
 * its operation table references (no lookup by name, so a bundle carries only the validators of the
 * operations it calls). What a client or server holds on to instead of naming schemas on every call.
 */
export function operationValidators(op: OperationSpec): OperationValidators {
  let found = operationCache.get(op);
  if (!found) {
    const response = op.response;
    found = Object.freeze({
      request: op.requestBody?.validate,
      response: response.kind === "empty" ? undefined : response.validate,
    });
    operationCache.set(op, found);
  }
  return found;
}

/** Checks `data` against the named schema; never throws for any data (only for an unknown schema name). */
export function validate<K extends SchemaName>(schema: K, data: unknown): ValidationResult<SchemaTypes[K]> {
  const check = validatorFor(schema);
  if (check(data)) return { ok: true, value: data as SchemaTypes[K] };
  return { ok: false, errors: toIssues(check.errors), truncated: issuesTruncated(check.errors) };
}

/** Type guard: true when `data` is a valid value of the named schema. */
export function isValid<K extends SchemaName>(schema: K, data: unknown): data is SchemaTypes[K] {
  return validatorFor(schema)(data);
}

/** Throws a {@link ValidationError} listing the issues (up to {@link MAX_VALIDATION_ISSUES}) unless `data` is valid. */
export function assertValid<K extends SchemaName>(schema: K, data: unknown): asserts data is SchemaTypes[K] {
  const check = validatorFor(schema);
  if (!check(data)) throw new ValidationError(schema, toIssues(check.errors), issuesTruncated(check.errors));
}
