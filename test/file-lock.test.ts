/**
 * The cache's file lock (src/util/file-lock.ts): one holder at a time, and a lock left behind is taken over, including
 * one naming this very process (a container whose every run is pid 1) or no process at all.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../src/util/file-lock.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-file-lock-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('withFileLock', () => {
  it('runs two tasks of one process on one lock one after the other (never together), and removes the lock after', async () => {
    const lock = join(scratch, 'turns.lock');
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`${name} in`);
      await new Promise((wake) => setTimeout(wake, 50));
      events.push(`${name} out`);
    };
    await Promise.all([withFileLock(lock, task('a'), { pollMs: 10 }), withFileLock(lock, task('b'), { pollMs: 10 })]);
    // Either may go first; the second starts only after the first has ended.
    const first = events[0]!.split(' ')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(events).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock naming this process that it does not hold, or no process, at once', async () => {
    for (const holder of [String(process.pid), '0', '-5']) {
      const lock = join(scratch, `left-${holder}.lock`);
      await writeFile(lock, holder);
      const waited: number[] = [];
      const result = await withFileLock(lock, () => Promise.resolve('ran'), { onWait: (pid) => waited.push(pid) });
      expect(result).toBe('ran');
      expect(waited).toEqual([]);
    }
  });

  it('waits for a live holder, says which, and takes the lock once that holder is gone', async () => {
    const lock = join(scratch, 'live.lock');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(lock, String(holder.pid));
      const waited: number[] = [];
      let ran = false;
      const running = withFileLock(
        lock,
        () => {
          ran = true;
          return Promise.resolve();
        },
        { pollMs: 20, onWait: (pid) => waited.push(pid) },
      );
      await new Promise((wake) => setTimeout(wake, 300));
      expect(ran).toBe(false);
      expect(waited).toEqual([holder.pid]);
      holder.kill('SIGKILL');
      await running;
      expect(ran).toBe(true);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
