import { isRunEvent, type Run, validate } from "@arp/model";

const result = validate("Run", JSON.parse('{"run_id":"run_1","state":"queued","root_node_run_id":"nr_1"}'));
if (result.ok) {
  const run: Run = result.value;
  console.log(run.state); // → queued
}
console.log(isRunEvent({ run_id: "run_1", seq: 0, type: "run_started", time: "2026-01-15T09:30:00Z" })); // → true

export {};
