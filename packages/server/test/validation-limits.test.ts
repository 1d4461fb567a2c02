/**
 * Validation work and 400 answers are bounded, whatever a client sends (issue 9, item 4): the
 * validators stop after `MAX_VALIDATION_ISSUES` errors, a 400 lists at most 20 issues and says that
 * it cut the list, and an echoed key or message is at most 200 characters. Over real HTTP.
 */
import { MAX_VALIDATION_ISSUES, RUN_COORDINATOR_SERVICE } from "@arp/model";
import { describe, expect, it } from "vitest";
import { expectEnvelope, request, useServers } from "./support/http.js";
import { TestRunCoordinator } from "./support/services.js";

const servers = useServers();

/** The validator the server runs on `POST /v1/node-runs`: the table's, the same function object. */
const createNodeRuns = RUN_COORDINATOR_SERVICE.operations.createNodeRuns.requestBody!.validate!;

/** About 900 KB: 300k empty node runs, each missing every required property. */
const hugeInvalid = `{"node_runs":[${Array.from({ length: 300_000 }, () => "{}").join(",")}]}`;

interface Details {
  errors: { pointer: string; message: string }[];
  truncated?: boolean;
  total?: number;
}

describe("a huge invalid body", () => {
  it("answers a small 400 that says the list was cut, and the validator stops at its limit", async () => {
    const { url } = await servers.listen(new TestRunCoordinator());
    const res = await request(`${url}/v1/node-runs`, {
      method: "POST",
      body: hugeInvalid,
      headers: { "content-type": "application/json" },
    });
    const error = expectEnvelope(res, 400, "invalid_request");
    expect(error.message).toBe("request body does not match NodeRunsCreateRequest (the first 20 issues)");
    const details = error.details as unknown as Details;
    expect(details.errors).toHaveLength(20);
    expect(details.truncated).toBe(true);
    // The validator stopped: the total is unknown, so it is not claimed.
    expect(details.total).toBeUndefined();
    expect(details.errors[0]).toEqual({ pointer: "/run_id", message: "is required" });
    expect(res.text.length).toBeLessThan(4_000);
    // What the validator itself produced: about its limit, not 300k × 4 error objects. (A stopped
    // nested validator's errors are added to its caller's before the caller stops: under 2 × limit.)
    expect(createNodeRuns.errors!.length).toBeGreaterThanOrEqual(MAX_VALIDATION_ISSUES);
    expect(createNodeRuns.errors!.length).toBeLessThan(2 * MAX_VALIDATION_ISSUES);
  });

  it("four in parallel leave /v1/health answering", async () => {
    const { url } = await servers.listen(new TestRunCoordinator());
    const posts = Array.from({ length: 4 }, () =>
      request(`${url}/v1/node-runs`, {
        method: "POST",
        body: hugeInvalid,
        headers: { "content-type": "application/json" },
      }),
    );
    const health = await request(`${url}/v1/health`);
    expect(health.status).toBe(200);
    for (const res of await Promise.all(posts)) {
      const details = expectEnvelope(res, 400, "invalid_request").details as unknown as Details;
      expect(details.errors).toHaveLength(20);
      expect(details.truncated).toBe(true);
    }
    expect(createNodeRuns.errors!.length).toBeLessThan(2 * MAX_VALIDATION_ISSUES);
  });

  it("a body with more issues than a 400 lists, found in full: truncated and the total", async () => {
    const { url } = await servers.listen(new TestRunCoordinator());
    // 30 unknown properties: 30 issues plus the 3 required ones, under the validators' limit.
    const body: Record<string, number> = {};
    for (let i = 0; i < 30; i++) body[`bogus_${i}`] = i;
    const res = await request(`${url}/v1/node-runs`, { method: "POST", body });
    const details = expectEnvelope(res, 400, "invalid_request").details as unknown as Details;
    expect(details).toMatchObject({ truncated: true, total: 33 });
    expect(details.errors).toHaveLength(20);
  });

  it("a short list is sent whole, without truncated or total", async () => {
    const { url } = await servers.listen(new TestRunCoordinator());
    const res = await request(`${url}/v1/node-runs`, { method: "POST", body: { node_runs: [] } });
    const details = expectEnvelope(res, 400, "invalid_request").details as unknown as Details;
    expect(Object.keys(details)).toEqual(["errors"]);
  });
});

describe("echoed keys", () => {
  it("a 900 KB unknown key is echoed cut to 200 characters, ending in …", async () => {
    const { url } = await servers.listen(new TestRunCoordinator());
    const key = "k".repeat(900_000);
    const res = await request(`${url}/v1/node-runs`, {
      method: "POST",
      body: `{"run_id":"run_1","parent_node_run_id":"nr_1","node_runs":[],"${key}":1}`,
      headers: { "content-type": "application/json" },
    });
    const details = expectEnvelope(res, 400, "invalid_request").details as unknown as Details;
    const echoed = details.errors.find((e) => e.pointer.startsWith("/kkk"));
    expect(echoed?.pointer).toHaveLength(200);
    expect(echoed?.pointer.endsWith("…")).toBe(true);
    expect(res.text.length).toBeLessThan(2_000);
  });
});
