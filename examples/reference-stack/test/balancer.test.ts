/** The replicas' balancer (src/balancer.ts) against real loopback HTTP servers: no mocks. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { Balancer, type BalancerOptions } from "../src/balancer.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Upstream {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback server; by default it answers `{ name, body }` as JSON. */
async function upstream(
  name: string,
  handle?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    if (handle) {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: "" });
      handle(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(JSON.stringify({ name, bytes: Buffer.byteLength(body) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { url, seen, close };
}

/** A URL where nothing listens (a port that was just free). */
async function deadUrl(): Promise<string> {
  const dead = await upstream("dead");
  await dead.close();
  return dead.url;
}

async function balancer(replicas: string[], options: BalancerOptions = {}): Promise<Balancer> {
  const b = new Balancer({ replicas, ...options });
  await b.listen(0);
  cleanups.push(() => b.close());
  return b;
}

async function getName(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return ((await res.json()) as { name: string }).name;
}

/** A raw request through node:http (full control of the body and of the connection). */
function request(
  url: string,
  options: http.RequestOptions & { body?: Buffer | string; chunks?: number },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { ...options, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body !== undefined && options.chunks) {
      const size = Math.ceil(body.length / options.chunks);
      for (let i = 0; i < body.length; i += size) req.write(body.subarray(i, i + size));
      req.end();
    } else {
      req.end(body);
    }
  });
}

describe("Balancer", () => {
  it("sends each request to the next replica, round robin, and counts them per replica", async () => {
    const [a, b, c] = await Promise.all([upstream("a"), upstream("b"), upstream("c")]);
    const lb = await balancer([a.url, b.url, `${c.url}/`]);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(await getName(`${lb.url}/v1/health`));
    expect(names).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(lb.stats.replicas).toEqual({
      [a.url]: { requests: 2, refused: 0 },
      [b.url]: { requests: 2, refused: 0 },
      [c.url]: { requests: 2, refused: 0 },
    });
    expect(a.seen.map((s) => `${s.method} ${s.url}`)).toEqual(["GET /v1/health", "GET /v1/health"]);
  });

  it("passes the body and end-to-end headers on, drops hop-by-hop ones, adds X-Forwarded-*", async () => {
    const a = await upstream("a");
    const lb = await balancer([a.url]);
    const res = await request(`${lb.url}/v1/runs?x=1`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer t",
        connection: "keep-alive, x-hop",
        "x-hop": "secret",
        "keep-alive": "timeout=5",
        te: "trailers",
        "x-forwarded-for": "10.0.0.1",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.headers["x-upstream"]).toBe("a");
    const seen = a.seen[0]!;
    expect(seen).toMatchObject({ method: "POST", url: "/v1/runs?x=1", body: '{"a":1}' });
    expect(seen.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": "7",
      authorization: "Bearer t",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "x-forwarded-for": "10.0.0.1, 127.0.0.1",
      "x-forwarded-host": lb.url.slice("http://".length),
      "x-forwarded-proto": "http",
      host: a.url.slice("http://".length),
    });
    expect(seen.headers["x-hop"]).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers["keep-alive"]).toBeUndefined();
  });

  it("skips a replica that refuses the connection, avoids it for downMs, then tries it again", async () => {
    const dead = await deadUrl();
    const a = await upstream("a");
    // The balancer reads downMs off Date: frozen, so that a loaded machine's slow requests cannot
    // outlast it; moved on by hand below.
    vi.useFakeTimers({ toFake: ["Date"] });
    onTestFinished(() => void vi.useRealTimers());
    const lb = await balancer([dead, a.url], { downMs: 300 });
    // The first request tries the dead one (refused), then a; the next ones go straight to a.
    const posts = [];
    for (let i = 0; i < 4; i++) {
      posts.push(await request(`${lb.url}/v1/runs`, { method: "POST", body: `{"i":${i}}` }));
    }
    expect(posts.map((p) => [p.status, JSON.parse(p.body).name])).toEqual([
      [200, "a"],
      [200, "a"],
      [200, "a"],
      [200, "a"],
    ]);
    expect(a.seen.map((s) => s.body)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}', '{"i":3}']);
    expect(lb.stats.replicas[dead]).toEqual({ requests: 0, refused: 1 });
    vi.setSystemTime(Date.now() + 350);
    expect(await getName(lb.url)).toBe("a");
    expect(await getName(lb.url)).toBe("a");
    expect(lb.stats.replicas[dead]).toEqual({ requests: 0, refused: 2 }); // tried once more, once
  });

  it("no replica reachable, or none configured: 502 upstream_unavailable, retryable", async () => {
    const lb = await balancer([await deadUrl(), await deadUrl()]);
    const res = await request(`${lb.url}/v1/runs`, { method: "POST", body: "{}" });
    expect(res.status).toBe(502);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: "upstream_unavailable",
        message: "no replica could be reached (2 tried)",
        retryable: true,
      },
    });
    // Both are down now, and still tried (one may be back): the same answer, not a hang.
    expect((await request(lb.url, { method: "GET" })).status).toBe(502);
    lb.setReplicas([]);
    const none = await request(lb.url, { method: "GET" });
    expect(JSON.parse(none.body)).toEqual({
      error: {
        code: "upstream_unavailable",
        message: "no replica is configured behind the balancer",
        retryable: true,
      },
    });
    expect(lb.stats.failed).toBe(3);
  });

  it("replicas change at run time (setReplicas); a down one that is set again keeps its mark", async () => {
    const [a, b] = await Promise.all([upstream("a"), upstream("b")]);
    const lb = await balancer([a.url]);
    expect(await getName(lb.url)).toBe("a");
    lb.setReplicas([b.url]);
    expect(lb.replicas).toEqual([b.url]);
    expect([await getName(lb.url), await getName(lb.url)]).toEqual(["b", "b"]);
    lb.setReplicas([a.url, b.url]);
    expect((await Promise.all([getName(lb.url), getName(lb.url)])).sort()).toEqual(["a", "b"]);
    expect(() => lb.setReplicas(["https://x"])).toThrow(/http:\/\//);
  });

  it("a request body over maxBodyBytes is 413 payload_too_large (declared or chunked); at the limit it goes through", async () => {
    const a = await upstream("a");
    const lb = await balancer([a.url], { maxBodyBytes: 1000 });
    const envelope = {
      error: { code: "payload_too_large", message: "request body exceeds 1000 bytes" },
    };
    const declared = await request(lb.url, { method: "POST", body: "x".repeat(1001) });
    expect([declared.status, declared.headers.connection, JSON.parse(declared.body)]).toEqual([
      413,
      "close",
      envelope,
    ]);
    const chunked = await request(lb.url, {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body: "x".repeat(1001),
      chunks: 4,
    });
    expect([chunked.status, JSON.parse(chunked.body)]).toEqual([413, envelope]);
    const atLimit = await request(lb.url, {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body: "x".repeat(1000),
      chunks: 4,
    });
    expect([atLimit.status, JSON.parse(atLimit.body)]).toEqual([200, { name: "a", bytes: 1000 }]);
    expect(a.seen).toHaveLength(1);
    expect(lb.stats.tooLarge).toBe(2);
  });

  it("streams NDJSON through as it comes: the client reads a line before the next is written", async () => {
    let next: (() => void) | undefined;
    const a = await upstream("a", (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      let n = 0;
      next = () => {
        n += 1;
        if (n <= 3) res.write(`${JSON.stringify({ seq: n })}\n`);
        else res.end();
      };
      next();
    });
    const lb = await balancer([a.url]);
    const res = await fetch(`${lb.url}/v1/runs/r/events`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const lines: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lines.push(value);
      next!(); // the next line exists only once this one has arrived
    }
    expect(lines).toEqual(['{"seq":1}\n', '{"seq":2}\n', '{"seq":3}\n']);
  });

  it("closes a kept-alive connection to a replica after upstreamIdleMs idle, but not a quiet stream", async () => {
    const sockets = new Set<unknown>();
    let closedAfter: number | undefined;
    const a = await upstream("a", (req, res) => {
      sockets.add(req.socket);
      if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.write('{"seq":0}\n');
        setTimeout(() => res.end('{"seq":1}\n'), 600); // quiet for 3 times upstreamIdleMs
        return;
      }
      res.end("{}", () => {
        const answered = Date.now();
        req.socket.once("close", () => {
          closedAfter = Date.now() - answered;
        });
      });
    });
    const lb = await balancer([a.url], { upstreamIdleMs: 200 });
    const stream = await request(`${lb.url}/stream`, { method: "GET" });
    expect(stream.body).toBe('{"seq":0}\n{"seq":1}\n');
    expect((await request(`${lb.url}/x`, { method: "GET" })).status).toBe(200);
    expect(sockets.size).toBe(1); // the stream's connection, kept and reused
    await expect.poll(() => closedAfter, { timeout: 4_000 }).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(150);
    expect(closedAfter).toBeLessThan(4_000); // before the server's own 5 s
  });

  it("backpressure: a client that does not read stalls the replica's writes", async () => {
    const CHUNK = Buffer.alloc(1024 * 1024, 120);
    const TOTAL = 512; // MiB the replica would write if nothing held it back
    let written = 0;
    let upstreamClosed: Promise<void> | undefined;
    const a = await upstream("a", (_req, res) => {
      upstreamClosed = new Promise((resolve) => res.once("close", () => resolve()));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const pump = () => {
        while (written < TOTAL) {
          written += 1;
          if (!res.write(CHUNK)) return;
        }
        res.end();
      };
      res.on("drain", pump);
      pump();
    });
    const lb = await balancer([a.url]);
    const req = http.get(lb.url, { agent: false });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once("response", resolve));
    res.pause();
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Socket buffers on two hops hold some MiB; without backpressure it would all have been written.
    expect(written).toBeLessThan(32); // about 9 MiB measured; without backpressure, 77 in these 400 ms
    req.destroy();
    await upstreamClosed; // and the client's leaving reached the replica
    expect(written).toBeLessThan(TOTAL);
  });

  it("a client that goes away destroys the upstream request", async () => {
    let closed: (() => void) | undefined;
    const upstreamClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const a = await upstream("a", (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"seq":0}\n'); // and never ends
      res.once("close", () => closed!());
    });
    const lb = await balancer([a.url]);
    const controller = new AbortController();
    const res = await fetch(`${lb.url}/v1/runs/r/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await upstreamClosed;
  });

  it("an upstream connection that breaks mid-response destroys the client's response (no clean end)", async () => {
    const a = await upstream("a", (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"seq":0}\n', () => setTimeout(() => res.socket!.destroy(), 50));
    });
    const lb = await balancer([a.url]);
    const outcome = await new Promise<{ data: string; ended: string }>((resolve) => {
      http.get(`${lb.url}/v1/runs/r/events`, { agent: false }, (res) => {
        let data = "";
        res.on("data", (c: Buffer) => {
          data += c.toString();
        });
        res.on("end", () => resolve({ data, ended: "end" }));
        res.on("error", (e) => resolve({ data, ended: `error ${e.message}` }));
      });
    });
    expect(outcome).toEqual({ data: '{"seq":0}\n', ended: "error aborted" });
  });

  it("a connection broken before an answer: a GET goes to the next replica, a POST is 502 upstream_error", async () => {
    const breaker = await upstream("breaker", (req) => req.socket.destroy());
    const b = await upstream("b");
    const lb = await balancer([breaker.url, b.url]);
    expect(await getName(lb.url)).toBe("b"); // tried the breaker first, then b
    expect(breaker.seen).toHaveLength(1);
    expect(await getName(lb.url)).toBe("b"); // b's turn
    const post = await request(lb.url, { method: "POST", body: "{}" }); // the breaker's turn
    expect(post.status).toBe(502);
    expect(JSON.parse(post.body)).toEqual({
      error: {
        code: "upstream_error",
        message: "the replica's connection broke before it answered; the request may have been applied",
        retryable: true,
      },
    });
    expect(b.seen.map((s) => s.method)).toEqual(["GET", "GET"]);
  });
});
