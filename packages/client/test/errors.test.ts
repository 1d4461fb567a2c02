/**
 * Every way a call can fail, and what it throws: wire errors (`ArpApiError`, with or without an
 * `ErrorEnvelope`) and local ones (transport, timeout, abort, validation, protocol); the shared
 * `ArpError` base and string codes; `instanceof` across the ESM and CJS builds; no bearer token in
 * any error.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import {
  ArpApiError,
  ArpError,
  ArpProtocolError,
  ArpTimeoutError,
  ArpTransportError,
  ArpValidationError,
  NodeRegistryClient,
  RunCoordinatorClient,
  RunGatewayClient,
} from "../src/index.js";
import { envelope, fixture, rejection, useServer } from "./support/server.js";

const { server, recorder } = useServer();

const BASE = "https://errors.arp.test";
const TOKEN = "tok_secret_Zq8XvP3nM2kL";

function gateway(options: Partial<ConstructorParameters<typeof RunGatewayClient>[0]> = {}) {
  return new RunGatewayClient({ baseUrl: BASE, bearerToken: TOKEN, retry: false, ...options });
}

describe("ArpApiError from an ErrorEnvelope", () => {
  it("carries status, code, message, details, retryable, the whole envelope, method and url", async () => {
    const body = fixture("ErrorEnvelope", "full");
    server.use(http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.json(body, { status: 504 })));

    const err = await rejection(gateway().getRun("run 1/a"));

    expect(err).toBeInstanceOf(ArpApiError);
    expect(err).toBeInstanceOf(ArpError);
    const e = err as ArpApiError;
    expect(e.name).toBe("ArpApiError");
    expect(e.status).toBe(504);
    expect(e.code).toBe(body.error.code);
    expect(e.message).toContain(body.error.message);
    expect(e.message).toContain(`GET ${BASE}/v1/runs/run%201%2Fa`);
    expect(e.details).toEqual(body.error.details);
    expect(e.retryable).toBe(true);
    expect(e.envelope).toEqual(body);
    expect(e.method).toBe("GET");
    expect(e.url).toBe(`${BASE}/v1/runs/run%201%2Fa`);
    expect(e.bodyExcerpt).toBeUndefined();
    expect(recorder.count).toBe(1);
  });

  it("leaves details and retryable undefined when the envelope has none", async () => {
    const body = fixture("ErrorEnvelope", "minimal");
    server.use(http.post(`${BASE}/v1/runs`, () => HttpResponse.json(body, { status: 404 })));

    const e = (await rejection(gateway().startRun(fixture("RunStartRequest", "minimal")))) as ArpApiError;

    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(404);
    expect(e.code).toBe("node_run_failed");
    expect(e.details).toBeUndefined();
    expect(e.retryable).toBeUndefined();
    expect(e.envelope).toEqual(body);
    expect(e.method).toBe("POST");
    expect(e.url).toBe(`${BASE}/v1/runs`);
  });

  it("is thrown for 4xx too (and not retried: 401 is not a transient status)", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.json(envelope("unauthenticated", "token expired"), { status: 401 }),
      ),
    );
    const e = (await rejection(gateway({ retry: undefined }).getRun("run_1"))) as ArpApiError;
    expect(e.status).toBe(401);
    expect(e.code).toBe("unauthenticated");
    expect(recorder.count).toBe(1);
  });
});

describe("ArpApiError without an envelope", () => {
  it("gets code http_<status> and a short, whitespace-collapsed excerpt of a proxy's HTML page", async () => {
    const html = `<!DOCTYPE html>\n<html>\n  <head><title>502 Bad Gateway</title></head>\n  <body>\n    <h1>Bad Gateway</h1>\n${"    <p>upstream connect error or disconnect/reset before headers</p>\n".repeat(20)}  </body>\n</html>\n`;
    server.use(
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.html(html, { status: 502, headers: { "content-type": "text/html" } }),
      ),
    );

    const e = (await rejection(gateway().getRun("run_1"))) as ArpApiError;

    expect(e).toBeInstanceOf(ArpApiError);
    expect(e.status).toBe(502);
    expect(e.code).toBe("http_502");
    expect(e.envelope).toBeUndefined();
    expect(e.details).toBeUndefined();
    expect(e.retryable).toBeUndefined();
    expect(e.bodyExcerpt).toMatch(/^<!DOCTYPE html> <html> <head><title>502 Bad Gateway<\/title>/);
    expect(e.bodyExcerpt!.length).toBeLessThanOrEqual(200);
    expect(e.bodyExcerpt!.length).toBeLessThan(html.length);
    expect(e.bodyExcerpt).not.toMatch(/\s{2}|\n/);
    expect(e.message).toContain("HTTP 502: <!DOCTYPE html>");
    expect(e.message).toContain(`(GET ${BASE}/v1/runs/run_1)`);
    expect(e.method).toBe("GET");
    expect(e.url).toBe(`${BASE}/v1/runs/run_1`);
  });

  it("treats JSON that is not a valid ErrorEnvelope as a plain body", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.json({ error: "Not Found", message: "no route" }, { status: 404 }),
      ),
    );
    const e = (await rejection(gateway().getRun("run_1"))) as ArpApiError;
    expect(e.code).toBe("http_404");
    expect(e.envelope).toBeUndefined();
    expect(e.bodyExcerpt).toBe('{"error":"Not Found","message":"no route"}');
  });

  it("has no excerpt for an empty body", async () => {
    server.use(http.get(`${BASE}/v1/runs/:id`, () => new HttpResponse(null, { status: 500 })));
    const e = (await rejection(gateway().getRun("run_1"))) as ArpApiError;
    expect(e.code).toBe("http_500");
    expect(e.bodyExcerpt).toBeUndefined();
    expect(e.message).toBe(`HTTP 500 (GET ${BASE}/v1/runs/run_1)`);
  });
});

describe("local failures", () => {
  it("network error → ArpTransportError", async () => {
    server.use(http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.error()));
    const e = await rejection(gateway().getRun("run_1"));
    expect(e).toBeInstanceOf(ArpTransportError);
    expect(e).toBeInstanceOf(ArpError);
    expect(e).not.toBeInstanceOf(ArpApiError);
    const t = e as ArpTransportError;
    expect(t.code).toBe("transport_error");
    expect(t.method).toBe("GET");
    expect(t.url).toBe(`${BASE}/v1/runs/run_1`);
    expect(t.cause).toBeInstanceOf(TypeError);
    expect(recorder.count).toBe(1);
  });

  it("no answer within timeoutMs → ArpTimeoutError", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const started = Date.now();
    const e = await rejection(gateway({ timeoutMs: 50 }).getRun("run_1"));
    expect(e).toBeInstanceOf(ArpTimeoutError);
    const t = e as ArpTimeoutError;
    expect(t.code).toBe("timeout");
    expect(t.timeoutMs).toBe(50);
    expect(t.method).toBe("GET");
    expect(t.url).toBe(`${BASE}/v1/runs/run_1`);
    expect(Date.now() - started).toBeLessThan(10_000); // the answer never comes: the deadline ended it
  });

  it("a per-call timeoutMs overrides the client's", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const e = await rejection(gateway({ timeoutMs: 60_000 }).getRun("run_1", { timeoutMs: 40 }));
    expect(e).toBeInstanceOf(ArpTimeoutError);
    expect((e as ArpTimeoutError).timeoutMs).toBe(40);
  });

  it("abort in flight → the caller's AbortSignal reason, as-is", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const controller = new AbortController();
    const reason = { why: "user navigated away" };
    const call = gateway().getRun("run_1", { signal: controller.signal });
    await expect.poll(() => recorder.count).toBe(1);
    controller.abort(reason);
    expect(await rejection(call)).toBe(reason);
  });

  it("abort with the default reason → that DOMException, not an ArpError", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const controller = new AbortController();
    const call = gateway().getRun("run_1", { signal: controller.signal });
    await expect.poll(() => recorder.count).toBe(1);
    controller.abort();
    const e = await rejection(call);
    expect(e).toBe(controller.signal.reason);
    expect((e as DOMException).name).toBe("AbortError");
    expect(e).not.toBeInstanceOf(ArpError);
  });

  it("an already-aborted signal → its reason, without a network call", async () => {
    const reason = new Error("cancelled before start");
    const e = await rejection(gateway().getRun("run_1", { signal: AbortSignal.abort(reason) }));
    expect(e).toBe(reason);
    expect(recorder.count).toBe(0);
  });

  it("malformed response JSON → ArpProtocolError naming the content type", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.text("<html>login</html>", { headers: { "content-type": "text/html" } }),
      ),
    );
    const e = await rejection(gateway().getRun("run_1"));
    expect(e).toBeInstanceOf(ArpProtocolError);
    const p = e as ArpProtocolError;
    expect(p.code).toBe("protocol_error");
    expect(p.message).toContain("text/html");
    expect(p.url).toBe(`${BASE}/v1/runs/run_1`);
    expect(p.line).toBeUndefined();
  });

  it("truncated JSON with a JSON content type → ArpProtocolError", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.text('{"run_id": "run_1", "sta', { headers: { "content-type": "application/json" } }),
      ),
    );
    const e = await rejection(gateway().getRun("run_1"));
    expect(e).toBeInstanceOf(ArpProtocolError);
    expect((e as ArpProtocolError).message).toContain("application/json");
  });
});

describe("request validation (before sending: no network call)", () => {
  it("rejects an invalid body with ArpValidationError listing the issues", async () => {
    const body = { root_node_type_ref: { node_type_id: 42 }, input: {} };
    const e = await rejection(gateway().startRun(body as never));
    expect(e).toBeInstanceOf(ArpValidationError);
    const v = e as ArpValidationError;
    expect(v.code).toBe("validation_failed");
    expect(v.direction).toBe("request");
    expect(v.schema).toBe("RunStartRequest");
    expect(v.errors.length).toBeGreaterThan(0);
    expect(v.errors.map((i) => i.pointer)).toContain("/root_node_type_ref/node_type_id");
    expect(v.method).toBe("POST");
    expect(v.url).toBe(`${BASE}/v1/runs`);
    expect(recorder.count).toBe(0);
  });

  it("rejects a missing body", async () => {
    const e = await rejection(gateway().startRun(undefined as never));
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(recorder.count).toBe(0);
  });

  it("rejects unknown fields (v1 objects are closed)", async () => {
    const body = { ...fixture("RunStartRequest", "minimal"), colour: "blue" };
    const e = (await rejection(gateway().startRun(body))) as ArpValidationError;
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(recorder.count).toBe(0);
  });

  it("rejects an empty path parameter", async () => {
    const e = (await rejection(gateway().getRun(""))) as ArpValidationError;
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(e.direction).toBe("request");
    expect(e.errors[0]?.pointer).toBe("/run_id");
    expect(recorder.count).toBe(0);
  });

  it("rejects a non-string path parameter", async () => {
    const coordinator = new RunCoordinatorClient({ baseUrl: BASE });
    const e = await rejection(coordinator.getNodeRun(42 as never));
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(recorder.count).toBe(0);
  });

  it("rejects a `kind` outside NodeKind, and a non-string `q`", async () => {
    const registry = new NodeRegistryClient({ baseUrl: BASE });
    const e = (await rejection(registry.listNodeTypes({ kind: "molecule" as never }))) as ArpValidationError;
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(e.schema).toBe("NodeKind");
    expect(await rejection(registry.listNodeTypes({ q: 5 as never }))).toBeInstanceOf(ArpValidationError);
    expect(recorder.count).toBe(0);
  });

  it("sends what it is given under validateRequests: false", async () => {
    server.use(http.post(`${BASE}/v1/runs`, () => HttpResponse.json(fixture("Run", "minimal"))));
    const body = { nonsense: true };
    await gateway({ validateRequests: false }).startRun(body as never);
    expect((await recorder.only()).json).toEqual(body);
  });
});

describe("response validation", () => {
  const badRun = { run_id: "run_1", state: "exploded", root_node_run_id: "nr_1" };
  const aheadRun = { ...fixture("Run", "minimal"), added_in_v1_1: { x: 1 } };

  it("strict (the default): an invalid body → ArpValidationError", async () => {
    server.use(http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.json(badRun)));
    const e = (await rejection(gateway().getRun("run_1"))) as ArpValidationError;
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(e.direction).toBe("response");
    expect(e.schema).toBe("Run");
    expect(e.errors.map((i) => i.pointer)).toContain("/state");
    expect(e.url).toBe(`${BASE}/v1/runs/run_1`);
  });

  it("strict: unknown fields from a newer server are rejected", async () => {
    server.use(http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.json(aheadRun)));
    expect(await rejection(gateway({ validateResponses: "strict" }).getRun("run_1"))).toBeInstanceOf(
      ArpValidationError,
    );
  });

  it("off: bodies pass through as received", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/run_1`, () => HttpResponse.json(badRun)),
      http.get(`${BASE}/v1/runs/run_2`, () => HttpResponse.json(aheadRun)),
    );
    const client = gateway({ validateResponses: "off" });
    expect(await client.getRun("run_1")).toEqual(badRun);
    expect(await client.getRun("run_2")).toEqual(aheadRun);
  });

  it("strict: a list operation needs an array of valid items", async () => {
    const registry = new NodeRegistryClient({ baseUrl: BASE, retry: false });
    server.use(
      http.get(`${BASE}/v1/node-types`, ({ request }) =>
        new URL(request.url).searchParams.get("q") === "object"
          ? HttpResponse.json(fixture("NodeType", "minimal"))
          : HttpResponse.json([fixture("NodeType", "minimal"), { node_type_id: "x" }]),
      ),
    );
    const notArray = (await rejection(registry.listNodeTypes({ q: "object" }))) as ArpValidationError;
    expect(notArray).toBeInstanceOf(ArpValidationError);
    expect(notArray.schema).toBe("NodeType[]");
    const badItem = (await rejection(registry.listNodeTypes({ q: "items" }))) as ArpValidationError;
    expect(badItem).toBeInstanceOf(ArpValidationError);
    // Every failing item is reported, its index in front of the pointer (the server's wording too).
    expect(badItem.schema).toBe("NodeType[]");
    expect(badItem.errors.length).toBeGreaterThan(0);
    expect(badItem.errors.every((i) => i.pointer.startsWith("/1/"))).toBe(true);
  });
});

describe("one family of errors", () => {
  it("every failure is an ArpError with a string code and its own class name", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/api`, () =>
        HttpResponse.json(envelope("not_found", "no run"), { status: 404 }),
      ),
      http.get(`${BASE}/v1/runs/net`, () => HttpResponse.error()),
      http.get(`${BASE}/v1/runs/slow`, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
      http.get(`${BASE}/v1/runs/html`, () => HttpResponse.text("oops")),
    );
    const client = gateway({ timeoutMs: 50 });
    const errors = {
      ArpApiError: await rejection(client.getRun("api")),
      ArpTransportError: await rejection(client.getRun("net")),
      ArpTimeoutError: await rejection(client.getRun("slow")),
      ArpProtocolError: await rejection(client.getRun("html")),
      ArpValidationError: await rejection(client.getRun("")),
    };
    const codes = Object.entries(errors).map(([name, e]) => {
      expect(e, name).toBeInstanceOf(ArpError);
      expect(e, name).toBeInstanceOf(Error);
      expect((e as Error).name).toBe(name);
      expect(typeof (e as ArpError).code).toBe("string");
      return (e as ArpError).code;
    });
    expect(codes).toEqual(["not_found", "transport_error", "timeout", "protocol_error", "validation_failed"]);
    // Each subclass recognises only its own instances.
    expect(errors.ArpApiError).not.toBeInstanceOf(ArpTransportError);
    expect(errors.ArpTimeoutError).not.toBeInstanceOf(ArpApiError);
    expect(errors.ArpValidationError).not.toBeInstanceOf(ArpProtocolError);
  });
});

describe("the bearer token never appears in an error", () => {
  /** A server that echoes the Authorization header back in every way it can. */
  function echoingServer(): void {
    server.use(
      http.get(`${BASE}/v1/runs/envelope`, ({ request }) => {
        const auth = request.headers.get("authorization") ?? "";
        return HttpResponse.json(
          envelope("unauthenticated", `bad credentials: ${auth}`, {
            details: { authorization: auth, nested: [{ header: auth, token: auth.slice(7) }] },
          }),
          { status: 401 },
        );
      }),
      http.get(`${BASE}/v1/runs/html`, ({ request }) =>
        HttpResponse.html(
          `<html><body><h1>403</h1><pre>Authorization: ${request.headers.get("authorization")}</pre></body></html>`,
          { status: 403 },
        ),
      ),
    );
  }

  function expectNoToken(e: unknown, token: string): void {
    expect(e).toBeInstanceOf(ArpApiError);
    const err = e as ArpApiError;
    expect(err.message).not.toContain(token);
    expect(JSON.stringify(err)).not.toContain(token);
    expect(String(err)).not.toContain(token);
    expect(err.stack ?? "").not.toContain(token);
    expect(JSON.stringify(err.envelope ?? null)).not.toContain(token);
    expect(err.bodyExcerpt ?? "").not.toContain(token);
  }

  it("is redacted from an echoed envelope (message, details) and from an HTML excerpt", async () => {
    echoingServer();
    const client = gateway();

    const fromEnvelope = await rejection(client.getRun("envelope"));
    expectNoToken(fromEnvelope, TOKEN);
    expect((fromEnvelope as ArpApiError).message).toContain("[redacted]");
    expect((fromEnvelope as ArpApiError).details).toEqual({
      authorization: "Bearer [redacted]",
      nested: [{ header: "Bearer [redacted]", token: "[redacted]" }],
    });

    const fromHtml = await rejection(client.getRun("html"));
    expectNoToken(fromHtml, TOKEN);
    expect((fromHtml as ArpApiError).bodyExcerpt).toContain("Authorization: Bearer [redacted]");

    // The server did receive the token: the redaction is the client's.
    const sent = await recorder.all();
    expect(sent.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it("is redacted when it comes from a token function", async () => {
    echoingServer();
    const client = gateway({ bearerToken: async () => "tok_from_fn_Hh71Qa" });
    expectNoToken(await rejection(client.getRun("envelope")), "tok_from_fn_Hh71Qa");
    expectNoToken(await rejection(client.getRun("html")), "tok_from_fn_Hh71Qa");
  });

  // Known gaps (see the report; drop `.fails` once fixed): redaction covers string values only.
  it("is redacted from an echoed object key in the envelope's details", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, ({ request }) =>
        HttpResponse.json(
          envelope("unauthenticated", "bad credentials", {
            details: { [request.headers.get("authorization") ?? ""]: "rejected" },
          }),
          { status: 401 },
        ),
      ),
    );
    const e = await rejection(gateway().getRun("run_1"));
    expect(e).toBeInstanceOf(ArpApiError);
    expect(JSON.stringify(e)).not.toContain(TOKEN);
  });

  it("is redacted from a response validation error naming an echoed property", async () => {
    server.use(
      http.get(`${BASE}/v1/runs/:id`, ({ request }) =>
        HttpResponse.json({ ...fixture("Run", "minimal"), [request.headers.get("authorization") ?? ""]: 1 }),
      ),
    );
    const e = await rejection(gateway().getRun("run_1"));
    expect(e).toBeInstanceOf(ArpValidationError);
    expect(`${(e as Error).message} ${JSON.stringify(e)}`).not.toContain(TOKEN);
  });

  it("does not appear in local errors either", async () => {
    server.use(http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.error()));
    const errors = [
      await rejection(gateway().getRun("run_1")),
      await rejection(gateway().getRun("")),
      await rejection(gateway().startRun({} as never)),
    ];
    for (const e of errors) {
      expect(e).toBeInstanceOf(ArpError);
      expect(JSON.stringify(e)).not.toContain(TOKEN);
      expect((e as Error).message).not.toContain(TOKEN);
    }
  });
});

describe("instanceof across the ESM and CJS builds", () => {
  // A variable, so that tsc does not resolve the build output at typecheck time.
  const distPath = "../dist/index.cjs";
  const distFile = fileURLToPath(new URL(distPath, import.meta.url));

  it("recognises an error thrown by the CJS client as the ESM ArpApiError and ArpError", async () => {
    expect(existsSync(distFile), `${distFile} is missing: run \`npx tsup\` in packages/client`).toBe(true);
    const cjs = createRequire(import.meta.url)(distPath) as typeof import("../src/index.js");
    expect(cjs.ArpApiError).not.toBe(ArpApiError);

    server.use(
      http.get(`${BASE}/v1/runs/:id`, () => HttpResponse.json(envelope("not_found", "no run")), {
        once: true,
      }),
      http.get(`${BASE}/v1/runs/:id`, () =>
        HttpResponse.json(envelope("not_found", "no run"), { status: 404 }),
      ),
    );
    const client = new cjs.RunGatewayClient({ baseUrl: BASE, bearerToken: TOKEN, retry: false });
    // The CJS build validates too (its own copy of @arp/model): the first answer is not a Run.
    expect(await rejection(client.getRun("run_1"))).toBeInstanceOf(ArpValidationError);

    const e = await rejection(client.getRun("run_1"));
    expect(e).toBeInstanceOf(cjs.ArpApiError);
    expect(e).toBeInstanceOf(ArpApiError);
    expect(e).toBeInstanceOf(ArpError);
    expect(e).not.toBeInstanceOf(ArpTimeoutError);
    expect(e).not.toBeInstanceOf(ArpValidationError);
    expect((e as ArpApiError).status).toBe(404);

    // And the other way round.
    const esm = await rejection(gateway().getRun(""));
    expect(esm).toBeInstanceOf(cjs.ArpValidationError);
    expect(esm).toBeInstanceOf(cjs.ArpError);
    expect(esm).not.toBeInstanceOf(cjs.ArpApiError);
  });
});
