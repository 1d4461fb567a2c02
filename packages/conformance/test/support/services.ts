/**
 * Correct services to check: the server package's complete test implementations of all seven
 * services (built on `@arp/server`'s generated base classes), with one fix for the checker's
 * stricter reading: an unknown node run's event stream is a 404, not an empty stream.
 */
import type * as T from "@arp/model";
import { type ArpRequest, notFound, type ServerOptions } from "../../../server/src/index.js";
import {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "../../../server/test/support/services.js";

export class CheckedRunCoordinator extends TestRunCoordinator {
  override streamNodeRunEvents(
    req: ArpRequest<undefined, { node_run_id: string }>,
  ): AsyncIterable<T.RunEvent> {
    if (!this.nodeRuns.has(req.params.node_run_id)) throw notFound(`no node run ${req.params.node_run_id}`);
    return super.streamNodeRunEvents(req);
  }
}

export interface Listening {
  listen(options?: { port?: number }): Promise<{ url: string; close(): Promise<void> }>;
}

/** A correct service of each key. */
export const CORRECT: Readonly<Record<string, (options?: ServerOptions) => Listening>> = {
  "atomic-executor": (o) => new TestAtomicExecutor(o),
  "composite-executor": (o) => new TestCompositeExecutor(o),
  "node-registry": (o) => new TestNodeRegistry(o),
  pdp: (o) => new TestPdp(o),
  "run-coordinator": (o) => new CheckedRunCoordinator(o),
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
