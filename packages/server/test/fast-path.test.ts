/**
 * The pipeline's synchronous fast path (pipeline.ts's header, bench/server.bench.ts): a request whose
 * auth needs no token check and whose handler answers synchronously is served, from the `request`
 * event to `res.end()`, without creating a single promise. Counted with an async hook around the
 * listener call, which covers the whole exchange for a request without a body; an async handler
 * shows the count is real.
 */
import { createHook } from "node:async_hooks";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as T from "@arp/model";
import { afterEach, expect, it } from "vitest";
import type { RunGatewayRequests } from "../src/index.js";
import { request } from "./support/http.js";
import { TestRunGateway, vector } from "./support/services.js";

/** A request object for calling `startRun` directly, to seed a run. */
const startRequest = () => ({ body: vector("RunStartRequest") }) as RunGatewayRequests["startRun"];

let promises = 0;
const hook = createHook({
  init(_id, type) {
    if (type === "PROMISE") promises++;
  },
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Serves `listener` on a loopback port, counting the promises each call of it creates. */
async function counting(listener: (req: IncomingMessage, res: ServerResponse) => void) {
  const counts: number[] = [];
  const server = createServer((req, res) => {
    const before = promises;
    hook.enable();
    try {
      listener(req, res);
    } finally {
      hook.disable();
      counts.push(promises - before);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts };
}

class AsyncGetRun extends TestRunGateway {
  override async getRun(req: RunGatewayRequests["getRun"]): Promise<T.Run> {
    return super.getRun(req);
  }
}

it("serves a synchronous GET (auth disabled, exempt or not) without creating a promise", async () => {
  const gateway = new TestRunGateway();
  const run = await gateway.startRun(startRequest());
  const { url, counts } = await counting(gateway.handler());
  expect((await request(`${url}/v1/runs/${run.run_id}`)).status).toBe(200);
  expect((await request(`${url}/v1/health`)).status).toBe(200);
  expect((await request(`${url}/v1/runs/unknown`)).status).toBe(404); // a failure answered sync too
  expect(counts).toEqual([0, 0, 0]);
});

it("counts the promises of an async handler (the measure can fail)", async () => {
  const gateway = new AsyncGetRun();
  const run = await gateway.startRun(startRequest());
  const { url, counts } = await counting(gateway.handler());
  expect((await request(`${url}/v1/runs/${run.run_id}`)).status).toBe(200);
  expect(counts[0]).toBeGreaterThan(0);
});
