/** The error every command reports as a usage problem (exit code 2). */
import { brand, brandCheck } from "@arp/model";

/**
 * The command cannot be carried out as asked: a folder is missing, a vector maps to no schema, a
 * file is unreadable or not JSON, a spec tree does not compile. The message names the path.
 */
export class UsageError extends Error {
  override name = "UsageError";
  static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/conformance.UsageError");
  /** Stable string code, in the style of the other ARP error classes. */
  readonly code = "usage_error";
  /** The file or folder the problem is about, when there is one. */
  readonly path: string | undefined;
  /**
   * Every problem found, when this error stands for several (e.g. a spec tree where three schema
   * files fail to compile); empty when the error is itself the only problem.
   */
  readonly problems: readonly UsageError[];

  constructor(message: string, options: { path?: string; problems?: readonly UsageError[] } = {}) {
    super(message);
    brand(this, "@arp/conformance.UsageError");
    this.path = options.path;
    this.problems = options.problems ?? [];
  }
}

/** The individual problems an error stands for: its `problems`, or itself. */
export function problemsOf(error: UsageError): readonly UsageError[] {
  return error.problems.length > 0 ? error.problems : [error];
}
