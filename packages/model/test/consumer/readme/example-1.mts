import { RUN_STATES, type Run, type RunState } from "@arp/model";

const run: Run = { run_id: "run_1", state: "running", root_node_run_id: "nr_1" };
const terminal: RunState[] = RUN_STATES.filter((s) => s !== "queued" && s !== "running");
console.log(run.state, terminal); // → running [ 'succeeded', 'failed', 'canceled' ]

export {};
