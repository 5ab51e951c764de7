import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import ColdDurationSequencer from './test/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One development ptau for the whole suite, made before the first test (see the file).
    globalSetup: ['test/global-setup.ts'],
    // Four test files at a time on the 2-core reference machine: much of a file's time is one-threaded or waiting
    // (circom compiles, CLI processes starting, anvil round trips, a pool's worker loading, another file's lock on a
    // circuit both set up), and two files kept the cores 84% busy; cold runs of the same tree took 948 s with three
    // workers and 988 s with two; a later tree took 949 s with four against 985 s with three (fresh-clone runs 20 and 19). Files share the
    // cache safely: compiled circuits and keys are published atomically (the first wins, see src/util/atomic-fs.ts),
    // the development ptau under a lock; the global setup makes the ptau before any file starts.
    fileParallelism: true,
    // Longest files first, by their time in a cold run, so the workers finish together (see the file).
    sequence: { sequencer: ColdDurationSequencer },
    maxWorkers: 4,
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
