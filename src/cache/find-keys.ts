/**
 * Where the cache keeps proving keys, read back: `<cache>/keys/<circuit name>-<key id>/` holds `meta.json` (naming the
 * compiled circuit's id), the zkey and `verification_key.json` (written by src/setup/phase2.ts; paths in ./layout.ts).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheLayout, isBuildDir, keyFiles } from './layout.ts';

/** A set of keys of the cache. */
export interface CachedKeys {
  readonly dir: string;
  readonly zkeyPath: string;
  readonly vkeyPath: string;
}

/** The cache's folder of keys. */
export function keysDir(cacheDir: string): string {
  return new CacheLayout(cacheDir).keysDir;
}

/**
 * Every set of keys in the cache made for the compiled circuit `circuitId` (several when it was set up with other
 * ptau files or ceremonies). Folders being built (`.build-*`) and incomplete ones are skipped.
 */
export async function findKeys(cacheDir: string, circuitId: string): Promise<CachedKeys[]> {
  const root = keysDir(cacheDir);
  const found: CachedKeys[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (isBuildDir(name)) continue;
    const dir = join(root, name);
    const { metaPath, vkeyPath } = keyFiles(dir);
    const meta = (await readFile(metaPath, 'utf8').then(JSON.parse, () => undefined)) as
      { circuitId?: unknown } | undefined;
    if (meta?.circuitId !== circuitId) continue;
    const zkey = (await readdir(dir).catch(() => [] as string[])).find((file) => file.endsWith('.zkey'));
    if (zkey && existsSync(vkeyPath)) found.push({ dir, zkeyPath: join(dir, zkey), vkeyPath });
  }
  return found;
}
