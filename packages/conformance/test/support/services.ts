/**
 * Correct services to check: the server package's complete test implementations of all seven
 * services (built on `@arp/server`'s generated base classes).
 */
import type * as T from "@arp/model";
import type { ArpRequest, ServerOptions } from "../../../server/src/index.js";
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
  "run-gateway": (o) => new FinishingRunGateway(o),
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
