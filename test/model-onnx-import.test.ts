import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { generateModelCircuit, inferenceInput, modelCommitment } from '../src/model/circuit-gen.ts';
import { importOnnxModel } from '../src/model/onnx-import.ts';
import { quantizeInput, quantizeModel, runFloat, runQuantized } from '../src/model/quantize.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';

afterAll(async () => {
  await releaseCurves();
});

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/models/${name}`, import.meta.url));
interface Expected {
  samples: Array<{ input: unknown; output: unknown }>;
}
const expectedOf = async (name: string) =>
  JSON.parse(await readFile(fixture(`${name}.expected.json`), 'utf8')) as Expected;
const flat = (value: unknown): number[] => (Array.isArray(value) ? value.flatMap(flat) : [value as number]);
const softmax = (logits: number[]) => {
  const top = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
};
const argmax = (values: number[]) => values.indexOf(Math.max(...values));
const range = { min: -4, max: 4 }; // the fixture samples lie within it

describe('ONNX import (PyTorch exports)', () => {
  it('Gemm + ReLU + Softmax: same probabilities as PyTorch; Softmax replaced by argmax, said so', async () => {
    const { model, report } = await importOnnxModel(fixture('mlp.onnx'), { inputRange: range });
    expect(model.layers.map((l) => l.type)).toEqual(['dense', 'relu', 'dense', 'argmax']);
    expect(report.notes.join(' ')).toMatch(/Softmax at the output was replaced by argmax/);
    for (const sample of (await expectedOf('mlp')).samples) {
      const { logits } = runFloat(model, flat(sample.input));
      softmax(logits).forEach((p, k) => expect(p).toBeCloseTo(flat(sample.output)[k]!, 5));
    }
  });

  it('MatMul + Add + Mul by a constant: folded into dense layers, same logits as PyTorch', async () => {
    const { model, report } = await importOnnxModel(fixture('mlp-matmul.onnx'), { inputRange: range });
    expect(model.layers.map((l) => l.type)).toEqual(['dense', 'relu', 'dense', 'argmax']);
    expect(report.steps.join('\n')).toMatch(/x 0\.5 folded into the next linear layer/);
    expect(report.notes.join(' ')).toMatch(/argmax was appended/);
    for (const sample of (await expectedOf('mlp-matmul')).samples) {
      runFloat(model, flat(sample.input)).logits.forEach((v, k) => expect(v).toBeCloseTo(flat(sample.output)[k]!, 5));
    }
  });

  it('lists every unsupported operator with its node name', async () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => new Error('no error'),
        (e: unknown) => e as Error,
      );
    const refused = await failure(importOnnxModel(fixture('unsupported.onnx'), { inputRange: range }));
    expect(refused.message).toMatch(
      /2 node\(s\) use operators zkai cannot import yet:\n {2}\/sigmoid\/Sigmoid: Sigmoid\n {2}\/tanh\/Tanh: Tanh/,
    );
    expect(refused.message).not.toMatch(/Gemm/);
  });

  it('an imported model quantizes and its circuit predicts what PyTorch predicts on the fixture samples', async () => {
    const { model } = await importOnnxModel(fixture('mlp.onnx'), { inputRange: range });
    const quantized = quantizeModel(model, 10);
    const generated = await generateModelCircuit(quantized, 'hashed');
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    for (const sample of (await expectedOf('mlp')).samples) {
      const input = quantizeInput(quantized, flat(sample.input), model);
      const witness = await computeWitness(circuit.wasmPath, inferenceInput(quantized, input, 'hashed', 1n));
      expect(Number(witness[2])).toBe(runQuantized(quantized, input).predicted);
      expect(Number(witness[2])).toBe(argmax(flat(sample.output)));
    }
  });

  it('Conv + BatchNormalization + ReLU + MaxPool + Flatten + Gemm: BN folded into the conv, same logits as PyTorch', async () => {
    const { model, report } = await importOnnxModel(fixture('cnn.onnx'), { inputRange: range });
    expect(model.layers.map((l) => l.type)).toEqual(['conv', 'relu', 'maxpool', 'dense', 'argmax']);
    expect(model.input.shape).toEqual([1, 6, 6]);
    expect(report.steps.join('\n')).toMatch(/batch normalization folded into the conv layer/);
    for (const sample of (await expectedOf('cnn')).samples) {
      runFloat(model, flat(sample.input)).logits.forEach((v, k) => expect(v).toBeCloseTo(flat(sample.output)[k]!, 5));
    }
  });

  it('Conv + ReLU + AveragePool: same logits as PyTorch', async () => {
    const { model } = await importOnnxModel(fixture('cnn-avgpool.onnx'), { inputRange: range });
    expect(model.layers.map((l) => l.type)).toEqual(['conv', 'relu', 'avgpool', 'dense', 'argmax']);
    for (const sample of (await expectedOf('cnn-avgpool')).samples) {
      runFloat(model, flat(sample.input)).logits.forEach((v, k) => expect(v).toBeCloseTo(flat(sample.output)[k]!, 5));
    }
  });

  for (const name of ['cnn', 'cnn-avgpool']) {
    it(`${name}: the circuit computes every conv, pooling and dense activation of the integer reference bit for bit; every signal is pinned`, async () => {
      const { model } = await importOnnxModel(fixture(`${name}.onnx`), { inputRange: range });
      const quantized = quantizeModel(model, 8);
      const generated = await generateModelCircuit(quantized, 'private');
      const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
      const symbols = (await readFile(circuit.symPath, 'utf8')).split('\n').map((row) => row.split(','));
      const wireOf = new Map(symbols.map((row) => [row[3], Number(row[1])]));
      // the layer outputs as the circuit holds them: a ReLU layer's gadget output is the value; others are shifted
      // (--O2 substitutes away the output of a rescale without ReLU, a linear combination of its bits: the class
      // checks those logits)
      const kept = quantized.layers.map((_, l) => (wireOf.get(`main.core.layer${l}[0].out`) ?? -1) >= 0);
      quantized.layers.forEach((layer, l) => {
        if (layer.op === 'maxpool' || layer.relu) expect(kept[l], `layer ${l} output in the witness`).toBe(true);
      });
      const activation = (witness: bigint[], layer: number, k: number): bigint => {
        const spec = quantized.layers[layer]!;
        const out = witness[wireOf.get(`main.core.layer${layer}[${k}].out`)!]!;
        if (spec.op === 'maxpool') return spec.nonNegative ? out : out - spec.inputBound;
        return spec.relu ? out : out - (1n << BigInt(spec.accBits - 1 - quantized.fracBits));
      };
      const samples = (await expectedOf(name)).samples.map((s) =>
        flat(s.input).map((v) => Math.max(-4, Math.min(4, v))),
      );
      // more inputs than the three fixture samples: shifted and mirrored copies
      const inputs = [
        ...samples,
        ...samples.map((x) => x.map((v) => -v)),
        ...samples.map((x) => x.map((v, i) => x[(i + 7) % x.length]! * 0.5 + v * 0.25)),
      ];
      for (const values of inputs) {
        const input = quantizeInput(quantized, values, model);
        const witness = await computeWitness(circuit.wasmPath, inferenceInput(quantized, input, 'private'));
        const reference = runQuantized(quantized, input);
        expect(Number(witness[1])).toBe(reference.predicted);
        quantized.layers.forEach((layer, l) => {
          if (kept[l])
            expect(
              Array.from({ length: layer.outputs }, (_, k) => activation(witness, l, k)),
              `layer ${l} (${layer.label})`,
            ).toEqual(reference.layers[l]);
        });
      }
      const report = await checkSoundness(
        circuit,
        inferenceInput(quantized, quantizeInput(quantized, samples[0]!, model), 'private'),
        { maxSignals: 1500 },
      );
      expect(report.unpinned).toEqual([]);
    });
  }

  it('cnn with private weights: the kernel is committed once and shared by every output; class and commitment match TypeScript; sound', async () => {
    const { model } = await importOnnxModel(fixture('cnn.onnx'), { inputRange: range });
    const quantized = quantizeModel(model, 8);
    const generated = await generateModelCircuit(quantized, 'hashed', { weights: 'hashed' });
    expect(generated.source).toMatch(/signal input w0\[18\];/); // 2 kernels of 1x3x3, not one weight per output
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    for (const sample of (await expectedOf('cnn')).samples) {
      const input = quantizeInput(
        quantized,
        flat(sample.input).map((v) => Math.max(-4, Math.min(4, v))),
        model,
      );
      const circuitInput = inferenceInput(quantized, input, 'hashed', 5n, { visibility: 'hashed', salt: 6n });
      const witness = await computeWitness(circuit.wasmPath, circuitInput);
      expect(witness[1]).toBe(BigInt(modelCommitment(quantized, 6n)));
      expect(Number(witness[3])).toBe(runQuantized(quantized, input).predicted);
    }
    const input = quantizeInput(
      quantized,
      flat((await expectedOf('cnn')).samples[0]!.input).map((v) => Math.max(-4, Math.min(4, v))),
      model,
    );
    const report = await checkSoundness(
      circuit,
      inferenceInput(quantized, input, 'hashed', 5n, { visibility: 'hashed', salt: 6n }),
      { maxSignals: 1500 },
    );
    expect(report.unpinned).toEqual([]);
  });
});
