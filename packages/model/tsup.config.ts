import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  // Runs in Node, browsers, Deno and Bun alike: no Node built-ins are used.
  platform: "neutral",
  target: "es2022",
});
