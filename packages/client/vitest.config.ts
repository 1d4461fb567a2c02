import { configDefaults, defineConfig } from "vitest/config";

// `npm test` runs every package's tests at once on 2 cores: a timeout is the deadline of a stuck
// test, not a speed check (benchmarks live in bench/), so it is generous.
// The hostile-input tests (test/*.fuzz.test.ts) are a project of their own: they need `--expose-gc`
// to compare the heap after GC before and after (`npx vitest run --project hostile`).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    // expect.poll: 1 s by default, too short when every package's tests share 2 cores.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: "client", exclude: [...configDefaults.exclude, "test/**/*.fuzz.test.ts"] },
      },
      {
        extends: true,
        test: { name: "hostile", include: ["test/**/*.fuzz.test.ts"], execArgv: ["--expose-gc"] },
      },
    ],
  },
});
