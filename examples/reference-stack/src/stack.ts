/**
 * The whole stack in one process: the seven services on loopback ports (the defaults of urls.ts, or
 * OS-chosen with port 0), each with its own `Peers` that knows only the others' URLs. With
 * `secure`, a development token issuer starts first, every service requires tokens for its own
 * audience, and the services call each other with tokens for the callee's. With `viewer`, the run
 * viewer's web server starts before the services, and the gateway allows CORS for its origin only.
 */
import type { Logger, ServerOptions } from "@arp/server";
import { DevTokenIssuer } from "./auth/issuer.js";
import { Peers } from "./peers.js";
import { ReferenceAtomicExecutor } from "./services/atomic-executor.js";
import { ReferenceCompositeExecutor } from "./services/composite-executor.js";
import { ReferenceNodeRegistry } from "./services/node-registry.js";
import { ReferencePdp } from "./services/pdp.js";
import { ReferenceRunCoordinator } from "./services/run-coordinator.js";
import { ReferenceRunGateway } from "./services/run-gateway.js";
import { ReferenceSelection } from "./services/selection.js";
import type { Store } from "./store/interface.js";
import { DEFAULT_PORTS, SERVICE_KEYS, type ServiceKey, type StackUrls } from "./urls.js";
import { DEFAULT_VIEWER_PORT, type RunningViewer, startViewer } from "./viewer/server.js";

export interface StackOptions {
  /** Ports by service; 0 lets the OS choose. Default {@link DEFAULT_PORTS}. */
  ports?: Partial<Record<ServiceKey, number>>;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Services not to start: their URL is given (another ARP implementation, say). */
  external?: Partial<StackUrls>;
  /** JWT auth everywhere, with a development token issuer. */
  secure?: boolean;
  /** The coordinator's store. Default in memory. */
  store?: Store;
  /** The PDP's policy document (see src/policy/); default the permissive development policy. */
  policy?: unknown;
  /** Where the services log. Default: warnings and errors on stderr. */
  logger?: Logger;
  /** The run viewer (a web page for the gateway's runs), on `port` (default 8088; 0: any). Default: none. */
  viewer?: { port?: number };
}

export interface RunningStack {
  readonly urls: StackUrls;
  /** With `secure`: the issuer, to mint tokens (`issuer.mint("run-gateway", "alice")`). */
  readonly issuer: DevTokenIssuer | undefined;
  /** With `viewer`: its server (`viewer.url` is the page). */
  readonly viewer: RunningViewer | undefined;
  close(): Promise<void>;
}

/** The order services start in: each one's peers are up before it takes requests. */
const START_ORDER: readonly ServiceKey[] = [
  "node-registry",
  "pdp",
  "selection",
  "atomic-executor",
  "composite-executor",
  "run-coordinator",
  "run-gateway",
];

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const host = options.host ?? "127.0.0.1";
  const urls: Partial<StackUrls> = { ...options.external };
  const closers: (() => Promise<void>)[] = [];
  let issuer: DevTokenIssuer | undefined;
  let viewer: RunningViewer | undefined;
  try {
    if (options.secure) {
      issuer = new DevTokenIssuer();
      await issuer.listen(0, host);
      closers.push(() => issuer!.close());
    }
    if (options.viewer) {
      // First: the gateway's CORS needs the viewer's origin; the viewer reads the gateway's URL later.
      const tokens = issuer;
      viewer = await startViewer({
        port: options.viewer.port ?? DEFAULT_VIEWER_PORT,
        host,
        gateway: () => urls["run-gateway"],
        ...(tokens ? { token: () => tokens.mint("run-gateway", "viewer") } : {}),
      });
      closers.push(viewer.close);
    }
    for (const key of START_ORDER) {
      if (options.external?.[key] !== undefined) continue;
      const server: ServerOptions = {
        auth: issuer ? issuer.authFor(key) : { mode: "disabled" },
        ...(options.logger ? { logger: options.logger } : {}),
        // The viewer's page calls the gateway from the browser: its origin, and no other.
        ...(key === "run-gateway" && viewer ? { cors: { origins: [viewer.origin] } } : {}),
      };
      const token = issuer?.tokens(key);
      const peers = new Peers({ urls, ...(token ? { token } : {}) });
      const service = createService(key, {
        peers,
        server,
        ...(options.store ? { store: options.store } : {}),
        ...(options.policy === undefined ? {} : { policy: options.policy }),
        ...(token ? { token } : {}),
      });
      const port = options.ports?.[key] ?? DEFAULT_PORTS[key];
      const running = await service.listen({ port, host });
      urls[key] = running.url;
      closers.push(running.close);
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
  for (const key of SERVICE_KEYS) if (urls[key] === undefined) throw new Error(`no URL for ${key}`);
  return {
    urls: urls as StackUrls,
    issuer,
    viewer,
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

export interface ServiceParts {
  peers: Peers;
  server: ServerOptions;
  /** The coordinator's store. */
  store?: Store;
  /** Tokens by audience, for the composite executor's calls to the coordinators it is given. */
  token?: (audience: string) => Promise<string>;
  /** The PDP's policy document. */
  policy?: unknown;
}

/** One service of the stack, not yet listening. */
export function createService(key: ServiceKey, parts: ServiceParts) {
  const { peers, server, store, token, policy } = parts;
  switch (key) {
    case "run-gateway":
      return new ReferenceRunGateway({ peers, server });
    case "run-coordinator":
      return new ReferenceRunCoordinator({ peers, server, ...(store ? { store } : {}) });
    case "atomic-executor":
      return new ReferenceAtomicExecutor({ peers, server });
    case "composite-executor":
      // It calls the coordinator named in each assignment (not a peer URL): it needs the tokens itself.
      return new ReferenceCompositeExecutor({ peers, server, ...(token ? { token } : {}) });
    case "node-registry":
      return new ReferenceNodeRegistry({ peers, server });
    case "selection":
      return new ReferenceSelection({ peers, server });
    case "pdp":
      return new ReferencePdp({ peers, server, ...(policy === undefined ? {} : { policy }) });
  }
}
