/**
 * A service's clients of its peers: one `@arp/client` client per peer, made on first use from the
 * URL the stack gave (read at that moment, see urls.ts) and kept. With `token`, each client sends a
 * bearer token for that peer's audience (the `--secure` stack).
 */
import { CLIENTS } from "@arp/client";
import { peerUrl, type ServiceKey, type StackUrls } from "./urls.js";

export type PeerClient<K extends ServiceKey> = InstanceType<(typeof CLIENTS)[K]>;

export interface PeersOptions {
  /** Where the peers are; read when a client is first made. */
  urls: Partial<StackUrls>;
  /** A bearer token for calls to `audience` (called per request; cache inside when it is costly). */
  token?: (audience: ServiceKey) => string | Promise<string>;
}

export class Peers {
  readonly #clients = new Map<ServiceKey, unknown>();

  constructor(readonly options: PeersOptions) {}

  /** The client of `key`, e.g. `peers.client("run-coordinator").createNodeRuns(...)`. */
  client<K extends ServiceKey>(key: K): PeerClient<K> {
    let client = this.#clients.get(key) as PeerClient<K> | undefined;
    if (client === undefined) {
      const Client = CLIENTS[key] as unknown as new (options: object) => PeerClient<K>;
      const token = this.options.token;
      client = new Client({
        baseUrl: peerUrl(this.options.urls, key),
        ...(token === undefined ? {} : { bearerToken: () => token(key) }),
      });
      this.#clients.set(key, client);
    }
    return client;
  }
}

/** Per-call options that carry a request's trace on (W3C `traceparent`), for a call made while serving it. */
export function traced(req: { traceparent?: string | undefined }): { headers?: Record<string, string> } {
  return req.traceparent === undefined ? {} : { headers: { traceparent: req.traceparent } };
}
