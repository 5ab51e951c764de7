/**
 * vitest global setup: build dist/ when it is not current (see helpers/build.ts), and make sure the tests' cache holds
 * a development ptau of power 13 before any test runs.
 * Every circuit of the suite fits it (a cached ptau serves every smaller power), so a cold run generates one ptau
 * (about 7 s) instead of powers 11, 13 and 14 one after another inside the first tests that need
 * them, and no test's hook waits minutes for one. Warm runs find it and return at once.
 */
import { fileURLToPath } from 'node:url';
import { ensureDevPtau } from '../src/setup/dev-ptau.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { ensureBuild } from './helpers/build.ts';

/**
 * The largest power the suite's circuits need (the 2^13 dataset chunk and accuracy circuits). Tests keep their
 * circuits under 8,192 constraints: a 2^14 development ptau takes twice as long to make, and every key on it too.
 */
const SUITE_PTAU_POWER = 13;

export default async function setup(): Promise<void> {
  // The CLI tests run bin/zkai.mjs, which runs dist/ when it is current: build it first (seconds) when src/ changed.
  ensureBuild();
  // The tests' own cache, as vitest.config.ts sets ZKAI_CACHE_DIR for every test file.
  const cacheDir = fileURLToPath(new URL('../.cache/test', import.meta.url));
  const started = Date.now();
  try {
    const ptau = await ensureDevPtau(cacheDir, SUITE_PTAU_POWER);
    if (ptau.generated)
      console.info(
        `global setup: generated the tests' development ptau 2^${ptau.power} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
  } finally {
    await releaseCurves();
  }
}
