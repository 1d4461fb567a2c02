import { defineConfig } from "tsup";

// Dependencies (@arp/*, the MCP SDK, ajv) stay external: users get one copy of each.
export default defineConfig([
  {
    // The library, for both module systems.
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    // tsup builds the two configs in parallel: clean everything except what the other one writes.
    clean: ["!cli.js", "!cli.js.map"],
    platform: "node",
    target: "node20",
  },
  {
    // The module behind `bin/arp-mcp.js`: ESM only.
    entry: ["src/cli.ts"],
    format: ["esm"],
    sourcemap: true,
    platform: "node",
    target: "node20",
  },
]);
