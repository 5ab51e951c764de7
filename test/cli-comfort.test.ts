import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, testCircuit } from './helpers/run-cli.ts';
import { formatErrorStack, progressPrinter } from '../src/cli/output.ts';
import { barsWanted, progressBars, ptauWriteFraction, stopProgressBars } from '../src/cli/progress-bar.ts';
import { satisfiesMinimum, type DoctorReport } from '../src/cli/doctor.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-comfort-'));
});
afterAll(async () => {
  stopProgressBars();
  await rm(scratch, { recursive: true, force: true });
});

/** A writable stream that keeps what is written, and says it is (or is not) a terminal. */
function captureStream(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return Object.assign(stream, { isTTY, columns: 120, text: () => text });
}

const ESCAPE = '\u001b[';
const BAR_CHAR = '\u2588';
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('progress bars (src/cli/progress-bar.ts)', () => {
  it('draws bars on a terminal: batch proving with its count, then a line when it is done', async () => {
    const tty = captureStream(true);
    const print = progressPrinter({}, tty);
    expect(print).toBeDefined();
    print!({ stage: 'demo', message: 'circuit range_commitment: 1937 constraints (cached)' });
    for (let done = 1; done <= 3; done++) print!({ stage: 'demo', message: `proved ${done}/8` });
    await wait(450); // cli-progress redraws at most 5 times a second
    const drawn = tty.text();
    expect(drawn).toContain('proving |');
    expect(drawn).toContain(BAR_CHAR);
    expect(drawn).toContain('3/8');
    expect(drawn).toContain('[demo] circuit range_commitment: 1937 constraints (cached)'); // other events stay lines
    for (let done = 4; done <= 8; done++) print!({ stage: 'demo', message: `proved ${done}/8` });
    stopProgressBars();
    expect(tty.text()).toMatch(/proving 8\/8 done\n/);
  });

  it('draws chunk, accuracy and setup bars, with a measured fraction while a development ptau is prepared', async () => {
    const tty = captureStream(true);
    const bars = progressBars({}, tty)!;
    expect(
      bars.handle({ stage: 'compile', message: 'compile: dataset_x with circom 2.2.3 (--O2)', transient: true }),
    ).toBe(true);
    await wait(450);
    expect(tty.text()).toMatch(/compile dataset_x \|[\u2588\u2591]+\| +\d+s \| circom 2\.2\.3/);
    expect(
      bars.handle({ stage: 'ptau', message: 'generating a development ptau of power 12 (2^12); DEVELOPMENT-ONLY ...' }),
    ).toBe(false); // a line
    expect(bars.handle({ stage: 'ptau:write', message: 'lagrangeTauG2: 75%' })).toBe(true);
    await wait(450);
    expect(tty.text()).toMatch(/development ptau \(2\^12\) \|[\u2588\u2591]+\| +75% /);
    expect(bars.handle({ stage: 'prove', message: 'chunk 1/32' })).toBe(true);
    await wait(450);
    expect(tty.text()).toContain('development ptau (2^12) done in');
    expect(tty.text()).toMatch(/chunk proofs \|[\u2588\u2591]+\| 1\/32/);
    expect(bars.handle({ stage: 'prove', message: 'accuracy chunk 2/3' })).toBe(true);
    expect(bars.handle({ stage: 'prove', message: 'something else' })).toBe(false);
    bars.stop({ completed: false });
    expect(tty.text()).toMatch(/accuracy chunks 2\/3 stopped\n/);
  });

  it('reads the fraction of a development ptau from its progress messages, and nothing from other messages', () => {
    expect(ptauWriteFraction('tauG1: 0%')).toBe(0);
    expect(ptauWriteFraction('lagrangeTauG2: 37%')).toBeCloseTo(0.37);
    expect(ptauWriteFraction('lagrangeBetaTauG1: 100%')).toBe(1);
    expect(ptauWriteFraction('tauG1: fft 3 mix end: 1/8')).toBeUndefined();
    expect(ptauWriteFraction('generating a development ptau of power 11')).toBeUndefined();
  });

  it('stays off when stderr is not a terminal, with --json and with --quiet: the plain lines of before, or nothing', () => {
    const pipe = captureStream(false);
    const tty = captureStream(true);
    expect(barsWanted({}, pipe)).toBe(false);
    expect(barsWanted({ json: true }, tty)).toBe(false);
    expect(barsWanted({ quiet: true }, tty)).toBe(false);
    expect(progressBars({}, pipe)).toBeUndefined();
    expect(progressBars({ json: true }, tty)).toBeUndefined();

    const plain = progressPrinter({}, pipe)!;
    plain({ stage: 'prove', message: 'chunk 1/4' });
    plain({ stage: 'ptau', message: 'generating a development ptau of power 11' });
    plain({ stage: 'compile', message: 'compile: dataset_x with circom 2.2.3 (--O2)', transient: true }); // only for bars
    expect(pipe.text()).toBe('[prove] chunk 1/4\n[ptau] generating a development ptau of power 11\n');

    const json = progressPrinter({ json: true }, tty)!;
    json({ stage: 'prove', message: 'chunk 1/4' });
    expect(tty.text()).toBe('[prove] chunk 1/4\n');
    expect(tty.text()).not.toContain(ESCAPE);

    expect(progressPrinter({ quiet: true }, tty)).toBeUndefined();
  });
});

describe('zkai doctor', () => {
  const cacheDir = () => join(scratch, 'cache');

  it('reports every check with a status, and the ptau powers, circuits and keys of a cache a real setup filled', async () => {
    // The cheapest real setup: multiplier.circom needs a 2^2 ptau (generated in about a second).
    const setup = await runCli(['--cache-dir', cacheDir(), 'setup', testCircuit('multiplier.circom')]);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stderr).toContain('[ptau] generating a development ptau of power 2');
    expect(setup.stderr).not.toContain(ESCAPE); // not a terminal: plain lines, no bars

    const run = await runCli(['--json', '--cache-dir', cacheDir(), 'doctor']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.checks.map((check) => check.name)).toEqual([
      'node',
      'cache',
      'ptau',
      'circom',
      'prover',
      'solc',
      'anvil',
      'memory',
      'cores',
      'chromium',
    ]);
    for (const check of report.checks) {
      expect(['ok', 'warn', 'fail'], check.name).toContain(check.status);
      expect(check.detail.length, check.name).toBeGreaterThan(0);
      if (check.status !== 'ok') expect(check.hint, check.name).toBeTruthy();
    }
    expect(report.ok).toBe(true);
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(byName.node!.status).toBe('ok');
    expect(byName.cache).toMatchObject({
      status: 'ok',
      data: { dir: cacheDir(), writable: true, circuits: 1, keys: 1 },
    });
    expect(byName.cache!.data!.bytes as number).toBeGreaterThan(1000);
    expect(byName.ptau).toMatchObject({ status: 'ok', data: { powers: [2] } });
    expect(byName.ptau!.detail).toContain('2^2');
    expect(byName.circom!.status).toBe('ok');
    // npm install built the native prover: it is the active one.
    expect(byName.prover).toMatchObject({ status: 'ok', data: { active: 'native' } });
    expect(byName.prover!.detail).toMatch(/^native \((x86-64 mulx\/adcx\/adox|portable C\+\+) field arithmetic\)/);
    const chosen = await runCli(['--json', '--prover', 'snarkjs', '--cache-dir', cacheDir(), 'doctor']);
    const proverCheck = (JSON.parse(chosen.stdout) as DoctorReport).checks.find((check) => check.name === 'prover');
    expect(proverCheck).toMatchObject({ status: 'ok', data: { active: 'snarkjs', native: true } });
    const missing = await runCli(['--json', '--cache-dir', cacheDir(), 'doctor'], {
      env: { ZKAI_NATIVE_ADDON: 'none' },
    });
    const fallback = (JSON.parse(missing.stdout) as DoctorReport).checks.find((check) => check.name === 'prover');
    expect(fallback).toMatchObject({ status: 'warn', data: { active: 'snarkjs', native: false } });
    expect(fallback!.hint).toContain('g++');
    expect(byName.solc!.status).toBe('ok');
    expect(byName.anvil).toMatchObject({ status: 'ok' });
    expect(byName.anvil!.detail).toMatch(/\d+\.\d+\.\d+/);

    const human = await runCli(['--cache-dir', cacheDir(), 'doctor']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/ptau\s+OK\s+development ptau powers 2\^2/);
    expect(human.stdout).toMatch(/\d+ ok, \d+ warnings?, 0 failed/);
  });

  it('fails clearly, with exit code 1 and what to do, when the cache folder is a file', async () => {
    const notAFolder = join(scratch, 'cache-file');
    await writeFile(notAFolder, 'not a folder');
    const run = await runCli(['--json', '--cache-dir', notAFolder, 'doctor']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    const cache = report.checks.find((check) => check.name === 'cache')!;
    expect(cache).toMatchObject({ status: 'fail', detail: `${notAFolder} is a file, not a folder` });
    expect(cache.hint).toContain('--cache-dir');

    const human = await runCli(['--cache-dir', notAFolder, 'doctor']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/cache\s+FAIL\s+.*is a file, not a folder/);
    expect(human.stdout).toMatch(/-> remove or rename it/);
  });

  it('reads the engines range of package.json', () => {
    expect(satisfiesMinimum('20.11.0', '>=20.11')).toBe(true);
    expect(satisfiesMinimum('22.1.0', '>=20.11')).toBe(true);
    expect(satisfiesMinimum('20.10.9', '>=20.11')).toBe(false);
    expect(satisfiesMinimum('18.20.0', '>=20.11')).toBe(false);
    expect(satisfiesMinimum('20.11.0', '^20 || ^22')).toBeUndefined();
  });
});

describe('errors', () => {
  it('without --debug: one line naming the file and no stack; with --debug: the stack', async () => {
    const missing = join(scratch, 'missing-vkey.json');
    const present = join(scratch, 'present.json');
    await writeFile(present, '{}');
    const plain = await runCli(['verify', '--vkey', missing, '--proof', present, '--public', present]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`error: ${missing}: cannot read the verification key: ENOENT`);
    expect(plain.stderr).not.toMatch(/\n\s+at /);

    const debug = await runCli(['--debug', 'verify', '--vkey', missing, '--proof', present, '--public', present]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain(`error: ${missing}: cannot read the verification key: ENOENT`);
    expect(debug.stderr).toMatch(/InputFileError: .*missing-vkey\.json/);
    expect(debug.stderr).toMatch(/\n\s+at .*json-file\.(ts|js)/); // the build (dist/) or the sources
  });

  it('a file-system error names the path and the fix, not "a bug in zkai"', async () => {
    const blocker = join(scratch, 'blocker');
    await writeFile(blocker, 'a file where a folder should be');
    const out = join(blocker, 'bundle.json');
    const run = await runCli([
      'data',
      'commit',
      '--schema',
      'examples/patients/schema.json',
      '--data',
      'examples/patients/patients.csv',
      '--bundle',
      out,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: ${out}: a part of the path is a file, not a folder`);
    expect(run.stderr).not.toContain('looks like a bug');
    expect(run.stderr).toMatch(/hint: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('--debug prints the chain of causes', () => {
    const error = new Error('outer problem', { cause: new TypeError('inner problem') });
    const text = formatErrorStack(error);
    expect(text).toMatch(/^Error: outer problem\n\s+at /);
    expect(text).toMatch(/caused by: TypeError: inner problem\n\s+at /);
  });
});

describe('--cache-dir', () => {
  it('holds everything a command caches, the compiled Solidity of a chain command included', async () => {
    const cacheDir = join(scratch, 'own-cache');
    const deployed = await runCli(['--cache-dir', cacheDir, '--quiet', 'chain', 'deploy'], { timeoutMs: 120_000 });
    expect(deployed.code, deployed.stderr).toBe(0);
    // The embedded chain's state and the contracts solc compiled for it, both in the folder named.
    expect((await readdir(join(cacheDir, 'chain', 'embedded'))).sort()).toEqual([
      'anvil-state.json',
      'deployment.json',
    ]);
    expect((await readdir(join(cacheDir, 'solidity'))).filter((name) => name.endsWith('.json')).length).toBeGreaterThan(
      0,
    );
  }, 120_000);
});
