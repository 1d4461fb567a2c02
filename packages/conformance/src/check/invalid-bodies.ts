/**
 * The seam where invalid request bodies for an operation are produced. The surface tier sends each
 * one and expects a 4xx `ErrorEnvelope`.
 *
 * TODO(mutate.ts): replace this small, schema-blind set with `src/check/mutate.ts` (bodies derived
 * from the request schema: each required field missing, each field of a wrong type, enum values
 * outside the enum, unknown properties on a valid body). Keep the `InvalidBody` shape.
 */
import { formatIssues, type OperationSpec, toIssues } from "@arp/model";

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
 * At least `{}`, a body with an unknown top-level property and a body whose first required field
 * has the wrong type; each is checked against the operation's own validator, and one that the schema
 * would accept is left out.
 */
export function invalidBodies(op: OperationSpec): InvalidBody[] {
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
  return bodies;
}
