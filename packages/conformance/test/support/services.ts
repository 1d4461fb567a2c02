/**
 * Correct services to check: the server package's complete test implementations of all seven
 * services (built on `@arp/server`'s generated base classes).
 */
import type * as T from "@arp/model";
import type { ArpRequest, ServerOptions } from "../../../server/src/index.js";
import { makeKey, signToken, startJwksServer, type TestKey } from "../../../server/test/support/jwks.js";
import {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "../../../server/test/support/services.js";

/**
 * A gateway whose runs end on their own, as a gateway in front of a working stack does: each run
 * succeeds {@link FINISH_AFTER_MS} after its start, unless canceled first.
 */
export class FinishingRunGateway extends TestRunGateway {
  static readonly FINISH_AFTER_MS = 400;

  override startRun(req: ArpRequest<T.RunStartRequest>): T.Run {
    const run = super.startRun(req) as T.Run;
    setTimeout(() => {
      if (this.runs.get(run.run_id)?.state === "running") this.finish(run.run_id, "succeeded");
    }, FinishingRunGateway.FINISH_AFTER_MS).unref();
    return run;
  }
}

export interface Running {
  url: string;
  /** The headers a client needs (a valid bearer token, for a service that requires auth). */
  headers?: Record<string, string>;
  close(): Promise<void>;
}

export interface Listening {
  listen(options?: { port?: number }): Promise<Running>;
}

/** A correct service of each key. */
export const CORRECT: Readonly<Record<string, (options?: ServerOptions) => Listening>> = {
  "atomic-executor": (o) => new TestAtomicExecutor(o),
  "composite-executor": (o) => new TestCompositeExecutor(o),
  "node-registry": (o) => new TestNodeRegistry(o),
  pdp: (o) => new TestPdp(o),
  "run-coordinator": (o) => new TestRunCoordinator(o),
  "run-gateway": (o) => new FinishingRunGateway(o),
  selection: (o) => new TestSelection(o),
};

let signingKey: Promise<TestKey> | undefined;

/**
 * The service `make` builds, with auth required: a real JWKS on loopback serves a key made here,
 * and `headers` carry a token it signed (so `--headers` can pass what `--auth-probe` takes away).
 */
export function withAuth(make: (options?: ServerOptions) => Listening): Listening {
  return {
    async listen(options) {
      signingKey ??= makeKey("arp-conformance-test");
      const key = await signingKey;
      const jwks = await startJwksServer([key]);
      const inner = await make({ auth: { mode: "required", jwksUri: jwks.jwksUri } }).listen(options);
      const token = await signToken(key, { sub: "arp-conformance" });
      return {
        url: inner.url,
        headers: { Authorization: `Bearer ${token}` },
        async close() {
          await inner.close();
          await jwks.close();
        },
      };
    },
  };
}

export {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
};
