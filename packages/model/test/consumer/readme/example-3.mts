import { RUN_COORDINATOR_SERVICE, SERVICES } from "@arp/model";

const op = RUN_COORDINATOR_SERVICE.operations.streamRunEvents;
console.log(op.method, op.path, op.response.kind, op.conformance); // → GET /v1/runs/{run_id}/events ndjson optional
const start = RUN_COORDINATOR_SERVICE.operations.startRun;
console.log(start.retry, start.idempotencyKey?.join(".")); // → keyed run_id

for (const service of Object.values(SERVICES)) {
  const required = Object.values(service.operations).filter((o) => o.conformance === "required");
  console.log(`${service.name}: ${required.length} required operations`);
}
// → RunGateway: 5 required operations

export {};
