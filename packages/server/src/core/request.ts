/**
 * What a handler receives (`ArpRequest`), and the principal's async context behind `getPrincipal()`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingHttpHeaders } from "node:http";
import type { OperationSpec } from "@arp/model";
import type { Principal } from "./auth/verify.js";

/**
 * What a handler method receives. The generated request maps name it per operation
 * (`RunGatewayRequests["getRun"]`), so that it need not be spelled out.
 */
export interface ArpRequest<Body = undefined, Params = Record<string, never>> {
  /** The validated request body (operations without a body: `undefined`). */
  body: Body;
  /** Path and query parameters by their spec names (`run_id`, `q`, `kind`), validated. */
  params: Params;
  headers: IncomingHttpHeaders;
  /** The token's claims; `{ sub: devSubject }` when auth is disabled; undefined on exempt operations. */
  principal: Principal | undefined;
  /** The W3C `traceparent` header, when present and well-formed. */
  traceparent?: string;
  /** Aborted when the client goes away (or the server shuts down): stop work, release resources. */
  signal: AbortSignal;
  /** The operation being served. */
  operation: OperationSpec;
}

export const principalStore = new AsyncLocalStorage<Principal | undefined>();

/** The principal of the request being handled (also `req.principal`), from anywhere in its async call tree. */
export function getPrincipal(): Principal | undefined {
  return principalStore.getStore();
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** The `traceparent` header when it is well-formed. */
export function traceparentOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.traceparent;
  return typeof value === "string" && TRACEPARENT.test(value) ? value : undefined;
}

/** The `ArpRequest` handed to a handler; its `signal` is made on first use (most handlers never look). */
export class HandlerRequest implements ArpRequest<unknown, Record<string, string>> {
  readonly #signalSource: { readonly signal: AbortSignal };
  body: unknown;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  principal: Principal | undefined;
  declare traceparent?: string;
  operation: OperationSpec;

  constructor(
    signalSource: { readonly signal: AbortSignal },
    operation: OperationSpec,
    headers: IncomingHttpHeaders,
    body: unknown,
    params: Record<string, string>,
    principal: Principal | undefined,
  ) {
    this.#signalSource = signalSource;
    this.body = body;
    this.params = params;
    this.headers = headers;
    this.principal = principal;
    const traceparent = traceparentOf(headers);
    if (traceparent !== undefined) this.traceparent = traceparent;
    this.operation = operation;
  }

  get signal(): AbortSignal {
    return this.#signalSource.signal;
  }
}
