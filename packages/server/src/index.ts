/**
 * @arp/server: abstract base classes for the seven ARP v1 services, over one hand-written core that
 * routes, authenticates (JWT bearer), validates, answers ARP error envelopes and streams NDJSON.
 * Express integration: `@arp/server/express`.
 */
export {
  AuthConfigError,
  type AuthMode,
  type AuthOptions,
  type AuthProfile,
} from "./core/auth/settings.js";
export type { Principal } from "./core/auth/verify.js";
export type { ResponseValidation } from "./core/checks.js";
export type { CorsOptions } from "./core/cors.js";
export {
  ArpServerError,
  type ArpServerErrorCode,
  type ArpServerErrorExtra,
  type ArpServerErrorInit,
  badRequest,
  conflict,
  forbidden,
  notFound,
  notImplemented,
  unauthorized,
  unavailable,
} from "./core/errors.js";
export type { Logger } from "./core/logger.js";
export { type ArpRequest, getPrincipal } from "./core/request.js";
export {
  ArpServerBase,
  type CloseOptions,
  type ListenOptions,
  type RunningServer,
  type ServerOptions,
} from "./core/server.js";
export {
  type AtomicExecutorRequests,
  BaseAtomicExecutorServer,
  BaseCompositeExecutorServer,
  BaseNodeRegistryServer,
  BasePdpServer,
  BaseRunCoordinatorServer,
  BaseRunGatewayServer,
  BaseSelectionServer,
  type CompositeExecutorRequests,
  type NodeRegistryRequests,
  type PdpRequests,
  type RunCoordinatorRequests,
  type RunGatewayRequests,
  type SelectionRequests,
} from "./generated/servers.gen.js";
