/**
 * How a host other than `node:http` (the fetch entry) serves a service through its pipeline. The
 * key is a `Symbol.for` so that it is the same symbol in every copy of this module: the CommonJS
 * build bundles each entry on its own, and a service made with one build may be handed to the
 * other's `createFetchHandler`.
 */
import type { RequestSide, ResponseSide } from "./transport.js";

/** One host's way into a service's pipeline, with a registry of streams of its own. */
export interface ServiceHost {
  /** Serves one request to completion (never throws; every failure is answered or logged). */
  serve(req: RequestSide, res: ResponseSide): void;
  /** Ends this host's open streams cleanly, and any it starts from now on. */
  endStreams(): void;
}

/** The method of `ArpServerBase` that opens a `ServiceHost`. */
export const OPEN_HOST: unique symbol = Symbol.for("@arp/server.openHost");
