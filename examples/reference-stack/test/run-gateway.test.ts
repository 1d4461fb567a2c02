/** The Run Gateway in front of a coordinator (the server package's test coordinator, on loopback). */

import { runConformance } from "@arp/conformance";
import type * as T from "@arp/model";
import { ArpServerError, BaseRunCoordinatorServer, notFound, type RunCoordinatorRequests } from "@arp/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestRunCoordinator } from "../../../packages/server/test/support/services.js";
import { Peers } from "../src/peers.js";
import { ReferenceRunGateway } from "../src/services/run-gateway.js";

/** A coordinator whose runs end on their own (its executors are imagined), recording what it got. */
class Coordinator extends TestRunCoordinator {
  readonly seen: { op: string; traceparent: string | undefined; body?: unknown }[] = [];

  override startRun(req: RunCoordinatorRequests["startRun"]): T.Run {
    this.seen.push({ op: "startRun", traceparent: req.traceparent, body: req.body });
    const run = super.startRun(req) as T.Run;
    setTimeout(() => {
      const root = this.nodeRuns.get(run.root_node_run_id);
      if (root === undefined || run.state !== "running") return;
      root.state = "succeeded";
      run.state = "succeeded";
      run.ended_at = this.logs
        .get(run.run_id)!
        .append("run_completed", { data: { state: "succeeded" } }).time;
    }, 200).unref();
    return run;
  }

  override getRun(req: RunCoordinatorRequests["getRun"]): T.Run {
    this.seen.push({ op: "getRun", traceparent: req.traceparent });
    return super.getRun(req) as T.Run;
  }
}

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const START: T.RunStartRequest = {
  root_node_type_ref: { node_type_id: "arp.ref.echo", version: "1.0.0" },
  input: { text: "hi" },
};

let coordinator: Coordinator;
let gatewayUrl = "";
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  coordinator = new Coordinator();
  const c = await coordinator.listen({ port: 0 });
  const gateway = new ReferenceRunGateway({ peers: new Peers({ urls: { "run-coordinator": c.url } }) });
  const g = await gateway.listen({ port: 0 });
  gatewayUrl = g.url;
  closers.push(g.close, c.close);
});
afterAll(async () => {
  for (const close of closers) await close();
});

const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gatewayUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe("Run Gateway", () => {
  it("forwards start and get with the caller's traceparent, and the caller's identity in run_context", async () => {
    const started = await post("/v1/runs", START, { traceparent: TRACE });
    expect(started.status).toBe(200);
    const run = (await started.json()) as T.Run;
    const got = await fetch(`${gatewayUrl}/v1/runs/${run.run_id}`, { headers: { traceparent: TRACE } });
    expect(await got.json()).toMatchObject({ run_id: run.run_id, root_node_run_id: run.root_node_run_id });
    const seen = coordinator.seen.slice(-2);
    expect(seen.map((s) => [s.op, s.traceparent])).toEqual([
      ["startRun", TRACE],
      ["getRun", TRACE],
    ]);
    // Auth is off here: the dev subject stands for the caller.
    expect((seen[0]!.body as T.RunStartRequest).run_context?.identity?.subject).toEqual(expect.any(String));
  });

  it("relays the coordinator's 404 envelope for an unknown run, on every operation", async () => {
    for (const res of [
      await fetch(`${gatewayUrl}/v1/runs/run_nope`),
      await post("/v1/runs/run_nope:cancel"),
      await fetch(`${gatewayUrl}/v1/runs/run_nope/events`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await res.json()) as T.ErrorEnvelope).error).toMatchObject({
        code: "not_found",
        message: "no run run_nope",
      });
    }
  });

  it("relays a run's events as they come, and ends after run_completed", async () => {
    const run = (await (await post("/v1/runs", START)).json()) as T.Run;
    const res = await fetch(`${gatewayUrl}/v1/runs/${run.run_id}/events`);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const events = (await res.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as T.RunEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events[0]!.type).toBe("run_started");
    expect(events.at(-1)!.type).toBe("run_completed");
  });

  it("a coordinator that cannot be reached is a retryable 502 upstream_error, not a 500", async () => {
    const lonely = new ReferenceRunGateway({
      peers: new Peers({ urls: { "run-coordinator": "http://127.0.0.1:9" } }),
    });
    const { url, close } = await lonely.listen({ port: 0 });
    try {
      const res = await fetch(`${url}/v1/runs/run_1`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as T.ErrorEnvelope).error).toMatchObject({
        code: "upstream_error",
        retryable: true,
        details: { peer: "run-coordinator" },
      });
    } finally {
      await close();
    }
  });

  it("relays a coordinator's 503 as a 503 (its code, retryable): a database away, say", async () => {
    const away = new (class extends BaseRunCoordinatorServer {
      startRun(): never {
        throw unavailable();
      }
      getRun(): never {
        throw unavailable();
      }
      cancelRun(): never {
        throw unavailable();
      }
      createNodeRuns(): never {
        throw unavailable();
      }
      getNodeRun(): never {
        throw unavailable();
      }
      reportNodeRunEvaluation(): never {
        throw unavailable();
      }
      completeNodeRun(): never {
        throw unavailable();
      }
    })({ auth: { mode: "disabled" } });
    const coordinator = await away.listen({ port: 0 });
    const gateway = new ReferenceRunGateway({
      peers: new Peers({ urls: { "run-coordinator": coordinator.url } }),
    });
    const { url, close } = await gateway.listen({ port: 0 });
    try {
      const res = await fetch(`${url}/v1/runs/run_1`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as T.ErrorEnvelope).error).toMatchObject({
        code: "store_unavailable",
        retryable: true,
      });
    } finally {
      await close();
      await coordinator.close();
    }
  });

  it("answers a stream of an unknown run 404, also when the coordinator takes its time to say so", async () => {
    const slow = new (class extends TestRunCoordinator {
      override async streamRunEvents(): Promise<AsyncIterable<T.RunEvent>> {
        await new Promise((resolve) => setTimeout(resolve, 300)); // past the server's 50 ms grace
        throw notFound("no such run");
      }
    })();
    const coordinator = await slow.listen({ port: 0 });
    const gateway = new ReferenceRunGateway({
      peers: new Peers({ urls: { "run-coordinator": coordinator.url } }),
    });
    const { url, close } = await gateway.listen({ port: 0 });
    try {
      const res = await fetch(`${url}/v1/runs/nope/events`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as T.ErrorEnvelope).error.code).toBe("not_found");
    } finally {
      await close();
      await coordinator.close();
    }
  });

  it("passes arp-conformance check run-gateway --tier deep --allow-mutations, strict", async () => {
    const report = await runConformance({
      service: "run-gateway",
      url: gatewayUrl,
      tier: "deep",
      allowMutations: true,
      pollIntervalMs: 50,
      strict: true,
    });
    expect(
      report.results.filter((r) => r.status !== "PASS").map((r) => `${r.check_id}: ${r.message}`),
    ).toEqual([]);
  });
});

function unavailable(): ArpServerError {
  return new ArpServerError({ status: 503, code: "store_unavailable", message: "away", retryable: true });
}
