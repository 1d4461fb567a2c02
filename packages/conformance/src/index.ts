/**
 * @arp/conformance: check ARP v1 golden vectors against the spec, programmatically or with the
 * `arp-conformance` CLI. (Checking running services, the `check` command, comes later.)
 */
export { UsageError } from "./errors.js";
export { jsonReporter } from "./report/json.js";
export type { Output, ReportedError, Reporter, VectorsReport } from "./report/reporter.js";
export { textReporter } from "./report/text.js";
export {
  type CompiledSpecTree,
  compileSpecTree,
  locateSpecRoot,
  precompiledValidators,
  type SchemaValidators,
} from "./spec-tree.js";
export {
  type Expectation,
  type RunVectorsOptions,
  runVectors,
  schemaFileFor,
  type VectorResult,
  type VectorRun,
  type VectorStatus,
} from "./vectors.js";
