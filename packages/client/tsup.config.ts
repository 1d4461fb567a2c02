import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  // Browsers, Deno and Bun as much as Node: only web-standard globals (fetch, streams, AbortSignal).
  platform: "neutral",
  target: "es2022",
});
