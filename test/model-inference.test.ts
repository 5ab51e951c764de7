import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { WitnessError } from '../src/errors.ts';
import {
  fieldOf,
  generateModelCircuit,
  inferenceInput,
  inputCommitment,
  modelCommitment,
  modelHash,
} from '../src/model/circuit-gen.ts';
import { proveInference, verifyInference } from '../src/model/inference.ts';
import { parseNativeModel, type FloatModel } from '../src/model/native.ts';
import {
  floorShift,
  linearLayers,
  quantizeInput,
  quantizeModel,
  runFloat,
  runQuantized,
  type QuantizedLinear,
} from '../src/model/quantize.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';

afterAll(async () => {
  await releaseCurves();
});

const gadget = (name: string) =>
  compileCircuit(fileURLToPath(new URL(`./circuits/ml_${name}.circom`, import.meta.url)), {
    includePaths: [DATA_TEMPLATES_DIR],
  });

/** The first output of the circuit on this input, as a signed integer; undefined when a constraint fails. */
async function output(circuit: CompiledCircuit, input: Record<string, unknown>): Promise<bigint | undefined> {
  try {
    const witness = await computeWitness(circuit.wasmPath, input);
    const value = witness[1] as bigint;
    return value > BN254_SCALAR_FIELD / 2n ? value - BN254_SCALAR_FIELD : value;
  } catch (error) {
    if (error instanceof WitnessError) return undefined;
    throw error;
  }
}

describe('fixed-point gadgets (B = 12 bits, s = 4)', () => {
  const B = 12;
  const half = 1n << BigInt(B - 1);
  const samples = [-half, -half + 1n, -17n, -16n, -15n, -1n, 0n, 1n, 15n, 16n, 17n, 1000n, half - 1n];

  it('RescaleRelu is max(0, floor(v / 16)) over the whole range, costs B + 1 constraints, refuses values outside it', async () => {
    const circuit = await gadget('rescale_relu');
    // B bit constraints and the ReLU product; --O2 folds the linear decomposition sum into them (goal: <= B + s + 2).
    expect(circuit.info.constraints).toBe(B + 1);
    for (const v of samples) {
      const expected = floorShift(v, 4) < 0n ? 0n : floorShift(v, 4);
      expect(await output(circuit, { in: fieldOf(v).toString() }), `v = ${v}`).toBe(expected);
    }
    expect(await output(circuit, { in: half.toString() })).toBeUndefined();
    expect(await output(circuit, { in: fieldOf(-half - 1n).toString() })).toBeUndefined();
    const report = await checkSoundness(circuit, { in: fieldOf(-37n).toString() });
    expect(report.unpinned).toEqual([]);
  });

  it('RescaleShifted is floor(v / 16) + 2^(B-1-s), B constraints', async () => {
    const circuit = await gadget('rescale_shifted');
    expect(circuit.info.constraints).toBe(B);
    for (const v of samples)
      expect(await output(circuit, { in: fieldOf(v).toString() }), `v = ${v}`).toBe(
        floorShift(v, 4) + (1n << BigInt(B - 1 - 4)),
      );
    expect((await checkSoundness(circuit, { in: '1234' })).unpinned).toEqual([]);
  });

  it('ArgMax names the first index of the largest value; a claimed other index cannot satisfy it', async () => {
    const circuit = await gadget('argmax');
    const cases: Array<[number[], bigint]> = [
      [[1, 5, 3, 2], 1n],
      [[7, 7, 1, 7], 0n],
      [[0, 0, 0, 0], 0n],
      [[1, 2, 63, 63], 2n],
      [[0, 0, 0, 1], 3n],
    ];
    for (const [values, index] of cases)
      expect(await output(circuit, { in: values.map(String) }), values.join(',')).toBe(index);
    expect(await output(circuit, { in: ['64', '0', '0', '0'] })).toBeUndefined(); // outside [0, 2^6)
    const report = await checkSoundness(circuit, { in: ['3', '9', '9', '1'] });
    expect(report.unpinned).toEqual([]);
    // Each one-hot choice other than the honest one breaks a constraint (a tie does not let the prover pick index 2).
    expect(report.checkedSignals).toBeGreaterThan(10);
  });
});

describe('MaxOf (max pooling), n = 3, 3 bits', () => {
  it('is the largest of every input triple in [0, 8)^3, refuses values outside the range, and every signal is pinned', async () => {
    const circuit = await gadget('maxof');
    for (let a = 0; a < 8; a += 1) {
      for (let b = 0; b < 8; b += 1) {
        for (const c of [0, 3, 7])
          expect(await output(circuit, { in: [a, b, c].map(String) }), `${a},${b},${c}`).toBe(
            BigInt(Math.max(a, b, c)),
          );
      }
    }
    expect(await output(circuit, { in: ['8', '0', '0'] })).toBeUndefined();
    const report = await checkSoundness(circuit, { in: ['2', '6', '6'] });
    expect(report.unpinned).toEqual([]);
    expect(report.checkedSignals).toBeGreaterThan(10);
  });
});

/** A small MLP (4 -> 6 ReLU -> 3, argmax) with fixed pseudo-random weights. */
function tinyModel(seed = 1): FloatModel {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  const dense = (inputs: number, outputs: number) => ({
    type: 'dense' as const,
    weights: Array.from({ length: outputs }, () =>
      Array.from({ length: inputs }, () => Number((random() * 2).toFixed(3))),
    ),
    bias: Array.from({ length: outputs }, () => Number(random().toFixed(3))),
  });
  return parseNativeModel({
    format: 'zkai-model-v1',
    name: `tiny-${seed}`,
    input: { size: 4, min: -4, max: 4 },
    layers: [dense(4, 6), { type: 'relu' }, dense(6, 3), { type: 'argmax' }],
  });
}

describe('native models and quantization', () => {
  it('refuses malformed models with the layer named', () => {
    const base = { format: 'zkai-model-v1', name: 'm', input: { size: 2, min: 0, max: 1 } };
    expect(() =>
      parseNativeModel({ ...base, layers: [{ type: 'dense', weights: [[1, 2, 3]], bias: [0] }, { type: 'argmax' }] }),
    ).toThrow(/layers\[0\]: weights row 0 must have 2 numbers/);
    expect(() =>
      parseNativeModel({ ...base, layers: [{ type: 'dense', weights: [[1, 2]], bias: [0] }, { type: 'sigmoid' }] }),
    ).toThrow(/layers\[1\]: unknown layer type "sigmoid"/);
    expect(() =>
      parseNativeModel({
        ...base,
        layers: [{ type: 'dense', weights: [[1, Number.NaN]], bias: [0] }, { type: 'argmax' }],
      }),
    ).toThrow(/weights\[0\]\[1\] must be a finite number/);
    expect(() => parseNativeModel({ ...base, layers: [{ type: 'dense', weights: [[1, 2]], bias: [0] }] })).toThrow(
      /last layer must be argmax/,
    );
    expect(() =>
      parseNativeModel({
        ...base,
        layers: [{ type: 'dense', weights: [[1, 2]], bias: [0] }, { type: 'relu' }, { type: 'argmax' }],
      }),
    ).toThrow(/argmax must follow a dense layer/);
  });

  it('quantizes with worst-case widths; the integer reference agrees with the float model on most inputs', () => {
    const model = tinyModel();
    const quantized = quantizeModel(model, 8);
    expect(linearLayers(quantized).map((l) => l.relu)).toEqual([true, false]);
    for (const layer of linearLayers(quantized)) expect(layer.accBits).toBeLessThan(40);
    let agree = 0;
    for (let i = 0; i < 200; i += 1) {
      const input = [0, 1, 2, 3].map((j) => Math.sin(i * 7 + j * 3) * 4);
      if (
        runQuantized(quantized, quantizeInput(quantized, input, model)).predicted === runFloat(model, input).predicted
      )
        agree += 1;
    }
    expect(agree).toBeGreaterThan(190);
    expect(() => quantizeInput(quantized, [0, 0, 0, 5], model)).toThrow(
      /input\[3\] = 5 is outside the model's input range \[-4, 4\]/,
    );
    expect(modelHash(quantized)).not.toBe(modelHash(quantizeModel(tinyModel(2), 8)));
    expect(modelHash(quantized)).toBe(modelHash(quantizeModel(tinyModel(), 8)));
    expect(modelHash(quantized)).not.toBe(modelHash(quantizeModel(model, 9)));
  });
});

describe('inference circuits (weights fixed in the circuit)', () => {
  const model = tinyModel(3); // seed 3 predicts every class on the samples below
  const quantized = quantizeModel(model, 8);
  const inputs = Array.from({ length: 12 }, (_, i) =>
    quantizeInput(
      quantized,
      [0, 1, 2, 3].map((j) => Math.cos(i * 5 + j) * 3.9),
      model,
    ),
  );

  it('matches the integer reference bit for bit (the class) on every sample, and every signal is pinned', async () => {
    const generated = await generateModelCircuit(quantized, 'hashed');
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    const [first, second] = linearLayers(quantized) as [QuantizedLinear, QuantizedLinear];
    expect(circuit.info.constraints).toBeLessThan(
      6 * (first.accBits + 2) + 3 * (second.accBits + 1) + 3 * 60 + 4 * (quantized.inputBits + 1) + 400,
    );
    // Where each hidden neuron's output sits in the witness (from the symbol file).
    const symbols = (await readFile(circuit.symPath, 'utf8')).split('\n').map((row) => row.split(','));
    const hidden = Array.from({ length: 6 }, (_, k) =>
      Number(symbols.find((row) => row[3] === `main.core.layer0[${k}].out`)?.[1]),
    );
    expect(hidden.every((wire) => wire > 0)).toBe(true);
    for (const input of inputs) {
      const witness = await computeWitness(circuit.wasmPath, inferenceInput(quantized, input, 'hashed', 99n));
      const reference = runQuantized(quantized, input);
      // outputs: inputHash, class; and every hidden activation equals the integer reference's
      expect(witness[1]).toBe(BigInt(inputCommitment(input, 99n)));
      expect(Number(witness[2])).toBe(reference.predicted);
      expect(hidden.map((wire) => witness[wire])).toEqual(reference.layers[0]);
    }
    expect(new Set(inputs.map((input) => runQuantized(quantized, input).predicted)).size).toBe(3);
    const report = await checkSoundness(circuit, inferenceInput(quantized, inputs[0]!, 'hashed', 99n));
    expect(report.unpinned).toEqual([]);
  });

  it('proves and verifies; a wrong class, another model or another input commitment is rejected', async () => {
    const input = inputs[3]!;
    const result = await proveInference(quantized, input, { visibility: 'hashed', salt: 5n });
    const expected = {
      model: quantized,
      visibility: 'hashed' as const,
      predicted: result.predicted,
      inputHash: inputCommitment(input, 5n),
    };
    expect(result.predicted).toBe(runQuantized(quantized, input).predicted);
    expect(await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, expected)).toEqual({
      valid: true,
    });
    const wrongClass = await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      predicted: (result.predicted + 1) % 3,
    });
    expect(wrongClass).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    const otherModel = await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      model: quantizeModel(tinyModel(2), 8),
    });
    expect(otherModel).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(otherModel.detail).toContain('modelHash');
    const otherInput = await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      inputHash: inputCommitment(input, 6n),
    });
    expect(otherInput).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    // Editing the class in the public signals (to match a false claim) breaks the proof itself.
    const forged = [...result.publicSignals];
    forged[1] = String((result.predicted + 1) % 3);
    expect(
      await verifyInference(result.prepared.keys.vkey, result.proof, forged, {
        ...expected,
        predicted: (result.predicted + 1) % 3,
      }),
    ).toMatchObject({ valid: false, reason: 'invalid-proof' });
  }, 600_000);

  it('with a private input, only the class and the model hash are public', async () => {
    const input = inputs[2]!;
    const result = await proveInference(quantized, input, { visibility: 'private' });
    expect(result.publicSignals).toEqual([String(runQuantized(quantized, input).predicted), modelHash(quantized), '0']); // context 0: off chain
    expect(result.inputHash).toBeUndefined();
    const vkey = result.prepared.keys.vkey;
    expect(
      await verifyInference(vkey, result.proof, result.publicSignals, {
        model: quantized,
        visibility: 'private',
        predicted: result.predicted,
      }),
    ).toEqual({ valid: true });
    expect(
      await verifyInference(vkey, result.proof, result.publicSignals, {
        model: quantized,
        visibility: 'private',
        predicted: (result.predicted + 1) % 3,
      }),
    ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
  });

  it('with a public input, the input is a public signal the verifier checks', async () => {
    const input = inputs[5]!;
    const result = await proveInference(quantized, input, { visibility: 'public' });
    expect(result.publicSignals.slice(3, -1)).toEqual(input.map((v) => fieldOf(v).toString()));
    expect(result.publicSignals[0]).toBe(inputCommitment(input, 0n)); // anyone can recompute it from the public input
    // A public-input proof cannot be read as a hashed-input one (the layouts differ in length), nor the reverse.
    const relabelled = await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      model: quantized,
      visibility: 'hashed',
      predicted: result.predicted,
      inputHash: result.publicSignals[0]!,
    });
    expect(relabelled).toMatchObject({ valid: false, reason: 'wrong-signal-count' });
    const expected = { model: quantized, visibility: 'public' as const, predicted: result.predicted, input };
    expect(await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, expected)).toEqual({
      valid: true,
    });
    const other = [...input];
    other[0] = other[0]! + 1n;
    expect(
      await verifyInference(result.prepared.keys.vkey, result.proof, result.publicSignals, {
        ...expected,
        input: other,
      }),
    ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
  }, 600_000);
});

describe('private weights bound to a public model commitment', () => {
  const modelA = quantizeModel(tinyModel(3), 8);
  // Same architecture, other weights: scaled copies keep every width, so both models share one circuit.
  const floatB = tinyModel(3);
  const modelB = quantizeModel(
    {
      ...floatB,
      layers: floatB.layers.map((l) =>
        l.type === 'dense' ? { ...l, weights: l.weights.map((row) => row.map((w) => -w * 0.9)) } : l,
      ),
    },
    8,
  );
  const input = quantizeInput(modelA, [1, -2, 0.5, 3], tinyModel(3));

  it('the circuit recomputes the commitment of the packed, range-checked weights; predictions match the reference; sound', async () => {
    const generated = await generateModelCircuit(modelA, 'hashed', { weights: 'hashed' });
    expect(generated.source).not.toMatch(/\(-?\d+\) \* x\[/); // no weight constant in the circuit
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    const witness = await computeWitness(
      circuit.wasmPath,
      inferenceInput(modelA, input, 'hashed', 7n, { visibility: 'hashed', salt: 11n }),
    );
    // outputs: modelCommitment, inputHash, class
    expect(witness[1]).toBe(BigInt(modelCommitment(modelA, 11n)));
    expect(witness[2]).toBe(BigInt(inputCommitment(input, 7n)));
    expect(Number(witness[3])).toBe(runQuantized(modelA, input).predicted);
    expect(modelCommitment(modelA, 11n)).not.toBe(modelCommitment(modelA, 12n));
    const report = await checkSoundness(
      circuit,
      inferenceInput(modelA, input, 'hashed', 7n, { visibility: 'hashed', salt: 11n }),
      { maxSignals: 1500 },
    );
    expect(report.unpinned).toEqual([]);
    // A weight outside its committed width cannot even be used.
    const wide = inferenceInput(modelA, input, 'hashed', 7n, { visibility: 'hashed', salt: 11n }) as { w0: string[] };
    wide.w0[0] = fieldOf(1n << 40n).toString();
    await expect(computeWitness(circuit.wasmPath, wide)).rejects.toBeInstanceOf(WitnessError);
  });

  it('one setup serves every model of the architecture; a proof verifies only against its own model commitment', async () => {
    const a = await proveInference(modelA, input, {
      visibility: 'hashed',
      salt: 3n,
      weights: 'hashed',
      modelSalt: 21n,
    });
    const b = await proveInference(modelB, input, {
      visibility: 'hashed',
      salt: 3n,
      weights: 'hashed',
      modelSalt: 22n,
    });
    expect(b.circuitId).toBe(a.circuitId);
    expect(b.prepared.keys.vkeyPath).toBe(a.prepared.keys.vkeyPath);
    const vkey = a.prepared.keys.vkey;
    const expected = {
      model: { inputSize: 4 },
      weights: 'hashed' as const,
      visibility: 'hashed' as const,
      inputHash: inputCommitment(input, 3n),
    };
    expect(
      await verifyInference(vkey, a.proof, a.publicSignals, {
        ...expected,
        predicted: a.predicted,
        modelCommitment: modelCommitment(modelA, 21n),
      }),
    ).toEqual({ valid: true });
    expect(
      await verifyInference(vkey, b.proof, b.publicSignals, {
        ...expected,
        predicted: b.predicted,
        modelCommitment: modelCommitment(modelB, 22n),
      }),
    ).toEqual({ valid: true });
    const swapped = await verifyInference(vkey, b.proof, b.publicSignals, {
      ...expected,
      predicted: b.predicted,
      modelCommitment: modelCommitment(modelA, 21n),
    });
    expect(swapped).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(swapped.detail).toContain('modelCommitment');
  }, 600_000);
});

describe('commitments over many elements', () => {
  it('the circuit computes the same input and model commitments as TypeScript past one Poseidon call (more than 16 elements)', async () => {
    const weights = Array.from({ length: 3 }, (_, k) =>
      Array.from({ length: 20 }, (_, j) => ((k * 7 + j * 3) % 11) / 10 - 0.5),
    );
    const float = parseNativeModel({
      format: 'zkai-model-v1',
      name: 'wide',
      input: { size: 20, min: -1, max: 1 },
      layers: [{ type: 'dense', weights, bias: [0.1, 0, -0.1] }, { type: 'argmax' }],
    });
    const model = quantizeModel(float, 6);
    const input = quantizeInput(
      model,
      Array.from({ length: 20 }, (_, j) => Math.sin(j) * 0.9),
      float,
    );
    const generated = await generateModelCircuit(model, 'hashed', { weights: 'hashed' });
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    const witness = await computeWitness(
      circuit.wasmPath,
      inferenceInput(model, input, 'hashed', 9n, { visibility: 'hashed', salt: 4n }),
    );
    expect(witness[1]).toBe(BigInt(modelCommitment(model, 4n)));
    expect(witness[2]).toBe(BigInt(inputCommitment(input, 9n)));
    expect(Number(witness[3])).toBe(runQuantized(model, input).predicted);
  });
});

describe('edge cases found in review', () => {
  it('a layer whose accumulator is narrower than the fraction still computes the reference (widths keep a sign bit)', async () => {
    const float = parseNativeModel({
      format: 'zkai-model-v1',
      name: 'tiny-values',
      input: { size: 2, min: 0, max: 0.01 },
      layers: [
        {
          type: 'dense',
          weights: [
            [0.1, -0.1],
            [-0.1, 0.1],
          ],
          bias: [0, 0],
        },
        { type: 'argmax' },
      ],
    });
    const model = quantizeModel(float, 8);
    for (const layer of linearLayers(model)) expect(layer.accBits).toBeGreaterThan(model.fracBits);
    const generated = await generateModelCircuit(model, 'hashed');
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    for (const values of [
      [0, 0.01],
      [0.01, 0],
      [0.005, 0.004],
    ]) {
      const input = quantizeInput(model, values, float);
      const witness = await computeWitness(circuit.wasmPath, inferenceInput(model, input, 'hashed', 1n));
      expect(Number(witness[2]), values.join(',')).toBe(runQuantized(model, input).predicted);
    }
  });

  it('the circuit checks the input range the bounds are derived from exactly (the declared range widened to a power of two): just outside it is refused', async () => {
    const model = quantizeModel(tinyModel(3), 8); // inputs in [-4, 4] = [-1024, 1024] at 8 fractional bits: 2049 values, 12 bits
    expect(model.inputBits).toBe(12);
    expect([model.inputMin, model.inputMax]).toEqual([-2047n, 2048n]); // 4096 values, centred on the declared range
    const generated = await generateModelCircuit(model, 'hashed');
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    const at = (x0: bigint) => computeWitness(circuit.wasmPath, inferenceInput(model, [x0, 0n, 0n, 0n], 'hashed', 1n));
    await expect(at(1024n)).resolves.toBeDefined();
    await expect(at(-1024n)).resolves.toBeDefined();
    await expect(at(2048n)).resolves.toBeDefined();
    await expect(at(-2047n)).resolves.toBeDefined();
    await expect(at(2049n)).rejects.toBeInstanceOf(WitnessError);
    await expect(at(-2048n)).rejects.toBeInstanceOf(WitnessError);
    // and the integer reference refuses the same values
    expect(() => runQuantized(model, [2049n, 0n, 0n, 0n])).toThrow(/outside \[-2047, 2048\]/);
  });
});
