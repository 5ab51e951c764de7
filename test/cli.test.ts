import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, testCircuit } from './helpers/run-cli.ts';
import { DEMO_CIRCUIT_PATH, rangeCommitment, rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('zkai CLI', () => {
  it('has --help for every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['compile', 'setup', 'prove', 'verify', 'deploy', 'demo']) {
      expect(top.stdout).toContain(command);
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: zkai ${command}`);
    }
  });

  it('compile reports the circuit shape, for people and as JSON', async () => {
    const human = await runCli(['compile', DEMO_CIRCUIT_PATH]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/constraints\s+\d+/);
    const json = await runCli(['--json', '--quiet', 'compile', DEMO_CIRCUIT_PATH]);
    const parsed = JSON.parse(json.stdout) as {
      constraints: number;
      publicInputs: number;
      outputs: number;
      cached: boolean;
    };
    expect(parsed).toMatchObject({ publicInputs: 2, outputs: 1, cached: true });
    expect(parsed.constraints).toBeGreaterThan(1800);
  });

  it("a compile error exits non-zero with circom's message and no stack trace", async () => {
    const run = await runCli(['compile', testCircuit('non_quadratic.circom')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Non quadratic constraints are not allowed');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const json = await runCli(['--json', 'compile', testCircuit('non_quadratic.circom')]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'COMPILE_FAILED' } });
    const missing = await runCli(['compile', join(scratch, 'nope.circom')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('circuit source not found');
  });

  it('prove writes snarkjs-compatible files that verify, and bad input files get clear errors', async () => {
    const input = rangeCommitmentInput(sampleAges(9), 18, 99);
    const inputPath = join(scratch, 'input.json');
    await writeFile(
      inputPath,
      JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
    const proofPath = join(scratch, 'proof.json');
    const publicPath = join(scratch, 'public.json');
    const proveArgs = ['prove', DEMO_CIRCUIT_PATH, '--input', inputPath, '--proof', proofPath, '--public', publicPath];
    const prove = await runCli(['--json', ...proveArgs]);
    expect(prove.code, prove.stderr).toBe(0);
    const { vkey } = JSON.parse(prove.stdout) as { vkey: string };
    const signals = JSON.parse(await readFile(publicPath, 'utf8')) as string[];
    expect(signals).toEqual([rangeCommitment(input.values, input.salt).toString(), '18', '99']);
    const verify = await runCli(['verify', '--vkey', vkey, '--proof', proofPath, '--public', publicPath]);
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(prove.stdout) as { prover: string }).prover).toBe('native'); // built by npm install
    // --prover chooses: each proof verifies, and says who made it.
    for (const prover of ['snarkjs', 'native']) {
      const chosen = await runCli(['--json', '--prover', prover, ...proveArgs]);
      expect(chosen.code, chosen.stderr).toBe(0);
      expect((JSON.parse(chosen.stdout) as { prover: string }).prover).toBe(prover);
      const again = await runCli(['verify', '--vkey', vkey, '--proof', proofPath, '--public', publicPath]);
      expect(again.code, again.stderr).toBe(0);
    }
    const unknown = await runCli(['--prover', 'gpu', 'prove', DEMO_CIRCUIT_PATH, '--input', inputPath]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("option '--prover <prover>' argument 'gpu' is invalid");

    await writeFile(join(scratch, 'broken.json'), '{ "values": [1, 2');
    const broken = await runCli([
      'prove',
      DEMO_CIRCUIT_PATH,
      '--input',
      join(scratch, 'broken.json'),
      '--proof',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.json: the circuit input is not valid JSON/);
    await writeFile(
      join(scratch, 'out-of-range.json'),
      JSON.stringify({ ...JSON.parse(await readFile(inputPath, 'utf8')), low: '60' }),
    );
    const outOfRange = await runCli([
      'prove',
      DEMO_CIRCUIT_PATH,
      '--input',
      join(scratch, 'out-of-range.json'),
      '--proof',
      join(scratch, 'p2.json'),
      '--public',
      join(scratch, 'pub2.json'),
    ]);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toContain('the input does not satisfy the circuit');
    expect(outOfRange.stderr).toContain('hint:');
    // A failed proof writes nothing.
    await expect(readFile(join(scratch, 'p2.json'))).rejects.toThrow();
    const noVkey = await runCli([
      'verify',
      '--vkey',
      join(scratch, 'missing.json'),
      '--proof',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(noVkey.code).toBe(1);
    expect(noVkey.stderr).toMatch(/missing\.json: cannot read the verification key: ENOENT/);
  });

  it('prove proves a batch in the pool: good inputs written and verifiable, a bad one named, exit code 1', async () => {
    const dir = join(scratch, 'batch');
    await mkdir(dir, { recursive: true });
    const json = (value: unknown) =>
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const good = [rangeCommitmentInput(sampleAges(21), 18, 99), rangeCommitmentInput(sampleAges(22), 18, 99)];
    await writeFile(join(dir, 'alice.json'), json(good[0]));
    await writeFile(join(dir, 'bob.json'), json(good[1]));
    // A failed constraint: the ages are in [18, 99], not in [60, 99].
    await writeFile(join(dir, 'too-old.json'), json({ ...rangeCommitmentInput(sampleAges(23), 18, 99), low: '60' }));
    const outDir = join(scratch, 'batch-out');
    const args = [
      'prove',
      DEMO_CIRCUIT_PATH,
      '-i',
      join(dir, 'alice.json'),
      '-i',
      join(dir, 'too-old.json'),
      '-i',
      join(dir, 'bob.json'),
      '--out-dir',
      outDir,
    ];
    const run = await runCli(args);
    expect(run.code, run.stderr).toBe(1);
    // stderr is not a terminal here: plain progress lines, no bar, and the bad input named with its problem.
    expect(run.stderr).toMatch(/^\[prove\] proved [12]\/3$/m);
    expect(run.stderr).not.toContain('\u2588');
    expect(run.stderr).toMatch(/too-old\.json: the input does not satisfy the circuit: .*Assert Failed/);
    expect(run.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(run.stdout).toMatch(/2 of 3 inputs proved in .* proofs\/s/);
    expect(run.stdout).toContain('1 failed');
    expect(run.stdout).toContain('too-old.json');
    expect((await readdir(outDir)).sort()).toEqual([
      'alice.proof.json',
      'alice.public.json',
      'bob.proof.json',
      'bob.public.json',
    ]);

    const keys = await runCli(['--json', '--quiet', 'setup', DEMO_CIRCUIT_PATH]);
    const { vkey } = JSON.parse(keys.stdout) as { vkey: string };
    for (const [index, name] of ['alice', 'bob'].entries()) {
      const input = good[index]!;
      const signals = JSON.parse(await readFile(join(outDir, `${name}.public.json`), 'utf8')) as string[];
      expect(signals).toEqual([rangeCommitment(input.values, input.salt).toString(), '18', '99']);
      const verify = await runCli([
        'verify',
        '--vkey',
        vkey,
        '--proof',
        join(outDir, `${name}.proof.json`),
        '--public',
        join(outDir, `${name}.public.json`),
      ]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toContain('OK: the proof is valid');
    }
  });

  it('prove --inputs DIR --json --quiet: a machine-readable summary, errors still on stderr, no progress', async () => {
    const dir = join(scratch, 'inputs');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'b.json'), JSON.stringify({ a: '5', b: '7' }));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ a: '3', b: '11' }));
    await writeFile(join(dir, 'missing-b.json'), JSON.stringify({ a: '2' }));
    await writeFile(join(dir, 'old.proof.json'), '{}'); // an earlier batch's output is not an input
    await writeFile(join(dir, 'notes.txt'), 'not an input');
    const outDir = join(scratch, 'inputs-out');
    const run = await runCli([
      '--json',
      '--quiet',
      'prove',
      testCircuit('multiplier.circom'),
      '--inputs',
      dir,
      '--out-dir',
      outDir,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toContain('[prove]');
    expect(run.stderr).toMatch(/missing-b\.json: the input does not satisfy the circuit: Not all inputs have been set/);
    const summary = JSON.parse(run.stdout) as {
      inputs: number;
      proofs: number;
      failed: number;
      proofsPerSecond: number;
      vkey: string;
      written: Array<{ input: string; proof: string; public: string; publicSignals: string[] }>;
      failures: Array<{ input: string; code: string; message: string }>;
    };
    expect(summary).toMatchObject({ inputs: 3, proofs: 2, failed: 1 });
    expect(summary.proofsPerSecond).toBeGreaterThan(0);
    expect(summary.written.map((entry) => [entry.input, entry.publicSignals])).toEqual([
      [join(dir, 'a.json'), ['33', '3']],
      [join(dir, 'b.json'), ['35', '5']],
    ]);
    expect(summary.failures).toEqual([
      expect.objectContaining({ input: join(dir, 'missing-b.json'), code: 'WITNESS_FAILED' }),
    ]);
    const verify = await runCli([
      'verify',
      '--vkey',
      summary.vkey,
      '--proof',
      summary.written[1]!.proof,
      '--public',
      summary.written[1]!.public,
    ]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('prove refuses -p/--public with several inputs, and a batch without --out-dir', async () => {
    const a = join(scratch, 'pa.json');
    const b = join(scratch, 'pb.json');
    await writeFile(a, JSON.stringify({ a: '1', b: '2' }));
    await writeFile(b, JSON.stringify({ a: '3', b: '4' }));
    const circuit = testCircuit('multiplier.circom');
    for (const extra of [
      ['-p', join(scratch, 'p.json')],
      ['--public', join(scratch, 'pub.json')],
    ]) {
      const run = await runCli(['prove', circuit, '-i', a, '-i', b, '--out-dir', join(scratch, 'refused'), ...extra]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'error: -p/--proof and --public name the files of one proof, but this is a batch of 2 inputs',
      );
      expect(run.stderr).toContain('hint: give --out-dir DIR instead');
    }
    const noOutDir = await runCli(['prove', circuit, '-i', a, '-i', b]);
    expect(noOutDir.code).toBe(1);
    expect(noOutDir.stderr).toContain('2 inputs need an output folder: --out-dir DIR');
    await expect(readdir(join(scratch, 'refused'))).rejects.toThrow();
  });

  it('rejects bad options with a clear message', async () => {
    const run = await runCli(['demo', '--proofs', 'many']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--proofs must be an integer');
    const level = await runCli(['compile', DEMO_CIRCUIT_PATH, '--O', '7']);
    expect(level.code).not.toBe(0);
    expect(level.stderr).toMatch(/Allowed choices are 0, 1, 2/);
  });
});
