/**
 * @arp/client: a typed client per ARP v1 service, over one hand-written core (retries, timeouts,
 * typed errors, NDJSON event streams that end on purpose). Runs in Node.js, browsers, Deno and Bun.
 */

export type { ArpWireErrorCode } from "@arp/model";
export { ArpClientBase, CLIENT_VERSION, type EventStream } from "./core/client.js";
export {
  ArpApiError,
  ArpError,
  type ArpErrorCode,
  type ArpLocalErrorCode,
  ArpProtocolError,
  type ArpRequestInfo,
  ArpTimeoutError,
  ArpTransportError,
  ArpValidationError,
} from "./core/errors.js";
export {
  type BearerToken,
  type CallOptions,
  type ClientHooks,
  type ClientOptions,
  DEFAULT_RETRY_POLICY,
  type HookRequest,
  type RetryOptions,
  type RetryPolicy,
  type StreamOptions,
} from "./core/options.js";
export {
  type AtomicExecutorCallOptions,
  AtomicExecutorClient,
  CLIENTS,
  type CompositeExecutorCallOptions,
  CompositeExecutorClient,
  type NodeRegistryCallOptions,
  NodeRegistryClient,
  type PdpCallOptions,
  PdpClient,
  type RunCoordinatorCallOptions,
  RunCoordinatorClient,
  type RunGatewayCallOptions,
  RunGatewayClient,
  type SelectionCallOptions,
  SelectionClient,
} from "./generated/clients.gen.js";
export type * from "./generated/model-types.gen.js";
export type {
  AtomicExecutorPaths,
  CompositeExecutorPaths,
  NodeRegistryPaths,
  PdpPaths,
  RunCoordinatorPaths,
  RunGatewayPaths,
  SelectionPaths,
} from "./generated/paths.gen.js";
export { createPathClient, type PathClient, type PathClientOptions } from "./path-client.js";
