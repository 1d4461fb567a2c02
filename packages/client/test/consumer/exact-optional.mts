// A consumer with `exactOptionalPropertyTypes` (see tsconfig.json): every option accepts an explicit
// `undefined`, as code that forwards its own optional settings passes them.
import {
  type CallOptions,
  type ClientOptions,
  NodeRegistryClient,
  type Run,
  type RunEvent,
  RunGatewayClient,
  type StreamOptions,
} from "@arp/client";

declare const maybe: { signal?: AbortSignal; timeoutMs?: number; token?: string };

const options: ClientOptions = {
  baseUrl: "http://127.0.0.1:8080",
  bearerToken: maybe.token,
  timeoutMs: maybe.timeoutMs,
  retry: { maxAttempts: undefined, baseDelayMs: 100 },
  hooks: undefined,
  streamIdleTimeoutMs: undefined,
  strictWire: undefined,
};
const call: CallOptions = {
  signal: maybe.signal,
  timeoutMs: undefined,
  retry: undefined,
  headers: undefined,
};
const stream: StreamOptions = { ...call, follow: undefined, idleTimeoutMs: maybe.timeoutMs };

export async function consume(): Promise<[Run, RunEvent[]]> {
  const gateway = new RunGatewayClient(options);
  const run = await gateway.getRun("run_1", call);
  const events: RunEvent[] = [];
  for await (const event of gateway.streamRunEvents(run.run_id, stream)) events.push(event);
  await new NodeRegistryClient(options).listNodeTypes({
    q: undefined,
    kind: undefined,
    signal: maybe.signal,
  });
  return [run, events];
}
