/** `arp-conformance check <service> --tier deep --allow-mutations --strict`, in process. */
import { type CheckReport, type Fixtures, runConformance } from "@arp/conformance";
import type { ServiceKey } from "../../src/urls.js";

export function checkDeep(
  service: ServiceKey,
  url: string,
  fixtures?: Partial<Fixtures>,
): Promise<CheckReport> {
  return runConformance({
    service,
    url,
    tier: "deep",
    allowMutations: true,
    strict: true,
    pollIntervalMs: 50,
    ...(fixtures === undefined ? {} : { fixtures }),
  });
}

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

/**
 * The fixtures a whole stack can run (its coordinator at `coordinatorUrl`). The checker plays the
 * root's executor on a coordinator (it adds a child, evaluates it, completes the root), so the root
 * is a composite that stays busy long enough: a pipeline whose one step sleeps. The composite
 * executor is begun for a node run its coordinator does not know: it accepts, and its calls back
 * fail (quietly); the check is the acceptance. `service`: the one checked (see the sleep below).
 */
export function stackFixtures(coordinatorUrl: string, service?: ServiceKey): Partial<Fixtures> {
  const echo = ref("echo");
  const pipeline = ref("pipeline");
  return {
    run: {
      root_node_type_ref: pipeline,
      // The gateway's checks wait for the run to end: short. On a coordinator the checker completes
      // the root itself (which ends the sleep), and needs it running meanwhile: long, for a loaded machine.
      input: {
        steps: [{ node_type: ref("sleep"), inputs: { ms: service === "run-coordinator" ? 20_000 : 1_500 } }],
      },
    },
    node_run: { node_type_ref: echo, inputs: { text: "child" } },
    atomic_execute: { node_run_id: "x", run_id: "x", node_type_ref: echo, inputs: { text: "hi" } },
    composite_begin: {
      node_run_id: "x",
      run_id: "x",
      node_type_ref: pipeline,
      inputs: { steps: [{ node_type: echo }] },
      coordinator_endpoint: coordinatorUrl,
    },
  } as Partial<Fixtures>;
}
