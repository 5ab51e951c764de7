import { open, readFile, rm, stat } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The locks this process holds now (by path), so a lock file naming our pid that we do not hold is known stale. */
const heldHere = new Set<string>();

/** Is a process with this pid alive on this machine? */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run `task` while holding an exclusive lock file, so two processes never do the same expensive work (such as
 * generating a ptau) at once. A lock left behind by a dead process is taken over. `onWait` is called once if the
 * lock is busy, so the caller can tell the user why nothing is happening.
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  options: { pollMs?: number; onWait?: (holderPid: number) => void } = {},
): Promise<T> {
  const pollMs = options.pollMs ?? 250;
  await mkdir(dirname(lockPath), { recursive: true });
  let told = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      // Marked held before our pid is in the file, so no waiter of this process ever reads our pid unmarked.
      heldHere.add(resolve(lockPath));
      try {
        await handle.writeFile(String(process.pid));
        await handle.close();
      } catch (error) {
        heldHere.delete(resolve(lockPath));
        await handle.close().catch(() => undefined);
        await rm(lockPath, { force: true });
        throw error;
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      // Stale: its holder is dead, names no process, or is this process without holding it (a lock left by an
      // earlier process that had our pid, as in a container where every run is pid 1).
      const stale =
        Number.isFinite(holder) &&
        (holder <= 0 || (holder === process.pid ? !heldHere.has(resolve(lockPath)) : !processAlive(holder)));
      if (stale) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (!Number.isFinite(holder)) {
        // Written but not yet filled in, or unreadable: give the writer a moment, then treat an old one as stale.
        const info = await stat(lockPath).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > 10_000) await rm(lockPath, { force: true });
      }
      if (!told && options.onWait && Number.isFinite(holder)) {
        told = true;
        options.onWait(holder);
      }
      await new Promise((wake) => setTimeout(wake, pollMs));
    }
  }
  try {
    return await task();
  } finally {
    heldHere.delete(resolve(lockPath));
    await rm(lockPath, { force: true });
  }
}
