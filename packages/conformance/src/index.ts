/**
 * @arp/conformance: check ARP v1 golden vectors against the spec, and running ARP services against
 * the v1 contracts (tiers smoke, surface, core and deep), programmatically or with the
 * `arp-conformance` CLI.
 */
export { applyBaseline, type Baseline, parseBaseline } from "./check/baseline.js";
export { type RunConformanceOptions, runConformance, type ServiceKey } from "./check/conformance.js";
export {
  DEFAULT_FIXTURES,
  FIXTURE_SCHEMAS,
  type Fixtures,
  parseFixtures,
  readFixtures,
} from "./check/fixtures.js";
export { type InvalidBody, invalidBodies } from "./check/invalid-bodies.js";
export type { Exchange, RecordedRequest, RecordedResponse } from "./check/probe.js";
export {
  type Check,
  type CheckCounts,
  type CheckReport,
  type CheckResult,
  type CheckStatus,
  checksFor,
  IMPLEMENTED_TIERS,
  TIERS,
  type Tier,
} from "./check/runner.js";
export { UsageError } from "./errors.js";
export { type CheckRunReport, renderJson, renderJunit, renderText } from "./report/check.js";
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
