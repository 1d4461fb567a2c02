/**
 * The strict consumer (test/consumer-strict): compiled against the built declaration files with
 * `strict`, `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`, `skipLibCheck: false` and
 * `types: []`. It fails when an option type does not accept an explicitly undefined property, or
 * when the declarations need a `@types/node` the consumer did not ask for (TS2307 on `node:http`).
 */
import { fileURLToPath } from "node:url";
import { typecheck } from "@arp/testkit";
import { it } from "vitest";

const consumer = fileURLToPath(new URL("./consumer-strict", import.meta.url));

it("a consumer with the strictest flags and no types of its own compiles against the built package", () => {
  typecheck(consumer);
}, 180_000);
