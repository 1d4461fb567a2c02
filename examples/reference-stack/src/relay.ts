/**
 * What a service answers when a peer it called failed: the peer's own 4xx envelope, relayed as it
 * came (a gateway in front of a coordinator answers the coordinator's 404 for an unknown run), and
 * its 503 too (a coordinator whose database is away: `store_unavailable`, retryable: the caller
 * should try again, as with any 503); for anything else (a peer's other 5xx, no answer, a timeout, a
 * body that breaks the contract) a 502 `upstream_error`, retryable when the peer said so or could
 * not be reached.
 */
import { ArpApiError, ArpError, ArpTimeoutError, ArpTransportError } from "@arp/client";
import { ArpServerError } from "@arp/server";

/** The ARP error to throw for `error`, thrown by a call to `peer`; an abort is passed through. */
export function relayed(error: unknown, peer: string): unknown {
  if (error instanceof ArpServerError) return error;
  if (
    error instanceof ArpApiError &&
    ((error.status >= 400 && error.status < 500) || error.status === 503) &&
    error.envelope !== undefined
  ) {
    const detail = error.envelope.error;
    return new ArpServerError({
      status: error.status,
      code: detail.code,
      message: detail.message,
      ...(detail.details === undefined ? {} : { details: detail.details }),
      ...(detail.retryable === undefined ? {} : { retryable: detail.retryable }),
    });
  }
  if (error instanceof ArpError) {
    const unreachable = error instanceof ArpTransportError || error instanceof ArpTimeoutError;
    return new ArpServerError({
      status: 502,
      code: "upstream_error",
      message: `the ${peer} service failed: ${error.message}`,
      details: { peer, cause: error.code },
      retryable: unreachable || (error instanceof ArpApiError && error.retryable === true),
    });
  }
  return error;
}
