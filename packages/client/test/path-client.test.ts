/**
 * The low-level path client: openapi-fetch over the generated `paths` types, against a real loopback
 * server. Its response and body types are the `@arp/model` types themselves (not a second copy).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ErrorEnvelope, NodeType, Run, RunStartRequest } from "@arp/model";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createPathClient, type NodeRegistryPaths, type RunGatewayPaths } from "../src/index.js";

const RUN: Run = { run_id: "a/b", state: "queued", root_node_run_id: "nr_1" };
const seen: { method?: string; url?: string; body?: string }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.url === "/v1/runs/a%2Fb") return json(200, RUN);
      if (req.url === "/v1/runs" && req.method === "POST") return json(200, RUN);
      if (req.url?.startsWith("/v1/node-types?")) return json(200, [] satisfies NodeType[]);
      json(404, { error: { code: "not_found", message: "nope" } } satisfies ErrorEnvelope);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("createPathClient", () => {
  it("GETs a path with an encoded path parameter; data is the model's Run", async () => {
    const api = createPathClient<RunGatewayPaths>({ baseUrl });
    const { data, error } = await api.GET("/v1/runs/{run_id}", { params: { path: { run_id: "a/b" } } });
    expectTypeOf(data).toEqualTypeOf<Run | undefined>();
    expectTypeOf(error).toEqualTypeOf<ErrorEnvelope | undefined>();
    expect(error).toBeUndefined();
    expect(data).toEqual(RUN);
    expect(seen.at(-1)).toMatchObject({ method: "GET", url: "/v1/runs/a%2Fb" });
  });

  it("POSTs a typed body and sends query parameters", async () => {
    const api = createPathClient<RunGatewayPaths>({ baseUrl });
    const body: RunStartRequest = { root_node_type_ref: { node_type_id: "x", version: "1" }, input: {} };
    const { data } = await api.POST("/v1/runs", { body });
    expect(data).toEqual(RUN);
    expect(JSON.parse(seen.at(-1)!.body!)).toEqual(body);

    const registry = createPathClient<NodeRegistryPaths>({ baseUrl });
    const list = await registry.GET("/v1/node-types", { params: { query: { q: "sum", kind: "atomic" } } });
    expectTypeOf(list.data).toEqualTypeOf<NodeType[] | undefined>();
    expect(seen.at(-1)!.url).toBe("/v1/node-types?q=sum&kind=atomic");
  });

  it("returns the error envelope, typed, for non-2xx", async () => {
    const api = createPathClient<RunGatewayPaths>({ baseUrl });
    const { data, error, response } = await api.GET("/v1/runs/{run_id}", {
      params: { path: { run_id: "zz" } },
    });
    expect(response.status).toBe(404);
    expect(data).toBeUndefined();
    expect(error?.error.code).toBe("not_found");
  });

  it("rejects wrong paths, bodies and parameters at compile time", () => {
    const api = createPathClient<RunGatewayPaths>({ baseUrl });
    const never = () => {
      // @ts-expect-error: not a path of the Run Gateway
      void api.GET("/v1/node-types");
      // @ts-expect-error: the body must be a RunStartRequest
      void api.POST("/v1/runs", { body: { input: {} } });
      // @ts-expect-error: run_id is required
      void api.GET("/v1/runs/{run_id}", { params: { path: {} } });
    };
    expect(typeof never).toBe("function");
  });
});
