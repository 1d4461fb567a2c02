/**
 * Smoke tier: the unauthenticated, parameterless JSON GETs every service has (health and version,
 * found in the operation table: GET, no parameters, `auth: none`) answer their success status with
 * `application/json` that validates strictly (formats included); `VersionInfo` lists `v1`.
 */
import type { OperationSpec, ServiceSpec } from "@arp/model";
import { describeIssues, issuesOf, noAnswer, operationRef, schemaRef } from "../judge.js";
import type { ProbeResult } from "../probe.js";
import type { Check, CheckContext, CheckOutcome } from "../runner.js";

/** The operations the smoke tier calls: GET, no path or required query parameters, no auth, JSON. */
export function smokeOperations(service: ServiceSpec): OperationSpec[] {
  return Object.values(service.operations).filter(
    (op) =>
      op.method === "GET" &&
      op.auth === "none" &&
      op.pathParams.length === 0 &&
      op.queryParams.every((q) => !q.required) &&
      op.response.kind === "json",
  );
}

/** The probe of a parameterless GET, shared with the surface tier (same memo key). */
export function plainGet(ctx: CheckContext, op: OperationSpec): Promise<ProbeResult> {
  return ctx.probe(`plain:${op.name}`, { method: op.method, url: `${ctx.baseUrl}${op.path}` });
}

/** `skip` when the answer is not the success status (the status check reports it). */
function successOnly(op: OperationSpec, result: ProbeResult, statusCheck: string): CheckOutcome | undefined {
  const response = result.exchange.response;
  if (response !== null && response.status === op.response.status) return undefined;
  return {
    status: "SKIP",
    message: `no ${op.response.status} answer to judge (see ${statusCheck})`,
    exchange: result.exchange,
  };
}

export function smokeChecks(service: ServiceSpec): Check[] {
  const checks: Check[] = [];
  for (const op of smokeOperations(service)) {
    if (op.response.kind !== "json") continue;
    const { schema, validate, array, status } = op.response;
    const base = `smoke.${op.name}`;
    const ref = operationRef(service, op);
    const label = `${op.method} ${op.path}`;
    checks.push({
      id: `${base}.status`,
      name: `${label} answers ${status}`,
      tier: "smoke",
      specRef: [ref],
      async run(ctx) {
        const result = await plainGet(ctx, op);
        const none = noAnswer(result);
        if (none) return none;
        const got = result.exchange.response!.status;
        return got === status
          ? { status: "PASS", message: `${got}`, exchange: result.exchange }
          : { status: "FAIL", message: `status ${got}, expected ${status}`, exchange: result.exchange };
      },
    });
    checks.push({
      id: `${base}.content_type`,
      name: `${label} answers application/json`,
      tier: "smoke",
      specRef: [ref],
      async run(ctx) {
        const result = await plainGet(ctx, op);
        const skip = successOnly(op, result, `${base}.status`);
        if (skip) return skip;
        const type = result.exchange.response!.content_type;
        return result.mediaType === "application/json"
          ? { status: "PASS", message: type ?? "", exchange: result.exchange }
          : {
              status: "WARN",
              message: `Content-Type ${type ?? "(none)"}, expected application/json`,
              exchange: result.exchange,
            };
      },
    });
    checks.push({
      id: `${base}.schema`,
      name: `${label} body is a valid ${schema}${array ? "[]" : ""}`,
      tier: "smoke",
      specRef: [ref, schemaRef(schema)],
      async run(ctx) {
        const result = await plainGet(ctx, op);
        const skip = successOnly(op, result, `${base}.status`);
        if (skip) return skip;
        if (!result.isJson) return { status: "FAIL", message: "body is not JSON", exchange: result.exchange };
        const issues = issuesOf(validate, result.json, array);
        return issues.length === 0
          ? { status: "PASS", message: `valid ${schema}`, exchange: result.exchange }
          : {
              status: "FAIL",
              message: `not a valid ${schema}: ${issues.length} issue${issues.length === 1 ? "" : "s"}`,
              errors: describeIssues(validate, issues, result.json),
              exchange: result.exchange,
            };
      },
    });
    if (schema === "VersionInfo") {
      checks.push({
        id: `${base}.api_v1`,
        name: `${label} lists v1 in supported_api_versions`,
        tier: "smoke",
        specRef: [ref, schemaRef(schema)],
        async run(ctx) {
          const result = await plainGet(ctx, op);
          const skip = successOnly(op, result, `${base}.status`);
          if (skip) return skip;
          const versions = (result.json as { supported_api_versions?: unknown } | null)
            ?.supported_api_versions;
          if (Array.isArray(versions) && versions.includes("v1")) {
            return {
              status: "PASS",
              message: `supported_api_versions: ${JSON.stringify(versions)}`,
              exchange: result.exchange,
            };
          }
          return {
            status: "FAIL",
            message: `supported_api_versions is ${JSON.stringify(versions) ?? "absent"}, which does not include "v1"`,
            exchange: result.exchange,
          };
        },
      });
    }
  }
  return checks;
}
