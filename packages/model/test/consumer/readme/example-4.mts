import { RUN_GATEWAY_SERVICE, operationValidators } from "@arp/model";

const { startRun, getRun } = RUN_GATEWAY_SERVICE.operations;
const { request, response } = operationValidators(startRun);
console.log(request?.({}), response === operationValidators(getRun).response); // → false true

export {};
