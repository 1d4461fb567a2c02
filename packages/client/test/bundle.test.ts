/**
 * Tree-shaking of the built ESM packages, checked structurally: a browser bundle (esbuild, minified)
 * of one client carries the validators of that service's operation table and the ErrorEnvelope
 * check, nothing more. Each ajv validator assigns its `.evaluated` record once: that is what is counted.
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

async function bundle(contents: string): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir: import.meta.dirname, loader: "js" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

const validatorsIn = (code: string): number => code.split(".evaluated=").length - 1;

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
