import { defineConfig } from "tsup";

export default defineConfig({
  // Two entries: the core, and the Express integration (which alone imports the `express` peer).
  entry: ["src/index.ts", "src/express.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: "node",
  target: "node20",
});
