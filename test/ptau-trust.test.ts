/**
 * Which powers-of-tau files count as PRODUCTION (issue 15, "Powers of tau"): only a file whose blake2b-512 is in the
 * pinned table of published ceremony files; anything else is DEVELOPMENT whatever its name or size, in the setup
 * output, the keys' metadata and the doctor. The hash is checked on every use, cached by file identity. And
 * development generation at 2^16 and above: snarkjs's accumulator calls `logger.log` every 100,000 points.
 */
import { appendFileSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { formatDoctorReport, runDoctor } from '../src/cli/doctor.ts';
import { SetupError } from '../src/errors.ts';
import { DEV_PTAU_WARNING, ensureDevPtau } from '../src/setup/dev-ptau.ts';
import { HERMEZ_PTAU } from '../src/setup/hermez-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { blake2b512File } from '../src/setup/ptau-file.ts';
import { cachedBlake2b512, ptauHashCachePath, readPtauHashCache } from '../src/setup/ptau-hash-cache.ts';
import { classifyPtau, PINNED_CEREMONY_PTAU, type CeremonyPtau } from '../src/setup/ptau-trust.ts';
import { SNARKJS_LOGGER_METHODS, snarkjsLogger, type ProgressEvent } from '../src/setup/progress.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { runCli, testCircuit } from './helpers/run-cli.ts';

const require = createRequire(import.meta.url);

/** The folder of an installed package (the one holding its package.json), found from its main file. */
async function packageRoot(name: string): Promise<string> {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').then(
      (text) => JSON.parse(text) as { name?: string },
      () => undefined,
    );
    if (manifest?.name === name) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
    dir = dirname(dir);
  }
}

/** A fixed time in whole seconds, so that a file's modification time can be put back exactly. */
const FIXED_TIME = 1_700_000_000;

let scratch: string;
/** A development ptau of the tests' cache (the one global setup makes, or a smaller one already cached). */
let devPtau: string;
beforeAll(async () => {
  // The real path: the hash cache keys files by real path.
  scratch = await realpath(await mkdtemp(join(tmpdir(), 'zkai-ptau-trust-')));
  devPtau = (await ensureDevPtau(resolveCacheDir(), 2)).path;
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh folder under the scratch folder. */
async function folder(name: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Flip one bit of the byte at `offset`, in place. */
async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    await handle.write(Buffer.from([byte[0]! ^ 1]), 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** A pinned table holding one made-up ceremony file with this hash (only tests can pass a table). */
function tableWith(blake2b512: string): CeremonyPtau[] {
  return [
    {
      family: 'hermez',
      ceremony: 'a test ceremony',
      fileName: 'test_ceremony_14.ptau',
      power: 14,
      blake2b512,
      source: 'this test',
    },
  ];
}

describe('regression: a development ptau renamed like a ceremony file', () => {
  // Before: only Hermez-named or Hermez-sized files were hash-checked, so any other name was taken as production, and
  // a Hermez name with the wrong hash stopped the setup instead of being labelled.
  for (const name of ['powersOfTau28_hez_final_12.ptau', 'ppot_0080_14.ptau', 'pot14_final.ptau']) {
    it(`named ${name} is DEVELOPMENT in the keys, their metadata and the setup output`, async () => {
      const circuit = await compileCircuit(testCircuit('multiplier.circom'));
      const dir = await folder(`renamed-${name}`);
      const renamed = join(dir, name);
      await copyFile(devPtau, renamed);
      const events: ProgressEvent[] = [];
      // A cache of its own, so the keys (and their metadata) are made here with this ptau.
      const keys = await setupCircuit(circuit, {
        cacheDir: join(dir, 'cache'),
        ptauPath: renamed,
        onProgress: (event) => events.push(event),
      });
      expect(keys.cached).toBe(false);
      expect(keys.ptau.developmentOnly).toBe(true);
      expect(keys.ptau.hermezVerified).toBe(false);
      expect(keys.ptau.trust).toBe('development');
      expect(keys.ptau.ceremony).toBeUndefined();
      expect(keys.ptau.blake2b512).toBe(await blake2b512File(devPtau));
      const meta = JSON.parse(await readFile(join(keys.dir, 'meta.json'), 'utf8')) as {
        ptau: { developmentOnly: boolean; trust: string; trustReason: string };
      };
      expect(meta.ptau).toMatchObject({ developmentOnly: true, trust: 'development' });
      const said = events
        .filter((event) => event.stage === 'ptau')
        .map((event) => event.message)
        .join('\n');
      expect(said).toMatch(/DEVELOPMENT-ONLY/);
      expect(said).toContain(DEV_PTAU_WARNING);
      // The reason names what the file pretends to be.
      if (name.startsWith('powersOfTau28'))
        expect(keys.ptau.trustReason).toMatch(
          /named the published powersOfTau28_hez_final_12\.ptau, but its blake2b-512 [0-9a-f]{16}\.\.\. is not the published ded2694169b7b08e\.\.\./,
        );
      else if (name.startsWith('ppot'))
        expect(keys.ptau.trustReason).toMatch(
          /named like a PSE Perpetual Powers of Tau file, but PSE publishes no hash/,
        );
      else expect(keys.ptau.trustReason).toMatch(/is not in zkai's pinned table of published ceremony files/);
    });
  }

  it('is refused, with the reason, when a production ptau is required', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const dir = await folder('required');
    const renamed = join(dir, 'powersOfTau28_hez_final_14.ptau');
    await copyFile(devPtau, renamed);
    const error = await setupCircuit(circuit, {
      cacheDir: join(dir, 'cache'),
      ptauPath: renamed,
      requireProductionPtau: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as Error).message).toMatch(
      /a production ptau is required, and this one is DEVELOPMENT-ONLY: it is named the published powersOfTau28_hez_final_14\.ptau, but its blake2b-512/,
    );
    expect((error as SetupError).hint).toMatch(/powersOfTau28_hez_final_XX\.ptau/);
    // Without --ptau there is nothing production to use: refused before any generation.
    await expect(setupCircuit(circuit, { cacheDir: join(dir, 'cache'), requireProductionPtau: true })).rejects.toThrow(
      /a production ptau is required, and none was given/,
    );
  });

  it('the CLI says DEVELOPMENT for it, in the human output and in --json', async () => {
    const dir = await folder('cli');
    const renamed = join(dir, 'powersOfTau28_hez_final_12.ptau');
    await copyFile(devPtau, renamed);
    const cache = join(dir, 'cache');
    const human = await runCli(['--cache-dir', cache, 'setup', testCircuit('multiplier.circom'), '--ptau', renamed], {
      timeoutMs: 300_000,
    });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`WARNING: ${DEV_PTAU_WARNING}`);
    expect(human.stdout).not.toContain('Hermez hash verified');
    expect(human.stderr).toMatch(
      /\[ptau\] powersOfTau28_hez_final_12\.ptau: DEVELOPMENT-ONLY ptau: it is named the published powersOfTau28_hez_final_12\.ptau/,
    );
    const json = await runCli(
      ['--json', '--cache-dir', cache, 'setup', testCircuit('multiplier.circom'), '--ptau', renamed],
      { timeoutMs: 300_000 },
    );
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as {
      cached: boolean;
      ptau: { trust: string; developmentOnly: boolean; hermezVerified: boolean };
    };
    expect(out.cached).toBe(true);
    expect(out.ptau).toMatchObject({ trust: 'development', developmentOnly: true, hermezVerified: false });
    // The second run found the hash in the cache: it did not hash the file again.
    expect(json.stderr).not.toMatch(/checking powersOfTau28_hez_final_12\.ptau: blake2b-512/);
    expect(human.stderr).toMatch(/checking powersOfTau28_hez_final_12\.ptau: blake2b-512/);
  });

  it('the doctor lists it as DEVELOPMENT-ONLY among the ptau files checked by hash', async () => {
    const dir = await folder('doctor');
    const renamed = join(dir, 'powersOfTau28_hez_final_13.ptau');
    await copyFile(devPtau, renamed);
    const cache = join(dir, 'cache');
    // A cache holding a development ptau zkai generated, as setup leaves it.
    await mkdir(join(cache, 'ptau'), { recursive: true });
    await copyFile(devPtau, join(cache, 'ptau', 'dev-pot14.ptau'));
    await classifyPtau(renamed, { cacheDir: cache });
    const report = await runDoctor({ cacheDir: cache });
    const ptau = report.checks.find((check) => check.name === 'ptau')!;
    expect(ptau.status).toBe('ok');
    expect(ptau.detail).toMatch(/^development ptau powers 2\^14 \(DEVELOPMENT-ONLY; /);
    expect(formatDoctorReport(report)).toMatch(/ptau\s+OK\s+development ptau powers 2\^14/);
    expect(ptau.data).toMatchObject({ powers: [14], others: [] });
    expect(ptau.detail).toContain(`${renamed} (DEVELOPMENT-ONLY)`);
    expect(ptau.detail).toContain('no PRODUCTION ptau');
    expect(ptau.data).toMatchObject({ files: [{ path: renamed, trust: 'development' }], pinnedCeremonyFiles: 21 });
    // A file changed since it was checked is said to be so, not reported with its old verdict.
    appendFileSync(renamed, 'x');
    const after = (await runDoctor({ cacheDir: cache })).checks.find((check) => check.name === 'ptau')!;
    expect(after.detail).toContain(`${renamed} (changed since its hash was checked; checked again on next use)`);
  });
});

describe('the pinned table', () => {
  it('is the Hermez table of the snarkjs README, hash by hash, with its source next to it', async () => {
    // The README that ships with the installed snarkjs: rows "| 12 | 4k | [powersOfTau28_hez_final_12.ptau](url) | hash |".
    const readme = await readFile(join(await packageRoot('snarkjs'), 'README.md'), 'utf8');
    const rows = [
      ...readme.matchAll(
        /\|\s*(\d+)\s*\|[^|\n]*\|\s*\[(powersOfTau28_hez_final(?:_\d+)?\.ptau)\]\(([^)]+)\)\s*\|\s*([0-9a-f]{128})\s*\|/g,
      ),
    ];
    expect(rows).toHaveLength(21);
    for (const [, power, fileName, url, hash] of rows) {
      const pinned = HERMEZ_PTAU.get(Number(power));
      expect(pinned, `power ${power}`).toMatchObject({ fileName, blake2b512: hash, downloadUrl: url });
    }
    expect(PINNED_CEREMONY_PTAU).toHaveLength(21);
    for (const entry of PINNED_CEREMONY_PTAU) {
      expect(entry.source).toContain('iden3/snarkjs README.md, section "7. Prepare phase 2"');
      expect(entry.blake2b512).toBe(HERMEZ_PTAU.get(entry.power)!.blake2b512);
    }
    // No family without a published hash: the PSE ppot files are not pinned.
    expect(PINNED_CEREMONY_PTAU.filter((entry) => /ppot/i.test(entry.fileName))).toEqual([]);
    expect(new Set(PINNED_CEREMONY_PTAU.map((entry) => entry.blake2b512)).size).toBe(21);
  });

  it('makes a file PRODUCTION by its hash alone, whatever its name, and one changed byte makes it DEVELOPMENT', async () => {
    const dir = await folder('by-hash');
    const file = join(dir, 'some-name-nobody-pinned.ptau');
    await copyFile(devPtau, file);
    await utimes(file, FIXED_TIME, FIXED_TIME);
    const table = tableWith(await blake2b512File(devPtau));
    const cacheDir = join(dir, 'cache');
    const production = await classifyPtau(file, { cacheDir, table });
    expect(production).toMatchObject({
      trust: 'production',
      ceremony: { fileName: 'test_ceremony_14.ptau' },
      hashedNow: true,
    });
    expect(production.reason).toMatch(
      /its blake2b-512 is that of the published test_ceremony_14\.ptau \(a test ceremony; hash published in this test\)/,
    );
    // One byte flipped in the middle, in place, with the modification time put back: still hashed again, now DEVELOPMENT.
    const before = await stat(file);
    await flipByte(file, Math.floor(before.size / 2));
    await utimes(file, FIXED_TIME, FIXED_TIME);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect((await stat(file)).size).toBe(before.size);
    const changed = await classifyPtau(file, { cacheDir, table });
    expect(changed).toMatchObject({ trust: 'development', hashedNow: true });
    expect(changed.blake2b512).not.toBe(production.blake2b512);
  });
});

describe('the hash cache (checked on every use, hashed once per file version)', () => {
  it('hashes a file once, then answers from the cache while the file is unchanged; a replaced file is hashed again', async () => {
    const dir = await folder('cache-reuse');
    const cacheDir = join(dir, 'cache');
    const file = join(dir, 'p.ptau');
    await copyFile(devPtau, file);
    await utimes(file, FIXED_TIME, FIXED_TIME);
    const expected = await blake2b512File(devPtau);
    const hashing: string[] = [];
    const first = await cachedBlake2b512(file, { cacheDir, onHashing: (path) => hashing.push(path) });
    expect(first).toMatchObject({ blake2b512: expected, hashedNow: true });
    const second = await cachedBlake2b512(file, { cacheDir, onHashing: (path) => hashing.push(path) });
    expect(second).toMatchObject({ blake2b512: expected, hashedNow: false });
    expect(hashing).toHaveLength(1);
    // Through a symbolic link: the same file, so the same entry.
    const link = join(dir, 'link.ptau');
    await symlink(file, link);
    expect(await cachedBlake2b512(link, { cacheDir })).toMatchObject({ path: file, hashedNow: false });
    // The cache is one JSON file in zkai's cache folder, keyed by real path, with the file's identity.
    const cache = JSON.parse(await readFile(ptauHashCachePath(cacheDir), 'utf8')) as {
      version: number;
      entries: Record<string, { blake2b512: string; identity: Record<string, string> }>;
    };
    expect(cache.version).toBe(1);
    expect(cache.entries[file]).toMatchObject({
      blake2b512: expected,
      identity: { size: String((await stat(file)).size) },
    });
    expect(Object.keys(cache.entries[file]!.identity).sort()).toEqual(['ctimeNs', 'dev', 'ino', 'mtimeNs', 'size']);
    // Replaced by another file of the same size and times (a new inode): hashed again.
    const other = join(dir, 'other.ptau');
    await copyFile(devPtau, other);
    await flipByte(other, 1000);
    await utimes(other, FIXED_TIME, FIXED_TIME);
    expect((await stat(other)).size).toBe((await stat(file)).size);
    expect((await stat(other)).mtimeMs).toBe((await stat(file)).mtimeMs);
    await rename(other, file);
    const replaced = await cachedBlake2b512(file, { cacheDir });
    expect(replaced.hashedNow).toBe(true);
    expect(replaced.blake2b512).not.toBe(expected);
    // The temporary files of the atomic writes are gone; the lock is released.
    expect((await readdir(join(cacheDir, 'ptau'))).sort()).toEqual(['blake2b512-cache.json']);
  });

  it('setup re-checks the hash on every use without re-reading an unchanged file, and fixes keys metadata that says otherwise', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const dir = await folder('setup-cache');
    const cacheDir = join(dir, 'cache');
    const file = join(dir, 'pot14_final.ptau');
    await copyFile(devPtau, file);
    const first = await setupCircuit(circuit, { cacheDir, ptauPath: file });
    // Keys metadata written by an older zkai, which called every user ptau production.
    const metaPath = join(first.dir, 'meta.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
    await writeFile(
      metaPath,
      JSON.stringify({ ...meta, ptau: { path: file, power: 14, developmentOnly: false, hermezVerified: false } }),
    );
    const events: ProgressEvent[] = [];
    const again = await setupCircuit(circuit, { cacheDir, ptauPath: file, onProgress: (event) => events.push(event) });
    expect(again.cached).toBe(true);
    expect(again.ptau).toMatchObject({ trust: 'development', developmentOnly: true });
    expect(events.map((event) => event.message).join('\n')).not.toMatch(/checking pot14_final\.ptau: blake2b-512/);
    expect(events.map((event) => event.message).join('\n')).toMatch(/pot14_final\.ptau: DEVELOPMENT-ONLY ptau/);
    expect(JSON.parse(await readFile(metaPath, 'utf8'))).toMatchObject({
      ptau: { trust: 'development', developmentOnly: true },
    });
  });

  it('does not serve keys made from another ptau that only shares its fingerprint (size, first and last MiB)', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const dir = await folder('setup-fingerprint');
    const cacheDir = join(dir, 'cache');
    const a = join(dir, 'a.ptau');
    await copyFile(devPtau, a);
    const first = await setupCircuit(circuit, { cacheDir, ptauPath: a });
    // b differs from a by one bit in the middle, outside the first and last MiB that locate cached keys.
    const b = join(dir, 'b.ptau');
    await copyFile(devPtau, b);
    const size = (await stat(b)).size;
    expect(size).toBeGreaterThan(3 * 2 ** 20);
    await flipByte(b, Math.floor(size / 2));
    const second = await setupCircuit(circuit, { cacheDir, ptauPath: b });
    expect(second.dir).toBe(first.dir);
    expect(second.cached).toBe(false);
    expect(second.ptau.blake2b512).not.toBe(first.ptau.blake2b512);
    expect(JSON.parse(await readFile(join(second.dir, 'meta.json'), 'utf8'))).toMatchObject({
      ptau: { path: b, blake2b512: second.ptau.blake2b512 },
    });
    expect((await setupCircuit(circuit, { cacheDir, ptauPath: b })).cached).toBe(true);
  });

  it('ignores a corrupt cache file (hashes again and rewrites it) and keeps every entry when files are checked at once', async () => {
    const dir = await folder('cache-concurrent');
    const cacheDir = join(dir, 'cache');
    await mkdir(join(cacheDir, 'ptau'), { recursive: true });
    await writeFile(ptauHashCachePath(cacheDir), '{"version": 1, "entries": {"/x": {"blake2b512": "not a hash"');
    const files = await Promise.all(
      [1, 2, 3, 4].map(async (index) => {
        const file = join(dir, `f${index}.ptau`);
        await writeFile(file, `file ${index} `.repeat(10_000));
        return file;
      }),
    );
    const results = await Promise.all(files.map((file) => cachedBlake2b512(file, { cacheDir })));
    expect(results.every((result) => result.hashedNow && !result.cacheProblem)).toBe(true);
    const entries = await readPtauHashCache(cacheDir);
    expect([...entries.keys()].sort()).toEqual([...files].sort());
    for (const [index, file] of files.entries()) expect(entries.get(file)!.blake2b512).toBe(results[index]!.blake2b512);
  });

  it('refuses a file that changes while it is being hashed (a copy still in progress)', async () => {
    const dir = await folder('cache-moving');
    const file = join(dir, 'growing.ptau');
    await writeFile(file, 'first part ');
    const error = await cachedBlake2b512(file, {
      cacheDir: join(dir, 'cache'),
      onHashing: () => appendFileSync(file, 'more bytes'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as Error).message).toMatch(/growing\.ptau: the ptau changed while zkai was hashing it/);
    expect(await readPtauHashCache(join(dir, 'cache'))).toEqual(new Map());
  });
});

describe('development generation at 2^16 and above', () => {
  it('the logger implements every logger method snarkjs and the libraries it runs call', async () => {
    // Every `logger.<method>` in the sources of snarkjs, ffjavascript (curves, FFT, multiexp) and r1csfile.
    const called = new Set<string>();
    for (const pkg of ['snarkjs', 'ffjavascript', 'r1csfile']) {
      const root = join(await packageRoot(pkg), 'src');
      for (const name of await readdir(root, { recursive: true })) {
        if (!name.endsWith('.js')) continue;
        for (const match of (await readFile(join(root, name), 'utf8')).matchAll(/\blogger\.([A-Za-z_]+)\s*\(/g))
          called.add(match[1]!);
      }
    }
    expect(called.has('log')).toBe(true); // powersoftau_new.js, every 100,000 points
    expect([...called].filter((method) => !(SNARKJS_LOGGER_METHODS as readonly string[]).includes(method))).toEqual([]);
    // Each method forwards its message as a progress event; errors are also collected.
    const events: ProgressEvent[] = [];
    const errors: string[] = [];
    const logger = snarkjsLogger('ptau:new', (event) => events.push(event), errors) as unknown as Record<
      string,
      (message: string) => void
    >;
    for (const method of called) logger[method]!(`via ${method}`);
    expect(events).toEqual([...called].map((method) => ({ stage: 'ptau:new', message: `via ${method}` })));
    expect(errors).toEqual(called.has('error') ? ['via error'] : []);
    // And without a listener nothing throws.
    const silent = snarkjsLogger('ptau:new', undefined) as unknown as Record<string, (message: string) => void>;
    for (const method of SNARKJS_LOGGER_METHODS) expect(() => silent[method]!('x')).not.toThrow();
  });

  it("survives snarkjs's accumulator at power 16, which calls logger.log every 100,000 points", async () => {
    // newAccumulator is the snarkjs function that logs per 100,000 points; power 16 is the smallest that reaches
    // 100,000 (2^17 - 1 tauG1 points). It only writes generator points (about 1.5 s, 25 MB): no contribution and no
    // phase-2 preparation, which are what make a 2^16 generation take 20 minutes.
    const events: ProgressEvent[] = [];
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const file = join(scratch, 'accumulator16.ptau');
    await snarkjs.powersOfTau.newAccumulator(
      curve,
      16,
      file,
      snarkjsLogger('ptau:new', (event) => events.push(event)),
    );
    expect(events).toContainEqual({ stage: 'ptau:new', message: 'tauG1: 100000' });
    await rm(file, { force: true });
  });
});
