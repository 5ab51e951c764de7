import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.ts';
import { accuracySignalNames, runningTotalCommitment } from '../src/model/accuracy.ts';

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
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({
      format: 'zkai-model-v1',
      input: { size: 4, min: -2, max: 2 },
    });

    const noRange = await runCli(['model', 'import', ONNX, '--out', join(scratch, 'x.json')]);
    expect(noRange.code).toBe(1);
    expect(noRange.stderr).toContain('give --input-min and --input-max');

    const samples = join(scratch, 'samples.json');
    await writeFile(
      samples,
      JSON.stringify([
        [0, 0, 0, 0],
        [1, -1, 0.5, 2],
        [-2, 2, -0.25, 0.75],
      ]),
    );
    const inspect = await runCli(['--json', 'model', 'inspect', out, '--samples', samples]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const report = JSON.parse(inspect.stdout) as {
      layers: unknown[];
      estimatedConstraints: number;
      agreement: { samples: number; agree: number };
    };
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

    const prove = await runCli(
      [
        '--json',
        'model',
        'prove',
        '--model',
        modelPath,
        '--input',
        input,
        '--out',
        proofPath,
        '--vkey-out',
        vkey,
        '--salt-out',
        salt,
      ],
      { timeoutMs: 600_000 },
    );
    expect(prove.code, prove.stderr).toBe(0);
    const proved = JSON.parse(prove.stdout) as { predicted: number; inputHash: string };
    expect((await stat(salt)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(proofPath, 'utf8'))).not.toHaveProperty('salt');

    const ok = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      proofPath,
      '--model',
      modelPath,
      '--frac-bits',
      '8',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK: the proof is valid: model .* predicts class ${proved.predicted}`));
    // The verifier states the quantization: no default, and the proof file's word is not taken.
    const noFracBits = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model', modelPath]);
    expect(noFracBits.code).toBe(1);
    expect(noFracBits.stderr).toContain('give --frac-bits N');
    const wrongClass = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      proofPath,
      '--model',
      modelPath,
      '--frac-bits',
      '8',
      '--class',
      String((proved.predicted + 1) % 3),
    ]);
    expect(wrongClass.code).toBe(1);
    expect(wrongClass.stdout).toMatch(/INVALID \(claim-mismatch\): class/);
    // The same network quantized differently is another model (another hash): rejected.
    const otherModel = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      proofPath,
      '--model',
      modelPath,
      '--frac-bits',
      '9',
    ]);
    expect(otherModel.code).toBe(1);
    expect(otherModel.stdout).toContain('modelHash');
    expect(otherModel.stdout).toMatch(/^INVALID \(claim-mismatch\)/);
    expect(otherModel.stdout).toContain('likely cause: this proof was made with --frac-bits 8, you gave 9');
  }, 600_000);
});

describe('zkai model with private weights', () => {
  it('commit writes a public commitment and a private salt; prove with --model-salt; verify against the commitment only', async () => {
    const modelPath = join(scratch, 'mlp.json');
    if (!existsSync(modelPath))
      expect(
        (await runCli(['model', 'import', ONNX, '--input-min', '-2', '--input-max', '2', '--out', modelPath])).code,
      ).toBe(0);
    const commitmentPath = join(scratch, 'commitment.json');
    const modelSalt = join(scratch, 'model-salt.json');
    const commit = await runCli([
      '--json',
      'model',
      'commit',
      '--model',
      modelPath,
      '--out',
      commitmentPath,
      '--salt-out',
      modelSalt,
    ]);
    expect(commit.code, commit.stderr).toBe(0);
    const { modelCommitment } = JSON.parse(commit.stdout) as { modelCommitment: string };
    expect((await stat(modelSalt)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(commitmentPath, 'utf8'))).not.toHaveProperty('salt');

    const input = join(scratch, 'input2.json');
    await writeFile(input, JSON.stringify([0.5, 0.5, -1, 1]));
    const proofPath = join(scratch, 'private.proof.json');
    const vkey = join(scratch, 'private.vkey.json');
    const prove = await runCli(
      [
        'model',
        'prove',
        '--model',
        modelPath,
        '--input',
        input,
        '--model-salt',
        modelSalt,
        '--salt-out',
        join(scratch, 'input-salt.json'),
        '--out',
        proofPath,
        '--vkey-out',
        vkey,
      ],
      { timeoutMs: 600_000 },
    );
    expect(prove.code, prove.stderr).toBe(0);
    expect(prove.stdout).toContain('private weights');
    const ok = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      proofPath,
      '--model-commitment',
      modelCommitment,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: .*weights private/);
    const other = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model-commitment', '123']);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('modelCommitment');
    const noCommitment = await runCli(['model', 'verify', '--vkey', vkey, '--proof', proofPath, '--model', modelPath]);
    expect(noCommitment.code).toBe(1);
    expect(noCommitment.stderr).toContain('--model-commitment');
    // A salt file of another model is refused before any proving.
    const otherModel = join(scratch, 'other-model.json');
    const native = JSON.parse(await readFile(modelPath, 'utf8')) as { layers: Array<{ bias?: number[] }> };
    native.layers[0]!.bias = native.layers[0]!.bias!.map((b) => b + 0.5);
    await writeFile(otherModel, JSON.stringify(native));
    const mismatch = await runCli([
      'model',
      'prove',
      '--model',
      otherModel,
      '--input',
      input,
      '--model-salt',
      modelSalt,
      '--salt-out',
      join(scratch, 'x.json'),
      '--out',
      join(scratch, 'x.proof.json'),
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('belongs to another model');
  }, 600_000);
});

describe('zkai model accuracy', () => {
  it('a data holder commits a test set; the model provider proves its accuracy; a verifier checks it against the commitment and a threshold', async () => {
    const examples = fileURLToPath(new URL('../examples/digits/', import.meta.url));
    const model = fileURLToPath(new URL('./fixtures/models/digits-mlp.onnx', import.meta.url));
    // the first 8 records of the example test set, 3 per chunk proof (the chunk circuit test/model-accuracy.test.ts uses)
    const csv = (await readFile(join(examples, 'test-set.csv'), 'utf8')).split('\n').slice(0, 9).join('\n');
    const data = join(scratch, 'digits.csv');
    await writeFile(data, `${csv}\n`);
    const schema = join(examples, 'schema.json');
    const bundle = join(scratch, 'digits.bundle.json');
    const commitment = join(scratch, 'digits.commitment.json');
    const committed = await runCli([
      'data',
      'commit',
      '--schema',
      schema,
      '--data',
      data,
      '--bundle',
      bundle,
      '--public',
      commitment,
    ]);
    expect(committed.code, committed.stderr).toBe(0);

    const proof = join(scratch, 'accuracy.json');
    const vkey = join(scratch, 'accuracy.vkey.json');
    const range = ['--input-min', '0', '--input-max', '1', '--frac-bits', '6'];
    const proved = await runCli(
      [
        'model',
        'accuracy',
        '--model',
        model,
        ...range,
        '--bundle',
        bundle,
        '--schema',
        schema,
        '--label',
        'label',
        '--scale',
        '0.0625',
        '--samples-per-chunk',
        '3',
        '--out',
        proof,
        '--vkey-out',
        vkey,
      ],
      { timeoutMs: 600_000 },
    );
    expect(proved.code, proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(/predicts \d of 8 test records right/);
    const file = JSON.parse(await readFile(proof, 'utf8')) as {
      correct: number;
      chunks: Array<{ publicSignals: string[] }>;
    };
    expect(file.chunks).toHaveLength(3); // 3 + 3 + 2
    // What an outsider reads in the file the CLI wrote (issue 18): no chunk's count of correct predictions. Every public
    // signal but an empty slot's leaf and the off-chain context is a hash (no count, no pixel); the chunks' commitments
    // to running totals are salted, so guessing a running total t (Poseidon(t, 0)) opens only the last one, which
    // states the total the file states anyway.
    const names = accuracySignalNames(3, 'fixed');
    for (const chunk of file.chunks)
      chunk.publicSignals.forEach((value, i) => {
        if ((names[i]!.startsWith('leaf') && value === '0') || names[i] === 'context') return;
        expect(BigInt(value), names[i]).toBeGreaterThan(2n ** 64n);
      });
    const opened = file.chunks.map((chunk) => {
      const commitment = chunk.publicSignals[names.indexOf('commitment')];
      return Array.from({ length: 9 }, (_, t) => t).filter(
        (t) => String(runningTotalCommitment(BigInt(t), 0n)) === commitment,
      );
    });
    expect(opened).toEqual([[], [], [file.correct]]);
    expect(Object.keys(file.chunks[0]!).sort()).toEqual(['index', 'proof', 'publicSignals']);

    const task = ['--label', 'label', '--all-features', '--scale', '0.0625'];
    const verify = (...extra: string[]) =>
      runCli([
        'model',
        'verify',
        '--vkey',
        vkey,
        '--proof',
        proof,
        '--commitment',
        commitment,
        '--schema',
        schema,
        '--model',
        model,
        ...range,
        ...task,
        ...extra,
      ]);
    const ok = await verify('--min-accuracy', '0.5');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK: .* predicts the label "label" of ${file.correct} of the 8 records`));
    const strict = await verify('--min-accuracy', '1');
    if (file.correct < 8) {
      expect(strict.code).toBe(1);
      expect(strict.stdout).toMatch(/INVALID \(below-threshold\)/);
    }
    const otherScale = await verify('--min-accuracy', '0.5', '--scale', '0.125');
    expect(otherScale.code).toBe(1);
    expect(otherScale.stdout).toMatch(/INVALID \(claim-mismatch\).*taskHash/);
    expect(otherScale.stdout).toContain(
      'likely cause: the task differs (scale: you gave 0.125, the file states 0.0625)',
    );
    // the task comes from the verifier: each part is required
    const partial: Array<[string[], string]> = [
      [['--all-features', '--scale', '0.0625'], 'give --label COLUMN'],
      [
        ['--label', 'label', '--scale', '0.0625'],
        "give --features A,B,... (the model's input columns, in model input order) or --all-features",
      ],
      [['--label', 'label', '--all-features'], 'give --scale X'],
    ];
    for (const [given, message] of partial) {
      const without = await runCli([
        'model',
        'verify',
        '--vkey',
        vkey,
        '--proof',
        proof,
        '--commitment',
        commitment,
        '--schema',
        schema,
        '--model',
        model,
        ...range,
        ...given,
        '--min-accuracy',
        '0.5',
      ]);
      expect(without.code, message).toBe(1);
      expect(without.stderr, message).toContain(message);
    }
    const noFracBits = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      proof,
      '--commitment',
      commitment,
      '--schema',
      schema,
      '--model',
      model,
      '--input-min',
      '0',
      '--input-max',
      '1',
      ...task,
      '--min-accuracy',
      '0.5',
    ]);
    expect(noFracBits.code).toBe(1);
    expect(noFracBits.stderr).toContain('give --frac-bits N');
    const missing = await verify();
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('give --min-accuracy X');
    const badScale = await runCli([
      'model',
      'accuracy',
      '--model',
      model,
      ...range,
      '--bundle',
      bundle,
      '--schema',
      schema,
      '--label',
      'label',
      '--scale',
      '0.1',
      '--out',
      join(scratch, 'x.json'),
    ]);
    expect(badScale.code).toBe(1);
    expect(badScale.stderr).toMatch(/column "p0" times the scale 0.1 is not a whole number at 6 fractional bits/);

    // On chain: prove again bound to an attester's context, then attest; the registry rebuilds the test set's root
    // from the chunks' leaves and records the result, with the model version as subject.
    const on = ['--chain-dir', join(scratch, 'chain')];
    const deployed = await runCli(['--json', 'chain', 'deploy', ...on]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const context = JSON.parse((await runCli(['--json', 'chain', 'context', ...on])).stdout) as {
      nonce: string;
      context: string;
    };
    const bound = join(scratch, 'accuracy-bound.json');
    const reproved = await runCli(
      [
        '--quiet',
        'model',
        'accuracy',
        '--model',
        model,
        ...range,
        '--bundle',
        bundle,
        '--schema',
        schema,
        '--label',
        'label',
        '--scale',
        '0.0625',
        '--samples-per-chunk',
        '3',
        '--out',
        bound,
        '--context',
        context.context,
      ],
      { timeoutMs: 600_000 },
    );
    expect(reproved.code, reproved.stderr).toBe(0);
    const unbound = await runCli(['chain', 'attest', proof, '--nonce', context.nonce, ...on]);
    expect(unbound.code).toBe(1);
    expect(unbound.stderr).toMatch(/was made without a context \(context 0\)/);
    // The registry owner registers the accuracy circuit from its own model and task (its own setup: --development).
    const registered = await runCli(
      [
        '--json',
        'chain',
        'register',
        bound,
        '--model',
        model,
        ...range,
        '--schema',
        schema,
        '--label',
        'label',
        '--all-features',
        '--scale',
        '0.0625',
        '--development',
        ...on,
      ],
      { timeoutMs: 300_000 },
    );
    expect(registered.code, registered.stdout + registered.stderr).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({
      registered: true,
      kind: 'accuracy',
      keyTrust: 'development',
      source: { samplesPerChunk: 3, fracBits: 6 },
    });
    const otherTask = await runCli([
      'chain',
      'register',
      bound,
      '--model',
      model,
      ...range,
      '--schema',
      schema,
      '--label',
      'label',
      '--all-features',
      '--scale',
      '0.125',
      '--development',
      ...on,
    ]);
    expect(otherTask.code).toBe(1);
    expect(otherTask.stderr).toMatch(/the task you give has hash \d+, but .* was proven for task \d+/);
    const attested = await runCli(
      ['--json', 'chain', 'attest', bound, '--nonce', context.nonce, '--test-set-label', 'digits-test-8', ...on],
      { timeoutMs: 300_000 },
    );
    expect(attested.code, attested.stderr).toBe(0);
    const result = JSON.parse(attested.stdout) as {
      uid: string;
      circuit: { kind: string };
      subject: { version: string };
      testSet: { version: string; label: string; action: string };
      accuracy: { testSet: string; correct: number; total: number };
      chunkGas: string[];
    };
    expect(result.circuit.kind).toBe('accuracy');
    expect(result.testSet).toMatchObject({ label: 'digits-test-8', action: 'registered' });
    expect(result.accuracy).toEqual({ testSet: result.testSet.version, correct: file.correct, total: 8 });
    expect(result.chunkGas).toHaveLength(3);
    const listed = await runCli(['chain', 'attestations', '--subject', result.subject.version, ...on]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`accuracy`);
    expect(listed.stdout).toContain(`${file.correct}/8 correct on test set`);
    const wrongOption = await runCli([
      'chain',
      'attest',
      join(scratch, 'proof.json'),
      '--nonce',
      context.nonce,
      '--test-set-label',
      'x',
      ...on,
    ]);
    expect(wrongOption.code).toBe(1);
    expect(wrongOption.stderr).toContain('--test-set and --test-set-label go with accuracy proofs only');
  }, 900_000);
});
