/**
 * The blake2b-512 of ptau files, cached by file identity, so that checking a ptau on every use does not re-read a
 * file of hundreds of megabytes every time. A file counts as the same file only when its real path, device, inode,
 * size, modification time and status-change time (all in nanoseconds) are unchanged: rewriting it in place, even
 * with its modification time put back, changes its status-change time, and replacing it changes its inode, so either
 * makes zkai hash it again.
 *
 * The cache is one JSON file in zkai's cache folder (`<cache>/ptau/blake2b512-cache.json`), written atomically under
 * a lock. Whoever can write zkai's cache folder can already replace the keys cached there, so the cache adds no new
 * way in; it never decides trust itself, it only remembers a hash (trust is decided from the hash by
 * `ptau-trust.ts`).
 */
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { CacheLayout } from '../cache/layout.ts';
import { SetupError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { withFileLock } from '../util/file-lock.ts';
import { blake2b512File } from './ptau-file.ts';

/** What identifies one version of a file: if any of these changes, the file is hashed again. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

/** One remembered hash. */
export interface PtauHashEntry {
  identity: FileIdentity;
  blake2b512: string;
  /** When the hash was computed (ISO 8601). */
  hashedAt: string;
}

interface HashCacheFile {
  version: 1;
  /** By real path. */
  entries: Record<string, PtauHashEntry>;
}

/** The most entries kept; the oldest are dropped first. */
const MAX_ENTRIES = 256;

/** Where the hash cache of a zkai cache folder lives. */
export function ptauHashCachePath(cacheDir: string): string {
  return new CacheLayout(cacheDir).ptauHashCachePath;
}

/** The identity of a file as it is now (see {@link FileIdentity}). */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const info = await stat(path, { bigint: true });
  return {
    dev: String(info.dev),
    ino: String(info.ino),
    size: String(info.size),
    mtimeNs: String(info.mtimeNs),
    ctimeNs: String(info.ctimeNs),
  };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function isEntry(value: unknown): value is PtauHashEntry {
  const entry = value as PtauHashEntry | undefined;
  const identity = entry?.identity as Partial<FileIdentity> | undefined;
  return (
    typeof entry?.blake2b512 === 'string' &&
    /^[0-9a-f]{128}$/.test(entry.blake2b512) &&
    typeof entry.hashedAt === 'string' &&
    identity !== undefined &&
    (['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const).every((key) => typeof identity[key] === 'string')
  );
}

/** The cache's entries; an absent, unreadable or malformed cache (or entry) counts as empty, never as an error. */
export async function readPtauHashCache(cacheDir: string): Promise<Map<string, PtauHashEntry>> {
  const path = ptauHashCachePath(cacheDir);
  const entries = new Map<string, PtauHashEntry>();
  if (!existsSync(path)) return entries;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return entries;
  }
  const raw = (parsed as Partial<HashCacheFile> | null)?.entries;
  if ((parsed as Partial<HashCacheFile> | null)?.version !== 1 || typeof raw !== 'object' || raw === null)
    return entries;
  for (const [file, entry] of Object.entries(raw)) if (isEntry(entry)) entries.set(file, entry);
  return entries;
}

async function rememberHash(cacheDir: string, file: string, entry: PtauHashEntry): Promise<void> {
  const path = ptauHashCachePath(cacheDir);
  await withFileLock(`${path}.lock`, async () => {
    const entries = await readPtauHashCache(cacheDir);
    entries.delete(file);
    entries.set(file, entry);
    // Forget files that are gone, then the oldest beyond the limit.
    for (const known of [...entries.keys()]) if (!existsSync(known)) entries.delete(known);
    const kept = [...entries.entries()]
      .sort(([, a], [, b]) => a.hashedAt.localeCompare(b.hashedAt))
      .slice(-MAX_ENTRIES);
    const content: HashCacheFile = { version: 1, entries: Object.fromEntries(kept) };
    await writeFileAtomic(path, `${JSON.stringify(content, null, 2)}\n`);
  });
}

/** The result of {@link cachedBlake2b512}. */
export interface CachedHash {
  /** The file's real path (symbolic links resolved). */
  path: string;
  blake2b512: string;
  /** True when the file was read and hashed in this call; false when the cache held the hash of this very file. */
  hashedNow: boolean;
  /** Set when the hash could not be remembered (the cache folder is not writable, say); the hash itself is good. */
  cacheProblem?: string;
}

/**
 * The blake2b-512 of a file, from the cache when the file's identity is unchanged since it was hashed, otherwise
 * hashed now (streamed) and remembered. A file that changes while it is being hashed (a copy still in progress) is
 * refused rather than remembered with a hash of mixed content.
 */
export async function cachedBlake2b512(
  path: string,
  options: { cacheDir: string; onHashing?: (path: string, bytes: number) => void },
): Promise<CachedHash> {
  const file = await realpath(path);
  const before = await fileIdentity(file);
  const known = (await readPtauHashCache(options.cacheDir)).get(file);
  if (known && sameIdentity(known.identity, before))
    return { path: file, blake2b512: known.blake2b512, hashedNow: false };
  options.onHashing?.(file, Number(before.size));
  const blake2b512 = await blake2b512File(file);
  const after = await fileIdentity(file);
  if (!sameIdentity(before, after)) {
    throw new SetupError(`${file}: the ptau changed while zkai was hashing it`, {
      hint: 'wait until whatever writes the file (a download or a copy) has finished, then run the command again',
    });
  }
  try {
    await rememberHash(options.cacheDir, file, { identity: before, blake2b512, hashedAt: new Date().toISOString() });
    return { path: file, blake2b512, hashedNow: true };
  } catch (error) {
    return {
      path: file,
      blake2b512,
      hashedNow: true,
      cacheProblem: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Whether a remembered entry still describes the file at `file` (false when the file changed or is gone). */
export async function entryStillValid(file: string, entry: PtauHashEntry): Promise<boolean> {
  try {
    return sameIdentity(entry.identity, await fileIdentity(file));
  } catch {
    return false;
  }
}
