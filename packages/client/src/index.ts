/**
 * @arp/client: a typed client per ARP v1 service, over one hand-written core (retries, timeouts,
 * typed errors, NDJSON event streams with resume). Runs in Node.js, browsers, Deno and Bun.
 */
export { ArpClientBase, CLIENT_VERSION, type EventStream } from "./core/client.js";
export {
  ArpApiError,
  ArpError,
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
  AtomicExecutorClient,
  CompositeExecutorClient,
  NodeRegistryClient,
  PdpClient,
  RunCoordinatorClient,
  RunGatewayClient,
  SelectionClient,
} from "./generated/clients.gen.js";
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
