import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The fast tier (`npm run test:unit`): the test files that need no compiled circuit, no trusted setup, no chain and no
 * proof, so no global setup (no development ptau) either. `npm test` runs them with everything else.
 */
export const UNIT_TEST_FILES = [
  'test/statement.test.ts',
  'test/import-cycles.test.ts',
  'test/data-ingest.test.ts',
  'test/data-bundle.test.ts',
  'test/model-onnx.test.ts',
  'test/model-float-reference.test.ts',
  'test/cli-signals.test.ts',
  'test/dev-ptau-generate.test.ts',
  'test/cache-layout.test.ts',
  'test/file-lock.test.ts',
  'test/native-arithmetic.test.ts',
  'test/poseidon-remembered.test.ts',
  'test/native-poseidon.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_TEST_FILES,
    pool: 'forks',
    testTimeout: 60_000,
    env: {
      ZKAI_CACHE_DIR: fileURLToPath(new URL('./.cache/test-unit', import.meta.url)),
    },
  },
});
