/**
 * Correct services to check: the server package's complete test implementations of all seven
 * services (built on `@arp/server`'s generated base classes).
 */
import type { ServerOptions } from "../../../server/src/index.js";
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
  "run-gateway": (o) => new TestRunGateway(o),
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
