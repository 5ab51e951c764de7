import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { SetupError } from '../errors.ts';
import { siblingTempPath } from '../util/atomic-fs.ts';
import { withFileLock } from '../util/file-lock.ts';
import { rename } from 'node:fs/promises';
import { MAX_PTAU_POWER } from './power.ts';
import { snarkjsLogger, type ProgressListener } from './progress.ts';

/**
 * Printed whenever a development ptau is made or used: any ptau whose blake2b-512 is not in the pinned table of
 * published ceremony files (`ptau-trust.ts`), whatever its name or size, including the ones zkai generates.
 */
export const DEV_PTAU_WARNING =
  'DEVELOPMENT-ONLY powers of tau: not a published ceremony file (its blake2b-512 is not in the pinned table), for example one ' +
  'generated on this machine by a single party, so whoever made it could forge proofs. Never use it in production: pass ' +
  '--ptau with a published ceremony file zkai recognises by its hash (powersOfTau28_hez_final_XX.ptau, powers 8 to 28).';

const DEV_PTAU_PATTERN = /^dev-pot(\d+)\.ptau$/;

/** The cache file name of a development ptau of this power. */
export function devPtauFileName(power: number): string {
  return `dev-pot${String(power).padStart(2, '0')}.ptau`;
}

/** Cached development ptau files, by power. */
export async function listDevPtaus(cacheDir: string): Promise<Map<number, string>> {
  const dir = join(cacheDir, 'ptau');
  const found = new Map<number, string>();
  const names = existsSync(dir) ? await readdir(dir) : [];
  for (const name of names) {
    const match = DEV_PTAU_PATTERN.exec(name);
    if (match) found.set(Number(match[1]), join(dir, name));
  }
  return found;
}

/** The smallest cached development ptau whose power is at least `power`, if any. */
export async function findDevPtau(cacheDir: string, power: number): Promise<{ path: string; power: number } | undefined> {
  const cached = [...(await listDevPtaus(cacheDir)).entries()].filter(([p]) => p >= power).sort(([a], [b]) => a - b);
  const first = cached[0];
  return first ? { power: first[0], path: first[1] } : undefined;
}

/**
 * A development ptau of at least `power`: a cached one (the smallest that is large enough), or a new one generated
 * locally (powersoftau new, one contribution with fresh system entropy, prepare phase2). Generation is slow (about
 * 70 s for 2^12 and 5 min for 2^14 on 2 cores), holds a lock so concurrent processes wait rather than duplicate it,
 * and publishes the file atomically.
 */
export async function ensureDevPtau(
  cacheDir: string,
  power: number,
  onProgress?: ProgressListener,
): Promise<{ path: string; power: number; generated: boolean; seconds: number }> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_PTAU_POWER) {
    throw new SetupError(`ptau power ${power} is out of range (1..${MAX_PTAU_POWER})`);
  }
  const existing = await findDevPtau(cacheDir, power);
  if (existing) return { ...existing, generated: false, seconds: 0 };
  const dir = join(cacheDir, 'ptau');
  await mkdir(dir, { recursive: true });
  const target = join(dir, devPtauFileName(power));
  return withFileLock(
    `${target}.lock`,
    async () => {
      const raced = await findDevPtau(cacheDir, power);
      if (raced) return { ...raced, generated: false, seconds: 0 };
      const started = Date.now();
      const stageNew = siblingTempPath(join(dir, `pot${power}_0000.ptau`));
      const stageContributed = siblingTempPath(join(dir, `pot${power}_0001.ptau`));
      const stageFinal = siblingTempPath(target);
      try {
        onProgress?.({ stage: 'ptau', message: `generating a development ptau of power ${power} (2^${power}); ${DEV_PTAU_WARNING}` });
        const curve = await snarkjs.curves.getCurveFromName('bn128');
        await snarkjs.powersOfTau.newAccumulator(curve, power, stageNew, snarkjsLogger('ptau:new', onProgress));
        await snarkjs.powersOfTau.contribute(
          stageNew,
          stageContributed,
          'zkai development contribution',
          randomBytes(64).toString('hex'),
          snarkjsLogger('ptau:contribute', onProgress),
        );
        await snarkjs.powersOfTau.preparePhase2(stageContributed, stageFinal, snarkjsLogger('ptau:prepare', onProgress));
        await rename(stageFinal, target);
        return { path: target, power, generated: true, seconds: (Date.now() - started) / 1000 };
      } finally {
        await Promise.all([stageNew, stageContributed, stageFinal].map((file) => rm(file, { force: true })));
      }
    },
    { onWait: (pid) => onProgress?.({ stage: 'ptau', message: `waiting for process ${pid}, which is generating the same ptau` }) },
  );
}
