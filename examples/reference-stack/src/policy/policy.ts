/**
 * An IAM-style policy document and its evaluation, for the reference PDP.
 *
 * ```json
 * { "statements": [
 *   { "sid": "no-irreversible", "effect": "deny", "actions": ["node.run.*"],
 *     "conditions": { "side_effect_class": ["irreversible"] } },
 *   { "sid": "approve-writes", "effect": "require_approval", "actions": ["node.run.execute"],
 *     "resources": ["arp.ref.*"], "conditions": { "side_effect_class": ["write"] } },
 *   { "sid": "tenant-acme", "effect": "allow", "actions": ["*"], "conditions": { "tenant_ids": ["acme"] } }
 * ] }
 * ```
 *
 * A statement matches a request when one of its `actions` matches the request's `action`, one of its
 * `resources` (when given) matches the request's `node_type_ref.node_type_id` (a statement with
 * `resources` never matches a request without a node type), and every condition holds. Patterns are
 * exact strings in which `*` stands for any run of characters (`node.run.*`, `arp.ref.*`, `*`).
 * Conditions (all must hold; each list holds when any of its values does):
 * - `context_equals: { key: value }`: `context[key]` of the request is exactly `value` (a string, number or boolean);
 * - `tenant_ids: [...]`: `run_context.tenant_id` is one of them;
 * - `actor_ids: [...]`: `run_context.actor.id` is one of them;
 * - `side_effect_class: [...]`: the side-effect class of the request's node type (its
 *   `constraints.gates.side_effect_class` in the Node Registry) is one of them. A node type that
 *   declares none, or that the registry does not know, counts as `irreversible`, the most dangerous
 *   class, so that a policy fails closed; a request without a node type matches no such condition.
 *
 * The decision: any matching `deny` wins; else any matching `require_approval`; else any matching
 * `allow`, which becomes `require_approval` when the request's `constraints.gates.require_approval`
 * is true; else `deny` (default deny).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type * as T from "@arp/model";
import { SIDE_EFFECT_CLASSES } from "@arp/model";

export const POLICY_EFFECTS = ["allow", "deny", "require_approval"] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

export interface PolicyConditions {
  context_equals?: Record<string, string | number | boolean>;
  tenant_ids?: string[];
  actor_ids?: string[];
  side_effect_class?: T.SideEffectClass[];
}

export interface PolicyStatement {
  /** A name for the statement, echoed in decisions; unique within the document. */
  sid?: string;
  effect: PolicyEffect;
  actions: string[];
  resources?: string[];
  conditions?: PolicyConditions;
}

export interface PolicyDocument {
  statements: PolicyStatement[];
}

/** Limits of a policy document, checked by {@link parsePolicy}. */
export const POLICY_LIMITS = {
  /** Statements in one document. */
  statements: 1_000,
  /** Patterns (or ids) in one list. */
  listItems: 100,
  /** Characters of one pattern, id, sid or context value. */
  stringLength: 256,
} as const;

/** A policy document that is not valid; `problems` lists every one found. */
export class PolicyError extends Error {
  override name = "PolicyError";
  constructor(
    readonly problems: readonly string[],
    where = "policy",
  ) {
    super(`${where} is not a valid policy document: ${problems.join("; ")}`);
  }
}

const DOCUMENT_KEYS = new Set(["statements"]);
const STATEMENT_KEYS = new Set(["sid", "effect", "actions", "resources", "conditions"]);
const CONDITION_KEYS = new Set(["context_equals", "tenant_ids", "actor_ids", "side_effect_class"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Checks a policy document (parsed JSON) and returns it typed; throws {@link PolicyError} naming every problem. */
export function parsePolicy(value: unknown, where = "policy"): PolicyDocument {
  const problems: string[] = [];
  if (!isObject(value)) throw new PolicyError(["expected an object with `statements`"], where);
  for (const key of Object.keys(value))
    if (!DOCUMENT_KEYS.has(key)) problems.push(`unknown field \`${key}\``);
  const statements = value.statements;
  if (!Array.isArray(statements)) {
    problems.push("`statements` must be an array");
    throw new PolicyError(problems, where);
  }
  if (statements.length > POLICY_LIMITS.statements) {
    problems.push(`${statements.length} statements; at most ${POLICY_LIMITS.statements}`);
  }
  const sids = new Set<string>();
  for (const [index, statement] of statements.entries()) {
    const at = `statements[${index}]`;
    if (!isObject(statement)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const name = typeof statement.sid === "string" ? `${at} (sid ${json(statement.sid)})` : at;
    for (const key of Object.keys(statement)) {
      if (!STATEMENT_KEYS.has(key)) problems.push(`${name}: unknown field \`${key}\``);
    }
    if (statement.sid !== undefined) {
      if (!isText(statement.sid))
        problems.push(`${name}.sid must be a non-empty string of at most 256 characters`);
      else if (sids.has(statement.sid)) problems.push(`${name}.sid repeats an earlier statement's`);
      else sids.add(statement.sid);
    }
    if (!POLICY_EFFECTS.includes(statement.effect as PolicyEffect)) {
      problems.push(
        `${name}.effect must be one of ${POLICY_EFFECTS.join(", ")} (got ${json(statement.effect)})`,
      );
    }
    checkList(statement.actions, `${name}.actions`, problems, true);
    if (statement.resources !== undefined)
      checkList(statement.resources, `${name}.resources`, problems, true);
    if (statement.conditions !== undefined)
      checkConditions(statement.conditions, `${name}.conditions`, problems);
  }
  if (problems.length > 0) throw new PolicyError(problems, where);
  return value as unknown as PolicyDocument;
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value !== "" && value.length <= POLICY_LIMITS.stringLength;
}

function checkList(value: unknown, at: string, problems: string[], required: boolean): void {
  if (!Array.isArray(value) || (required && value.length === 0)) {
    problems.push(`${at} must be a non-empty array of strings`);
    return;
  }
  if (value.length > POLICY_LIMITS.listItems)
    problems.push(`${at} has ${value.length} items; at most ${POLICY_LIMITS.listItems}`);
  for (const [i, item] of value.entries()) {
    if (!isText(item)) problems.push(`${at}[${i}] must be a non-empty string of at most 256 characters`);
  }
}

function checkConditions(value: unknown, at: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${at} must be an object`);
    return;
  }
  for (const key of Object.keys(value)) {
    if (!CONDITION_KEYS.has(key)) {
      problems.push(`${at}: unknown condition \`${key}\` (known: ${[...CONDITION_KEYS].join(", ")})`);
    }
  }
  const equals = value.context_equals;
  if (equals !== undefined) {
    if (!isObject(equals) || Object.keys(equals).length === 0) {
      problems.push(`${at}.context_equals must be a non-empty object`);
    } else {
      for (const [key, expected] of Object.entries(equals)) {
        const ok =
          typeof expected === "number" ||
          typeof expected === "boolean" ||
          (typeof expected === "string" && expected.length <= POLICY_LIMITS.stringLength);
        if (!ok) problems.push(`${at}.context_equals.${key} must be a string, number or boolean`);
      }
    }
  }
  if (value.tenant_ids !== undefined) checkList(value.tenant_ids, `${at}.tenant_ids`, problems, true);
  if (value.actor_ids !== undefined) checkList(value.actor_ids, `${at}.actor_ids`, problems, true);
  const classes = value.side_effect_class;
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0) {
      problems.push(`${at}.side_effect_class must be a non-empty array of ${SIDE_EFFECT_CLASSES.join(", ")}`);
    } else {
      for (const [i, item] of classes.entries()) {
        if (!SIDE_EFFECT_CLASSES.includes(item)) {
          problems.push(
            `${at}.side_effect_class[${i}] must be one of ${SIDE_EFFECT_CLASSES.join(", ")} (got ${json(item)})`,
          );
        }
      }
    }
  }
}

/** Reads and checks a policy file (JSON); throws {@link PolicyError} naming the file. */
export function readPolicyFile(path: string): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new PolicyError([err instanceof Error ? err.message : String(err)], path);
  }
  return parsePolicy(parsed, path);
}

/** `*` stands for any run of characters; everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "s");
}

interface CompiledStatement {
  readonly index: number;
  readonly statement: PolicyStatement;
  readonly actions: readonly RegExp[];
  readonly resources: readonly RegExp[] | undefined;
}

/** The side-effect class of a node type, as the registry has it; undefined when it declares none or is unknown. */
export type SideEffectLookup = (ref: T.NodeTypeRef) => Promise<T.SideEffectClass | undefined>;

/** A checked, compiled policy: {@link Policy.decide} answers decision requests. */
export class Policy {
  readonly #statements: readonly CompiledStatement[];

  constructor(document: unknown, where = "policy") {
    const checked = parsePolicy(document, where);
    this.#statements = checked.statements.map((statement, index) => ({
      index,
      statement,
      actions: statement.actions.map(globToRegExp),
      resources: statement.resources?.map(globToRegExp),
    }));
  }

  /** The decision for `request`; `sideEffectOf` is asked only when a statement needs it, at most once. */
  async decide(request: T.PolicyDecisionRequest, sideEffectOf: SideEffectLookup): Promise<T.PolicyDecision> {
    let known: Promise<T.SideEffectClass> | undefined;
    const sideEffect = (ref: T.NodeTypeRef) => {
      known ??= sideEffectOf(ref).then((found) => found ?? "irreversible");
      return known;
    };
    let approval: CompiledStatement | undefined;
    let allow: CompiledStatement | undefined;
    for (const compiled of this.#statements) {
      const effect = compiled.statement.effect;
      // A statement that cannot change the outcome is not evaluated (it may need a registry read).
      if ((effect === "allow" && (allow || approval)) || (effect === "require_approval" && approval))
        continue;
      if (!(await this.#matches(compiled, request, sideEffect))) continue;
      if (effect === "deny") {
        return decision(
          "deny",
          "denied_by_statement",
          `${label(compiled)} denies ${subject(request)}`,
          compiled,
        );
      }
      if (effect === "require_approval") approval = compiled;
      else allow = compiled;
    }
    if (approval !== undefined) {
      return withApproval(
        decision(
          "require_approval",
          "approval_required_by_statement",
          `${label(approval)} requires approval for ${subject(request)}`,
          approval,
        ),
        request,
        approval,
      );
    }
    if (allow !== undefined) {
      if (request.constraints?.gates?.require_approval === true) {
        return withApproval(
          decision(
            "require_approval",
            "approval_required_by_constraints",
            `${label(allow)} allows ${subject(request)}, but its constraints require approval`,
            allow,
          ),
          request,
          allow,
        );
      }
      return decision("allow", "allowed_by_statement", `${label(allow)} allows ${subject(request)}`, allow);
    }
    return {
      decision: "deny",
      reason_code: "no_matching_statement",
      message: `no statement allows ${subject(request)}`,
    };
  }

  async #matches(
    compiled: CompiledStatement,
    request: T.PolicyDecisionRequest,
    sideEffect: (ref: T.NodeTypeRef) => Promise<T.SideEffectClass>,
  ): Promise<boolean> {
    if (!compiled.actions.some((re) => re.test(request.action))) return false;
    const ref = request.node_type_ref;
    if (compiled.resources !== undefined) {
      if (ref === undefined || !compiled.resources.some((re) => re.test(ref.node_type_id))) return false;
    }
    const conditions = compiled.statement.conditions;
    if (conditions === undefined) return true;
    if (conditions.context_equals !== undefined) {
      const context = request.context ?? {};
      for (const [key, expected] of Object.entries(conditions.context_equals)) {
        if (!Object.hasOwn(context, key) || context[key] !== expected) return false;
      }
    }
    const tenant = request.run_context?.tenant_id;
    if (
      conditions.tenant_ids !== undefined &&
      (tenant === undefined || !conditions.tenant_ids.includes(tenant))
    ) {
      return false;
    }
    const actor = request.run_context?.actor?.id;
    if (
      conditions.actor_ids !== undefined &&
      (actor === undefined || !conditions.actor_ids.includes(actor))
    ) {
      return false;
    }
    if (conditions.side_effect_class !== undefined) {
      if (ref === undefined) return false;
      if (!conditions.side_effect_class.includes(await sideEffect(ref))) return false;
    }
    return true;
  }
}

function label(compiled: CompiledStatement): string {
  const sid = compiled.statement.sid;
  return sid === undefined ? `statement ${compiled.index}` : `statement "${sid}"`;
}

function subject(request: T.PolicyDecisionRequest): string {
  const ref = request.node_type_ref;
  return ref === undefined ? request.action : `${request.action} on ${ref.node_type_id}@${ref.version}`;
}

function decision(
  outcome: T.PolicyDecisionOutcome,
  reasonCode: string,
  message: string,
  compiled: CompiledStatement,
): T.PolicyDecision {
  return {
    decision: outcome,
    reason_code: reasonCode,
    message,
    metadata: { labels: { statement: compiled.statement.sid ?? String(compiled.index) } },
  };
}

/**
 * The approval to wait for: its id is a digest of the question (statement, action, run, node run,
 * node type), so asking again gets the same approval rather than a new one.
 */
function withApproval(
  answer: T.PolicyDecision,
  request: T.PolicyDecisionRequest,
  compiled: CompiledStatement,
): T.PolicyDecision {
  const question = [
    compiled.statement.sid ?? compiled.index,
    request.action,
    request.run_id ?? "",
    request.node_run_id ?? "",
    request.node_type_ref?.node_type_id ?? "",
    request.node_type_ref?.version ?? "",
  ];
  const digest = createHash("sha256").update(JSON.stringify(question)).digest("hex").slice(0, 32);
  return { ...answer, approval_ref: { approval_id: `apr_${digest}` } };
}
