/**
 * The Host header (RFC 9112 §3.2): an HTTP/1.1 request without one, or with more than one, is a 400
 * `invalid_request` ErrorEnvelope with `Connection: close`, from listen() and from handler() alike
 * (Node's own missing-Host answer, an empty 400, is turned off by listen()). HTTP/1.0 needs none.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { expectEnvelope, parseRaw, rawExchange, useServers } from "./support/http.js";
import { TestRunGateway } from "./support/services.js";

const servers = useServers();

const head = (lines: string[]) => `GET /v1/health HTTP/1.1\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;

describe("the Host header", () => {
  it("listen(): a request without Host is a 400 ErrorEnvelope and the connection is closed", async () => {
    const { url } = await servers.listen(new TestRunGateway());
    const missing = await rawExchange(url, head([]));
    const res = parseRaw(missing.text);
    expect(res.headers.connection).toBe("close");
    expect(expectEnvelope(res, 400, "invalid_request").message).toBe("the request has no Host header");
  });

  it("listen(): two Host headers are a 400 (Node would keep the first)", async () => {
    const { url } = await servers.listen(new TestRunGateway());
    const twice = parseRaw((await rawExchange(url, head(["host: a", "Host: b", "connection: close"]))).text);
    expect(expectEnvelope(twice, 400, "invalid_request").message).toBe(
      "the request has more than one Host header",
    );
  });

  it("one Host, or HTTP/1.0 without one, is served", async () => {
    const { url } = await servers.listen(new TestRunGateway());
    expect((await rawExchange(url, head(["host: a", "connection: close"]))).status).toBe(200);
    const old = await rawExchange(url, "GET /v1/health HTTP/1.0\r\n\r\n");
    expect(Number(old.text.split(" ")[1])).toBe(200);
  });

  it("handler() behind a server that lets a missing Host through answers the same envelope", async () => {
    const server = createServer({ requireHostHeader: false }, new TestRunGateway().handler());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.onCleanup(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expectEnvelope(parseRaw((await rawExchange(url, head([]))).text), 400, "invalid_request");
  });
});
