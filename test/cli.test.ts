import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
    const parsed = JSON.parse(json.stdout) as { constraints: number; publicInputs: number; outputs: number; cached: boolean };
    expect(parsed).toMatchObject({ publicInputs: 2, outputs: 1, cached: true });
    expect(parsed.constraints).toBeGreaterThan(1800);
  });

  it('a compile error exits non-zero with circom\'s message and no stack trace', async () => {
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
    await writeFile(inputPath, JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    const proofPath = join(scratch, 'proof.json');
    const publicPath = join(scratch, 'public.json');
    const prove = await runCli(['--json', 'prove', DEMO_CIRCUIT_PATH, '--input', inputPath, '--proof', proofPath, '--public', publicPath]);
    expect(prove.code, prove.stderr).toBe(0);
    const { vkey } = JSON.parse(prove.stdout) as { vkey: string };
    const signals = JSON.parse(await readFile(publicPath, 'utf8')) as string[];
    expect(signals).toEqual([rangeCommitment(input.values, input.salt).toString(), '18', '99']);
    const verify = await runCli(['verify', '--vkey', vkey, '--proof', proofPath, '--public', publicPath]);
    expect(verify.code, verify.stderr).toBe(0);

    await writeFile(join(scratch, 'broken.json'), '{ "values": [1, 2');
    const broken = await runCli(['prove', DEMO_CIRCUIT_PATH, '--input', join(scratch, 'broken.json'), '--proof', proofPath, '--public', publicPath]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.json: the circuit input is not valid JSON/);
    await writeFile(join(scratch, 'out-of-range.json'), JSON.stringify({ ...JSON.parse(await readFile(inputPath, 'utf8')), low: '60' }));
    const outOfRange = await runCli(['prove', DEMO_CIRCUIT_PATH, '--input', join(scratch, 'out-of-range.json'), '--proof', join(scratch, 'p2.json'), '--public', join(scratch, 'pub2.json')]);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toContain('the input does not satisfy the circuit');
    expect(outOfRange.stderr).toContain('hint:');
    // A failed proof writes nothing.
    await expect(readFile(join(scratch, 'p2.json'))).rejects.toThrow();
    const noVkey = await runCli(['verify', '--vkey', join(scratch, 'missing.json'), '--proof', proofPath, '--public', publicPath]);
    expect(noVkey.code).toBe(1);
    expect(noVkey.stderr).toMatch(/missing\.json: cannot read the verification key: ENOENT/);
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
