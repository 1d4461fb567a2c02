/**
 * Surface tier: the whole API surface, without creating anything.
 *
 * - `surface.<op>.route`: every required operation's route answers its method (not 404/405/501).
 *   A 404 counts as an answer of the route only where the spec allows one for a random id (a path
 *   with parameters and no request body), and then it must be a valid `ErrorEnvelope`.
 * - `surface.<op>.invalid_body.<name>`: each body from `invalidBodies(op)` is rejected with a 4xx
 *   `application/json` `ErrorEnvelope` (the user's headers, a bearer token included, are sent).
 * - `surface.<op>.unknown_id`: a GET with a random id in every path parameter answers a 4xx envelope.
 * - `surface.<op>.success_body`: a GET without required parameters (besides health and version,
 *   which the smoke tier judges) answers its success status with a body that validates strictly.
 *
 * An optional operation that answers 501 is reported as SKIP (not implemented).
 */
import type { OperationSpec, ServiceSpec } from "@arp/model";
import { pathFor } from "../calls.js";
import { invalidBodies } from "../invalid-bodies.js";
import {
  acceptFor,
  describeIssues,
  ERROR_ENVELOPE_REF,
  errorAnswerProblems,
  issuesOf,
  noAnswer,
  operationRef,
  optionalNotThere,
  schemaRef,
  unknownId,
} from "../judge.js";
import type { ProbeResult } from "../probe.js";
import type { Check, CheckContext, CheckOutcome } from "../runner.js";
import { plainGet, smokeOperations } from "./smoke.js";

/** Query string with a value for each required query parameter. */
export function requiredQuery(op: OperationSpec): string {
  const required = op.queryParams.filter((q) => q.required);
  if (required.length === 0) return "";
  return `?${required.map((q) => `${encodeURIComponent(q.name)}=arp-conformance`).join("&")}`;
}

function invalidBodyProbe(
  ctx: CheckContext,
  op: OperationSpec,
  index: number,
  body: unknown,
): Promise<ProbeResult> {
  return ctx.probe(`invalid:${op.name}:${index}`, {
    method: op.method,
    retry: op.retry,
    url: `${ctx.baseUrl}${pathFor(op, unknownId)}${requiredQuery(op)}`,
    json: body,
  });
}

function unknownIdProbe(ctx: CheckContext, op: OperationSpec): Promise<ProbeResult> {
  return ctx.probe(`unknown:${op.name}`, {
    method: op.method,
    retry: op.retry,
    url: `${ctx.baseUrl}${pathFor(op, unknownId)}${requiredQuery(op)}`,
    headers: { accept: acceptFor(op) },
  });
}

/** The request that shows whether the route is there, shared with another check where one fits. */
function routeProbe(ctx: CheckContext, op: OperationSpec): Promise<ProbeResult> {
  const first = invalidBodies(op)[0];
  if (first !== undefined) return invalidBodyProbe(ctx, op, 0, first.body);
  if (op.pathParams.length === 0 && op.method === "GET" && requiredQuery(op) === "") return plainGet(ctx, op);
  if (op.method === "GET") return unknownIdProbe(ctx, op);
  return ctx.probe(`route:${op.name}`, {
    method: op.method,
    retry: op.retry,
    url: `${ctx.baseUrl}${pathFor(op, unknownId)}${requiredQuery(op)}`,
    headers: { accept: acceptFor(op) },
  });
}

function errorOutcome(ctx: CheckContext, result: ProbeResult, passMessage: string): CheckOutcome {
  const problems = errorAnswerProblems(result, ctx.schema("ErrorEnvelope"));
  if (problems.length === 0) {
    return {
      status: "PASS",
      message: `${result.exchange.response!.status} ${passMessage}`,
      exchange: result.exchange,
    };
  }
  return { status: "FAIL", message: problems[0]!, errors: problems, exchange: result.exchange };
}

/** `specRoot`: a spec tree whose golden vectors seed the invalid bodies derived from each request schema. */
export function surfaceChecks(service: ServiceSpec, specRoot?: string): Check[] {
  const checks: Check[] = [];
  const smoke = new Set(smokeOperations(service).map((op) => op.name));
  for (const op of Object.values(service.operations)) {
    const ref = operationRef(service, op);
    const label = `${op.method} ${op.path}`;
    const base = `surface.${op.name}`;

    if (op.conformance === "required") {
      checks.push({
        id: `${base}.route`,
        name: `${label} is routed`,
        tier: "surface",
        specRef: [ref],
        async run(ctx) {
          const result = await routeProbe(ctx, op);
          const none = noAnswer(result);
          if (none) return none;
          const status = result.exchange.response!.status;
          const fail = (message: string): CheckOutcome => ({
            status: "FAIL",
            message,
            exchange: result.exchange,
          });
          if (status === 405) return fail(`405: the route does not accept ${op.method}`);
          if (status === 501) return fail("501: a required operation is not implemented");
          if (status === 404) {
            // With an id in the path, a 404 envelope is the service looking the random id up (before
            // or instead of the body): the route is there.
            const idLookup = op.pathParams.length > 0;
            if (!idLookup) return fail("404: the route is missing");
            const problems = errorAnswerProblems(result, ctx.schema("ErrorEnvelope"));
            if (problems.length > 0)
              return { ...fail(`404 for a random id, but ${problems[0]}`), errors: problems };
            return {
              status: "PASS",
              message: "404 ErrorEnvelope for a random id",
              exchange: result.exchange,
            };
          }
          return { status: "PASS", message: `${status}`, exchange: result.exchange };
        },
      });
    }

    for (const [index, invalid] of invalidBodies(op, specRoot).entries()) {
      checks.push({
        id: `${base}.invalid_body.${invalid.name}`,
        name: `${label} rejects an invalid body (${invalid.name})`,
        tier: "surface",
        specRef: [ref, schemaRef(op.requestBody!.schema), ERROR_ENVELOPE_REF],
        async run(ctx) {
          const result = await invalidBodyProbe(ctx, op, index, invalid.body);
          return (
            optionalNotThere(op, result.exchange) ??
            errorOutcome(ctx, result, `ErrorEnvelope (the body ${invalid.why})`)
          );
        },
      });
    }

    if (op.method === "GET" && op.pathParams.length > 0) {
      checks.push({
        id: `${base}.unknown_id`,
        name: `${label} with unknown ${op.pathParams.map((p) => p.name).join(", ")} answers a 4xx ErrorEnvelope`,
        tier: "surface",
        specRef: [ref, ERROR_ENVELOPE_REF],
        async run(ctx) {
          const result = await unknownIdProbe(ctx, op);
          return (
            optionalNotThere(op, result.exchange) ??
            errorOutcome(ctx, result, "ErrorEnvelope for a random id")
          );
        },
      });
    }

    if (
      op.method === "GET" &&
      op.pathParams.length === 0 &&
      !smoke.has(op.name) &&
      op.response.kind === "json"
    ) {
      const { schema, validate, array, status } = op.response;
      checks.push({
        id: `${base}.success_body`,
        name: `${label} answers ${status} with a valid ${schema}${array ? "[]" : ""}`,
        tier: "surface",
        specRef: [ref, schemaRef(schema)],
        async run(ctx) {
          const result = await plainGet(ctx, op);
          const none = noAnswer(result);
          if (none) return none;
          const skip = optionalNotThere(op, result.exchange);
          if (skip) return skip;
          const response = result.exchange.response!;
          const problems: string[] = [];
          if (response.status !== status) problems.push(`status ${response.status}, expected ${status}`);
          if (result.mediaType !== "application/json") {
            problems.push(`Content-Type ${response.content_type ?? "(none)"}, expected application/json`);
          }
          if (!result.isJson) problems.push("body is not JSON");
          else if (problems.length === 0) {
            const issues = issuesOf(validate, result.json, array);
            if (issues.length > 0) {
              problems.push(
                `not a valid ${schema}${array ? "[]" : ""}`,
                ...describeIssues(validate, issues, result.json),
              );
            }
          }
          return problems.length === 0
            ? { status: "PASS", message: `valid ${schema}${array ? "[]" : ""}`, exchange: result.exchange }
            : { status: "FAIL", message: problems[0]!, errors: problems, exchange: result.exchange };
        },
      });
    }
  }
  return checks;
}
