/**
 * A caller's signal, given to many calls, on a real loopback server: the client never hands it to
 * fetch as it is (undici's listener on it stays until the request is garbage-collected, and one
 * long-lived signal given to thousands of calls piled up listeners and Node's
 * MaxListenersExceededWarning). After each call, nothing listens to it; aborting it still aborts
 * the call in flight.
 */
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunGatewayClient } from "../src/index.js";
import { type Loopback, startLoopback } from "./support/loopback.js";

let loopback: Loopback;
beforeAll(async () => {
  loopback = await startLoopback(({ res }) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "ok", time: new Date().toISOString() }));
  });
});
afterAll(() => loopback.close());

describe("a caller's signal", () => {
  it("is left with no listener after each of 2,000 calls (none piles up, whatever the GC does)", async () => {
    const client = new RunGatewayClient({ baseUrl: loopback.url });
    const signal = new AbortController().signal;
    const left: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      await client.health({ signal });
      left.push(getEventListeners(signal, "abort").length);
    }
    expect(Math.max(...left)).toBe(0);
  });

  it("still aborts a call in flight, with its reason", async () => {
    loopback.handle(() => undefined); // never answers
    const client = new RunGatewayClient({ baseUrl: loopback.url, retry: false });
    const controller = new AbortController();
    const call = client.health({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error("shutting down")), 50);
    await expect(call).rejects.toThrow("shutting down");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
