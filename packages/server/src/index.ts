/**
 * @arp/server: abstract base classes for the seven ARP v1 services, over one hand-written core that
 * routes, authenticates (JWT bearer), validates, answers ARP error envelopes and streams NDJSON.
 * Express integration: `@arp/server/express`.
 */
export {
  AuthConfigError,
  type AuthMode,
  type AuthOptions,
  type Principal,
} from "./core/auth.js";
export {
  ArpServerError,
  type ArpServerErrorInit,
  badRequest,
  conflict,
  forbidden,
  notFound,
  notImplemented,
  unauthorized,
  unavailable,
} from "./core/errors.js";
export {
  type ArpRequest,
  ArpServerBase,
  type CorsOptions,
  getPrincipal,
  type ListenOptions,
  type Logger,
  type RunningServer,
  type ServerOptions,
} from "./core/server.js";
export {
  BaseAtomicExecutorServer,
  BaseCompositeExecutorServer,
  BaseNodeRegistryServer,
  BasePdpServer,
  BaseRunCoordinatorServer,
  BaseRunGatewayServer,
  BaseSelectionServer,
} from "./generated/servers.gen.js";
