/**
 * Limits and malformed input, on real loopback servers (raw sockets where the HTTP must be broken):
 * JSON nesting depth (raw and Express-parsed bodies), responses that cannot be serialised, UTF-8 and
 * `charset`, a 413 that closes the connection instead of reading the upload, the listen() timeouts
 * as measured, ErrorEnvelopes for what Node's parser rejects (`clientError`, `maxHeaderSize`),
 * client aborts (debug, not error), absolute-form targets and repeated `Authorization` headers.
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import type * as T from "@arp/model";
import express from "express";
import { describe, expect, it, vi } from "vitest";
import { createRouter } from "../src/express.js";
import { type ArpRequest, ArpServerError, type ServerOptions } from "../src/index.js";
import {
  expectEnvelope,
  parseRaw,
  rawExchange,
  recordingLogger,
  request,
  useServers,
} from "./support/http.js";
import { TestNodeRegistry, TestRunGateway, vector } from "./support/services.js";

const servers = useServers();

const nested = (depth: number, leaf = "1") => "[".repeat(depth) + leaf + "]".repeat(depth);

/** A publish request whose node type's `input_schema` (an open map) holds `inner` as raw JSON text. */
const publishText = (inner: string, id = "com.example.deep") =>
  `{"node_type":{"node_type_id":"${id}","version":"1.0.0","kind":"atomic","input_schema":{"x":${inner}}}}`;

const post = (url: string, body: string | Buffer, type = "application/json") =>
  request(url, { method: "POST", body, headers: { "content-type": type } });

async function registry(options: ServerOptions = {}) {
  const logger = recordingLogger();
  const service = new TestNodeRegistry({ logger, ...options });
  const { url } = await servers.listen(service);
  return { url, logger, service };
}

describe("JSON nesting depth (maxJsonDepth)", () => {
  it("a body nested deeper than 64 is refused with 400 before the handler; the endpoint stays healthy", async () => {
    const { url, service } = await registry();
    // 10,000 nested arrays (20 KB): JSON.stringify of it overflows the stack.
    const deep = expectEnvelope(
      await post(`${url}/v1/node-types`, publishText(nested(10_000))),
      400,
      "invalid_request",
    );
    expect(deep.message).toBe("request body nests arrays and objects deeper than 64 levels");
    expect(deep.details).toEqual({ max_depth: 64 });
    expect(service.types.has("com.example.deep@1.0.0")).toBe(false);
    expect((await request(`${url}/v1/node-types`)).status).toBe(200);

    // The limit itself: the wrapper is 3 deep ({ node_type: { input_schema: { x: ... } } }).
    expect((await post(`${url}/v1/node-types`, publishText(nested(61), "com.example.at"))).status).toBe(200);
    expectEnvelope(
      await post(`${url}/v1/node-types`, publishText(nested(62), "com.example.over")),
      400,
      "invalid_request",
    );
    // Brackets inside strings (with escaped quotes) do not count.
    const text = JSON.stringify(`\\"${"[{".repeat(5_000)}`);
    expect((await post(`${url}/v1/node-types`, publishText(text, "com.example.str"))).status).toBe(200);
    expect((await request(`${url}/v1/node-types`)).status).toBe(200);
  });

  it("is configurable, and must be a whole number >= 1", async () => {
    const { url } = await registry({ maxJsonDepth: 4 });
    expect((await post(`${url}/v1/node-types`, publishText(nested(1), "com.example.a"))).status).toBe(200);
    const error = expectEnvelope(
      await post(`${url}/v1/node-types`, publishText(nested(2), "com.example.b")),
      400,
      "invalid_request",
    );
    expect(error.details).toEqual({ max_depth: 4 });
    for (const bad of [0, 1.5, -1, Number.NaN]) {
      expect(() => new TestNodeRegistry({ maxJsonDepth: bad })).toThrow(RangeError);
    }
  });

  it("applies to bodies Express parsed already (express.json() before the router)", async () => {
    const service = new TestNodeRegistry({ logger: recordingLogger() });
    const app = express();
    app.use(express.json());
    app.use(createRouter(service));
    const server = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    servers.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expectEnvelope(await post(`${url}/v1/node-types`, publishText(nested(10_000))), 400, "invalid_request");
    expect((await post(`${url}/v1/node-types`, publishText(nested(61)))).status).toBe(200);
    expect((await request(`${url}/v1/node-types`)).status).toBe(200);
  });
});

describe("responses that cannot be serialised", () => {
  class Unserialisable extends TestRunGateway {
    override getRun(req: ArpRequest<undefined, { run_id: string }>): T.Run | Promise<T.Run> {
      if (req.params.run_id === "deep") {
        let deep: unknown = 1;
        for (let i = 0; i < 10_000; i++) deep = [deep];
        return { ...vector("Run"), extensions: { deep } } as T.Run;
      }
      if (req.params.run_id === "bigint-error") {
        throw new ArpServerError({ status: 409, code: "conflict", message: "x", details: { n: 1n } });
      }
      return super.getRun(req);
    }
  }

  it("answer a 500 envelope for that request alone, logged; other requests are served", async () => {
    const logger = recordingLogger();
    const { url } = await servers.listen(new Unserialisable({ logger, validateResponses: "off" }));
    expectEnvelope(await request(`${url}/v1/runs/deep`), 500, "internal_error");
    expect(logger.errors).toEqual([
      {
        message: "response could not be serialised as JSON",
        data: { method: "GET", url: "/v1/runs/deep", error: expect.stringContaining("call stack") },
      },
    ]);
    // An error envelope that cannot be written (a BigInt in details) is a 500 envelope too, not a cut.
    expectEnvelope(await request(`${url}/v1/runs/bigint-error`), 500, "internal_error");
    expect(logger.errors[1]?.message).toBe("error envelope could not be serialised as JSON");
    expect((await request(`${url}/v1/health`)).status).toBe(200);
  });
});

describe("request body encoding", () => {
  const body = JSON.stringify(vector("NodeTypePublishRequest"));

  it("a declared charset other than UTF-8: 415; utf-8 in any spelling: accepted", async () => {
    const { url } = await registry();
    for (const charset of ["latin1", "iso-8859-1", "utf-16", '"windows-1252"']) {
      const res = await post(`${url}/v1/node-types`, body, `application/json; charset=${charset}`);
      expect(expectEnvelope(res, 415, "unsupported_media_type").message).toContain("UTF-8");
    }
    const types = [
      "application/json; charset=UTF-8",
      'application/json;charset="utf-8"',
      "application/json; charset=utf8",
    ];
    for (const [i, type] of types.entries()) {
      const res = await post(`${url}/v1/node-types`, body.replace("summarize", `summarize${i}`), type);
      expect(res.status, type).toBe(200);
    }
  });

  it("bytes that are not UTF-8: 400 invalid_json (not decoded into U+FFFD)", async () => {
    const { url, service } = await registry();
    const bytes = Buffer.concat([
      Buffer.from(
        '{"node_type":{"node_type_id":"com.example.bad","version":"1.0.0","kind":"atomic","description":"',
      ),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}}'),
    ]);
    const error = expectEnvelope(await post(`${url}/v1/node-types`, bytes), 400, "invalid_json");
    expect(error.message).toBe("request body is not valid UTF-8");
    expect(service.types.has("com.example.bad@1.0.0")).toBe(false);
    // Multi-byte UTF-8 is fine.
    const ok = body.replace("summarize", "résumé-要約");
    expect((await post(`${url}/v1/node-types`, Buffer.from(ok))).status).toBe(200);
  });
});

/**
 * Uploads to `url` on a raw socket: `head`, then 64 KiB chunks (raw or chunked-framed) for as long
 * as the server reads them, up to `cap` bytes. Resolves with what was written and what came back.
 */
function upload(url: string, head: string, chunked: boolean, cap: number) {
  const { hostname, port } = new URL(url);
  return new Promise<{ written: number; text: string }>((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const frame = chunked ? Buffer.concat([Buffer.from("10000\r\n"), chunk, Buffer.from("\r\n")]) : chunk;
    const received: Buffer[] = [];
    let written = 0;
    let done = false;
    const socket = connect(Number(port), hostname);
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ written, text: Buffer.concat(received).toString("utf8") });
    };
    const pump = () => {
      while (!done && written < cap) {
        written += chunk.length;
        if (!socket.write(frame)) return; // wait for 'drain'
      }
      if (written >= cap) finish();
    };
    socket.on("connect", () => {
      socket.write(head);
      pump();
    });
    socket.on("drain", pump);
    socket.on("data", (c: Buffer) => received.push(c));
    socket.on("error", finish);
    socket.on("close", finish);
  });
}

describe("413 closes the connection and stops reading", () => {
  const CAP = 256 * 1024 * 1024;
  const head = (framing: string) =>
    `POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;

  it("a declared 1 GB body: 413 with Connection: close at once, and the upload is cut", async () => {
    const { url } = await servers.listen(new TestRunGateway({ logger: recordingLogger() }));
    const result = await upload(url, head("Content-Length: 1073741824"), false, CAP);
    const res = parseRaw(result.text);
    expectEnvelope(res, 413, "payload_too_large");
    expect(res.headers.connection).toBe("close");
    expect(result.written).toBeLessThan(CAP / 4); // before: read on to the end
  });

  it("an endless chunked upload: 413 with Connection: close once past the limit, and the upload is cut", async () => {
    const { url } = await servers.listen(new TestRunGateway({ logger: recordingLogger() }));
    const result = await upload(url, head("Transfer-Encoding: chunked"), true, CAP);
    const res = parseRaw(result.text);
    expectEnvelope(res, 413, "payload_too_large");
    expect(res.headers.connection).toBe("close");
    expect(result.written).toBeLessThan(CAP / 4); // before: drained until the client stopped
  });
});

describe("listen() timeouts, as measured", () => {
  async function slowServer() {
    const logger = recordingLogger();
    const running = await new TestRunGateway({ logger }).listen({
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      keepAliveTimeoutMs: 200,
    });
    servers.onCleanup(() => running.close({ timeoutMs: 250 }));
    return { ...running, logger };
  }

  it("headers that do not arrive within headersTimeoutMs: 408 envelope, connection closed (not 30 s later)", async () => {
    const { url, server } = await slowServer();
    expect({ headers: server.headersTimeout, request: server.requestTimeout }).toEqual({
      headers: 300,
      request: 600,
    });
    const result = await rawExchange(url, "GET /v1/health HTTP/1.1\r\nHost: x\r\n");
    expectEnvelope(parseRaw(result.text), 408, "request_timeout");
    expect(result.ms).toBeGreaterThanOrEqual(250);
    expect(result.ms).toBeLessThan(3_000);
  });

  it("a body that does not arrive within requestTimeoutMs: 408 envelope, logged at debug only", async () => {
    const { url, logger } = await slowServer();
    const result = await rawExchange(
      url,
      "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    expectEnvelope(parseRaw(result.text), 408, "request_timeout");
    expect(result.ms).toBeGreaterThanOrEqual(550);
    expect(result.ms).toBeLessThan(3_000);
    expect(logger.errors).toEqual([]);
  });

  it("an idle keep-alive connection is closed after keepAliveTimeoutMs (plus Node's 1 s grace)", async () => {
    const { url } = await slowServer();
    const result = await rawExchange(url, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(result.status).toBe(200);
    expect(result.ms).toBeGreaterThanOrEqual(150);
    expect(result.ms).toBeLessThan(3_000);
  });

  it("the defaults stay 20 s / 60 s / 5 s; bad values are a RangeError", async () => {
    const { server } = await servers.listen(new TestRunGateway());
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([
      20_000, 60_000, 5_000,
    ]);
    const gateway = new TestRunGateway();
    await expect(gateway.listen({ headersTimeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(gateway.listen({ requestTimeoutMs: 1.5 })).rejects.toThrow(RangeError);
    await expect(gateway.listen({ maxHeaderSize: 0 })).rejects.toThrow(RangeError);
    await expect(gateway.listen({ headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 })).rejects.toThrow(
      "headersTimeoutMs (2000) must not be longer than requestTimeoutMs (1000)",
    );
  });
});

describe("what Node's HTTP parser rejects is answered with an ErrorEnvelope", () => {
  it("a malformed request: 400 invalid_request, application/json, Connection: close", async () => {
    const logger = recordingLogger();
    const { url } = await servers.listen(new TestRunGateway({ logger }));
    for (const raw of [
      "GET /v1/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
      "G E T / HTTP/1.1\r\n\r\n",
      "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ]) {
      const res = parseRaw((await rawExchange(url, raw)).text);
      expectEnvelope(res, 400, "invalid_request");
      expect(res.headers.connection).toBe("close");
    }
    expect(logger.errors).toEqual([]);
    expect(logger.debugs.map((d) => d.message)).toContain("malformed request answered 400");
  });

  it("headers over 16 KiB: 431 envelope; maxHeaderSize raises the limit", async () => {
    const token = "x".repeat(20 * 1024);
    const raw = `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Token: ${token}\r\nConnection: close\r\n\r\n`;
    const { url } = await servers.listen(new TestRunGateway());
    const error = expectEnvelope(parseRaw((await rawExchange(url, raw)).text), 431, "headers_too_large");
    expect(error.message).toBe("request headers exceed 16384 bytes");

    const running = await new TestRunGateway().listen({ maxHeaderSize: 64 * 1024 });
    servers.onCleanup(() => running.close({ timeoutMs: 250 }));
    expect((await rawExchange(running.url, raw)).status).toBe(200);
  });
});

describe("a client that goes away is not a server error", () => {
  it("an aborted upload is logged at debug (method and path, no query), never as an error", async () => {
    const logger = recordingLogger();
    const { url } = await servers.listen(new TestRunGateway({ logger }));
    const { port } = new URL(url);
    for (let i = 0; i < 3; i++) {
      const socket = connect(Number(port), "127.0.0.1");
      socket.on("error", () => {});
      socket.write(
        "POST /v1/runs?token=secret HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    const gone = () => logger.debugs.filter((d) => d.message === "client went away before the response");
    await vi.waitFor(() => expect(gone()).toHaveLength(3), { timeout: 10_000 });
    expect(gone()[0]).toEqual({
      message: "client went away before the response",
      data: { method: "POST", path: "/v1/runs", reason: "aborted" },
    });
    expect(logger.errors).toEqual([]);
    expect((await request(`${url}/v1/health`)).status).toBe(200);
  });

  it("a handler that stops on req.signal when the client leaves is not logged as a failure", async () => {
    const logger = recordingLogger();
    let started!: () => void;
    const waiting = new Promise<void>((resolve) => {
      started = resolve;
    });
    class Waiting extends TestRunGateway {
      override getRun(req: ArpRequest<undefined, { run_id: string }>): Promise<T.Run> {
        started();
        return new Promise((_, reject) =>
          req.signal.addEventListener("abort", () => reject(req.signal.reason)),
        );
      }
    }
    const { url } = await servers.listen(new Waiting({ logger }));
    const { port } = new URL(url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /v1/runs/run_1 HTTP/1.1\r\nHost: x\r\n\r\n");
    await waiting;
    socket.destroy();
    await vi.waitFor(() => expect(logger.debugs).toHaveLength(1), { timeout: 10_000 });
    expect(logger.debugs[0]?.message).toBe("client went away before the response");
    expect(logger.debugs[0]?.data).toMatchObject({ method: "GET", path: "/v1/runs/run_1" });
    expect(logger.errors).toEqual([]);
  });
});

describe("request targets and headers", () => {
  it("absolute-form targets (RFC 9112 §3.2.2) are served like origin-form ones", async () => {
    const { url } = await registry();
    const get = async (target: string) =>
      parseRaw(
        (await rawExchange(url, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).text,
      );
    expect((await get(`${url}/v1/health`)).status).toBe(200);
    const listed = await get(`HTTP://example.com:8080/v1/node-types?kind=composite`);
    expect(listed.status).toBe(200);
    expect((listed.json() as T.NodeType[]).map((t) => t.kind)).toEqual(["composite"]);
    expectEnvelope(await get("http://example.com"), 404, "not_found");
    expectEnvelope(await get("http://example.com?x=1"), 404, "not_found");
  });

  it("more than one Authorization header: 400 invalid_request", async () => {
    const { url } = await servers.listen(new TestRunGateway());
    const raw =
      "GET /v1/runs/run_1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\nConnection: close\r\n\r\n";
    const res = parseRaw((await rawExchange(url, raw)).text);
    expect(expectEnvelope(res, 400, "invalid_request").message).toBe(
      "the request has more than one Authorization header",
    );
    // One is fine (auth is disabled here: the run is simply not there).
    const one = await request(`${url}/v1/runs/run_1`, { headers: { authorization: "Bearer a" } });
    expectEnvelope(one, 404, "not_found");
  });
});
