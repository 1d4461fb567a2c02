/**
 * A small round-robin HTTP reverse proxy in front of the run coordinator's replicas, standing in
 * for the load balancer or Kubernetes Service a deployment would have: the gateway and the
 * composite executors (which get its URL as `coordinator_endpoint`) call it, and each call reaches
 * one replica. node:http only; HTTP/1.1 on both sides, `http://` replicas only.
 *
 * What it does, and its limits:
 *
 * - **Round robin.** Each request goes to the next replica in the list that is not marked down (a
 *   cursor that moves past the one chosen). A replica that refused a connection is marked down for
 *   `downMs` (default {@link DEFAULT_DOWN_MS}, 2 s) and skipped meanwhile, unless every replica is
 *   down, when the down ones are tried too (one may be back). A replica that answers is up again.
 * - **Request bodies are buffered**, at most `maxBodyBytes` (default {@link DEFAULT_MAX_BODY_BYTES},
 *   1 MiB, the `@arp/server` default body limit): a larger one, by `content-length` before reading
 *   or once the bytes read pass it, is answered 413 `payload_too_large` (an ARP error envelope, with
 *   `Connection: close`; the rest of the upload is not read). Buffering is what lets a request be
 *   sent again: a replica that never got it (connection refused, or not accepted within
 *   `connectTimeoutMs`, default {@link DEFAULT_CONNECT_TIMEOUT_MS}, 5 s) is skipped and the next one
 *   tried, each replica once. A request that may have reached a replica is never sent to another (it
 *   may have been applied), except `GET`, `HEAD` and `OPTIONS`, which are tried on the next replica
 *   too when the connection breaks before an answer; a `POST` whose connection broke before an
 *   answer is a 502 `upstream_error`: the balancer cannot know whether it was applied, so it does
 *   not send it again itself, but says `retryable: true`: whether a repeat is safe is the caller's
 *   to judge (an ARP client repeats only what its operation table calls idempotent, such as a
 *   `createNodeRuns` whose items carry idempotency keys). That includes a kept-alive connection the replica closed just as the request was
 *   written on it, which the balancer makes unlikely by closing idle connections first (below).
 * - **Nobody to send it to**: no replica configured, or every one tried unreachable, is a 502
 *   `upstream_unavailable` with `retryable: true`.
 * - **Responses are piped through unbuffered**, with backpressure (a slow client slows the reading
 *   from the replica), so NDJSON event streams flow event by event; there is no response timeout, since
 *   a stream lasts as long as its run. A client that goes away destroys the upstream request (the
 *   replica sees its stream's client leave); an upstream connection that breaks mid-response destroys
 *   the client's response (the client sees a broken stream, not a clean end, and resumes: through the
 *   balancer, to another replica). Response trailers are dropped.
 * - **Headers**: the hop-by-hop ones (`Connection`, the ones it names, `Keep-Alive`, `Proxy-*`, `TE`,
 *   `Trailer`, `Transfer-Encoding`, `Upgrade`) and `Expect` (the body is already here) are not passed
 *   on, either way; `X-Forwarded-For` gets the client's address appended, `X-Forwarded-Host` and
 *   `X-Forwarded-Proto` are set, `Host` is the replica's. No protocol upgrades (WebSocket), no
 *   HTTP/2, no TLS.
 * - Connections to the replicas are kept alive and reused (a `node:http` Agent, no cap on sockets),
 *   and closed after `upstreamIdleMs` idle (default {@link DEFAULT_UPSTREAM_IDLE_MS}, 2 s: before the
 *   replica's own 5 s would close them).
 *   Node's server defaults bound the client side (headers within 60 s, the whole request within
 *   300 s); there is no cap on connections or requests at once.
 * - {@link Balancer.stats} counts, per replica URL ever configured, the requests it answered and the
 *   connections it refused (the map keeps every URL ever given to {@link Balancer.setReplicas}).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream";
import { ArpServerError, type Logger } from "@arp/server";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_DOWN_MS = 2_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_UPSTREAM_IDLE_MS = 2_000;
/** Connections the kernel may queue before they are accepted: the services' own (`listen({ backlog })`). */
export const LISTEN_BACKLOG = 4_096;

export interface BalancerOptions {
  /** The replicas' base URLs (`http://host:port`, maybe with a path prefix). Default none. */
  replicas?: readonly string[];
  /** The largest request body buffered. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** How long a replica that refused a connection is skipped. Default {@link DEFAULT_DOWN_MS}. */
  downMs?: number;
  /** How long a connection to a replica may take to open. Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
  /**
   * How long a kept-alive connection to a replica may stay idle before the balancer closes it. Default
   * {@link DEFAULT_UPSTREAM_IDLE_MS}: under the 5 s after which a Node server (`@arp/server`) closes
   * one, so that the replica does not close a connection just as a request is written on it.
   */
  upstreamIdleMs?: number;
  /** Told when a replica is marked down and when a request fails at a replica. Default: nobody. */
  logger?: Logger;
}

export interface ReplicaStats {
  /** Requests it answered (a response started). */
  requests: number;
  /** Connections it refused (or that timed out opening). */
  refused: number;
}

export interface BalancerStats {
  /** By replica URL, as given to `setReplicas` (without a trailing slash). */
  replicas: Record<string, ReplicaStats>;
  /** 502s answered: no replica could be reached, or one broke the connection before answering. */
  failed: number;
  /** 413s answered. */
  tooLarge: number;
}

interface Replica {
  readonly url: string;
  readonly base: URL;
  downUntil: number;
}

/** Hop-by-hop headers (RFC 9110 7.6.1), and `expect`, which the buffering has answered. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

/** Errors that mean the request never reached the replica: it can go to another one. */
const NOT_SENT = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const CONNECT_TIMEOUT = "ARP_BALANCER_CONNECT_TIMEOUT";
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS"]);

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ""),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function envelope(res: http.ServerResponse, error: ArpServerError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toEnvelope());
  res.writeHead(error.status, {
    ...error.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a whole number >= 0 (got ${v})`);
  return v;
}

export class Balancer {
  readonly #maxBodyBytes: number;
  readonly #downMs: number;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #server: http.Server;
  readonly #agent: http.Agent;
  readonly #stats: BalancerStats = { replicas: {}, failed: 0, tooLarge: 0 };
  #replicas: Replica[] = [];
  #cursor = 0;
  #url: string | undefined;

  constructor(options: BalancerOptions = {}) {
    this.#maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    this.#downMs = positive("downMs", options.downMs, DEFAULT_DOWN_MS);
    this.#connectTimeoutMs = positive(
      "connectTimeoutMs",
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
    );
    this.#logger = options.logger;
    // The Agent's `timeout` closes its free sockets once idle that long (and lets a replica's shorter
    // `Keep-Alive: timeout=` hint win); on a socket in use it only emits 'timeout', which nobody
    // handles here: a quiet stream stays open.
    this.#agent = new http.Agent({
      keepAlive: true,
      scheduling: "lifo",
      timeout: positive("upstreamIdleMs", options.upstreamIdleMs, DEFAULT_UPSTREAM_IDLE_MS),
    });
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.setReplicas(options.replicas ?? []);
  }

  /**
   * Replaces the replicas (requests in flight finish where they are). A URL kept from the previous
   * list keeps its down mark. Throws on a URL that is not `http://`.
   */
  setReplicas(urls: readonly string[]): void {
    const previous = new Map(this.#replicas.map((r) => [r.url, r]));
    const next: Replica[] = [];
    for (const raw of urls) {
      const url = raw.replace(/\/+$/, "");
      const base = new URL(url);
      if (base.protocol !== "http:") throw new RangeError(`a replica URL must be http:// (got ${raw})`);
      next.push(previous.get(url) ?? { url, base, downUntil: 0 });
      this.#stats.replicas[url] ??= { requests: 0, refused: 0 };
    }
    this.#replicas = next;
  }

  /** The replicas' URLs, in round-robin order. */
  get replicas(): readonly string[] {
    return this.#replicas.map((r) => r.url);
  }

  /** A copy of the counters (see {@link BalancerStats}). */
  get stats(): BalancerStats {
    return structuredClone(this.#stats);
  }

  /** `http://host:port`, once listening. */
  get url(): string {
    if (this.#url === undefined) throw new Error("the balancer is not listening");
    return this.#url;
  }

  /** Listens (port 0: any free port); resolves with its URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    return this.#url;
  }

  /** Stops listening and cuts every connection (open streams included); upstream requests are destroyed. */
  async close(): Promise<void> {
    if (!this.#server.listening) {
      this.#agent.destroy();
      return;
    }
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
    this.#agent.destroy();
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const limit = this.#maxBodyBytes;
    const tooLarge = () => {
      this.#stats.tooLarge += 1;
      req.pause(); // not read on: the 413 closes the connection
      envelope(
        res,
        new ArpServerError({
          status: 413,
          code: "payload_too_large",
          message: `request body exceeds ${limit} bytes`,
          headers: { connection: "close" },
        }),
      );
    };
    if (Number(req.headers["content-length"]) > limit) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        tooLarge();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const hadBody =
        req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
      this.#forward(req, res, hadBody ? body : undefined);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", () => undefined); // the client went away while sending: res closes, nothing to do
  }

  /** The replicas to try, in order: the next up one first (the cursor moves past it), then the others. */
  #candidates(): Replica[] {
    const list = this.#replicas;
    const n = list.length;
    if (n === 0) return [];
    const now = Date.now();
    let start = this.#cursor % n;
    for (let k = 0; k < n; k++) {
      const i = (this.#cursor + k) % n;
      if (list[i]!.downUntil <= now) {
        start = i;
        break;
      }
    }
    this.#cursor = (start + 1) % n;
    const rotated = [...list.slice(start), ...list.slice(0, start)];
    return [...rotated.filter((r) => r.downUntil <= now), ...rotated.filter((r) => r.downUntil > now)];
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | undefined): void {
    const headers = withoutHopByHop(req.headers);
    delete headers.host;
    const client = req.socket.remoteAddress ?? "unknown";
    const prior = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = prior
      ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${client}`
      : client;
    if (req.headers.host !== undefined) headers["x-forwarded-host"] = req.headers.host;
    headers["x-forwarded-proto"] = "http";
    if (body !== undefined) headers["content-length"] = body.length;

    const candidates = this.#candidates();
    let upstream: http.ClientRequest | undefined;
    let gone = false;
    res.once("close", () => {
      if (res.writableFinished) return;
      gone = true; // the client went away: so does the upstream request
      upstream?.destroy();
    });

    const attempt = (index: number, tried: number): void => {
      if (gone) return;
      const replica = candidates[index];
      if (replica === undefined) {
        this.#stats.failed += 1;
        envelope(
          res,
          new ArpServerError({
            status: 502,
            code: "upstream_unavailable",
            message:
              tried === 0
                ? "no replica is configured behind the balancer"
                : `no replica could be reached (${tried} tried)`,
            retryable: true,
          }),
        );
        return;
      }
      const stats = this.#stats.replicas[replica.url]!;
      let responded = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const request = http.request({
        protocol: "http:",
        hostname: replica.base.hostname.replace(/^\[|\]$/g, ""),
        port: replica.base.port || 80,
        method: req.method,
        path: `${replica.base.pathname.replace(/\/+$/, "")}${req.url ?? "/"}`,
        headers: { ...headers, host: replica.base.host },
        agent: this.#agent,
      });
      upstream = request;
      request.once("socket", (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          request.destroy(Object.assign(new Error("connect timeout"), { code: CONNECT_TIMEOUT }));
        }, this.#connectTimeoutMs);
        socket.once("connect", () => clearTimeout(connectTimer));
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (responded || gone) return; // the response's pipeline handles its own end
        const code = error.code ?? "";
        const refused = NOT_SENT.has(code) || code === CONNECT_TIMEOUT;
        if (refused) {
          stats.refused += 1;
          if (replica.downUntil <= Date.now())
            this.#logger?.warn("balancer: replica down", {
              replica: replica.url,
              code,
              down_ms: this.#downMs,
            });
          replica.downUntil = Date.now() + this.#downMs;
        }
        if (refused || IDEMPOTENT.has(req.method ?? "")) {
          attempt(index + 1, tried + 1);
          return;
        }
        this.#stats.failed += 1;
        this.#logger?.warn("balancer: replica broke the connection before answering", {
          replica: replica.url,
          method: req.method,
          url: req.url,
          code,
        });
        envelope(
          res,
          new ArpServerError({
            status: 502,
            code: "upstream_error",
            message: "the replica's connection broke before it answered; the request may have been applied",
            // The caller knows whether a repeat is safe (its idempotency keys); the balancer does not.
            retryable: true,
          }),
        );
      });
      request.on("response", (upstreamRes) => {
        clearTimeout(connectTimer);
        responded = true;
        replica.downUntil = 0;
        stats.requests += 1;
        if (gone) {
          upstreamRes.destroy();
          return;
        }
        res.writeHead(
          upstreamRes.statusCode ?? 502,
          upstreamRes.statusMessage,
          withoutHopByHop(upstreamRes.headers),
        );
        // Backpressure both ways; an error on either side destroys both (the client's response
        // is cut, not ended: a broken stream must look broken).
        pipeline(upstreamRes, res, (error) => {
          if (error) {
            request.destroy();
            res.destroy();
          }
        });
      });
      request.end(body);
    };
    attempt(0, 0);
  }
}
