/**
 * Checks a call's arguments against its tool's input schema, and a run's outputs against its
 * output schema, before they go anywhere: a mismatch is a clear tool error without a run (inputs),
 * or instead of a result the MCP client would reject (outputs). Validators are compiled once per
 * schema and kept for as many schemas as the tool list bounds (`maxTools` × 2, then the oldest go).
 * A schema ajv cannot compile is not checked here: the ARP side still judges the inputs.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS: its default export arrives as `default` under some module settings.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

/** At most this many schema problems are reported in one error message. */
export const MAX_REPORTED_ISSUES = 5;

export class SchemaChecker {
  readonly #ajv: Ajv2020;
  /** By the schema's JSON: its validator (null: not compilable) and the object ajv keeps it under. */
  readonly #cache = new Map<string, { validate: ValidateFunction | null; compiled: object }>();
  readonly #maxCached: number;

  constructor(maxCached: number) {
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.#ajv);
    this.#maxCached = maxCached;
  }

  /** `undefined` when `value` matches `schema` (or the schema cannot be compiled); else what is wrong. */
  problems(schema: Record<string, unknown>, value: unknown): string | undefined {
    const validate = this.#validator(schema);
    if (validate === null || validate(value)) return undefined;
    const issues = (validate.errors ?? []).map(
      (e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`,
    );
    const more =
      issues.length > MAX_REPORTED_ISSUES ? ` (and ${issues.length - MAX_REPORTED_ISSUES} more)` : "";
    return issues.slice(0, MAX_REPORTED_ISSUES).join("; ") + more;
  }

  #validator(schema: Record<string, unknown>): ValidateFunction | null {
    const key = JSON.stringify(schema);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached.validate;
    // `$id`s would collide across compiled schemas (two versions of one node type): left out.
    const { $id: _id, ...compiled } = schema;
    let validate: ValidateFunction | null;
    try {
      validate = this.#ajv.compile(compiled);
    } catch {
      validate = null;
    }
    if (this.#cache.size >= this.#maxCached) {
      const [oldest, entry] = this.#cache.entries().next().value!;
      this.#cache.delete(oldest);
      this.#ajv.removeSchema(entry.compiled); // ajv keeps its own cache of compiled schemas
    }
    this.#cache.set(key, { validate, compiled });
    return validate;
  }
}
