/**
 * Killing `zkai` ends all of its work. From the build, `bin/zkai.mjs` runs the CLI in its own process, whose signal
 * hooks stop the anvil it started; from the sources, it runs the CLI in a child process (tsx) and passes SIGTERM,
 * SIGINT and SIGHUP on to it (before, it waited with spawnSync and forwarded nothing: a SIGTERM to `zkai` left the real
 * work running, reparented to init). REAL commands are started through the bin script and sent SIGTERM; every process
 * they started must be gone.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parentDeathWrapper } from '../src/chain/anvil.ts';
import { ensureBuild } from './helpers/build.ts';

const BIN = fileURLToPath(new URL('../bin/zkai.mjs', import.meta.url));

/** Every descendant of a process, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = [];
  const visit = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(process.platform !== 'linux')('zkai and signals', () => {
  // The fast tier has no global setup: build here when src/ changed, so the build cases test the code as it is.
  ensureBuild();

  it('from the sources (tsx in a child process): SIGTERM to zkai ends the CLI and everything it started', async () => {
    const wrapper = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZKAI_FROM_SOURCE: '1' },
    });
    let output = '';
    wrapper.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    wrapper.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      wrapper.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const started = Date.now();
    while (!/listening on http:/.test(output)) {
      if (Date.now() - started > 60_000) throw new Error(`zkai serve did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const children = descendants(wrapper.pid!);
    expect(children.length).toBeGreaterThanOrEqual(2); // tsx, and the CLI's own process
    wrapper.kill('SIGTERM');
    const end = await exited;
    expect(end.signal === 'SIGTERM' || end.code === 0 || end.code === 143).toBe(true);
    const deadline = Date.now() + 10_000;
    while (children.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(children.filter(alive), `still running after zkai was killed: ${children.filter(alive).join(', ')}`).toEqual(
      [],
    );
  }, 120_000);

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'from the build (in this process): %s while it runs anvil ends zkai and anvil',
    async (signal) => {
      // SIGKILL cannot be caught: anvil ends by the kernel's parent-death signal (setpriv --pdeathsig, util-linux).
      if (signal === 'SIGKILL' && parentDeathWrapper() === undefined) return;
      const chainDir = await mkdtemp(join(tmpdir(), 'zkai-signals-'));
      try {
        const zkai = spawn(process.execPath, [BIN, 'chain', 'deploy', '--chain-dir', chainDir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          zkai.on('exit', (code, signal) => resolve({ code, signal })),
        );
        const isAnvil = (pid: number) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil');
          } catch {
            return false;
          }
        };
        const started = Date.now();
        let anvil: number[] = [];
        while (anvil.length === 0) {
          if (Date.now() - started > 60_000) throw new Error('zkai chain deploy started no anvil within 60 s');
          anvil = descendants(zkai.pid!).filter(isAnvil);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // The build runs in the zkai process itself: no tsx, no second Node.
        expect(
          descendants(zkai.pid!).filter((pid) => !anvil.includes(pid) && !descendants(anvil[0]!).includes(pid)),
        ).toEqual([]);
        const children = descendants(zkai.pid!);
        zkai.kill(signal);
        const end = await exited;
        expect(end.signal === signal || end.code === 143 || end.code === 1).toBe(true);
        const deadline = Date.now() + 10_000;
        while (children.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(
          children.filter(alive),
          `still running after zkai was killed: ${children.filter(alive).join(', ')}`,
        ).toEqual([]);
      } finally {
        await rm(chainDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
