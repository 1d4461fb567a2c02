/**
 * A fetch handler served on a loopback `node:http` port, the way a fetch host (Bun.serve, Deno.serve)
 * serves one: each request becomes a web `Request` whose `signal` aborts when the client goes away,
 * and the `Response` body is written as it is read, waiting for the socket to drain (backpressure);
 * a body that errors cuts the connection, as a host does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

export type FetchLike = (request: Request) => Promise<Response>;

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
}

async function write(res: ServerResponse, response: Response): Promise<void> {
  const head: string[] = [];
  for (const [name, value] of response.headers) head.push(name, value);
  res.writeHead(response.status, head);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once("close", () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
    res.end();
  } catch {
    res.destroy(); // the body failed: cut, never a clean end
  }
}

/** Serves `handle` on 127.0.0.1, port 0. */
export async function serveFetch(handle: FetchLike): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const departed = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) departed.abort(new Error("client went away"));
    });
    handle(toRequest(req, departed.signal)).then(
      (response) => write(res, response),
      () => res.destroy(), // never expected: the handler does not reject
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
