import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrate, nativeFloatReference, onnxFloatReference } from '../src/model/calibrate.ts';
import { ModelError } from '../src/model/errors.ts';
import { parseNativeModel } from '../src/model/native.ts';
import { importOnnxModel } from '../src/model/onnx-import.ts';
import { inputRounding, quantizeInput, quantizeModel, runFloat, runQuantized } from '../src/model/quantize.ts';
import { runCli } from './helpers/run-cli.ts';

/**
 * A model whose logits are its inputs (identity weights, no bias): its class is the larger input. Sample 19 sits near
 * the decision boundary: [0.29, 0.3] is class 1, but at 4 fractional bits both inputs round to 5/16, the logits tie
 * and the first index (class 0) wins; at 5 bits they are 9/32 and 10/32 (class 1 again); at 6 bits they tie again
 * (19/64). The other 19 samples lie on a 1/4 grid with distinct values, exact at every candidate.
 */
const BOUNDARY_SPEC = {
  format: 'zkai-model-v1',
  name: 'calibration-boundary',
  input: { size: 2, min: -2, max: 2 },
  layers: [
    {
      type: 'dense',
      weights: [
        [1, 0],
        [0, 1],
      ],
      bias: [0, 0],
    },
    { type: 'argmax' },
  ],
};
const boundary = parseNativeModel(BOUNDARY_SPEC);
const SAMPLES: number[][] = [
  ...Array.from({ length: 19 }, (_, i) => {
    const a = ((i % 5) - 2) * 0.5;
    return [a, a + (i % 2 === 0 ? 0.25 : -0.25)];
  }),
  [0.29, 0.3],
];
const FLIPPED = 19;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-calibration-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('calibration counts agreement with the float model per sample', () => {
  it('the constructed sample really flips at 4 and 6 fractional bits and nowhere else among the candidates', () => {
    expect(runFloat(boundary, SAMPLES[FLIPPED]!).predicted).toBe(1);
    for (const bits of [4, 5, 6, 7, 8]) {
      const quantized = quantizeModel(boundary, bits);
      SAMPLES.forEach((sample, i) => {
        const flips =
          runQuantized(quantized, quantizeInput(quantized, sample, boundary)).predicted !==
          runFloat(boundary, sample).predicted;
        expect(flips, `sample ${i} at ${bits} bits`).toBe(i === FLIPPED && (bits === 4 || bits === 6));
      });
    }
  });

  it('refuses by default a setting at which one sample proves another class; accepts it only with an explicit maxDisagreement', () => {
    const labels = SAMPLES.map((s) => runFloat(boundary, s).predicted);
    const strict = calibrate(boundary, SAMPLES, { labels });
    expect(strict.fracBits).toBe(5);
    expect(strict.maxDisagreement).toBe(0);
    expect(strict.disagreeing).toEqual([]);
    expect(strict.reference.source).toBe('the float model (TypeScript)');
    const at = (bits: number) => strict.candidates.find((c) => c.fracBits === bits)!;
    // the accuracy-based rule would have taken 4 bits: accuracy drops 5 points there, agreement loses sample 19
    expect(at(4)).toMatchObject({
      agree: 19,
      agreement: 19 / 20,
      disagreeing: [FLIPPED],
      floatAccuracy: 1,
      quantizedAccuracy: 19 / 20,
    });
    expect(at(6)).toMatchObject({ agree: 19, disagreeing: [FLIPPED] });
    expect(at(5)).toMatchObject({ agree: 20, agreement: 1, disagreeing: [] });
    // largest logit error in real units: at 4 bits 0.29 becomes 5/16 (0.0225 off); at 5 bits 0.3 becomes 10/32 (0.0125)
    expect(at(4).maxLogitError).toBeCloseTo(5 / 16 - 0.29, 12);
    expect(at(5).maxLogitError).toBeCloseTo(10 / 32 - 0.3, 12);

    const lenient = calibrate(boundary, SAMPLES, { labels, maxDisagreement: 1 });
    expect(lenient.fracBits).toBe(4);
    expect(lenient.maxDisagreement).toBe(1);
    expect(lenient.disagreeing).toEqual([FLIPPED]);

    // only the flipping candidates to choose from: refused, naming the sample, with the option in the hint
    let refusal: unknown;
    try {
      calibrate(boundary, SAMPLES, { candidates: [4, 6] });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ModelError);
    expect((refusal as ModelError).message).toMatch(
      /no fixed point from 4 to 6 fractional bits keeps the float model's class on every one of the 20 samples .*best: 4 bits, 19 of 20 agree, samples 19 prove another class/,
    );
    expect((refusal as ModelError).hint).toContain('--max-disagreement N');
    expect(calibrate(boundary, SAMPLES, { candidates: [4, 6], maxDisagreement: 1 }).fracBits).toBe(4);
    expect(() => calibrate(boundary, SAMPLES, { maxDisagreement: -1 })).toThrow(/non-negative integer/);
    expect(() => calibrate(boundary, [[1, 2, 3]])).toThrow(/sample 0 has 3 values; the model takes 2/);
  });

  it('compares with onnxruntime on the ONNX file: its classes, and its logits when the graph outputs logits', async () => {
    const path = fileURLToPath(new URL('./fixtures/models/digits-cnn.onnx', import.meta.url));
    const digits = JSON.parse(
      await readFile(fileURLToPath(new URL('./fixtures/models/digits-test.json', import.meta.url)), 'utf8'),
    ) as { scale: number; pixels: number[][] };
    const inputs = digits.pixels.slice(0, 30).map((pixels) => pixels.map((p) => p * digits.scale));
    const { model, report } = await importOnnxModel(path, { inputRange: { min: 0, max: 1 } });
    expect(report.output).toBe('logits');
    const reference = await onnxFloatReference(model, inputs, path, report.output);
    expect(reference.logitsSource).toBe(reference.source);
    const native = nativeFloatReference(model, inputs);
    expect(reference.predicted).toEqual(native.predicted);
    reference.logits.forEach((logits, i) => logits.forEach((v, k) => expect(v).toBeCloseTo(native.logits[i]![k]!, 4)));
    const calibration = calibrate(model, inputs, { reference });
    expect(calibration.reference.source).toMatch(/^onnxruntime on /);
    const chosen = calibration.candidates.find((c) => c.fracBits === calibration.fracBits)!;
    expect(chosen.disagreeing).toEqual([]);
    expect(chosen.maxLogitError).toBeGreaterThan(0);
    expect(chosen.maxLogitError).toBeLessThan(1);
  });

  it('zkai model inspect --frac-bits auto: refuses the flipping setting by default, takes it with --max-disagreement, warns at a given one', async () => {
    const modelPath = join(scratch, 'boundary.json');
    const samplesPath = join(scratch, 'samples.json');
    await writeFile(modelPath, JSON.stringify(BOUNDARY_SPEC));
    await writeFile(samplesPath, JSON.stringify(SAMPLES));
    interface Inspect {
      fracBits: number;
      agreement: { samples: number; agree: number; disagreeing: number[] };
      calibration: {
        maxDisagreement?: number;
        candidates: Array<{ fracBits: number; agree: number; disagreeing: number[]; maxLogitError: number }>;
      };
    }
    const strict = await runCli([
      '--json',
      'model',
      'inspect',
      modelPath,
      '--samples',
      samplesPath,
      '--frac-bits',
      'auto',
    ]);
    expect(strict.code, strict.stderr).toBe(0);
    const strictReport = JSON.parse(strict.stdout) as Inspect;
    expect(strictReport.fracBits).toBe(5);
    expect(strictReport.agreement).toEqual({ samples: 20, agree: 20, disagreeing: [] });
    expect(strictReport.calibration.maxDisagreement).toBe(0);
    expect(strictReport.calibration.candidates[0]).toMatchObject({ fracBits: 4, agree: 19, disagreeing: [FLIPPED] });

    const lenient = await runCli([
      'model',
      'inspect',
      modelPath,
      '--samples',
      samplesPath,
      '--frac-bits',
      'auto',
      '--max-disagreement',
      '1',
    ]);
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stdout).toContain('4 fractional bits');
    expect(lenient.stdout).toContain(
      'chose 4 fractional bits: the fewest at which at most 1 sample(s) change class, as --max-disagreement 1 allows',
    );
    expect(lenient.stdout).toContain(
      'samples proving another class than the float model at 4 bits: 19 (allowed by --max-disagreement 1)',
    );
    expect(lenient.stdout).toMatch(/\n\s+4\s+19 of 20 \(95\.0%\)\s+0\.0225\s/);

    const given = await runCli(['model', 'inspect', modelPath, '--samples', samplesPath, '--frac-bits', '6']);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toContain(
      'WARNING: at 6 fractional bits, samples 19 prove another class than the float model',
    );

    const misplaced = await runCli([
      'model',
      'inspect',
      modelPath,
      '--samples',
      samplesPath,
      '--frac-bits',
      '6',
      '--max-disagreement',
      '1',
    ]);
    expect(misplaced.code).toBe(1);
    expect(misplaced.stderr).toContain('--max-disagreement goes with --frac-bits auto');
    const bad = await runCli([
      'model',
      'inspect',
      modelPath,
      '--samples',
      samplesPath,
      '--frac-bits',
      'auto',
      '--max-disagreement',
      'some',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--max-disagreement must be a whole number of samples');
  });

  it('an ONNX model is calibrated against onnxruntime on the file itself', async () => {
    const onnx = fileURLToPath(new URL('./fixtures/models/mlp.onnx', import.meta.url));
    const samplesPath = join(scratch, 'mlp-samples.json');
    await writeFile(
      samplesPath,
      JSON.stringify([
        [0, 0, 0, 0],
        [1, -1, 0.5, 2],
        [-2, 2, -0.25, 0.75],
      ]),
    );
    const inspect = await runCli([
      '--json',
      'model',
      'inspect',
      onnx,
      '--input-min',
      '-2',
      '--input-max',
      '2',
      '--samples',
      samplesPath,
      '--frac-bits',
      'auto',
    ]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const report = JSON.parse(inspect.stdout) as {
      calibration: { reference: { source: string; logitsSource: string } };
    };
    expect(report.calibration.reference.source).toBe(`onnxruntime on ${onnx}`);
    expect(report.calibration.reference.logitsSource).toContain('the ONNX output is Softmax, not logits');
  });
});

describe('inputRounding', () => {
  it('counts the values off the fixed-point grid and the largest error', () => {
    expect(inputRounding([0.3, 1, 0.5, -0.1], 4)).toEqual({
      rounded: 2,
      maxError: Math.abs(-2 / 16 + 0.1),
      maxErrorIndex: 3,
      indexes: [0, 3],
    });
    expect(inputRounding([0.25, -1.5, 2], 2)).toEqual({ rounded: 0, maxError: 0, maxErrorIndex: -1, indexes: [] });
  });
});
