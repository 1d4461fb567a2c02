/**
 * The coordinator's errors: the ARP error envelopes it answers with, and the `ErrorDetail`s it
 * records on node runs that fail. Every code is listed in the README ("Error codes").
 */
import { ArpApiError } from "@arp/client";
import type * as T from "@arp/model";
import { ArpServerError, unavailable } from "@arp/server";
import type { Limit } from "./constraints.js";
import { compact } from "./events.js";

/** The message (and, for an ARP error, status and code) of anything thrown. */
export function describe(err: unknown): { message: string; status?: number; code?: string } {
  if (err instanceof ArpApiError) return { message: err.message, status: err.status, code: err.code };
  if (err instanceof Error) return compact({ message: err.message, code: (err as { code?: string }).code });
  return { message: String(err) };
}

/** What went wrong calling `peer`, as a node run's error. */
export function peerError(peer: string, err: unknown, code: string): T.ErrorDetail {
  const { message, ...more } = describe(err);
  return { code, message: `${peer}: ${message}`, details: { peer, ...more } };
}

/** 503 for a peer a request needs and cannot reach: the caller may try again. */
export function peerUnavailable(peer: string, err: unknown): ArpServerError {
  const { message, ...more } = describe(err);
  return unavailable(`the ${peer} did not answer: ${message}`, { details: { peer, ...more } });
}

/** A decision other than `allow`: `policy_denied` or `approval_required`. */
export function policyError(action: string, decision: T.PolicyDecision): T.ErrorDetail {
  const denied = decision.decision === "deny";
  const why = decision.message ?? decision.reason_code;
  return {
    code: denied ? "policy_denied" : "approval_required",
    message: `the PDP ${denied ? "denied" : "requires approval for"} ${action}${why === undefined ? "" : `: ${why}`}`,
    details: compact({
      action,
      decision: decision.decision,
      reason_code: decision.reason_code,
      approval_ref: decision.approval_ref,
    }),
  };
}

/** 409 `constraint_violation`. */
export function violation(message: string, details: Record<string, unknown>): ArpServerError {
  return new ArpServerError({ status: 409, code: "constraint_violation", message, details });
}

/** 409 `constraint_violation` for a structural limit, saying which, its value, whose it is and what it would have been. */
export function limitViolation(limit: Limit, actual: number, what: string): ArpServerError {
  return violation(`${what} would exceed ${limit.name} ${limit.value}`, {
    constraint: `structural.${limit.name}`,
    limit: limit.value,
    source: limit.source,
    actual,
  });
}

/** 409 `run_ended`: the run's log is closed. */
export function runEnded(runId: string): ArpServerError {
  return new ArpServerError({
    status: 409,
    code: "run_ended",
    message: `run ${runId} has ended`,
    details: { run_id: runId },
  });
}

/** 409 `node_run_ended`. */
export function nodeRunEnded(nodeRunId: string, state: T.NodeRunState, message: string): ArpServerError {
  return new ArpServerError({
    status: 409,
    code: "node_run_ended",
    message,
    details: { node_run_id: nodeRunId, state },
  });
}

/** 503, retryable: a change that kept meeting concurrent changes `attempts` times. */
export function busy(attempts: number): ArpServerError {
  return unavailable("too many concurrent changes to this run; try again", { details: { attempts } });
}
