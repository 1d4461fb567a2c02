import { defineConfig } from "vitest/config";

// One test file whose beforeAll packs and installs: it needs minutes on a busy machine, not seconds.
export default defineConfig({ test: { hookTimeout: 240_000, testTimeout: 120_000 } });
