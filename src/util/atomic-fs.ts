import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

/** A unique temporary name next to `path`, so a rename onto `path` stays on one file system. */
export function siblingTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write a file atomically: readers see either the old file or the complete new one, never a partial write.
 * The data goes to a temporary sibling which is then renamed over `path`. `mode` applies from the file's creation.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = siblingTempPath(path);
  try {
    // The temporary file is created with the final mode, so private content is never readable by others.
    await writeFile(temp, data, options.mode === undefined ? {} : { mode: options.mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Publish a fully built directory at `target` atomically. If another process published it first, ours is discarded
 * and theirs is kept (content-addressed folders hold the same content). Returns true when ours was the one kept.
 */
export async function publishDirectory(builtDir: string, target: string): Promise<boolean> {
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(builtDir, target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      await rm(builtDir, { recursive: true, force: true });
      return false;
    }
    await rm(builtDir, { recursive: true, force: true });
    throw error;
  }
}
