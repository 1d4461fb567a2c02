import { defineConfig } from "vitest/config";

// `npm run test:reliability`: the load and soak tests (test/reliability/), one file at a time, after
// the unit tests (the root `npm test` runs them last): each wants the machine to itself.
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
