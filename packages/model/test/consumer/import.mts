// An ES module consumer: resolves the `import` condition and its `.d.ts` types.
import { type ErrorEnvelope, isValid, type SchemaName, SPEC_REF, validate } from "@arp/model";

const name: SchemaName = "ErrorEnvelope";
const envelope: unknown = { error: { code: "not_found", message: "no such run" } };
if (isValid(name, envelope)) {
  const typed: ErrorEnvelope = envelope;
  console.log(typed.error.code);
}
const r = validate("Health", {});
export const summary = `${SPEC_REF}: ${r.ok ? "ok" : r.errors.length}`;
