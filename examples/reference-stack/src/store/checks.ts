/** What every store checks of a change before anything else: mistakes of the caller, not refusals. */
import type { Change } from "./interface.js";

/**
 * Throws for a change no store may apply: a `run_completed` that is not its last event, a
 * `create_run` or an inserted node run of another run than the change's.
 */
export function checkChange(change: Change): void {
  const events = change.events ?? [];
  const completes = events.findIndex((e) => e.type === "run_completed");
  if (completes !== -1 && completes !== events.length - 1) {
    throw new Error("a run_completed event must be the last event of its change");
  }
  if (change.create_run !== undefined && change.create_run.run.run_id !== change.run_id) {
    throw new Error("create_run is for another run");
  }
  for (const record of change.insert_node_runs ?? []) {
    if (record.node_run.run_id !== change.run_id) {
      throw new Error(`node run ${record.node_run.node_run_id} is for another run`);
    }
  }
}
