/**
 * The whole stack in one process: the seven services on loopback ports (the defaults of urls.ts, or
 * OS-chosen with port 0), each with its own `Peers` that knows only the others' URLs. With
 * `secure`, a development token issuer starts first, every service requires tokens for its own
 * audience, and the services call each other with tokens for the callee's. With `viewer`, the run
 * viewer's web server starts before the services, and the gateway allows CORS for its origin only.
 *
 * With `coordinators: N > 1`, the run coordinator is N child processes (src/replicas.ts) sharing a
 * PostgreSQL store, behind a {@link Balancer} on the run-coordinator port: the balancer listens
 * first (its URL is the coordinators' public one, which they hand to composite executors), then
 * the replicas start on OS-chosen ports, then the balancer is given their URLs. With `secure`, each
 * replica requires the issuer's tokens and gets its own for its peers (`serve.ts --issuer`).
 */
import { NodeRegistryClient } from "@arp/client";
import { type BridgeLimits, McpBridge, type McpServerTarget, type RegistryPublisher } from "@arp/mcp";
import type { Logger, ServerOptions } from "@arp/server";
import { DevTokenIssuer } from "./auth/issuer.js";
import { Balancer } from "./balancer.js";
import { Peers } from "./peers.js";
import { type Replica, type ReplicaProcess, startReplica } from "./replicas.js";
import { ReferenceAtomicExecutor } from "./services/atomic-executor.js";
import { ReferenceCompositeExecutor } from "./services/composite-executor.js";
import { ReferenceNodeRegistry } from "./services/node-registry.js";
import { ReferencePdp } from "./services/pdp.js";
import { ReferenceRunCoordinator, type ReferenceRunCoordinatorOptions } from "./services/run-coordinator.js";
import { ReferenceRunGateway } from "./services/run-gateway.js";
import { ReferenceSelection } from "./services/selection.js";
import type { Store } from "./store/interface.js";
import { openStore, redactUrl, STORE_URL_VARIABLE, storeKind } from "./store/open.js";
import { DEFAULT_PORTS, SERVICE_KEYS, type ServiceKey, type StackUrls } from "./urls.js";
import { mcpWorkflows } from "./viewer/mcp.js";
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
  /**
   * The coordinator's store: a {@link Store}, or a URL (`memory`, `postgres://...?schema=name`; see
   * src/store/open.ts) that the stack opens and closes with itself. Default in memory.
   */
  store?: Store | string;
  /**
   * How many coordinator replicas (default 1, in this process). More are child processes behind a
   * balancer, and need `store` as a `postgres://` URL: a memory store cannot be shared across processes.
   */
  coordinators?: number;
  /** Passed to every coordinator (each replica's `--lease-ms`, `--sweep-ms`). */
  coordinator?: Omit<CoordinatorTuning, "replicaId">;
  /** The PDP's policy document (see src/policy/); default the permissive development policy. */
  policy?: unknown;
  /** Where the services log. Default: warnings and errors on stderr. */
  logger?: Logger;
  /** The run viewer (a web page for the gateway's runs), on `port` (default 8088; 0: any). Default: none. */
  viewer?: { port?: number };
  /**
   * Every service in a child process of its own (`src/serve.ts`), as a deployment would run them,
   * rather than all but the coordinator replicas in this one; `nodeArgs` go to each (`["--expose-gc"]`
   * lets {@link Replica.memory} collect first). Not with a `policy` or a {@link Store} object (a
   * process cannot be handed either). Default: one process.
   */
  processes?: boolean | { nodeArgs?: readonly string[] };
  /**
   * MCP servers whose tools the atomic executor runs as node types `mcp.<name>.<tool>` (`NAME=COMMAND`
   * or `NAME=URL` strings, or targets; see @arp/mcp), published to the stack's registry (or the
   * external one) before startStack resolves. Not with `processes` or an external atomic executor.
   */
  mcp?: readonly (McpServerTarget | string)[];
  /** The MCP bridge's limits (timeouts, reconnect backoff, pings; see @arp/mcp). Default its own. */
  mcpLimits?: Partial<BridgeLimits>;
}

/** How long startStack waits for the MCP tools to be in the registry, ms; then it goes on (logged). */
export const MCP_PUBLISH_WAIT_MS = 30_000;

export interface RunningStack {
  readonly urls: StackUrls;
  /** With `secure`: the issuer, to mint tokens (`issuer.mint("run-gateway", "alice")`). */
  readonly issuer: DevTokenIssuer | undefined;
  /** With `viewer`: its server (`viewer.url` is the page). */
  readonly viewer: RunningViewer | undefined;
  /**
   * With `coordinators > 1`: every replica started (in start order; one that exited stays here, its
   * `exited` resolved, and is taken off the balancer). Empty otherwise.
   */
  readonly replicas: readonly Replica[];
  /** With `processes`: every service's process, in start order (the replicas among them). Empty otherwise. */
  readonly processes: readonly Replica[];
  /** With `coordinators > 1`: the balancer on the run-coordinator URL (its `stats` count per replica). */
  readonly balancer: Balancer | undefined;
  /** With `coordinators > 1`: starts one more replica and puts it behind the balancer. */
  addReplica(): Promise<Replica>;
  /** With `mcp`: the bridge (its `status()` and `nodeTypes()`). */
  readonly mcp: McpBridge | undefined;
  /** Stops everything: the balancer, then the replicas (SIGTERM, SIGKILL after 5 s), then the rest. */
  close(): Promise<void>;
}

/** A coordinator's tuning: the options of `ReferenceRunCoordinator` a stack passes to every replica. */
export type CoordinatorTuning = Pick<
  ReferenceRunCoordinatorOptions,
  "replicaId" | "leaseMs" | "sweepIntervalMs"
>;

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

/** Checks what `coordinators > 1` needs; answers the store URL the replicas get. */
function replicatedStore(options: StackOptions, count: number): string | undefined {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new RangeError(`coordinators must be a whole number >= 1 (got ${count})`);
  if (count === 1) return undefined;
  if (options.external?.["run-coordinator"] !== undefined)
    throw new RangeError("coordinators > 1 starts our coordinator: not with an external run-coordinator URL");
  const store = options.store;
  if (typeof store !== "string" || storeKind(store) !== "postgres") {
    const given =
      store === undefined
        ? "none"
        : typeof store !== "string"
          ? "a Store object"
          : storeKind(store) === "memory"
            ? "memory"
            : redactUrl(store);
    throw new RangeError(
      `coordinators: ${count} needs store: "postgres://..." (a URL each replica process opens); a memory store cannot be shared across processes (store: ${given})`,
    );
  }
  return store;
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const host = options.host ?? "127.0.0.1";
  const count = options.coordinators ?? 1;
  const replicaStore = replicatedStore(options, count);
  const separate = options.processes ? (options.processes === true ? {} : options.processes) : undefined;
  if (separate && options.policy !== undefined)
    throw new RangeError(
      "processes: the PDP's policy cannot be handed to a process; start without processes",
    );
  if (separate && typeof options.store === "object")
    throw new RangeError(
      'processes: a Store object cannot be handed to a process; give its URL (store: "postgres://...")',
    );
  const nodeArgs = separate?.nodeArgs ?? [];
  if (options.mcp !== undefined && options.mcp.length > 0) {
    if (separate)
      throw new RangeError("mcp: the atomic executor's MCP servers run in this process; not with processes");
    if (options.external?.["atomic-executor"] !== undefined)
      throw new RangeError(
        "mcp: our atomic executor runs the MCP tools; not with an external atomic-executor URL",
      );
  }
  const urls: Partial<StackUrls> = { ...options.external };
  const closers: (() => Promise<void>)[] = [];
  let issuer: DevTokenIssuer | undefined;
  let viewer: RunningViewer | undefined;
  let balancer: Balancer | undefined;
  const replicas: ReplicaProcess[] = [];
  const children: ReplicaProcess[] = [];
  let closing = false;
  let startReplicaNow: (() => Promise<Replica>) | undefined;
  let mcp: McpBridge | undefined;
  /** Everything started, stopped in reverse (once: a second call finds nothing left). */
  const closeAll = async () => {
    closing = true; // the processes' exits from here on are expected
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    let store: Store | undefined;
    if (typeof options.store === "string") {
      if (replicaStore === undefined && !separate && options.external?.["run-coordinator"] === undefined) {
        // Opened first, closed last (after the coordinator).
        const opened = await openStore(options.store);
        store = opened;
        closers.push(() => opened.close());
      }
    } else {
      store = options.store;
    }
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
        // With MCP servers, the page's picker offers their tools too: the bridge (started below) as
        // it is at each config.json request, since a server's tool list can change.
        ...(options.mcp !== undefined && options.mcp.length > 0
          ? { workflows: () => (mcp ? mcpWorkflows(mcp.nodeTypes()) : []) }
          : {}),
      });
      closers.push(viewer.close);
    }
    if (options.mcp !== undefined && options.mcp.length > 0) {
      // Before the services (a server that is down does not stop the stack: it is retried), closed
      // after them: in-flight node runs end before their MCP servers do.
      const bridge = new McpBridge({
        ...options.mcpLimits,
        servers: options.mcp,
        ...(options.logger ? { logger: options.logger } : {}),
      });
      mcp = bridge;
      closers.push(() => bridge.close());
      await bridge.start();
    }
    const tuning = options.coordinator ?? {};
    /** A service's process, on `port`, told where its peers started so far are. */
    const startChild = async (key: ServiceKey, port: number, extra: readonly string[] = []) => {
      const args = ["--port", String(port), "--host", host, ...extra];
      for (const peer of SERVICE_KEYS) {
        const url = urls[peer];
        if (peer !== key && url !== undefined) args.push(`--${peer}-url`, url);
      }
      if (issuer) args.push("--issuer", issuer.issuer);
      // The viewer's page calls the gateway from the browser: its origin, and no other.
      if (key === "run-gateway" && viewer) args.push("--cors-origin", viewer.origin);
      if (key === "run-coordinator") {
        if (tuning.leaseMs !== undefined) args.push("--lease-ms", String(tuning.leaseMs));
        if (tuning.sweepIntervalMs !== undefined) args.push("--sweep-ms", String(tuning.sweepIntervalMs));
      }
      // The store URL goes in the environment, not the arguments: `ps` shows arguments to anyone.
      const store = replicaStore ?? (typeof options.store === "string" ? options.store : "memory");
      return startReplica({
        service: key,
        args,
        nodeArgs,
        ...(key === "run-coordinator" ? { env: { [STORE_URL_VARIABLE]: store } } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        spawned: (child) => {
          children.push(child);
          if (key === "run-coordinator" && replicaStore !== undefined) replicas.push(child);
          void child.exited.then((code) => {
            if (balancer && replicas.includes(child))
              balancer.setReplicas(balancer.replicas.filter((url) => url !== child.url));
            if (!closing && child.url !== "")
              (options.logger ?? console).warn(
                `${key} ${replicas.includes(child) ? "replica " : "process "}${child.pid} (${child.url}) exited with ${code ?? "a signal"}`,
              );
          });
        },
      });
    };
    if (separate || replicaStore !== undefined) {
      const killAll = () => {
        for (const child of children) child.kill("SIGKILL");
      };
      process.once("exit", killAll); // never leave a child process behind this one
      closers.push(async () => {
        process.off("exit", killAll);
      });
    }
    for (const key of START_ORDER) {
      if (options.external?.[key] !== undefined) continue;
      const port = options.ports?.[key] ?? DEFAULT_PORTS[key];
      if (separate && !(key === "run-coordinator" && replicaStore !== undefined)) {
        const child = await startChild(key, port);
        urls[key] = child.url;
        closers.push(() => child.stop());
        continue;
      }
      if (key === "run-coordinator" && replicaStore !== undefined) {
        const lb = new Balancer(options.logger ? { logger: options.logger } : {});
        balancer = lb;
        const publicUrl = await lb.listen(port, host);
        urls[key] = publicUrl;
        // The balancer goes first (its connections and streams are cut), then the replicas.
        closers.push(async () => {
          closing = true;
          await lb.close();
          await Promise.all(replicas.map((r) => r.stop()));
        });
        startReplicaNow = async () => {
          if (closing) throw new Error("the stack is closing");
          // Its own URL for composite executors is the balancer's.
          const replica = await startChild(key, 0, [`--${key}-url`, publicUrl]);
          if (closing) {
            await replica.stop();
            throw new Error("the stack is closing");
          }
          lb.setReplicas([...lb.replicas, replica.url]);
          return replica;
        };
        await Promise.all(Array.from({ length: count }, () => startReplicaNow!()));
        continue;
      }
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
        ...(mcp ? { mcp } : {}),
        ...(store ? { store } : {}),
        ...(options.policy === undefined ? {} : { policy: options.policy }),
        ...(token ? { token } : {}),
        ...(options.coordinator ? { coordinator: options.coordinator } : {}),
      });
      const running = await service.listen({ port, host });
      urls[key] = running.url;
      closers.push(running.close);
    }
    for (const key of SERVICE_KEYS) if (urls[key] === undefined) throw new Error(`no URL for ${key}`);
    if (mcp) {
      const token = issuer?.tokens("atomic-executor");
      const registry = new NodeRegistryClient({
        baseUrl: urls["node-registry"] as string,
        ...(token ? { bearerToken: () => token("node-registry") } : {}),
      });
      const publisher: RegistryPublisher = mcp.publish(
        registry,
        options.logger ? { logger: options.logger } : {},
      );
      closers.push(async () => publisher.close());
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        publisher.settled().then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), MCP_PUBLISH_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!waited)
        (options.logger ?? console).warn(
          `the MCP tools are not all in the node registry after ${MCP_PUBLISH_WAIT_MS} ms; still trying`,
        );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return {
    urls: urls as StackUrls,
    issuer,
    viewer,
    replicas,
    processes: children,
    balancer,
    mcp,
    addReplica() {
      if (startReplicaNow === undefined)
        return Promise.reject(new Error("addReplica: the stack has no replicas (coordinators is 1)"));
      return startReplicaNow();
    },
    close: closeAll,
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
  /** The coordinator's tuning. */
  coordinator?: CoordinatorTuning;
  /** The atomic executor's MCP tools. */
  mcp?: McpBridge;
}

/** One service of the stack, not yet listening. */
export function createService(key: ServiceKey, parts: ServiceParts) {
  const { peers, server, store, token, policy, coordinator, mcp } = parts;
  switch (key) {
    case "run-gateway":
      return new ReferenceRunGateway({ peers, server });
    case "run-coordinator":
      return new ReferenceRunCoordinator({ peers, server, ...(store ? { store } : {}), ...coordinator });
    case "atomic-executor":
      return new ReferenceAtomicExecutor({ peers, server, ...(mcp ? { mcp } : {}) });
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
