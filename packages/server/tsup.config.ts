import { defineConfig } from "tsup";

export default defineConfig({
  // Two entries: the core, and the Express integration (which alone imports the `express` peer).
  entry: ["src/index.ts", "src/express.ts"],
  format: ["esm", "cjs"],
  // The declarations use node:http's types: every .d.ts names @types/node (a dependency, see
  // package.json), so that a consumer compiling with `types: []` still finds them.
  dts: { banner: '/// <reference types="node" />' },
  sourcemap: true,
  clean: true,
  platform: "node",
  target: "node20",
});
