/**
 * The invalid request bodies of an operation, which the surface tier sends, expecting a 4xx
 * `ErrorEnvelope` for each: three schema-blind ones (`{}`, as the Python checker sends, an unknown
 * property, a wrong type for the first required field), then, given a spec tree with golden vectors,
 * the bodies `mutate.ts` derives from the request schema (each the operation's golden vector with
 * exactly one constraint broken, named after it: `required--/root_node_type_ref/version`).
 */
import { existsSync } from "node:fs";
import { formatIssues, type OperationSpec, toIssues } from "@arp/model";
import { UsageError } from "../errors.js";
import { invalidBodiesFor } from "./mutate.js";

export interface InvalidBody {
  /** Stable, part of the check id: `empty`, `unknown_property`, `wrong_type`. */
  readonly name: string;
  readonly body: unknown;
  /** Why the schema rejects it, for the report. */
  readonly why: string;
}

/** Property name no ARP schema has (vendor data goes under `extensions`). */
export const UNKNOWN_PROPERTY = "arp_conformance_unknown_property";

/** Values tried, in order, for a field of the wrong type: the first the schema rejects as a `type` error. */
const WRONG_VALUES: readonly unknown[] = [12345, "arp-conformance", true, [], {}];

/**
 * `{}`, a body with an unknown top-level property and a body whose first required field has the
 * wrong type, then (with `specRoot`, a spec tree whose golden vectors seed them) the bodies derived
 * from the request schema. Each is checked against the operation's own validator, and one that the
 * schema would accept is left out.
 */
export function invalidBodies(op: OperationSpec, specRoot?: string): InvalidBody[] {
  const request = op.requestBody;
  if (request === undefined) return [];
  const { validate } = request;
  const bodies: InvalidBody[] = [];
  const add = (name: string, body: unknown): void => {
    if (validate(body)) return;
    bodies.push({ name, body, why: formatIssues(toIssues(validate.errors)) });
  };
  add("empty", {});
  add("unknown_property", { [UNKNOWN_PROPERTY]: true });
  validate({});
  const required = (validate.errors ?? [])
    .filter((e) => e.keyword === "required" && e.instancePath === "")
    .map((e) => String(e.params.missingProperty));
  const field = required[0];
  if (field !== undefined) {
    for (const value of WRONG_VALUES) {
      validate({ [field]: value });
      const wrong = (validate.errors ?? []).some(
        (e) => e.keyword === "type" && e.instancePath === `/${field}`,
      );
      if (wrong) {
        add("wrong_type", { [field]: value });
        break;
      }
    }
  }
  if (specRoot !== undefined && existsSync(specRoot)) {
    try {
      for (const mutation of invalidBodiesFor(specRoot, request.schema)) add(mutation.id, mutation.body);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err; // no golden vector for this schema: the three above
    }
  }
  return bodies;
}
