/**
 * Every operation of every service, through its generated client method, driven by the operation
 * tables of `@arp/model`: method, percent-encoded path, query, JSON body, headers, auth and the
 * parsed result (golden vectors served, compared after the round trip).
 */
import { type OperationSpec, type SchemaName, SERVICES } from "@arp/model";
import { HttpResponse, http, type JsonBodyType } from "msw";
import { describe, expect, it } from "vitest";
import {
  type ArpClientBase,
  AtomicExecutorClient,
  CompositeExecutorClient,
  NodeRegistryClient,
  PdpClient,
  RunCoordinatorClient,
  RunGatewayClient,
  SelectionClient,
} from "../src/index.js";
import { fixture, useServer } from "./support/server.js";

const { server, recorder } = useServer();

const BASE = "https://ops.arp.test/base";
const TOKEN = "tok_ops_0123456789";

/** Every generated client class, by the service key of its static operation table. */
const CLIENTS = {
  "atomic-executor": AtomicExecutorClient,
  "composite-executor": CompositeExecutorClient,
  "node-registry": NodeRegistryClient,
  pdp: PdpClient,
  "run-coordinator": RunCoordinatorClient,
  "run-gateway": RunGatewayClient,
  selection: SelectionClient,
} as const satisfies Record<keyof typeof SERVICES, typeof ArpClientBase & { service: unknown }>;

type ServiceKey = keyof typeof SERVICES;
const SERVICE_KEYS = Object.keys(SERVICES) as ServiceKey[];

/** A path argument with `/`, `:`, a space and a non-ASCII letter, and how it must appear on the wire. */
function pathArg(param: string): { value: string; encoded: string } {
  return { value: `${param}/with:chars é`, encoded: `${param}%2Fwith%3Achars%20%C3%A9` };
}

/** A value for a query parameter (characters that need encoding, or a valid enum value). */
function queryArg(param: { name: string; schema?: SchemaName }): string {
  if (param.schema === "NodeKind") return "composite";
  if (param.schema !== undefined) throw new Error(`no test value for query schema ${param.schema}`);
  return `${param.name} value & more=1`;
}

/**
 * Two RunEvents (the full vector and the minimal one, with their own `seq`). The stream is called
 * with `follow: false` and ends when the server closes it; resuming and `run_completed` are covered
 * against a real server in stream.test.ts.
 */
function streamEvents(): unknown[] {
  const first = fixture("RunEvent", "minimal");
  first.seq = 0;
  const second = fixture("RunEvent", "full");
  second.seq = 1;
  return [first, second];
}

/** What the handler serves for `op`, and what the method must resolve to. */
function responseFor(op: OperationSpec): { body: unknown; expected: unknown } {
  const spec = op.response;
  switch (spec.kind) {
    case "json": {
      const body = spec.array
        ? [fixture(spec.schema, "full"), fixture(spec.schema, "minimal")]
        : fixture(spec.schema, "full");
      return { body, expected: structuredClone(body) };
    }
    case "empty":
      return { body: undefined, expected: undefined };
    case "ndjson": {
      const events = streamEvents();
      return { body: events, expected: events };
    }
  }
}

const tested = new Set<string>();

describe.each(SERVICE_KEYS)("%s", (key) => {
  const service = SERVICES[key];
  const Client = CLIENTS[key];
  const operations = Object.values(service.operations) as OperationSpec[];

  it("is generated from its service's operation table, one method per operation", () => {
    expect(Client.service).toBe(service);
    const methods = Object.getOwnPropertyNames(Client.prototype).filter((n) => n !== "constructor");
    expect(methods.sort()).toEqual(operations.map((op) => op.name).sort());
  });

  it.each(operations.map((op) => [`${op.method} ${op.path} (${op.name})`, op] as const))(
    "%s",
    async (_title, op) => {
      const args = op.pathParams.map((p) => pathArg(p.name));
      const query = Object.fromEntries(op.queryParams.map((p) => [p.name, queryArg(p)]));
      const body = op.requestBody ? fixture(op.requestBody.schema, "full") : undefined;
      const sentBody = structuredClone(body);
      const { body: served, expected } = responseFor(op);

      server.use(
        http.all(`${BASE}/*`, () => {
          switch (op.response.kind) {
            case "json":
              return HttpResponse.json(served as JsonBodyType, { status: op.response.status });
            case "empty":
              return new HttpResponse(null, { status: op.response.status });
            case "ndjson":
              return new HttpResponse((served as unknown[]).map((e) => `${JSON.stringify(e)}\n`).join(""), {
                status: op.response.status,
                headers: { "content-type": "application/x-ndjson" },
              });
          }
        }),
      );

      const client = new Client({ baseUrl: `${BASE}/`, bearerToken: TOKEN });
      const method = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[op.name];
      expect(method, `${Client.name}.${op.name}`).toBeTypeOf("function");
      const callArgs: unknown[] = [...args.map((a) => a.value)];
      if (op.requestBody) callArgs.push(body);
      callArgs.push({
        ...query,
        headers: { "x-call": "1" },
        ...(op.response.kind === "ndjson" ? { follow: false } : {}),
      });

      let result: unknown;
      if (op.response.kind === "ndjson") {
        const events: unknown[] = [];
        for await (const event of method!.apply(client, callArgs) as AsyncIterable<unknown>) {
          events.push(event);
        }
        result = events;
      } else {
        result = await method!.apply(client, callArgs);
      }

      const sent = await recorder.only();
      // Method and path: the table's template with each argument percent-encoded into one segment.
      expect(sent.method).toBe(op.method);
      const expectedPath = op.pathParams.reduce(
        (path, p, i) => path.replace(`{${p.name}}`, args[i]!.encoded),
        `/base${op.path}`,
      );
      expect(sent.path).toBe(expectedPath);
      expect(sent.query).toEqual(query);
      expect(sent.search === "").toBe(op.queryParams.length === 0);

      // Body: the request vector, as JSON, unchanged by sending.
      if (op.requestBody) {
        expect(sent.headers["content-type"]).toBe("application/json");
        expect(sent.json).toEqual(sentBody);
        expect(body).toEqual(sentBody);
      } else {
        expect(sent.text).toBe("");
        expect(sent.headers["content-type"]).toBeUndefined();
      }

      // Headers: accept by response kind, the bearer token only where the operation requires auth.
      expect(sent.headers.accept).toBe(
        op.response.kind === "ndjson" ? "application/x-ndjson" : "application/json",
      );
      expect(sent.headers.authorization).toBe(op.auth === "bearer" ? `Bearer ${TOKEN}` : undefined);
      expect(sent.headers["user-agent"]).toBe("arp-ts-client/0.3.7");
      expect(sent.headers["x-call"]).toBe("1");

      // Result: the served vector, parsed (an array for lists, undefined for 204, events for streams).
      expect(result).toEqual(expected);
      if (op.response.kind === "json" && op.response.array) expect(Array.isArray(result)).toBe(true);

      tested.add(`${key}.${op.name}`);
    },
  );
});

describe("coverage", () => {
  it("has a client class for every service", () => {
    expect(Object.keys(CLIENTS).sort()).toEqual([...SERVICE_KEYS].sort());
  });

  it("has exercised every operation of every service (this runs after the tables above)", () => {
    const all = SERVICE_KEYS.flatMap((key) =>
      Object.values(SERVICES[key].operations).map((op) => `${key}.${op.name}`),
    );
    expect(all.length).toBeGreaterThan(30);
    expect([...tested].sort()).toEqual(all.sort());
  });
});

describe("query parameters", () => {
  const client = new NodeRegistryClient({ baseUrl: BASE, bearerToken: TOKEN });

  it("omits query parameters that are not given", async () => {
    server.use(http.get(`${BASE}/v1/node-types`, () => HttpResponse.json([])));
    expect(await client.listNodeTypes()).toEqual([]);
    const sent = await recorder.only();
    expect(sent.url).toBe(`${BASE}/v1/node-types`);
  });

  it("sends `q` and `kind` for listNodeTypes, encoded", async () => {
    server.use(http.get(`${BASE}/v1/node-types`, () => HttpResponse.json([fixture("NodeType", "minimal")])));
    const types = await client.listNodeTypes({ q: "web search/é", kind: "atomic" });
    expect(types).toEqual([fixture("NodeType", "minimal")]);
    const sent = await recorder.only();
    expect(sent.query).toEqual({ q: "web search/é", kind: "atomic" });
    expect(sent.search).toBe("q=web+search%2F%C3%A9&kind=atomic");
  });

  it("sends `version` for getNodeType", async () => {
    const nodeType = fixture("NodeType", "full");
    server.use(http.get(`${BASE}/v1/node-types/:id`, () => HttpResponse.json(nodeType)));
    expect(await client.getNodeType("com.example.summarize", { version: "1.2.0" })).toEqual(nodeType);
    const sent = await recorder.only();
    expect(sent.path).toBe("/base/v1/node-types/com.example.summarize");
    expect(sent.query).toEqual({ version: "1.2.0" });
  });
});
