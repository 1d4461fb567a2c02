/**
 * The client's size limits against a real loopback server: a JSON response longer than
 * `maxResponseBytes` rejects with ArpProtocolError whether or not it declares its length (an endless
 * body is cut, not buffered), and an error body too long for an envelope still reports its status.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArpApiError, ArpProtocolError, RunGatewayClient } from "../src/index.js";
import { type Loopback, startLoopback, within, write } from "./support/loopback.js";

const RUN = { run_id: "run_1", state: "running", root_node_run_id: "nr_1" };

let server: Loopback;
beforeEach(async () => {
  server = await startLoopback();
});
afterEach(async () => {
  await server.close();
});

const client = (maxResponseBytes?: number) =>
  new RunGatewayClient({
    baseUrl: server.url,
    retry: false,
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });

describe("maxResponseBytes", () => {
  it("a body within the limit is read, declared length or not", async () => {
    server.handle(({ res }) => {
      res.writeHead(200, { "content-type": "application/json" }); // chunked: no content-length
      res.end(JSON.stringify(RUN));
    });
    expect(await client(1_000).getRun("run_1")).toEqual(RUN);
  });

  it("a declared length over the limit rejects before the body is read", async () => {
    const body = JSON.stringify({ ...RUN, run_context: { identity: { pad: "x".repeat(5_000) } } });
    server.handle(({ res }) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
    const error = await client(1_000)
      .getRun("run_1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpProtocolError);
    expect((error as Error).message).toContain("response body exceeds 1000 bytes");
  });

  it("an endless body without a length is cut as soon as it passes the limit", async () => {
    server.handle(async ({ res }) => {
      res.writeHead(200, { "content-type": "application/json" });
      await write(res, '{"run_id":"run_1","pad":"');
      // Endless: the server writes until the client goes away.
      while (!res.destroyed && res.writable) await write(res, "x".repeat(4_096));
    });
    const error = await within(
      client(64 * 1024)
        .getRun("run_1")
        .catch((e: unknown) => e),
      5_000,
      "the client to give up on an endless body",
    );
    expect(error).toBeInstanceOf(ArpProtocolError);
    await within(server.exchanges[0]!.socketClosed, 2_000, "the connection to be closed");
  });

  it("an error body too long for an envelope still gives an ArpApiError with its status", async () => {
    server.handle(({ res }) => {
      res.writeHead(503, { "content-type": "text/html" });
      res.end(`<html>${"x".repeat(200_000)}</html>`);
    });
    const error = await client()
      .getRun("run_1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpApiError);
    expect(error).toMatchObject({ status: 503, code: "http_503" });
  });

  it("must be positive", () => {
    expect(() => client(-1)).toThrow(RangeError);
  });
});
