/**
 * Correct services to check: the server package's complete test implementations of all seven
 * services (built on `@arp/server`'s generated base classes).
 */
import type { ServerOptions } from "../../../server/src/index.js";
import {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "../../../server/test/support/services.js";

export interface Listening {
  listen(options?: { port?: number }): Promise<{ url: string; close(): Promise<void> }>;
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

export {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
};
