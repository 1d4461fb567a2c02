/**
 * Where each service of the stack is: the only way the services find each other. Every service
 * gets the same {@link StackUrls} object and reads a peer's URL when it calls it, so the stack can
 * start services on OS-chosen ports and fill the URLs in as they listen, and a user can point any
 * peer at another ARP implementation.
 */

/** The seven services, by the keys the operation tables use (`SERVICES` in `@arp/model`). */
export const SERVICE_KEYS = [
  "run-gateway",
  "run-coordinator",
  "atomic-executor",
  "composite-executor",
  "node-registry",
  "selection",
  "pdp",
] as const;
export type ServiceKey = (typeof SERVICE_KEYS)[number];

/** Base URLs by service key (`http://127.0.0.1:8081`), without a trailing slash. */
export type StackUrls = Record<ServiceKey, string>;

/** The default loopback ports of `npm start`. */
export const DEFAULT_PORTS: Readonly<Record<ServiceKey, number>> = {
  "run-gateway": 8080,
  "run-coordinator": 8081,
  "atomic-executor": 8082,
  "composite-executor": 8083,
  "node-registry": 8084,
  selection: 8085,
  pdp: 8086,
};

/** `ARP_RUN_COORDINATOR_URL`: the environment variable that gives a service's URL. */
export function urlVariable(key: ServiceKey): string {
  return `ARP_${key.toUpperCase().replaceAll("-", "_")}_URL`;
}

/** The URL of `key` as a peer sees it: `urls[key]`, or a clear error when nobody said where it is. */
export function peerUrl(urls: Partial<StackUrls>, key: ServiceKey): string {
  const url = urls[key];
  if (url === undefined || url === "") {
    throw new Error(`no URL for the ${key} service: pass --${key}-url or set ${urlVariable(key)}`);
  }
  return url.replace(/\/+$/, "");
}
