import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One development ptau for the whole suite, made before the first test (see the file).
    globalSetup: ['test/global-setup.ts'],
    // Real proofs are CPU-bound and this project's reference machine has 2 cores: one test file at a time keeps
    // timings sane and lets files share the cached ptau and keys without racing to build them.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    env: {
      // A cache of its own, inside the repo (git-ignored), so tests never touch the user's cache.
      ZKAI_CACHE_DIR: fileURLToPath(new URL('./.cache/test', import.meta.url)),
    },
  },
});
