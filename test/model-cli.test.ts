import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.ts';

const ONNX = fileURLToPath(new URL('./fixtures/models/mlp.onnx', import.meta.url));
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-model-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('zkai model', () => {
  it('import converts ONNX to the native format and says what it did; inspect shows cost and agreement before any setup', async () => {
    const out = join(scratch, 'mlp.json');
    const imported = await runCli(['model', 'import', ONNX, '--input-min', '-2', '--input-max', '2', '--out', out]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/dense 4->8, relu, dense 8->3, argmax/);
    expect(imported.stdout).toMatch(/note: Softmax at the output was replaced by argmax/);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ format: 'zkai-model-v1', input: { size: 4, min: -2, max: 2 } });

    const noRange = await runCli(['model', 'import', ONNX, '--out', join(scratch, 'x.json')]);
    expect(noRange.code).toBe(1);
    expect(noRange.stderr).toContain('give --input-min and --input-max');

    const samples = join(scratch, 'samples.json');
    await writeFile(samples, JSON.stringify([[0, 0, 0, 0], [1, -1, 0.5, 2], [-2, 2, -0.25, 0.75]]));
    const inspect = await runCli(['--json', 'model', 'inspect', out, '--samples', samples]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const report = JSON.parse(inspect.stdout) as { layers: unknown[]; estimatedConstraints: number; agreement: { samples: number; agree: number } };
    expect(report.layers).toHaveLength(2);
    expect(report.estimatedConstraints).toBeGreaterThan(100);
    expect(report.agreement.samples).toBe(3);
  });

  it('prove writes the proof and a private salt; verify accepts it against the model and rejects another class or model', async () => {
    const modelPath = join(scratch, 'mlp.json');
    const input = join(scratch, 'input.json');
    await writeFile(input, JSON.stringify([1, -1, 0.5, 2]));
    const proofPath = join(scratch, 'proof.json');
    const vkey = join(scratch, 'vkey.json');
    const salt = join(scratch, 'salt.json');
    const missingSalt = await runCli(['model', 'prove', '--model', modelPath, '--input', input, '--out', proofPath]);
    expect(missingSalt.code).toBe(1);
    expect(missingSalt.stderr).toContain('--salt-out');
    expect(existsSync(proofPath)).toBe(false);

    const prove = await runCli(['--json', 'model', 'prove', '--model', modelPath, '--input', input, '--out', proofPath, '--vkey-out', vkey, '--salt-out', salt], { timeoutMs: 600_000 });
    expect(prove.code, prove.stderr).toBe(0);
    const proved = JSON.parse(prove.stdout) as { predicted: number; inputHash: string };
    expect((await stat(salt)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(proofPath, 'utf8'))).not.toHaveProperty('salt');

    const ok = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model', modelPath]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK: the proof is valid: model .* predicts class ${proved.predicted}`));
    const wrongClass = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model', modelPath, '--class', String((proved.predicted + 1) % 3)]);
    expect(wrongClass.code).toBe(1);
    expect(wrongClass.stdout).toMatch(/INVALID \(claim-mismatch\): class/);
    // The same network quantized differently is another model (another hash): rejected.
    const otherModel = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model', modelPath, '--frac-bits', '9']);
    expect(otherModel.code).toBe(1);
    expect(otherModel.stdout).toContain('modelHash');
  }, 600_000);
});
