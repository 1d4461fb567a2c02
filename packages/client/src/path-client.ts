/**
 * The low-level, path-typed client for power users: openapi-fetch over the generated `paths` types,
 * whose bodies are the `@arp/model` types. It returns `{ data, error, response }` and never throws
 * for HTTP errors; it does no validation, retries or NDJSON parsing (use the service clients for that).
 */
import createClient, { type Client, type ClientOptions as FetchClientOptions } from "openapi-fetch";

/**
 * Creates a path-typed client for one service:
 * `createPathClient<RunGatewayPaths>({ baseUrl }).POST("/v1/runs", { body })`.
 */
export function createPathClient<Paths extends {}>(options: FetchClientOptions): Client<Paths> {
  return createClient<Paths>(options);
}

export type { Client as PathClient, FetchClientOptions as PathClientOptions };
