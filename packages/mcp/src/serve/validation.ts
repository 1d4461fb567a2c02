/**
 * Checks a call's arguments against its tool's input schema, and a run's outputs against its
 * output schema, before they go anywhere: a mismatch is a clear tool error without a run (inputs),
 * or instead of a result the MCP client would reject (outputs). Validators are compiled once per
 * schema (src/schema.ts) and kept for as many schemas as the tool list bounds (`maxTools` × 2, then
 * the oldest go). A schema ajv cannot compile is not checked here: the ARP side still judges.
 */
import { SchemaCompiler, type Validator } from "../schema.js";

/** At most this many schema problems are reported in one error message. */
export const MAX_REPORTED_ISSUES = 5;

export class SchemaChecker {
  readonly #compiler = new SchemaCompiler();
  /** By the schema's JSON: its validator (null: not compilable) and the object it was compiled from. */
  readonly #cache = new Map<string, { validate: Validator | null; schema: object }>();
  readonly #maxCached: number;

  constructor(maxCached: number) {
    this.#maxCached = maxCached;
  }

  /** `undefined` when `value` matches `schema` (or the schema cannot be compiled); else what is wrong. */
  problems(schema: Record<string, unknown>, value: unknown): string | undefined {
    const issues = this.#validator(schema)?.(value);
    if (issues === undefined) return undefined;
    const lines = issues.map((e) => `${e.pointer || "/"} ${e.message}`);
    const more =
      lines.length > MAX_REPORTED_ISSUES ? ` (and ${lines.length - MAX_REPORTED_ISSUES} more)` : "";
    return lines.slice(0, MAX_REPORTED_ISSUES).join("; ") + more;
  }

  #validator(schema: Record<string, unknown>): Validator | null {
    const key = JSON.stringify(schema);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached.validate;
    let validate: Validator | null;
    try {
      validate = this.#compiler.compile(schema);
    } catch {
      validate = null;
    }
    if (this.#cache.size >= this.#maxCached) {
      const [oldest, entry] = this.#cache.entries().next().value!;
      this.#cache.delete(oldest);
      this.#compiler.release(entry.schema);
    }
    this.#cache.set(key, { validate, schema });
    return validate;
  }
}
