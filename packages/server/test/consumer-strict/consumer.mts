// A consumer compiled against the built .d.ts files with the strictest flags users turn on
// (`strict`, `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`, `skipLibCheck: false`) and
// `types: []`: the package must bring node:http's types itself, and every option type must accept
// an explicitly undefined property (`{ port: maybePort }`).
import type { Run } from "@arp/model";
import {
  type ArpServerErrorCode,
  type ArpServerErrorExtra,
  type ArpServerErrorInit,
  type AuthOptions,
  BaseRunGatewayServer,
  type CloseOptions,
  type CorsOptions,
  type ListenOptions,
  notFound,
  type RunGatewayRequests,
  type ServerOptions,
  unavailable,
} from "@arp/server";
import { createFetchHandler, type FetchHandler } from "@arp/server/fetch";

/** The keys of T that may be left out. */
type OptionalKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? K : never }[keyof T];
/** T with every optional property present and undefined. */
type ExplicitlyUndefined<T> = { [K in OptionalKeys<T>]-?: undefined } & Omit<T, OptionalKeys<T>>;
/** true when T takes `{ key: undefined }` for each optional key (exactOptionalPropertyTypes). */
type AcceptsUndefined<T> = ExplicitlyUndefined<T> extends T ? true : false;

export const everyOptionType: [
  AcceptsUndefined<ServerOptions>,
  AcceptsUndefined<AuthOptions>,
  AcceptsUndefined<CorsOptions>,
  AcceptsUndefined<ListenOptions>,
  AcceptsUndefined<CloseOptions>,
  AcceptsUndefined<ArpServerErrorInit>,
  AcceptsUndefined<ArpServerErrorExtra>,
] = [true, true, true, true, true, true, true];

// The flags are really on: these would compile without them.
// @ts-expect-error: exactOptionalPropertyTypes rejects undefined for a plain optional property
export const plain: { a?: string } = { a: undefined };
const list: string[] = [];
// @ts-expect-error: noUncheckedIndexedAccess makes an element possibly undefined
export const first: string = list[0];

declare const maybeString: string | undefined;
declare const maybeNumber: number | undefined;
declare const signal: AbortSignal | undefined;

class Gateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, Run>();

  startRun(req: RunGatewayRequests["startRun"]): Run {
    const run: Run = { run_id: req.body.run_id ?? "run_1", state: "queued", root_node_run_id: "nr_1" };
    this.runs.set(run.run_id, run);
    return run;
  }

  getRun(req: RunGatewayRequests["getRun"]): Run {
    const run = this.runs.get(req.params.run_id);
    if (!run) throw notFound(`no run ${req.params.run_id}`, { details: undefined, retryable: undefined });
    return run;
  }

  async cancelRun(req: RunGatewayRequests["cancelRun"]): Promise<Run> {
    if (req.signal.aborted) throw unavailable("going away", { headers: undefined });
    return this.getRun(req);
  }
}

export async function serve(): Promise<void> {
  const options: ServerOptions = {
    serviceName: maybeString,
    serviceVersion: maybeString,
    auth: { mode: "disabled", issuer: maybeString, audience: maybeString, clockSkewSeconds: maybeNumber },
    bodyLimit: maybeNumber,
    streamWriteTimeoutMs: maybeNumber,
    cors: { origins: ["https://app.example.com"], maxAgeSeconds: maybeNumber },
    validateResponses: undefined,
    logger: undefined,
    env: undefined,
  };
  const gateway = new Gateway(options);
  const running = await gateway.listen({ port: maybeNumber, host: maybeString });
  const server = running.server; // a node:http Server, typed without the consumer's @types/node
  server.closeIdleConnections();
  await running.close({ timeoutMs: maybeNumber });
  const code: ArpServerErrorCode = signal?.aborted ? "unavailable" : "a_code_of_my_own";
  void code;
}

/** The fetch entry: a web-standard handler (Request and Response come with the package's types). */
export async function fetchHosted(): Promise<number> {
  const handle: FetchHandler = createFetchHandler(new Gateway({ auth: { mode: "disabled" } }));
  const res: Response = await handle(new Request("http://gateway.local/v1/health"));
  handle.close();
  return res.status;
}
