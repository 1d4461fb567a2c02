/**
 * Tree-shaking, checked structurally on the built ESM package: a browser bundle (esbuild, minified)
 * of one import carries exactly the validators that import reaches. Each ajv validator assigns its
 * `.evaluated` record once, which is what is counted here.
 */
import { browserBundle, validatorsIn } from "@arp/testkit";
import { describe, expect, it } from "vitest";
import { SCHEMAS } from "../src/index.js";

const bundle = (contents: string): Promise<string> => browserBundle(contents, import.meta.dirname);

describe("a browser bundle of @arp/model keeps only what it uses", () => {
  it("constants and types alone pull in no validator and none of the validation API", async () => {
    const code = await bundle(
      'import { RUN_STATES, SPEC_REF } from "@arp/model"; export const out = [RUN_STATES, SPEC_REF];',
    );
    expect(validatorsIn(code)).toBe(0);
    expect(code).not.toContain("instancePath");
    expect(code).not.toContain("ValidationError");
    expect(code).toContain('"succeeded"');
    expect(code.length).toBeLessThan(1024);
  });

  it("one guard carries its own validator only; one asserter adds the issue wording", async () => {
    const guard = await bundle('import { isExtensions } from "@arp/model"; export const out = isExtensions;');
    expect(validatorsIn(guard)).toBe(1);
    expect(guard).not.toContain("ValidationError");
    const assert = await bundle(
      'import { assertResourceRef } from "@arp/model"; export const out = assertResourceRef;',
    );
    expect(validatorsIn(assert)).toBe(2); // ResourceRef and the Extensions it refers to
    expect(assert).toContain("ValidationError");
  });

  it("looking validators up by name brings every one of them, each once", async () => {
    const code = await bundle('import { validate } from "@arp/model"; export const out = validate;');
    expect(validatorsIn(code)).toBe(Object.keys(SCHEMAS).length);
  });
});
