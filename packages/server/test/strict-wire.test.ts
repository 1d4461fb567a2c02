/**
 * Lenient in what the client reads, strict in what the server judges: the `null`s that the Python
 * SDK's clients send for absent optional fields are answered 400, as every other body the schema
 * rejects, and a handler that returns one is a contract violation (500), never passed on.
 */
import type * as T from "@arp/model";
import { describe, expect, it } from "vitest";
import type { ArpRequest } from "../src/index.js";
import { expectEnvelope, request, useServers } from "./support/http.js";
import { TestRunGateway, vector } from "./support/services.js";

const servers = useServers();

describe("null for an optional field", () => {
  it("in a request body is 400 invalid_request, naming the field", async () => {
    const { url } = await servers.listen(new TestRunGateway());
    const body = { ...vector("RunStartRequest", "minimal"), run_id: null, extensions: null };
    const res = await request(`${url}/v1/runs`, { method: "POST", body });
    const error = expectEnvelope(res, 400, "invalid_request");
    const pointers = ((error.details?.errors ?? []) as { pointer: string }[]).map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/run_id", "/extensions"]));
  });

  it("in a handler's response is a 500, not sent on", async () => {
    class NullEnded extends TestRunGateway {
      override async getRun(req: ArpRequest<undefined, { run_id: string }>): Promise<T.Run> {
        const run = await super.getRun(req);
        return { ...run, ended_at: null } as unknown as T.Run;
      }
    }
    const gateway = new NullEnded();
    const { url } = await servers.listen(gateway);
    const started = await request(`${url}/v1/runs`, {
      method: "POST",
      body: vector("RunStartRequest", "minimal"),
    });
    const runId = (started.json() as T.Run).run_id;
    const res = await request(`${url}/v1/runs/${runId}`);
    expectEnvelope(res, 500, "internal_error");
  });
});
