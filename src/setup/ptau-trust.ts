/**
 * Which powers-of-tau files zkai treats as PRODUCTION: exactly those whose blake2b-512 is in a pinned table of
 * published ceremony files. Everything else, whatever its name, size or header, is DEVELOPMENT: whoever made it may
 * hold its toxic waste and forge proofs. The hash is checked on every use (cached by file identity, see
 * `ptau-hash-cache.ts`), never inferred from a name.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { HERMEZ_PTAU, HERMEZ_PTAU_SOURCE } from './hermez-ptau.ts';
import { cachedBlake2b512 } from './ptau-hash-cache.ts';
import type { ProgressListener } from './progress.ts';

/** How far a ptau can be trusted. */
export type PtauTrust = 'production' | 'development';

/** A published ceremony ptau file that zkai pins by its hash. */
export interface CeremonyPtau {
  /** The family of files, e.g. `hermez`. */
  family: 'hermez';
  /** The ceremony the file comes from, for people. */
  ceremony: string;
  /** The published file name. */
  fileName: string;
  power: number;
  blake2b512: string;
  /** Published size in bytes, when known (only used in messages). */
  size?: number;
  /** Where the hash was published: repository, file and section, with a link. */
  source: string;
  /** Where the file can be downloaded, as the source links it. */
  downloadUrl?: string;
}

/**
 * The pinned table of published ceremony ptau files: a ptau is PRODUCTION only when its blake2b-512 is here.
 *
 * - Hermez (`powersOfTau28_hez_final_XX.ptau`, powers 8 to 28): hashes from repository iden3/snarkjs, file README.md,
 *   section "7. Prepare phase 2" (see `hermez-ptau.ts`).
 * - PSE Perpetual Powers of Tau (`ppot_0080_XX.ptau`, prepared from contribution 80): NOT pinned. Repository
 *   privacy-scaling-explorations/perpetualpowersoftau, file README.md, section "Prepared and Truncated Files", lists
 *   the files with download links and rounded sizes but publishes no hash of them (nor does its prepare-phase-2.md),
 *   and the snarkjs README lists only the Hermez files. The hashes of these files found elsewhere are each project's
 *   own record of its download, not a publication by the ceremony, so zkai does not pin them: such a file counts as
 *   DEVELOPMENT until its publishers publish hashes.
 */
export const PINNED_CEREMONY_PTAU: readonly CeremonyPtau[] = [...HERMEZ_PTAU.values()].map((entry) => ({
  family: 'hermez',
  ceremony: 'Perpetual Powers of Tau, 54 contributions and a beacon, prepared by Polygon Hermez',
  fileName: entry.fileName,
  power: entry.power,
  blake2b512: entry.blake2b512,
  size: entry.size,
  source: `${HERMEZ_PTAU_SOURCE.repository} ${HERMEZ_PTAU_SOURCE.file}, section "${HERMEZ_PTAU_SOURCE.section}" (${HERMEZ_PTAU_SOURCE.url})`,
  downloadUrl: entry.downloadUrl,
}));

/** Ceremony files zkai recognises by name but cannot pin, and why (for messages only: they stay DEVELOPMENT). */
const UNPINNED_FAMILIES: ReadonlyArray<{ pattern: RegExp; name: string; why: string }> = [
  {
    pattern: /^ppot_\d{4}_(\d{2}|final)\.ptau$/i,
    name: 'PSE Perpetual Powers of Tau file',
    why: 'PSE publishes no hash of its prepared files (privacy-scaling-explorations/perpetualpowersoftau README.md), so zkai pins none and cannot tell one from a renamed development file',
  },
];

/** What zkai concluded about one ptau file. */
export interface PtauTrustInfo {
  /** The file's real path. */
  path: string;
  trust: PtauTrust;
  blake2b512: string;
  /** For a PRODUCTION file: the pinned file it is. */
  ceremony?: CeremonyPtau;
  /** For a DEVELOPMENT file whose name or size is that of a pinned file: the file it pretends (or failed) to be. */
  claimed?: CeremonyPtau;
  /** Why, in one sentence, for people. */
  reason: string;
  /** True when the file was hashed in this call, false when the hash came from the cache (file unchanged). */
  hashedNow: boolean;
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}...`;
}

/**
 * Decide whether a ptau is PRODUCTION (its blake2b-512 is in the pinned table) or DEVELOPMENT (anything else), hashing
 * it unless the cache in `cacheDir` holds the hash of this very file (same path, inode, size and times).
 *
 * @param path the ptau file
 * @param options.cacheDir zkai's cache folder (the hash cache lives there)
 * @param options.onProgress told when a file is hashed (it takes about a second per 500 MB)
 * @param options.table the pinned table; only tests pass another one
 */
export async function classifyPtau(
  path: string,
  options: { cacheDir: string; onProgress?: ProgressListener; table?: readonly CeremonyPtau[] },
): Promise<PtauTrustInfo> {
  const table = options.table ?? PINNED_CEREMONY_PTAU;
  const hashed = await cachedBlake2b512(path, {
    cacheDir: options.cacheDir,
    onHashing: (file, bytes) =>
      options.onProgress?.({
        stage: 'ptau',
        message: `checking ${basename(file)}: blake2b-512 of ${(bytes / 2 ** 20).toFixed(1)} MiB against the pinned table of published ceremony files`,
      }),
  });
  if (hashed.cacheProblem)
    options.onProgress?.({
      stage: 'ptau',
      message: `the ptau hash could not be cached (it will be computed again next time): ${hashed.cacheProblem}`,
    });
  const { blake2b512, hashedNow } = hashed;
  const name = basename(path);
  const ceremony = table.find((entry) => entry.blake2b512 === blake2b512);
  if (ceremony) {
    return {
      path: hashed.path,
      trust: 'production',
      blake2b512,
      ceremony,
      reason: `its blake2b-512 is that of the published ${ceremony.fileName} (${ceremony.ceremony}; hash published in ${ceremony.source})`,
      hashedNow,
    };
  }
  const { size } = await stat(hashed.path);
  const claimed = table.find((entry) => entry.fileName === name) ?? table.find((entry) => entry.size === size);
  let reason: string;
  if (claimed) {
    const how = claimed.fileName === name ? 'named' : 'the same size as';
    reason = `it is ${how} the published ${claimed.fileName}, but its blake2b-512 ${short(blake2b512)} is not the published ${short(claimed.blake2b512)}: it is not that file (corrupt, or another file renamed)`;
  } else {
    const family = UNPINNED_FAMILIES.find((candidate) => candidate.pattern.test(name));
    reason = family
      ? `it is named like a ${family.name}, but ${family.why}`
      : `its blake2b-512 ${short(blake2b512)} is not in zkai's pinned table of published ceremony files`;
  }
  return { path: hashed.path, trust: 'development', blake2b512, ...(claimed ? { claimed } : {}), reason, hashedNow };
}
