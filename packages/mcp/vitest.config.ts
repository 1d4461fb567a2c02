import { defineConfig } from "vitest/config";

// `npm test` runs every package's tests at once on 2 cores: a timeout is the deadline of a stuck
// test (real MCP servers as child processes, real HTTP), not a speed check.
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 30_000, expect: { poll: { timeout: 10_000 } } },
});
