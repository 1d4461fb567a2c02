import { defineConfig } from "tsup";

// `@arp/model` and `ajv` are dependencies, so tsup leaves them external: users get one copy of each.
export default defineConfig([
  {
    // The programmatic API, for both module systems.
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    // tsup builds the two configs in parallel: clean everything except what the other one writes.
    clean: ["!cli.js", "!cli.js.map"],
    platform: "node",
    target: "node20",
    // `import.meta.url` in the CommonJS build too (runConformance finds the bundled spec with it).
    shims: true,
  },
  {
    // The CLI module behind `bin/arp-conformance.js`: ESM only (it finds the bundled spec through
    // `import.meta.url`).
    entry: ["src/cli.ts"],
    format: ["esm"],
    sourcemap: true,
    platform: "node",
    target: "node20",
  },
]);
