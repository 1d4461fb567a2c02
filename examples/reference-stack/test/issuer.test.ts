/** The --secure stack's development token issuer, with a real service that requires auth. */
import { RunGatewayClient } from "@arp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestRunGateway } from "../../../packages/server/test/support/services.js";
import { DevTokenIssuer } from "../src/auth/issuer.js";

const issuer = new DevTokenIssuer();
let gateway = { url: "", close: async () => {} };

beforeAll(async () => {
  await issuer.listen();
  gateway = await new TestRunGateway({ auth: issuer.authFor("run-gateway") }).listen({ port: 0 });
});
afterAll(async () => {
  await gateway.close();
  await issuer.close();
});

describe("DevTokenIssuer", () => {
  it("a token for the service's audience is accepted; one for another audience, or none, is a 401", async () => {
    const call = (bearerToken?: string) =>
      new RunGatewayClient({ baseUrl: gateway.url, retry: false, ...(bearerToken ? { bearerToken } : {}) })
        .getRun("run_nope")
        .then(
          () => 200,
          (err: { status?: number }) => err.status,
        );
    expect(await call((await issuer.mint("run-gateway", "alice")).token)).toBe(404); // past auth
    expect(await call((await issuer.mint("run-coordinator", "alice")).token)).toBe(401);
    expect(await call()).toBe(401);
  });

  it("POST /token mints for an audience; the JWKS is served; bad requests are 400s", async () => {
    const res = await fetch(`${issuer.issuer}/token`, {
      method: "POST",
      body: JSON.stringify({ audience: "run-gateway" }),
    });
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe("Bearer");
    const client = new RunGatewayClient({
      baseUrl: gateway.url,
      bearerToken: body.access_token,
      retry: false,
    });
    await expect(client.getRun("run_nope")).rejects.toMatchObject({ status: 404 });
    const jwks = (await (await fetch(`${issuer.issuer}/.well-known/jwks.json`)).json()) as {
      keys: { alg: string }[];
    };
    expect(jwks.keys.map((k) => k.alg)).toEqual(["ES256"]);
    expect((await fetch(`${issuer.issuer}/token`, { method: "POST", body: "{}" })).status).toBe(400);
    expect((await fetch(`${issuer.issuer}/token`, { method: "POST", body: "nope" })).status).toBe(400);
  });

  it("tokens(subject) caches one token per audience", async () => {
    const token = issuer.tokens("stack");
    const a = await token("pdp");
    expect(await token("pdp")).toBe(a);
    expect(await token("selection")).not.toBe(a);
  });
});
