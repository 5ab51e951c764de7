import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord } from '../src/data/types.ts';
import {
  accuracySignalNames,
  accuracyTask,
  generateAccuracyCircuit,
  proveAccuracy,
  runningTotalCommitment,
  taskInput,
  verifyAccuracy,
} from '../src/model/accuracy.ts';
import { parseProofFile } from '../src/statement/index.ts';
import { generateModelCircuit, inferenceInput, modelCommitment, modelHash } from '../src/model/circuit-gen.ts';
import { runOnnxFloat } from '../src/model/float-reference.ts';
import { importOnnxModel } from '../src/model/onnx-import.ts';
import { calibrate, onnxFloatReference } from '../src/model/calibrate.ts';
import { quantizeInput, quantizeModel, runFloat, runQuantized } from '../src/model/quantize.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import { TINY_TEST_SCHEMA, tinyModel, tinyTestSet } from './helpers/chain-attestation.ts';

afterAll(async () => {
  await releaseCurves();
});

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/models/${name}`, import.meta.url));
interface DigitsTest {
  scale: number;
  pixels: number[][];
  labels: number[];
  models: Record<string, { inputShape: number[]; floatAccuracy: number; predicted: number[] }>;
}
const digits = JSON.parse(await readFile(fixture('digits-test.json'), 'utf8')) as DigitsTest;
const MODELS = ['digits-logreg', 'digits-mlp', 'digits-cnn'] as const;
const inputsOf = (pixels: number[]) => pixels.map((p) => p * digits.scale);

/**
 * The test set's schema (examples/digits/schema.json: 64 pixel columns in [0, 16] and the label), the one the CLI tests
 * use, so the accuracy circuit and keys of the same model and chunk size are made once for the whole suite.
 */
const schema = parseSchema(
  JSON.parse(await readFile(fileURLToPath(new URL('../examples/digits/schema.json', import.meta.url)), 'utf8')),
);
const records = (from: number, count: number): EncodedRecord[] =>
  digits.pixels.slice(from, from + count).map((pixels, i) => ({
    row: from + i + 2,
    values: [...pixels.map(BigInt), BigInt(digits.labels[from + i]!)],
    nulls: Array<boolean>(65).fill(false),
  }));

describe('models trained on the digits data set (PyTorch exports)', () => {
  for (const name of MODELS) {
    it(`${name}: float import reproduces PyTorch's 400 predictions; quantized accuracy within 1 point of float; onnxruntime agrees`, async () => {
      const { model } = await importOnnxModel(fixture(`${name}.onnx`), { inputRange: { min: 0, max: 1 } });
      const quantized = quantizeModel(model, 8);
      let floatCorrect = 0;
      let quantizedCorrect = 0;
      digits.pixels.forEach((pixels, i) => {
        const input = inputsOf(pixels);
        const float = runFloat(model, input).predicted;
        expect(float, `sample ${i}`).toBe(digits.models[name]!.predicted[i]);
        if (float === digits.labels[i]) floatCorrect += 1;
        if (runQuantized(quantized, quantizeInput(quantized, input, model)).predicted === digits.labels[i])
          quantizedCorrect += 1;
      });
      expect(floatCorrect / 400).toBeCloseTo(digits.models[name]!.floatAccuracy, 10);
      expect(floatCorrect / 400).toBeGreaterThan(0.95);
      expect(Math.abs(quantizedCorrect - floatCorrect)).toBeLessThanOrEqual(4); // 1 point of 400
      const runtime = await runOnnxFloat(fixture(`${name}.onnx`), digits.pixels.slice(0, 50).map(inputsOf));
      runtime.forEach((result, i) => expect(result.predicted, `sample ${i}`).toBe(digits.models[name]!.predicted[i]));
    });

    it(`${name}: the circuit (fixed weights, private input) gives the integer reference's class on 20 samples`, async () => {
      const { model } = await importOnnxModel(fixture(`${name}.onnx`), { inputRange: { min: 0, max: 1 } });
      const quantized = quantizeModel(model, 6);
      const generated = await generateModelCircuit(quantized, 'private');
      const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
      const predicted = new Set<number>();
      for (const pixels of digits.pixels.slice(0, 20)) {
        const input = quantizeInput(quantized, inputsOf(pixels), model);
        const witness = await computeWitness(circuit.wasmPath, inferenceInput(quantized, input, 'private'));
        const reference = runQuantized(quantized, input).predicted;
        expect(Number(witness[1])).toBe(reference);
        predicted.add(reference);
      }
      expect(predicted.size).toBeGreaterThan(5); // the samples exercise many classes
    }, 300_000);
  }
});

describe('calibration', () => {
  it("picks the fewest fractional bits at which every labelled sample keeps the float model's class (onnxruntime), lower only when allowed, and reports the range each layer uses", async () => {
    const { model, report: imported } = await importOnnxModel(fixture('digits-mlp.onnx'), {
      inputRange: { min: 0, max: 1 },
    });
    const inputs = digits.pixels.slice(0, 200).map(inputsOf);
    const labels = digits.labels.slice(0, 200);
    const reference = await onnxFloatReference(model, inputs, fixture('digits-mlp.onnx'), imported.output);
    expect(reference.source).toMatch(/^onnxruntime on .*digits-mlp\.onnx$/);
    expect(imported.output).toBe('Softmax'); // onnxruntime outputs probabilities: the logits come from the import
    expect(reference.logitsSource).toMatch(/imported float model/);
    const report = calibrate(model, inputs, { labels, reference });
    const chosen = report.candidates.find((c) => c.fracBits === report.fracBits)!;
    expect(report.maxDisagreement).toBe(0);
    expect(chosen).toMatchObject({ agree: 200, agreement: 1, disagreeing: [] });
    expect(report.disagreeing).toEqual([]);
    // every sample keeps its class, so no accuracy is lost either (the old bar, 1 point, is implied)
    expect(chosen.quantizedAccuracy).toBe(chosen.floatAccuracy);
    expect(chosen.floatAccuracy! - chosen.quantizedAccuracy!).toBeLessThanOrEqual(0.01);
    const fewer = report.candidates.filter((c) => c.fracBits < report.fracBits);
    expect(fewer.length).toBeGreaterThan(0);
    for (const c of fewer) {
      expect(c.disagreeing.length, `${c.fracBits} bits`).toBeGreaterThan(0);
      expect(c.agree + c.disagreeing.length).toBe(200);
    }
    // the explicit bar: allowing as many disagreements as the fewest bits have picks those bits, and names the samples
    const loosest = fewer[0]!;
    const lenient = calibrate(model, inputs, { labels, reference, maxDisagreement: loosest.disagreeing.length });
    expect(lenient.fracBits).toBe(loosest.fracBits);
    expect(lenient.disagreeing).toEqual(loosest.disagreeing);
    for (const i of lenient.disagreeing)
      expect(runQuantized(lenient.model, quantizeInput(lenient.model, inputs[i]!, model)).predicted).not.toBe(
        reference.predicted[i],
      );
    // the largest logit error shrinks as the resolution grows
    expect(report.candidates.at(-1)!.maxLogitError).toBeLessThan(report.candidates[0]!.maxLogitError);
    expect(chosen.maxLogitError).toBeGreaterThan(0);
    // fewer fractional bits, narrower accumulators: the cost grows with f
    expect(report.candidates[0]!.rescaleBits).toBeLessThan(report.candidates.at(-1)!.rescaleBits);
    expect(report.layers).toHaveLength(2);
    for (const layer of report.layers) {
      expect(layer.observedMax).toBeGreaterThan(0n);
      expect(layer.observedMax).toBeLessThanOrEqual(layer.bound); // the worst case holds on real data
    }
    expect(() => calibrate(model, inputs, { labels: [1] })).toThrow(/200 samples but 1 labels/);
  });
});

describe('accuracy attestation over a committed test set', () => {
  it("the task maps encoded pixels to the model's fixed point exactly, and refuses a scale that does not", () => {
    const task = accuracyTask(schema, 6, { label: 'label', scale: 0.0625 });
    expect(task.features).toHaveLength(64);
    expect(task.features[0]).toMatchObject({ name: 'p0', multiplier: 4n, offset: 0n }); // 1/16 at 6 fractional bits
    expect(taskInput(task, [...Array<bigint>(64).fill(16n), 3n])[5]).toBe(64n); // pixel 16 -> 1.0
    expect(() => accuracyTask(schema, 6, { label: 'label', scale: 0.1 })).toThrow(
      /not a whole number at 6 fractional bits/,
    );
    expect(() => accuracyTask(schema, 6, { label: 'nope' })).toThrow(/label column "nope" is not in the schema/);
    expect(accuracyTask(schema, 6, { label: 'label', scale: 0.0625 }).taskHash).not.toBe(
      accuracyTask(schema, 6, { label: 'label', scale: 0.125 }).taskHash,
    );
  });

  it('proves accuracy in chunks in the pool; the verifier rebuilds the test set root; every cheat is refused; the chunk circuit is sound', async () => {
    const { model } = await importOnnxModel(fixture('digits-mlp.onnx'), { inputRange: { min: 0, max: 1 } });
    const quantized = quantizeModel(model, 6);
    const bundle = createBundle(schema, records(0, 10));
    const task = accuracyTask(schema, 6, { label: 'label', scale: 0.0625 });
    const pool = new ProverPool({ workers: 1 });
    try {
      const proof = await proveAccuracy(quantized, bundle, schema, {
        label: 'label',
        scale: 0.0625,
        samplesPerChunk: 3,
        pool,
      });
      expect(proof.chunks).toHaveLength(4); // 3 + 3 + 3 + 1 records, the last chunk with two inactive slots
      const expectedCorrect = bundle.records.filter(
        (r) => BigInt(runQuantized(quantized, taskInput(task, r.values)).predicted) === r.values[64],
      ).length;
      expect(proof.correct).toBe(expectedCorrect);
      const vkey = proof.prepared.keys.vkey;
      const trusted = { testSet: bundle.commitment, taskHash: task.taskHash, modelHash: modelHash(quantized) };
      expect(await verifyAccuracy(vkey, proof, { ...trusted, minAccuracy: 0.8 })).toEqual({
        valid: true,
        correct: expectedCorrect,
        count: 10,
        accuracy: expectedCorrect / 10,
      });
      // a threshold above what was achieved
      expect(await verifyAccuracy(vkey, proof, { ...trusted, minAccuracy: (expectedCorrect + 1) / 10 })).toMatchObject({
        valid: false,
        reason: 'below-threshold',
      });
      // another test set (same size, other records): the leaves do not rebuild its root
      const other = createBundle(schema, records(10, 10));
      expect(
        await verifyAccuracy(vkey, proof, { ...trusted, testSet: other.commitment, minAccuracy: 0 }),
      ).toMatchObject({ valid: false, reason: 'root-mismatch' });
      // another model, another task
      expect(
        await verifyAccuracy(vkey, proof, {
          ...trusted,
          modelHash: modelHash(quantizeModel(model, 7)),
          minAccuracy: 0,
        }),
      ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
      expect(
        await verifyAccuracy(vkey, proof, {
          ...trusted,
          taskHash: accuracyTask(schema, 6, { label: 'label', scale: 0.125 }).taskHash,
          minAccuracy: 0,
        }),
      ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
      // a dropped chunk (the records it held would go unchecked) and swapped chunks
      expect(
        await verifyAccuracy(vkey, { ...proof, chunks: proof.chunks.slice(0, 2) }, { ...trusted, minAccuracy: 0 }),
      ).toMatchObject({ valid: false, reason: 'chunk-count' });
      const swapped = [proof.chunks[1]!, proof.chunks[0]!, ...proof.chunks.slice(2)].map((c, index) => ({
        ...c,
        index,
      }));
      expect(await verifyAccuracy(vkey, { ...proof, chunks: swapped }, { ...trusted, minAccuracy: 0 })).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        detail: expect.stringContaining('chunk 0: '),
      });
      // The counts stay private (issue 18): the chunks are chained by salted commitments to running totals, and only
      // the total is stated. Another total, or a chunk of another proof of the same records (other salts), is refused.
      for (const correct of [expectedCorrect + 1, expectedCorrect - 1])
        expect(await verifyAccuracy(vkey, { ...proof, correct }, { ...trusted, minAccuracy: 0 })).toMatchObject({
          valid: false,
          reason: 'claim-mismatch',
          detail: expect.stringContaining("the last chunk's commitment is not to"),
        });
      const again = await proveAccuracy(quantized, bundle, schema, {
        label: 'label',
        scale: 0.0625,
        samplesPerChunk: 3,
        pool,
      });
      const spliced = [proof.chunks[0]!, again.chunks[1]!, ...proof.chunks.slice(2)];
      expect(await verifyAccuracy(vkey, { ...proof, chunks: spliced }, { ...trusted, minAccuracy: 0 })).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        detail: expect.stringContaining('chunk 1: '),
      });
      // What an outsider reads: leaves (salted hashes, 0 for an empty slot), commitments and hashes; no small number,
      // so no chunk's count of correct predictions. Two proofs of the same records share only the last commitment,
      // Poseidon(total, 0), which states the total.
      const names = accuracySignalNames(3, 'fixed');
      for (const chunk of [...proof.chunks, ...again.chunks])
        chunk.publicSignals.forEach((value, i) => {
          if ((names[i]!.startsWith('leaf') && value === '0') || names[i] === 'context') return; // 0 off chain
          expect(BigInt(value), names[i]).toBeGreaterThan(2n ** 64n);
        });
      expect(proof.chunks.map((c) => c.publicSignals[names.indexOf('commitment')])).not.toEqual(
        again.chunks.map((c) => c.publicSignals[names.indexOf('commitment')]),
      );
      expect(proof.chunks.at(-1)!.publicSignals[names.indexOf('commitment')]).toBe(
        String(runningTotalCommitment(BigInt(expectedCorrect), 0n)),
      );
      // A file of the earlier format (per-chunk counts public) is refused with "prove again".
      const v1 = { ...JSON.parse(JSON.stringify({ ...proof, prepared: undefined })), format: 'zkai-accuracy-proof-v1' };
      expect(() => parseProofFile(v1, 'old.json')).toThrow(/old\.json.*no longer accepted: prove again/);
      expect(await verifyAccuracy(vkey, v1 as never, { ...trusted, minAccuracy: 0 })).toMatchObject({
        valid: false,
        reason: 'malformed',
      });
      // a chunk proven over the same records with the first one left out (marked inactive) cannot rebuild the root
      const generated = await generateAccuracyCircuit(quantized, schema, task, 3);
      const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
      const chunkInput = {
        modelHash: modelHash(quantized),
        taskHash: task.taskHash,
        v: bundle.records.slice(0, 3).map((r) => r.values.map(String)),
        s: bundle.salts.slice(0, 3).map(String),
        active: ['1', '1', '1'],
        previous: String(runningTotalCommitment(5n, 9n)),
        previousTotal: '5',
        previousSalt: '9',
        salt: '11',
        context: '0',
      };
      const honest = await computeWitness(circuit.wasmPath, chunkInput);
      const skipped = await computeWitness(circuit.wasmPath, { ...chunkInput, active: ['0', '1', '1'] });
      expect(skipped[1]).toBe(0n); // leaf 0 published as 0, which is not the committed leaf
      expect(honest[1]).not.toBe(0n);
      // The chunk commits to the running total it opens plus its own hits, with its salt.
      const hits = bundle.records
        .slice(0, 3)
        .filter((r) => BigInt(runQuantized(quantized, taskInput(task, r.values)).predicted) === r.values[64]).length;
      expect(honest[1 + names.indexOf('commitment')]).toBe(runningTotalCommitment(5n + BigInt(hits), 11n));
      // Opening the previous commitment to another running total (a prover inflating its count) fails.
      await expect(computeWitness(circuit.wasmPath, { ...chunkInput, previousTotal: '6' })).rejects.toThrow();
      await expect(computeWitness(circuit.wasmPath, { ...chunkInput, previousSalt: '10' })).rejects.toThrow();
      // A previous total just below the field order opens its own commitment, and with a few hits would wrap to a small
      // running total: its range check refuses it (the chain from Poseidon(0, 0) rules it out too; found by an attack).
      const wrapped = BN254_SCALAR_FIELD - 2n;
      await expect(
        computeWitness(circuit.wasmPath, {
          ...chunkInput,
          previous: String(runningTotalCommitment(wrapped, 9n)),
          previousTotal: String(wrapped),
        }),
      ).rejects.toThrow();
      const report = await checkSoundness(circuit, chunkInput, { maxSignals: 400 });
      expect(report.unpinned).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 600_000);

  it('with private weights: the proof names only the model commitment, and verifies only against it', async () => {
    // The two-input model of the chain tests: what is checked here does not depend on the model's size (the hashed
    // weights of a real export are proven in test/model-onnx-import.test.ts), and its circuit fits a small setup.
    const { quantized } = tinyModel();
    const bundle = tinyTestSet();
    const task = accuracyTask(TINY_TEST_SCHEMA, quantized.fracBits, { label: 'label' });
    const proof = await proveAccuracy(quantized, bundle, TINY_TEST_SCHEMA, {
      label: 'label',
      samplesPerChunk: 2,
      weights: 'hashed',
      modelSalt: 77n,
    });
    expect(proof.model.hash).toBeUndefined();
    expect(proof.model.commitment).toBe(modelCommitment(quantized, 77n));
    const vkey = proof.prepared.keys.vkey;
    const trusted = { testSet: bundle.commitment, taskHash: task.taskHash, minAccuracy: 0.5 };
    expect(
      await verifyAccuracy(vkey, proof, { ...trusted, modelCommitment: modelCommitment(quantized, 77n) }),
    ).toMatchObject({ valid: true, count: 5, correct: 4 });
    expect(
      await verifyAccuracy(vkey, proof, { ...trusted, modelCommitment: modelCommitment(quantized, 78n) }),
    ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    // Without the commitment the verifier has nothing to check the model against: it is refused, not trusted.
    await expect(verifyAccuracy(vkey, proof, trusted)).rejects.toThrow(
      /verified against the model hash .* or model commitment/,
    );
  }, 600_000);
});
