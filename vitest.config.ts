import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import ColdDurationSequencer from './test/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One development ptau for the whole suite, made before the first test (see the file).
    globalSetup: ['test/global-setup.ts'],
    // Two test files at a time (the reference machine has 2 cores): much of a file's time is one-threaded (circom
    // compiles, CLI processes starting, anvil round trips), so a second file fills the other core. Files share the
    // cache safely: compiled circuits and keys are published atomically (the first wins, see src/util/atomic-fs.ts),
    // the development ptau under a lock; the global setup makes the ptau before any file starts.
    fileParallelism: true,
    // Longest files first, by their time in a cold run, so both workers finish together (see the file).
    sequence: { sequencer: ColdDurationSequencer },
    maxWorkers: 2,
    minWorkers: 1,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    env: {
      // A cache of its own, inside the repo (git-ignored), so tests never touch the user's cache.
      ZKAI_CACHE_DIR: fileURLToPath(new URL('./.cache/test', import.meta.url)),
    },
  },
});
