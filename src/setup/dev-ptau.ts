import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheLayout, devPtauPower } from '../cache/layout.ts';
import { SetupError } from '../errors.ts';
import { siblingTempPath } from '../util/atomic-fs.ts';
import { withFileLock } from '../util/file-lock.ts';
import { rename } from 'node:fs/promises';
import { MAX_PTAU_POWER } from './power.ts';
import { writeDevPtau } from './dev-ptau-generate.ts';
import { type ProgressListener } from './progress.ts';

/**
 * Printed whenever a development ptau is made or used: any ptau whose blake2b-512 is not in the pinned table of
 * published ceremony files (`ptau-trust.ts`), whatever its name or size, including the ones zkai generates.
 */
export const DEV_PTAU_WARNING =
  'DEVELOPMENT-ONLY powers of tau: not a published ceremony file (its blake2b-512 is not in the pinned table), for example one ' +
  'generated on this machine by a single party, so whoever made it could forge proofs. Never use it in production: pass ' +
  '--ptau with a published ceremony file zkai recognises by its hash (powersOfTau28_hez_final_XX.ptau, powers 8 to 28).';

export { devPtauFileName } from '../cache/layout.ts';

/** Cached development ptau files, by power. */
export async function listDevPtaus(cacheDir: string): Promise<Map<number, string>> {
  const dir = new CacheLayout(cacheDir).ptauDir;
  const found = new Map<number, string>();
  const names = existsSync(dir) ? await readdir(dir) : [];
  for (const name of names) {
    const power = devPtauPower(name);
    if (power !== undefined) found.set(power, join(dir, name));
  }
  return found;
}

/** The smallest cached development ptau whose power is at least `power`, if any. */
export async function findDevPtau(
  cacheDir: string,
  power: number,
): Promise<{ path: string; power: number } | undefined> {
  const cached = [...(await listDevPtaus(cacheDir)).entries()].filter(([p]) => p >= power).sort(([a], [b]) => a - b);
  const first = cached[0];
  return first ? { power: first[0], path: first[1] } : undefined;
}

/**
 * A development ptau of at least `power`: a cached one (the smallest that is large enough), or a new one generated
 * locally from fresh secrets (`dev-ptau-generate.ts`: the file snarkjs's powersoftau new, one contribution and
 * prepare phase 2 would write, computed directly; 15 s for 2^12 and 94 s for 2^14 on an idle 2-core machine), holds a lock so concurrent processes wait rather than duplicate it,
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
  const layout = new CacheLayout(cacheDir);
  await mkdir(layout.ptauDir, { recursive: true });
  const target = layout.devPtauPath(power);
  return withFileLock(
    `${target}.lock`,
    async () => {
      const raced = await findDevPtau(cacheDir, power);
      if (raced) return { ...raced, generated: false, seconds: 0 };
      const started = Date.now();
      const stageFinal = siblingTempPath(target);
      try {
        onProgress?.({
          stage: 'ptau',
          message: `generating a development ptau of power ${power} (2^${power}); ${DEV_PTAU_WARNING}`,
        });
        let reported = -1;
        await writeDevPtau(stageFinal, power, {
          onProgress: (section, fraction) => {
            const percent = Math.floor(fraction * 100);
            if (percent === reported) return;
            reported = percent;
            onProgress?.({ stage: 'ptau:write', message: `${section}: ${percent}%`, transient: true });
          },
        });
        await rename(stageFinal, target);
        return { path: target, power, generated: true, seconds: (Date.now() - started) / 1000 };
      } finally {
        await rm(stageFinal, { force: true });
      }
    },
    {
      onWait: (pid) =>
        onProgress?.({ stage: 'ptau', message: `waiting for process ${pid}, which is generating the same ptau` }),
    },
  );
}
