/** The two helpers every IR builder shares: failing with a located message, reading a string. */
import { type Json, SpecLoadError } from "../load.js";

/** Fails generation with a message naming where in the spec the problem is. */
export function fail(where: string, message: string): never {
  throw new SpecLoadError(`${where}: ${message}`);
}

export function str(value: Json | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}
