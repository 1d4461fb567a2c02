import { describe, expect, it } from "vitest";
import { brand, brandCheck } from "../src/index.js";

/** Two copies of the same classes, as an ESM and a CJS build of one package would define them. */
function copy() {
  class Base extends Error {
    static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/test.Base");
    constructor() {
      super("base");
      brand(this, "@arp/test.Base");
    }
  }
  class Child extends Base {
    static override [Symbol.hasInstance] = /* @__PURE__ */ brandCheck("@arp/test.Child");
    constructor() {
      super();
      brand(this, "@arp/test.Child");
    }
  }
  class Unbranded extends Base {}
  return { Base, Child, Unbranded };
}

describe("brand and brandCheck", () => {
  const a = copy();
  const b = copy();

  it("recognises instances from another copy, base and subclass", () => {
    expect(a.Base).not.toBe(b.Base);
    expect(new b.Base()).toBeInstanceOf(a.Base);
    expect(new b.Child()).toBeInstanceOf(a.Base);
    expect(new b.Child()).toBeInstanceOf(a.Child);
  });

  it("tells subclasses apart, and keeps unrelated values out", () => {
    expect(new b.Base()).not.toBeInstanceOf(a.Child);
    expect(new Error("x")).not.toBeInstanceOf(a.Base);
    for (const value of [null, undefined, 1, "Base", {}, Object.create(null)]) {
      expect(value instanceof a.Base).toBe(false);
    }
  });

  it("leaves an unbranded subclass (an app's own) with ordinary instanceof", () => {
    expect(new a.Unbranded()).toBeInstanceOf(a.Unbranded);
    expect(new a.Unbranded()).toBeInstanceOf(a.Base);
    expect(new a.Base()).not.toBeInstanceOf(a.Unbranded);
    expect(new b.Unbranded()).not.toBeInstanceOf(a.Unbranded);
  });
});

it("the brand is not an enumerable property (logs and JSON stay clean)", () => {
  const { Child } = copy();
  const e = new Child();
  expect(Object.keys(e)).toEqual([]);
  expect(Object.getOwnPropertySymbols(e).map(String)).toEqual([
    "Symbol(@arp/test.Base)",
    "Symbol(@arp/test.Child)",
  ]);
});
