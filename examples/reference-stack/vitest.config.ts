import { configDefaults, defineConfig } from "vitest/config";

// `npm test` runs every package's tests at once on 2 cores: a timeout is the deadline of a stuck
// test, not a speed check (benchmarks live in bench/), so it is generous. The load and soak tests
// run on their own afterwards (vitest.reliability.config.ts).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    // expect.poll: 1 s by default, too short when every package's tests share 2 cores.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 30_000,
    exclude: [...configDefaults.exclude, "test/reliability/**"],
  },
});
