/**
 * Shared msw setup for the client's unit tests: one `setupServer()` per test file with
 * `onUnhandledRequest: "error"`, a recorder of every request the client sent, and the golden vectors
 * of `spec/v1/conformance/json_vectors` as response and request fixtures.
 *
 * Call {@link useServer} once at the top of a test file; add handlers per test with `server.use(...)`.
 * A test fails when the client sent a request that no handler answered (even if the test caught the
 * resulting transport error), so a wrong URL cannot hide behind an expected failure.
 */
import { SCHEMAS, type SchemaName, type SchemaTypes } from "@arp/model";
import { goldenVector } from "@arp/testkit";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

/** What the server saw of one request. */
export interface RecordedRequest {
  method: string;
  /** The full URL as sent (path params still percent-encoded). */
  url: string;
  /** `URL.pathname`, still percent-encoded. */
  path: string;
  /** The raw query string, without `?` ("" when none). */
  search: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The raw body ("" when none). */
  text: string;
  /** The body parsed as JSON; undefined when empty. */
  json: unknown;
}

async function read(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const text = await request.text();
  return {
    method: request.method,
    url: request.url,
    path: url.pathname,
    search: url.search.replace(/^\?/, ""),
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(request.headers),
    text,
    json: text === "" ? undefined : JSON.parse(text),
  };
}

/** Records every request that reaches msw (handled or not), in the order they were sent. */
export class Recorder {
  #pending: Promise<RecordedRequest>[] = [];

  capture(request: Request): void {
    // Cloned at `request:start`, before any handler reads the body.
    this.#pending.push(read(request.clone()));
  }

  /** How many requests were sent so far. */
  get count(): number {
    return this.#pending.length;
  }

  /** Every request, bodies read. */
  all(): Promise<RecordedRequest[]> {
    return Promise.all(this.#pending);
  }

  /** The only request sent; fails the test when there was not exactly one. */
  async only(): Promise<RecordedRequest> {
    const all = await this.all();
    expect(all, "requests sent").toHaveLength(1);
    return all[0]!;
  }

  clear(): void {
    this.#pending = [];
  }
}

export const server = setupServer();
export const recorder = new Recorder();
const unhandled: string[] = [];

server.events.on("request:start", ({ request }) => recorder.capture(request));
server.events.on("request:unhandled", ({ request }) => {
  unhandled.push(`${request.method} ${request.url}`);
});

/** Registers the server's lifecycle in the calling test file. */
export function useServer(): { server: typeof server; recorder: Recorder } {
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    server.resetHandlers();
    recorder.clear();
    const missed = unhandled.splice(0);
    expect(missed, "requests that no msw handler answered").toEqual([]);
  });
  afterAll(() => server.close());
  return { server, recorder };
}

/**
 * A golden vector (a fresh copy) of a schema: `fixture("Run", "full")` reads
 * `json_vectors/core/run/full.json`, the file named by `SCHEMAS.Run.file`.
 */
export function fixture<N extends SchemaName>(name: N, variant: "minimal" | "full"): SchemaTypes[N] {
  const entry: { file: string; pointer?: string } = SCHEMAS[name];
  if (entry.pointer !== undefined) {
    throw new Error(`${name} is a sub-schema (${entry.file}#${entry.pointer}): it has no golden vectors`);
  }
  return goldenVector(entry.file, variant) as SchemaTypes[N];
}

/** An `ErrorEnvelope` body for a handler. */
export function envelope(
  code: string,
  message: string,
  extra: { details?: Record<string, unknown>; retryable?: boolean } = {},
): SchemaTypes["ErrorEnvelope"] {
  return { error: { code, message, ...extra } };
}

/**
 * A backoff clock for `ClientOptions.sleep` that never waits: it records each requested delay and
 * resolves at once (or rejects when the call's signal is already aborted).
 */
export function fakeSleep(): {
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  delays: number[];
} {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms, signal) => {
      delays.push(ms);
      return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
}

/** A promise that rejects with the rejection reason, failing the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to reject, but it resolved");
}
