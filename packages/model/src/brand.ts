/**
 * `instanceof` across copies of a package. An app can load two copies of one class: the ESM and the
 * CommonJS build side by side, or two installed versions. Plain `instanceof` then says no for an error
 * from the other copy. A branded class answers by a registered symbol (`Symbol.for(id)`) that its
 * constructor puts on each instance, which every copy shares. The one implementation behind every
 * error class of the `@arp/*` packages.
 *
 * Two touch points per class, both free of module-level side effects (the `brandCheck` call carries
 * a `@__PURE__` annotation), so a bundle that does not use the class drops it:
 *
 * ```ts
 * class MyError extends Error {
 *   static override [Symbol.hasInstance] = brandCheck("@scope/pkg.MyError"); // annotated pure
 *   constructor(message: string) {
 *     super(message);
 *     brand(this, "@scope/pkg.MyError");
 *   }
 * }
 * ```
 *
 * A subclass brands itself too, to be told apart (`ArpApiError` from `ArpError`); a subclass that does
 * not (an app's own) keeps ordinary `instanceof`.
 */

/** The `Symbol.hasInstance` of a class branded `id`. Pure: the class stays tree-shakeable. */
export function brandCheck(id: string): (this: unknown, value: unknown) => boolean {
  const key = Symbol.for(id);
  return function hasInstance(this: unknown, value: unknown): boolean {
    // Inherited by a subclass that did not brand itself: ordinary instanceof for it.
    if (typeof this !== "function" || !Object.hasOwn(this, Symbol.hasInstance))
      return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && key in value;
  };
}

/** Marks `instance` as one of the class branded `id` (call it in that class's constructor). */
export function brand(instance: object, id: string): void {
  Object.defineProperty(instance, Symbol.for(id), { value: true });
}
