import { defineConfig } from "tsup";

export default defineConfig({
  // Three entries: the core, the Express integration (which alone imports the `express` peer) and
  // the fetch handler (web `Request`/`Response`, for Bun, Deno and other fetch-style hosts).
  entry: ["src/index.ts", "src/express.ts", "src/fetch.ts"],
  format: ["esm", "cjs"],
  // The declarations use node:http's types: every .d.ts names @types/node (a dependency, see
  // package.json), so that a consumer compiling with `types: []` still finds them.
  dts: { banner: '/// <reference types="node" />' },
  sourcemap: true,
  clean: true,
  platform: "node",
  target: "node20",
});
