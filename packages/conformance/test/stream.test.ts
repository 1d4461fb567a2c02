/**
 * probeStream: bounded reads of NDJSON streams from raw `node:http` servers (end, deadline, bounds,
 * broken bodies, no answer), the request it sends, and that every way it stops closes the
 * connection; then a correct gateway's run stream, read and judged with runEventProblems.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SERVICES } from "@arp/model";
import { afterEach, describe, expect, it } from "vitest";
import { TestRunGateway, vector } from "../../server/test/support/services.js";
import { pathFor } from "../src/check/calls.js";
import { runEventProblems } from "../src/check/events.js";
import { MAX_STREAM_LINES, probeStream } from "../src/check/stream.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

interface Served {
  url: string;
  /** Resolves when the server sees the client's connection close. */
  closed: Promise<void>;
  headers: Promise<IncomingMessage["headers"]>;
}

/** A server whose one handler writes what `write` writes (and may leave the response open). */
async function serve(write: (res: ServerResponse) => void): Promise<Served> {
  let closed!: () => void;
  let seen!: (h: IncomingMessage["headers"]) => void;
  const result = {
    closed: new Promise<void>((r) => {
      closed = r;
    }),
    headers: new Promise<IncomingMessage["headers"]>((r) => {
      seen = r;
    }),
  };
  const server = createServer((req, res) => {
    seen(req.headers);
    req.socket.on("close", () => closed());
    write(res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/runs/r/events`, ...result };
}

const NDJSON = { "content-type": "application/x-ndjson" };

describe("probeStream", () => {
  it("reads every line until the body ends, a last line without a newline included", async () => {
    const s = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.write('{"a":1}\n{"b"');
      res.end(':2}\r\n\n"quoted"');
    });
    const read = await probeStream({ url: s.url }, { timeoutMs: 2_000 });
    expect(read.ended).toBe("eof");
    expect(read.lines).toEqual(['{"a":1}', '{"b":2}\r', "", '"quoted"']);
    expect(read.mediaType).toBe("application/x-ndjson");
    expect(read.exchange.response).toMatchObject({ status: 200, body_truncated: false });
    expect(read.exchange.error).toBeNull();
  });

  it("asks for NDJSON, sends the options' headers, lets the request remove one, and redacts", async () => {
    const s = await serve((res) => res.writeHead(200, NDJSON).end());
    const read = await probeStream(
      { url: s.url, headers: { authorization: null, "X-Extra": "1" } },
      { headers: { Authorization: "Bearer secret", "X-Tenant": "acme" }, timeoutMs: 2_000 },
    );
    const headers = await s.headers;
    expect(headers.accept).toBe("application/x-ndjson");
    expect(headers).toMatchObject({ "x-tenant": "acme", "x-extra": "1" });
    expect(headers.authorization).toBeUndefined();
    expect(read.exchange.request).toMatchObject({ method: "GET", url: s.url, body: null });
    const again = await probeStream(
      { url: s.url },
      { headers: { Authorization: "Bearer secret" }, timeoutMs: 2_000 },
    );
    expect(again.exchange.request.headers.Authorization).toBe("<redacted>");
  });

  it("stops at the deadline with the complete lines so far, and closes the connection", async () => {
    const s = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.write('{"seq":0}\n{"seq":1}\n{"partial"'); // and never ends
    });
    const t0 = performance.now();
    const read = await probeStream({ url: s.url }, { timeoutMs: 1_000 });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(read.ended).toBe("deadline");
    expect(read.lines).toEqual(['{"seq":0}', '{"seq":1}']);
    expect(read.exchange.error).toBe("stream still open after 1 s");
    expect(read.exchange.response?.body_truncated).toBe(true);
    await s.closed;
  });

  it("stops at the line bound and the byte bound, and closes the connection", async () => {
    const lines = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.write("{}\n".repeat(10)); // and never ends
    });
    const byLines = await probeStream({ url: lines.url }, { timeoutMs: 5_000, maxLines: 4 });
    expect(byLines).toMatchObject({ ended: "limit", lines: ["{}", "{}", "{}", "{}"] });
    expect(byLines.exchange.error).toBe("stream longer than 4 lines: read that many");
    await lines.closed;

    const bytes = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.write(`${"x".repeat(100)}\n${"y".repeat(100)}\n`);
    });
    const byBytes = await probeStream({ url: bytes.url }, { timeoutMs: 5_000, maxBytes: 150 });
    expect(byBytes).toMatchObject({ ended: "limit", lines: ["x".repeat(100)] });
    expect(byBytes.text).toHaveLength(150);
    expect(byBytes.exchange.error).toBe("stream longer than 150 bytes: read that much");
    await bytes.closed;
    expect(MAX_STREAM_LINES).toBeGreaterThan(1000);
  });

  it("a body that is not UTF-8, or a stream cut mid-way, ends with error", async () => {
    const latin1 = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.end(Buffer.from([0x7b, 0x7d, 0x0a, 0xe9, 0x0a]));
    });
    const bad = await probeStream({ url: latin1.url }, { timeoutMs: 2_000 });
    expect(bad.ended).toBe("error");
    expect(bad.exchange.error).toBe("the body is not valid UTF-8");

    const cut = await serve((res) => {
      res.writeHead(200, NDJSON);
      res.write("{}\n");
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const broken = await probeStream({ url: cut.url }, { timeoutMs: 2_000 });
    expect(broken.ended).toBe("error");
    expect(broken.lines).toEqual(["{}"]);
    expect(broken.exchange.error).toMatch(/^stream broken: /);
  });

  it("no answer: ended error, no response, the transport error", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const read = await probeStream({ url: `http://127.0.0.1:${port}/x` }, { timeoutMs: 2_000 });
    expect(read).toMatchObject({ ended: "error", lines: [], mediaType: null });
    expect(read.exchange.response).toBeNull();
    expect(read.exchange.error).toMatch(/ECONNREFUSED/);
  });

  it("an error answer is read too, for the checks to judge", async () => {
    const s = await serve((res) =>
      res
        .writeHead(404, { "content-type": "application/json" })
        .end('{"error":{"code":"not_found","message":"no run"}}'),
    );
    const read = await probeStream({ url: s.url }, { timeoutMs: 2_000 });
    expect(read).toMatchObject({ ended: "eof", mediaType: "application/json" });
    expect(JSON.parse(read.text)).toEqual({ error: { code: "not_found", message: "no run" } });
  });
});

describe("a correct gateway's run stream, judged", () => {
  it("live: the events so far, read to the deadline; finished: the whole log, to its end", async () => {
    const gateway = new TestRunGateway();
    const running = await gateway.listen({ port: 0 });
    try {
      const started = await fetch(`${running.url}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(vector("RunStartRequest", "minimal")),
      });
      const runId = ((await started.json()) as { run_id: string }).run_id;
      const op = SERVICES["run-gateway"].operations.streamRunEvents;
      if (op.response.kind !== "ndjson") throw new Error("streamRunEvents is an NDJSON stream");
      const url = `${running.url}${pathFor(op, () => runId)}`;
      const expectation = {
        runId,
        scope: "run_id" as const,
        finished: false,
        ...(op.response.endEvent === undefined ? {} : { endEvent: op.response.endEvent }),
      };

      // Long enough for the answer to start on a loaded machine: a deadline before it is no answer.
      const live = await probeStream({ url }, { timeoutMs: 1_000 });
      expect(live.ended).toBe("deadline");
      expect(live.lines).toHaveLength(1);
      expect(runEventProblems(live.lines, expectation)).toEqual([]);
      // Judged as finished, the live stream lacks its end event.
      expect(runEventProblems(live.lines, { ...expectation, finished: true })).toHaveLength(1);

      gateway.finish(runId, "succeeded");
      const done = await probeStream({ url }, { timeoutMs: 2_000 });
      expect(done.ended).toBe("eof");
      expect(done.lines.length).toBeGreaterThan(1);
      expect(runEventProblems(done.lines, { ...expectation, finished: true })).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
