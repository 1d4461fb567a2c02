// A CommonJS consumer: resolves the `require` condition and its `.d.cts` types.
import model = require("@arp/model");

const run: model.Run = { run_id: "run_1", state: "queued", root_node_run_id: "nr_1" };
const ok: boolean = model.isRun(run);
export const states: readonly model.RunState[] = model.RUN_STATES;
export { ok };
