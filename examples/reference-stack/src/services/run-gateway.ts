/**
 * Run Gateway: the stack's front door, stateless. Every operation is forwarded to the Run
 * Coordinator through `@arp/client`, with the caller's `traceparent` passed on and the caller's
 * identity written into the run's `run_context.identity` (unless the caller gave one); event
 * streams are relayed event by event as they arrive, and end when the coordinator's stream ends.
 * The coordinator's 4xx answers are relayed as they came; its failures are 502s (see relay.ts).
 */
import type * as T from "@arp/model";
import { BaseRunGatewayServer, type RunGatewayRequests, type ServerOptions } from "@arp/server";
import { type Peers, traced } from "../peers.js";
import { relayed } from "../relay.js";

type Req<K extends keyof RunGatewayRequests> = RunGatewayRequests[K];

export interface RunGatewayOptions {
  peers: Peers;
  server?: ServerOptions;
}

const COORDINATOR = "run-coordinator";

export class ReferenceRunGateway extends BaseRunGatewayServer {
  readonly #peers: Peers;

  constructor(options: RunGatewayOptions) {
    super(options.server ?? { auth: { mode: "disabled" } });
    this.#peers = options.peers;
  }

  get #coordinator() {
    return this.#peers.client(COORDINATOR);
  }

  #options(req: { traceparent?: string | undefined; signal: AbortSignal }) {
    return { ...traced(req), signal: req.signal };
  }

  async startRun(req: Req<"startRun">): Promise<T.Run> {
    const subject = req.principal?.sub;
    const context = req.body.run_context;
    const body: T.RunStartRequest =
      subject === undefined || context?.identity !== undefined
        ? req.body
        : { ...req.body, run_context: { ...context, identity: { subject } } };
    try {
      return await this.#coordinator.startRun(body, this.#options(req));
    } catch (error) {
      throw relayed(error, COORDINATOR);
    }
  }

  async getRun(req: Req<"getRun">): Promise<T.Run> {
    try {
      return await this.#coordinator.getRun(req.params.run_id, this.#options(req));
    } catch (error) {
      throw relayed(error, COORDINATOR);
    }
  }

  async cancelRun(req: Req<"cancelRun">): Promise<T.Run> {
    try {
      return await this.#coordinator.cancelRun(req.params.run_id, this.#options(req));
    } catch (error) {
      throw relayed(error, COORDINATOR);
    }
  }

  /**
   * One upstream stream per caller (`follow: false`: no reconnecting behind the caller's back),
   * relayed as it comes. Its first event (every run's log starts with `run_started`) is awaited
   * before the stream is handed over, so an unknown run is the coordinator's 404 envelope rather
   * than an empty stream, however long the coordinator takes to say so.
   */
  override async streamRunEvents(req: Req<"streamRunEvents">): Promise<AsyncIterable<T.RunEvent>> {
    const upstream = this.#coordinator
      .streamRunEvents(req.params.run_id, {
        ...this.#options(req),
        follow: false,
        idleTimeoutMs: Number.POSITIVE_INFINITY,
      })
      [Symbol.asyncIterator]();
    let first: IteratorResult<T.RunEvent>;
    try {
      first = await upstream.next();
    } catch (error) {
      throw relayed(error, COORDINATOR);
    }
    return relay(first, upstream, req.signal);
  }
}

/** `first`, then the rest of `upstream`; a failure of the coordinator's stream relayed as an ARP error. */
async function* relay(
  first: IteratorResult<T.RunEvent>,
  upstream: AsyncIterator<T.RunEvent>,
  signal: AbortSignal,
): AsyncIterable<T.RunEvent> {
  try {
    if (first.done) return;
    yield first.value;
    // `return()` reaches the upstream stream when the caller leaves.
    yield* { [Symbol.asyncIterator]: () => upstream };
  } catch (error) {
    if (signal.aborted) return;
    throw relayed(error, COORDINATOR);
  }
}
