/**
 * `@arp/server/fetch`: an ARP service as a web-standard handler, `(request: Request) =>
 * Promise<Response>`, for any fetch-style host: `Bun.serve`, `Deno.serve`, Hono, service workers.
 *
 * Why an adapter rather than a second pipeline: the request is served by the very pipeline
 * `listen()` uses (routing, CORS, auth, body limits, validation, error envelopes, NDJSON streams
 * with backpressure and the write-stall timeout), which reads a request and writes a response
 * through the small seam of `core/transport.ts`. Node's `IncomingMessage`/`ServerResponse` are that
 * seam as they are, so `listen()` pays nothing for it; here a `Request` is presented as the request
 * side and the response side is collected into a `Response` (a `ReadableStream` body for streams).
 */
import { OPEN_HOST, type ServiceHost } from "./core/host.js";
import type { ArpServerBase } from "./core/server.js";
import { FetchRequestSide } from "./fetch/request.js";
import { FetchResponseSide } from "./fetch/response.js";

/** A service as a fetch handler (see {@link createFetchHandler}). */
export interface FetchHandler {
  /** Answers one request; never rejects (every failure is an ARP error envelope, or logged). */
  (request: Request): Promise<Response>;
  /**
   * Ends this handler's open event streams cleanly (each generator is returned, each response gets
   * its clean end), and any stream started from now on as soon as it starts. Call it when the host
   * shuts down: a host that waits for responses to finish would otherwise wait for ever.
   */
  close(): void;
}

/**
 * `service` as a web-standard fetch handler: `Bun.serve({ fetch: createFetchHandler(service) })`,
 * `Deno.serve(createFetchHandler(service))`. Each handler tracks its own streams (see `close`).
 * `request.signal` aborting, or the host cancelling the response body, is the client going away:
 * the handler's `req.signal` aborts.
 * @throws TypeError when `service` is not an ARP service (an instance of a `Base*Server` subclass).
 */
export function createFetchHandler(service: ArpServerBase): FetchHandler {
  const open = (service as Partial<Record<typeof OPEN_HOST, () => ServiceHost>> | null)?.[OPEN_HOST];
  if (typeof open !== "function") {
    throw new TypeError(
      "createFetchHandler expects an ARP service: an instance of a class extending a Base*Server of @arp/server",
    );
  }
  const host = open.call(service);
  const handle = (request: Request): Promise<Response> => {
    const res = new FetchResponseSide(request);
    host.serve(new FetchRequestSide(request), res);
    return res.response;
  };
  return Object.assign(handle, { close: () => host.endStreams() });
}
