/**
 * `instanceof` across copies of a package. An app can load two copies of one class: the ESM and the
 * CommonJS build side by side, or two installed versions. Plain `instanceof` then says no for an error
 * from the other copy. A branded class answers by a registered symbol (`Symbol.for(id)`) on its
 * prototype instead, which every copy shares. The one implementation behind every error class of the
 * `@arp/*` packages.
 */

/**
 * Brands `cls` with `id` (`"@arp/client.ArpApiError"`): `x instanceof cls` is then true for instances
 * of `cls` and its subclasses from any copy of the package. A subclass brands itself to be told apart
 * (`ArpApiError` from `ArpError`); an unbranded subclass (an app's own) keeps plain `instanceof`.
 * Call it in the class's static block: `static { brandClass(this, "@scope/pkg.Name"); }`.
 */
export function brandClass(cls: abstract new (...args: never[]) => object, id: string): void {
  const key = Symbol.for(id);
  Object.defineProperty(cls.prototype, key, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    configurable: true,
    value: function hasInstance(this: unknown, value: unknown): boolean {
      // Inherited by a subclass that did not brand itself: ordinary instanceof for it.
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === "object" && value !== null && key in value;
    },
  });
}
