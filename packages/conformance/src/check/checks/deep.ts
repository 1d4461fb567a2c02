/**
 * Deep tier, the checks that create nothing:
 *
 * - `deep.unknown_route`: a path no ARP service has answers 404 with an `application/json`
 *   `ErrorEnvelope` (a web server's HTML 404 page is a failure).
 * - `deep.auth.<op>.no_token` and `deep.auth.<op>.garbage_token`, with `authProbe` only (the user
 *   says the service requires auth; a service run with auth off would fail them): one protected
 *   operation, sent without the user's `Authorization` and then with a token no issuer signed,
 *   answers 401 with a `Bearer` challenge in `WWW-Authenticate` and an `ErrorEnvelope`.
 *
 * The stream checks of the tier need runs, and come with the core tier's resources.
 */
import type { CompiledValidator, OperationSpec, ServiceSpec } from "@arp/model";
import { pathFor, verdict } from "../calls.js";
import {
  acceptFor,
  ERROR_ENVELOPE_REF,
  errorAnswerProblems,
  errorBodyProblems,
  noAnswer,
  openapiRef,
  operationRef,
  unknownId,
} from "../judge.js";
import type { ProbeResult } from "../probe.js";
import type { Check } from "../runner.js";
import { requiredQuery } from "./surface.js";

export interface DeepOptions {
  /** Add the auth probes (`--auth-probe`): the service must refuse requests without a valid token. */
  authProbe?: boolean;
}

/** The token the garbage-token probe sends: not a JWT, signed by no one. */
export const GARBAGE_TOKEN = "arp-conformance-garbage";

/**
 * The operation the auth probes call: the first GET that needs a bearer token (with random ids it
 * reads nothing), else the first operation that needs one (sent with `{}`, a body every request
 * schema rejects, so that nothing is created even by a service that lets the request through).
 */
export function authProbeOperation(service: ServiceSpec): OperationSpec | undefined {
  const ops = Object.values(service.operations).filter((op) => op.auth === "bearer");
  return ops.find((op) => op.method === "GET") ?? ops[0];
}

function unknownRouteCheck(service: ServiceSpec): Check {
  return {
    id: "deep.unknown_route",
    name: "GET of a path no route has answers 404 with an ErrorEnvelope",
    tier: "deep",
    specRef: [openapiRef(service, "paths"), ERROR_ENVELOPE_REF],
    async run(ctx) {
      const result = await ctx.probe("deep:unknown_route", {
        method: "GET",
        url: `${ctx.baseUrl}/v1/arp-conformance-unknown-route-${crypto.randomUUID()}`,
      });
      const none = noAnswer(result);
      if (none) return none;
      const status = result.exchange.response!.status;
      const problems =
        status === 404
          ? errorAnswerProblems(result, ctx.schema("ErrorEnvelope"))
          : [
              `status ${status}, expected 404 for a path that is not in the API`,
              ...errorBodyProblems(result, ctx.schema("ErrorEnvelope")),
            ];
      return verdict(result, problems, "404 ErrorEnvelope");
    },
  };
}

/** The problems of an answer to a request without a valid token: 401, a Bearer challenge, an envelope. */
function unauthorizedProblems(result: ProbeResult, sent: string, envelope: CompiledValidator): string[] {
  const response = result.exchange.response;
  if (response === null) return [`no answer: ${result.exchange.error}`];
  const problems: string[] = [];
  if (response.status !== 401) {
    problems.push(
      `status ${response.status}, expected 401 for a request ${sent} (the operation needs a bearer token)`,
    );
  }
  const challenge = result.headers?.get("www-authenticate") ?? null;
  if (challenge === null) {
    problems.push("no WWW-Authenticate header; a 401 carries the Bearer challenge (UnauthorizedError)");
  } else if (!/^bearer(\s|$)/i.test(challenge)) {
    problems.push(
      `WWW-Authenticate ${JSON.stringify(challenge)} is not a Bearer challenge (UnauthorizedError)`,
    );
  }
  return [...problems, ...errorBodyProblems(result, envelope)];
}

function authChecks(service: ServiceSpec): Check[] {
  const op = authProbeOperation(service);
  if (op === undefined) return [];
  const probes = [
    { name: "no_token", sent: "without a token", authorization: null },
    { name: "garbage_token", sent: "with a garbage token", authorization: `Bearer ${GARBAGE_TOKEN}` },
  ] as const;
  return probes.map(({ name, sent, authorization }) => ({
    id: `deep.auth.${op.name}.${name}`,
    name: `${op.method} ${op.path} ${sent} answers 401 with a Bearer challenge`,
    tier: "deep",
    specRef: [
      operationRef(service, op),
      openapiRef(service, "/components/responses/UnauthorizedError"),
      ERROR_ENVELOPE_REF,
    ],
    async run(ctx) {
      const result = await ctx.probe(`deep:auth:${name}`, {
        method: op.method,
        retry: op.retry,
        url: `${ctx.baseUrl}${pathFor(op, unknownId)}${requiredQuery(op)}`,
        // Replaces (or, null, removes) the user's Authorization, whatever its spelling.
        headers: { accept: acceptFor(op), authorization },
        ...(op.requestBody === undefined ? {} : { json: {} }),
      });
      const challenge = result.headers?.get("www-authenticate");
      return verdict(
        result,
        unauthorizedProblems(result, sent, ctx.schema("ErrorEnvelope")),
        `401, WWW-Authenticate: ${challenge}`,
      );
    },
  }));
}

/**
 * `deep.<op>.open`: the operations the table marks `auth: none` (health, version) answer without a
 * token too. The other tiers send the user's headers everywhere, so a service that wrongly guards
 * them would pass there.
 */
function openChecks(service: ServiceSpec): Check[] {
  return Object.values(service.operations)
    .filter((op) => op.auth === "none" && op.pathParams.length === 0 && op.requestBody === undefined)
    .map((op) => ({
      id: `deep.${op.name}.open`,
      name: `${op.method} ${op.path} answers without a token (it needs no authentication)`,
      tier: "deep",
      specRef: [operationRef(service, op)],
      async run(ctx) {
        const result = await ctx.probe(`deep:open:${op.name}`, {
          method: op.method,
          retry: op.retry,
          url: `${ctx.baseUrl}${op.path}${requiredQuery(op)}`,
          headers: { accept: acceptFor(op), authorization: null },
        });
        const none = noAnswer(result);
        if (none) return none;
        const status = result.exchange.response!.status;
        return verdict(
          result,
          status === op.response.status
            ? []
            : [
                `status ${status} without a token, expected ${op.response.status}: the spec needs no authentication here`,
              ],
          `${status} without a token`,
        );
      },
    }));
}

export function deepChecks(service: ServiceSpec, options: DeepOptions = {}): Check[] {
  return [
    unknownRouteCheck(service),
    ...openChecks(service),
    ...(options.authProbe === true ? authChecks(service) : []),
  ];
}
