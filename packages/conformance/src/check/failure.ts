/**
 * How a check or a shared step says it cannot go on: it throws {@link Failure} with its outcome.
 * The runner reports that outcome for the check that ran the step, and a SKIP naming it for every
 * later check that needed the step ({@link StepFailed}).
 */
import type { CheckOutcome } from "./runner.js";

/**
 * Thrown by a shared step (see {@link CheckContext.step}) that went wrong: the check that ran the
 * step reports `outcome`; a later check that needs the step is reported as SKIP, naming it.
 */
export class StepFailed extends Error {
  constructor(
    /** The check that ran the step. */
    readonly owner: string,
    readonly outcome: CheckOutcome,
  ) {
    super(outcome.message);
  }
}

/** Thrown by a check, or inside a step's `make`, to end it with this outcome (a step adds its owner). */
export class Failure extends Error {
  constructor(readonly outcome: CheckOutcome) {
    super(outcome.message);
  }
}
