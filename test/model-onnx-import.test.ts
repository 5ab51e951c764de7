import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { generateModelCircuit, inferenceInput } from '../src/model/circuit-gen.ts';
import { importOnnxModel } from '../src/model/onnx-import.ts';
import { quantizeInput, quantizeModel, runFloat, runQuantized } from '../src/model/quantize.ts';
import { computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';

afterAll(async () => {
  await releaseCurves();
});

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/models/${name}`, import.meta.url));
interface Expected {
  samples: Array<{ input: unknown; output: unknown }>;
}
const expectedOf = async (name: string) => JSON.parse(await readFile(fixture(`${name}.expected.json`), 'utf8')) as Expected;
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
    expect(report.steps.join('\n')).toMatch(/x 0\.5 folded into the next dense layer/);
    expect(report.notes.join(' ')).toMatch(/argmax was appended/);
    for (const sample of (await expectedOf('mlp-matmul')).samples) {
      runFloat(model, flat(sample.input)).logits.forEach((v, k) => expect(v).toBeCloseTo(flat(sample.output)[k]!, 5));
    }
  });

  it('lists every unsupported operator with its node name', async () => {
    const failure = (promise: Promise<unknown>) => promise.then(() => new Error('no error'), (e: unknown) => e as Error);
    const refused = await failure(importOnnxModel(fixture('unsupported.onnx'), { inputRange: range }));
    expect(refused.message).toMatch(/2 node\(s\) use operators zkai cannot import yet:\n {2}\/sigmoid\/Sigmoid: Sigmoid\n {2}\/tanh\/Tanh: Tanh/);
    const cnn = await failure(importOnnxModel(fixture('cnn.onnx'), { inputRange: range }));
    expect(cnn.message).toMatch(/Conv[\s\S]*BatchNormalization[\s\S]*MaxPool/);
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
});
