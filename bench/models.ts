/**
 * Model part of the benchmark: constraints per layer and per model (measured by compiling the generated circuits),
 * beside the circomlib-ml cost formulas (cited, not measured); inference proofs per model, timed over repetitions in a
 * warm pool, with the process's peak memory; the commitment cost per private weight. Models: the three trained on
 * scikit-learn's digits (test/fixtures/models) and an MNIST-shaped 784-56-10 MLP with seeded random weights
 * (constraints do not depend on the weights' values, only on their widths).
 *
 * The full profile also compiles the 784-56-10 MLP with private (committed) weights (about half a million constraints:
 * minutes and several GiB) and proves the fixed-weight 784-56-10 inference.
 *
 * Called by bench/main.ts; returns the `models` section of the results file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCircuit } from '../src/circuit/compile.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { calibrate } from '../src/model/calibrate.ts';
import { generateModelCircuit, type InputVisibility, type WeightVisibility } from '../src/model/circuit-gen.ts';
import { proveInference, verifyInference } from '../src/model/inference.ts';
import { parseNativeModel, type FloatModel } from '../src/model/native.ts';
import { importOnnxModel } from '../src/model/onnx-import.ts';
import { linearLayers, quantizeInput, quantizeModel, type QuantizedModel } from '../src/model/quantize.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { progress, proverName, stats, type Stats } from './common.ts';
import type { ModelRow, ModelsSection } from './results.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/models/', import.meta.url));

/** circomlib-ml's cost formulas (cited, not measured here): ReLU 517 constraints per neuron; 784-56-10 MLP 73,416. */
export const CIRCOMLIB_ML = { reluPerNeuron: 517, mnistMlp: 73_416 };

/** A seeded 784-56-10 MLP on pixel inputs in [0, 255/256] (8 bits at f = 8). */
function mnistShapedMlp(): FloatModel {
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const dense = (inputs: number, outputs: number, spread: number) => ({
    type: 'dense' as const,
    weights: Array.from({ length: outputs }, () => Array.from({ length: inputs }, () => random() * spread)),
    bias: Array.from({ length: outputs }, () => random() * 0.1),
  });
  return parseNativeModel({
    format: 'zkai-model-v1',
    name: 'mnist-784-56-10',
    input: { size: 784, min: 0, max: 255 / 256, shape: [1, 28, 28] },
    layers: [dense(784, 56, 0.2), { type: 'relu' }, dense(56, 10, 0.5), { type: 'argmax' }],
  });
}

export interface ModelsProfile {
  /** Fixtures of test/fixtures/models to measure (digits-logreg, digits-mlp, digits-cnn). */
  models: string[];
  /** Compile the 784-56-10 MLP (fixed weights). */
  mnist: boolean;
  /** Also prove it and compile it with private weights (minutes, several GiB). */
  mnistFull: boolean;
  /** Warm proofs per model after the first (which pays for setup). */
  proofRepetitions: number;
  /** Time the same proofs with the snarkjs prover too, in the same run (the "before" of the native prover). */
  snarkjsAnchor: boolean;
}

export function estimateModels(profile: ModelsProfile): number {
  return (
    profile.models.length * (15 + (1 + profile.proofRepetitions) * 1.5 * (profile.snarkjsAnchor ? 2 : 1)) +
    (profile.models.includes('digits-mlp') ? 30 : 0) +
    (profile.mnist ? 40 : 0) +
    (profile.mnistFull ? 900 : 0)
  );
}

async function measure(
  name: string,
  model: QuantizedModel,
  visibility: InputVisibility,
  weights: WeightVisibility,
  cache: { cacheDir?: string },
): Promise<ModelRow> {
  progress(`models: compiling ${name} (input ${visibility}, weights ${weights})`);
  const generated = await generateModelCircuit(model, visibility, { ...cache, weights });
  const started = performance.now();
  const circuit = await compileCircuit(generated.path, { ...cache, includePaths: [DATA_TEMPLATES_DIR] });
  const linear = linearLayers(model);
  const reluNeurons = linear.filter((l) => l.relu).reduce((sum, l) => sum + l.outputs, 0);
  const dense = linear.every((l) => l.op === 'dense');
  return {
    model: name,
    architecture: model.layers.map((l) => l.label.replace(/^dense /, '')).join('; '),
    fracBits: model.fracBits,
    visibility,
    weights,
    constraints: circuit.info.constraints,
    estimated: generated.estimate.reduce((sum, e) => sum + e.constraints, 0),
    parameters: linear.filter((l) => !l.structural).reduce((sum, l) => sum + l.params.length + l.bias.length, 0),
    reluNeurons,
    constraintsPerReluNeuron: linear.find((l) => l.relu) ? linear.find((l) => l.relu)!.accBits + 1 : undefined,
    // circomlib-ml: every weight x input product is a constraint (weights are signals), plus 517 per ReLU neuron
    circomlibMlFormula: dense
      ? linear.reduce((sum, l) => sum + l.outputs * l.inputs, 0) + reluNeurons * CIRCOMLIB_ML.reluPerNeuron
      : undefined,
    compileSeconds: circuit.cached ? 0 : (performance.now() - started) / 1000,
    layers: generated.estimate,
  };
}

async function timeProof(
  row: ModelRow,
  model: QuantizedModel,
  input: bigint[],
  repetitions: number,
  cache: { cacheDir?: string },
  snarkjsAnchor: boolean,
): Promise<void> {
  const measured = await timeProofIn(new ProverPool(), row, model, input, repetitions, cache);
  row.prover = measured.prover;
  row.proveS = measured.times;
  row.peakRssMiB = measured.peakRssMiB;
  row.verified = measured.verified;
  if (snarkjsAnchor) {
    const anchor = await timeProofIn(new ProverPool({ prover: 'snarkjs' }), row, model, input, repetitions, cache);
    row.snarkjsProveS = anchor.times;
    row.verified &&= anchor.verified;
  }
}

/** A first proof in `pool` (it pays for setup and warms the pool), then `repetitions` timed and verified ones; closes the pool. */
async function timeProofIn(
  pool: ProverPool,
  row: ModelRow,
  model: QuantizedModel,
  input: bigint[],
  repetitions: number,
  cache: { cacheDir?: string },
): Promise<{ prover: 'native' | 'snarkjs'; times: Stats | null; peakRssMiB: number; verified: boolean }> {
  const visibility = row.visibility as InputVisibility;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  try {
    const prover = await proverName(pool);
    progress(
      `models: proving ${row.model} with ${prover}, 1 + ${repetitions} times (setup cached after the first run)`,
    );
    await proveInference(model, input, { ...cache, visibility, pool });
    peak = process.memoryUsage().rss;
    const times: number[] = [];
    let verified = true;
    for (let rep = 0; rep < repetitions; rep += 1) {
      const started = performance.now();
      const proof = await proveInference(model, input, { ...cache, visibility, pool });
      times.push((performance.now() - started) / 1000);
      verified &&= (
        await verifyInference(proof.prepared.keys.vkey, proof.proof, proof.publicSignals, {
          model,
          visibility,
          predicted: proof.predicted,
        })
      ).valid;
    }
    return { prover, times: stats(times), peakRssMiB: peak / 2 ** 20, verified };
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
}

export async function runModelsBench(
  profile: ModelsProfile,
  options: { cacheDir?: string } = {},
): Promise<ModelsSection> {
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const repetitions = Math.max(1, profile.proofRepetitions);
  const digits = JSON.parse(await readFile(join(FIXTURES, 'digits-test.json'), 'utf8')) as {
    scale: number;
    pixels: number[][];
    labels: number[];
  };
  const inputs = digits.pixels.slice(0, 200).map((pixels) => pixels.map((p) => p * digits.scale));
  const rows: ModelRow[] = [];
  const calibration: ModelsSection['calibration'] = [];

  for (const name of profile.models) {
    const { model } = await importOnnxModel(join(FIXTURES, `${name}.onnx`), { inputRange: { min: 0, max: 1 } });
    const report = calibrate(model, inputs, { labels: digits.labels.slice(0, 200) });
    const chosen = report.candidates.find((c) => c.fracBits === report.fracBits)!;
    calibration.push({
      model: name,
      fracBits: report.fracBits,
      floatAccuracy: chosen.floatAccuracy!,
      quantizedAccuracy: chosen.quantizedAccuracy!,
    });
    const quantized = report.model;
    const row = await measure(name, quantized, 'private', 'fixed', cache);
    rows.push(row);
    await timeProof(
      row,
      quantized,
      quantizeInput(quantized, inputs[0]!, model),
      repetitions,
      cache,
      profile.snarkjsAnchor,
    );
    if (name === 'digits-mlp') {
      const hashed = await measure(name, quantized, 'private', 'hashed', cache);
      const products = linearLayers(quantized).reduce(
        (sum, l) => sum + l.terms.reduce((s, t) => s + t.length / 2, 0),
        0,
      );
      hashed.commitmentPerWeight = (hashed.constraints - row.constraints - products) / hashed.parameters;
      rows.push(hashed);
    }
  }

  if (profile.mnist) {
    const mnist = mnistShapedMlp();
    const mnistQuantized = quantizeModel(mnist, 8);
    const mnistRow = await measure('mnist-784-56-10 (random weights)', mnistQuantized, 'private', 'fixed', cache);
    rows.push(mnistRow);
    if (profile.mnistFull) {
      await timeProof(
        mnistRow,
        mnistQuantized,
        quantizeInput(
          mnistQuantized,
          Array.from({ length: 784 }, (_, j) => ((j * 37) % 256) / 256),
          mnist,
        ),
        repetitions,
        cache,
        profile.snarkjsAnchor,
      );
      const hashed = await measure('mnist-784-56-10 (random weights)', mnistQuantized, 'private', 'hashed', cache);
      const products = linearLayers(mnistQuantized).reduce(
        (sum, l) => sum + l.terms.reduce((s, t) => s + t.length / 2, 0),
        0,
      );
      hashed.commitmentPerWeight = (hashed.constraints - mnistRow.constraints - products) / hashed.parameters;
      rows.push(hashed);
    }
  }
  await releaseCurves();
  return { rows, calibration, proofRepetitions: repetitions };
}
