/**
 * Tree-shaking of the built ESM packages, checked structurally: a browser bundle (esbuild, minified)
 * of one client carries the validators of that service's operation table and the ErrorEnvelope
 * check, nothing more. Each ajv validator assigns its `.evaluated` record once: that is what is counted.
 */
import { browserBundle, validatorsIn } from "@arp/testkit";
import { describe, expect, it } from "vitest";

const bundle = (contents: string): Promise<string> => browserBundle(contents, import.meta.dirname);

describe("a browser bundle of one client", () => {
  it("carries only its service's validators (and the ErrorEnvelope check)", async () => {
    const client = await bundle(
      'import { RunGatewayClient } from "@arp/client"; export const out = RunGatewayClient;',
    );
    const own = await bundle(
      'import { RUN_GATEWAY_SERVICE, isErrorEnvelope } from "@arp/model"; export const out = [RUN_GATEWAY_SERVICE, isErrorEnvelope];',
    );
    const all = await bundle('import * as arp from "@arp/client"; export const out = arp;');
    expect(validatorsIn(own)).toBeGreaterThan(5);
    expect(validatorsIn(client)).toBe(validatorsIn(own));
    expect(validatorsIn(all)).toBeGreaterThan(validatorsIn(client));
  });
});
