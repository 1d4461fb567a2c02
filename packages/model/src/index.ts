/**
 * @arp/model: TypeScript types and precompiled validators for every ARP Standard v1 schema, and the
 * operation tables of the seven services.
 */
export { brand, brandCheck } from "./brand.js";
export type { ArpWireErrorCode } from "./error-codes.js";
export { formatValidators, isDateTime, isUri } from "./formats.js";
export * from "./generated/index.gen.js";
export type { OperationSpec, ParamSpec, ResponseSpec, ServiceSpec } from "./operations.js";
export {
  arrayIssues,
  assertValid,
  type CompiledError,
  type CompiledValidator,
  formatIssues,
  issuesTruncated,
  isValid,
  MAX_VALIDATION_ISSUES,
  type OperationValidators,
  operationValidators,
  toIssues,
  ValidationError,
  type ValidationIssue,
  type ValidationResult,
  validate,
  validatorFor,
} from "./validation.js";
