/**
 * Reading what the other ARP implementations really send, over real loopback sockets: a server that
 * answers like the Python SDK's FastAPI services (`null` for every unset optional field, in bodies,
 * list items, error envelopes and events) and like JARVIS (streams answered as `application/json`
 * holding one JSON string of NDJSON text, `seq` starting at 1). Each leniency is on by default and
 * off with `strictWire: true`; requests stay strict either way.
 */
import type { ServerResponse } from "node:http";
import type { RunEvent } from "@arp/model";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ArpApiError,
  ArpValidationError,
  type ClientOptions,
  NodeRegistryClient,
  RunCoordinatorClient,
  RunGatewayClient,
} from "../src/index.js";
import { cut, type Loopback, startLoopback, write } from "./support/loopback.js";

const RUN_ID = "run_01J9ZQ4X7K8M2N3P5R6S7T8V9W";
const TIME = "2026-01-15T09:30:00Z";

let server: Loopback;
beforeEach(async () => {
  server = await startLoopback();
});
afterEach(async () => {
  await server.close();
});

const options = (extra: Partial<ClientOptions> = {}): ClientOptions => ({
  baseUrl: server.url,
  retry: { jitter: "none", baseDelayMs: 1 },
  timeoutMs: 5_000,
  ...extra,
});

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A Run as pydantic's `model_dump()` would send it: every optional field present, unset ones null. */
const fastapiRun = {
  run_id: RUN_ID,
  state: "running",
  root_node_run_id: "nr_1",
  run_context: null,
  started_at: TIME,
  ended_at: null,
  extensions: null,
};

/** JARVIS's events: `node_run_id: null` on run-level events, `seq` from 1. */
const jarvisEvents = [
  {
    run_id: RUN_ID,
    node_run_id: null,
    seq: 1,
    type: "run_started",
    time: TIME,
    data: null,
    extensions: null,
  },
  { run_id: RUN_ID, node_run_id: "nr_1", seq: 2, type: "atomic_executed", time: TIME, data: { ok: null } },
  { run_id: RUN_ID, node_run_id: null, seq: 3, type: "run_completed", time: TIME },
];
const ndjsonText = jarvisEvents.map((e) => `${JSON.stringify(e)}\n`).join("");

describe("null for an unset optional field (FastAPI)", () => {
  it("is read as absent in a JSON response", async () => {
    server.handle(({ res }) => json(res, 200, fastapiRun));
    const run = await new RunGatewayClient(options()).getRun(RUN_ID);
    expect(run).toEqual({ run_id: RUN_ID, state: "running", root_node_run_id: "nr_1", started_at: TIME });
    expect(Object.hasOwn(run, "ended_at")).toBe(false);
  });

  it("is read as absent in every item of an array response, and nested", async () => {
    const nodeType = {
      node_type_id: "nt.echo",
      version: "1.0.0",
      kind: "atomic",
      description: null,
      input_schema: null,
      extensions: null,
    };
    server.handle(({ res }) => json(res, 200, [nodeType, { ...nodeType, version: "1.0.1" }]));
    const types = await new NodeRegistryClient(options()).listNodeTypes();
    expect(types).toEqual([
      { node_type_id: "nt.echo", version: "1.0.0", kind: "atomic" },
      { node_type_id: "nt.echo", version: "1.0.1", kind: "atomic" },
    ]);
  });

  it("is read as absent in a large document, past the validators' issue limit", async () => {
    // 60 NodeRuns with 11 nulls each: 660 errors, more than the 100 a validator reports in one pass.
    const nodeRun = {
      node_run_id: "nr_2",
      run_id: RUN_ID,
      node_type_ref: { node_type_id: "nt.echo", version: "1.0.0", extensions: null },
      kind: null,
      parent_node_run_id: null,
      state: "queued",
      created_at: null,
      started_at: null,
      ended_at: null,
      inputs: null,
      outputs: null,
      output_artifacts: null,
      executor_binding: null,
      extensions: null,
    };
    server.handle(({ res }) => json(res, 200, { node_runs: Array(60).fill(nodeRun), extensions: null }));
    const created = await new RunCoordinatorClient(options()).createNodeRuns({
      run_id: RUN_ID,
      parent_node_run_id: "nr_1",
      node_runs: [{ node_type_ref: { node_type_id: "nt.echo", version: "1.0.0" }, inputs: {} }],
    });
    expect(created.node_runs).toHaveLength(60);
    expect(created.node_runs[59]).toEqual({
      node_run_id: "nr_2",
      run_id: RUN_ID,
      node_type_ref: { node_type_id: "nt.echo", version: "1.0.0" },
      state: "queued",
    });
  });

  it("is kept where the schema allows it (values of an open map)", async () => {
    server.handle(({ res }) => json(res, 200, { ...fastapiRun, run_context: { identity: { team: null } } }));
    const run = await new RunGatewayClient(options()).getRun(RUN_ID);
    expect(run.run_context).toEqual({ identity: { team: null } });
  });

  it("in a required field is still an ArpValidationError naming what the server sent", async () => {
    server.handle(({ res }) => json(res, 200, { ...fastapiRun, state: null }));
    const error = await new RunGatewayClient(options()).getRun(RUN_ID).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArpValidationError);
    expect((error as ArpValidationError).errors.map((i) => i.pointer)).toContain("/state");
  });

  it("in an error envelope still gives the server's code", async () => {
    server.handle(({ res }) =>
      json(res, 404, {
        error: { code: "not_found", message: "no such run", details: null, retryable: null },
      }),
    );
    const lenient = await new RunGatewayClient(options()).getRun(RUN_ID).catch((e: unknown) => e);
    expect(lenient).toBeInstanceOf(ArpApiError);
    expect(lenient).toMatchObject({ code: "not_found", status: 404 });
    expect((lenient as ArpApiError).envelope?.error).toEqual({ code: "not_found", message: "no such run" });
    const strict = await new RunGatewayClient(options({ strictWire: true }))
      .getRun(RUN_ID)
      .catch((e: unknown) => e);
    expect(strict).toMatchObject({ code: "http_404", status: 404 });
    expect((strict as ArpApiError).envelope).toBeUndefined();
  });

  it("strictWire: true rejects it", async () => {
    server.handle(({ res }) => json(res, 200, fastapiRun));
    const error = await new RunGatewayClient(options({ strictWire: true }))
      .getRun(RUN_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpValidationError);
    expect((error as ArpValidationError).errors.map((i) => i.pointer)).toEqual(
      expect.arrayContaining(["/ended_at", "/extensions"]),
    );
  });

  it("is never sent: requests stay strict", async () => {
    server.handle(({ res }) => json(res, 200, fastapiRun));
    const client = new RunGatewayClient(options());
    const body = { root_node_type_ref: { node_type_id: "nt", version: "1" }, input: {}, run_id: null };
    const error = await client.startRun(body as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ direction: "request" });
    expect(server.exchanges).toHaveLength(0);
  });
});

describe("streams as JARVIS sends them", () => {
  it("reads an application/json body holding one JSON string of NDJSON text, nulls as absent, seq from 1", async () => {
    server.handle(({ res }) => json(res, 200, ndjsonText));
    const seen: RunEvent[] = [];
    for await (const e of new RunGatewayClient(options()).streamRunEvents(RUN_ID)) seen.push(e);
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [1, "run_started"],
      [2, "atomic_executed"],
      [3, "run_completed"],
    ]);
    expect(Object.hasOwn(seen[0]!, "node_run_id")).toBe(false);
    expect(seen[1]!.data).toEqual({ ok: null });
    expect(server.exchanges).toHaveLength(1);
  });

  it("reads NDJSON that is only mislabelled application/json (objects on its lines) as NDJSON", async () => {
    server.handle(({ res }) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ndjsonText);
    });
    const seen: number[] = [];
    for await (const e of new RunGatewayClient(options()).streamRunEvents(RUN_ID)) seen.push(e.seq);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("strictWire: true reads that body as NDJSON, and so rejects it", async () => {
    server.handle(({ res }) => json(res, 200, ndjsonText));
    const stream = new RunGatewayClient(options({ strictWire: true })).streamRunEvents(RUN_ID, {
      follow: false,
    });
    const error = await (async () => {
      for await (const _ of stream) {
        // nothing valid to see
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpValidationError);
    expect((error as ArpValidationError).direction).toBe("event");
  });

  it("resumes a stream whose seq starts at 1 without losing or repeating an event", async () => {
    server.handle(async ({ index, res }) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.flushHeaders();
      if (index === 1) {
        await write(res, ndjsonText.split("\n").slice(0, 2).join("\n")); // seq 1 and 2, no newline after 2
        await cut(res);
      } else {
        await write(res, ndjsonText);
        res.end();
      }
    });
    const seen: number[] = [];
    for await (const e of new RunCoordinatorClient(options()).streamRunEvents(RUN_ID)) seen.push(e.seq);
    expect(seen).toEqual([1, 2, 3]);
    expect(server.exchanges).toHaveLength(2);
  });
});
