import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { sha256Parts } from '../util/hash.ts';
import { poseidon } from '../data/poseidon-n.ts';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { ModelError } from './native.ts';
import type { QuantizedModel } from './quantize.ts';

/** Bumped whenever the generated code changes meaning. */
const GENERATOR_VERSION = 'zkai-model-circuit-v1';

/**
 * Who sees the input. `hashed`: the input is private and the proof publishes a salted Poseidon commitment to it
 * (`inputHash`), so a holder of the input and salt can show which input was used. `public`: the input values are public
 * signals (each costs verification gas on chain).
 */
export type InputVisibility = 'hashed' | 'public';

/** Field element of a signed integer. */
export function fieldOf(value: bigint): bigint {
  return ((value % BN254_SCALAR_FIELD) + BN254_SCALAR_FIELD) % BN254_SCALAR_FIELD;
}

/** Poseidon sponge over any number of field elements: Poseidon of the first 16, then [previous, next 15]... */
export function poseidonSponge(elements: readonly bigint[]): bigint {
  if (elements.length === 0) throw new ModelError('nothing to hash');
  let acc = poseidon(elements.slice(0, 16).map(fieldOf));
  for (let start = 16; start < elements.length; start += 15) acc = poseidon([acc, ...elements.slice(start, start + 15).map(fieldOf)]);
  return acc;
}

/**
 * The model hash: a Poseidon sponge over a tag, the fixed-point format, the layer shapes and every quantized weight
 * and bias. Two models with any different weight, shape or scale have different hashes. With fixed weights the circuit
 * pins it as a public input, so a proof states which model it is about.
 */
export function modelHash(model: QuantizedModel): string {
  const elements: bigint[] = [BigInt(0x7a6b61696d31) /* "zkaim1" */, BigInt(model.fracBits), BigInt(model.inputSize), BigInt(model.inputBits)];
  for (const layer of model.layers) {
    elements.push(BigInt(layer.weights.length), layer.relu ? 1n : 0n, BigInt(layer.accBits));
    for (const row of layer.weights) elements.push(...row);
    elements.push(...layer.bias);
  }
  return poseidonSponge(elements).toString();
}

/** The salted commitment to an input: Poseidon sponge over [salt, inputs...] (inputs as field elements). */
export function inputCommitment(input: readonly bigint[], salt: bigint): string {
  return poseidonSponge([salt, ...input]).toString();
}

/** What a generated model circuit's public signals mean, in order. */
export function inferenceSignalNames(model: QuantizedModel, visibility: InputVisibility): string[] {
  return visibility === 'hashed' ? ['inputHash', 'class', 'modelHash'] : ['class', 'modelHash', ...Array.from({ length: model.inputSize }, (_, j) => `input${j}`)];
}

/** A generated inference circuit. */
export interface GeneratedModelCircuit {
  id: string;
  path: string;
  source: string;
  modelHash: string;
  /** Constraints the generator expects, per layer (before compiling): for `inspect` and reports. */
  estimate: Array<{ layer: string; constraints: number }>;
}

/**
 * Generate the circuit proving "the model of hash H, with weights fixed in this circuit, predicts class c on an input
 * that is public or committed as inputHash". Weights are compile-time constants, so every dense layer is a linear
 * combination (no constraints); each neuron costs one fused rescale(+ReLU) gadget of B + 2 constraints.
 */
export async function generateModelCircuit(model: QuantizedModel, visibility: InputVisibility, options: { cacheDir?: string } = {}): Promise<GeneratedModelCircuit> {
  const hash = modelHash(model);
  const f = model.fracBits;
  const lines: string[] = [];
  const line = (text = '') => lines.push(text ? `    ${text}` : '');
  const estimate: GeneratedModelCircuit['estimate'] = [];
  line(`signal input modelHash;`);
  line(`modelHash === ${hash}; // weights are fixed in this circuit: a proof always names this model`);
  line(`signal input x[${model.inputSize}];`);
  if (visibility === 'hashed') {
    line(`signal input salt;`);
    line(`signal output inputHash;`);
  }
  line(`signal output class;`);
  line();
  line(`// inputs are signed fixed point (${f} fractional bits), range-checked to ${model.inputBits} bits`);
  line(`component inputRange[${model.inputSize}];`);
  line(`for (var j = 0; j < ${model.inputSize}; j++) { inputRange[j] = SignedRange(${model.inputBits}); inputRange[j].in <== x[j]; }`);
  estimate.push({ layer: 'input range checks', constraints: model.inputSize * (model.inputBits + 1) });

  let inputs = Array.from({ length: model.inputSize }, (_, j) => `x[${j}]`);
  model.layers.forEach((layer, index) => {
    const last = index === model.layers.length - 1;
    const name = `layer${index}`;
    const B = layer.accBits;
    line();
    line(`// layer ${index}: dense ${layer.weights[0]!.length} -> ${layer.weights.length}${layer.relu ? ' + ReLU' : ''}, accumulator ${B} bits`);
    line(`component ${name}[${layer.weights.length}];`);
    layer.weights.forEach((row, k) => {
      const terms = row.flatMap((w, j) => (w === 0n ? [] : [`(${w}) * ${inputs[j]}`]));
      terms.push(`(${layer.bias[k]})`);
      line(`${name}[${k}] = ${layer.relu ? 'RescaleRelu' : 'RescaleShifted'}(${B}, ${f});`);
      line(`${name}[${k}].in <== ${terms.join(' + ')};`);
    });
    estimate.push({ layer: `dense ${index} (${layer.weights.length} neurons x ${layer.relu ? B + 2 : B + 1})`, constraints: layer.weights.length * (layer.relu ? B + 2 : B + 1) });
    const offset = 1n << BigInt(Math.max(B - 1 - f, 0));
    inputs = layer.weights.map((_, k) => (layer.relu ? `${name}[${k}].out` : `(${name}[${k}].out - ${offset})`));
    if (last) {
      if (layer.relu) throw new ModelError('the last dense layer feeds argmax and must not have a ReLU');
      const bits = B - f;
      line();
      line(`// argmax over the shifted logits (order-preserving, in [0, 2^${bits})); ties go to the lowest index`);
      line(`component argmax = ArgMax(${layer.weights.length}, ${bits});`);
      layer.weights.forEach((_, k) => line(`argmax.in[${k}] <== ${name}[${k}].out;`));
      line(`class <== argmax.index;`);
      estimate.push({ layer: `argmax over ${layer.weights.length}`, constraints: layer.weights.length * (bits + 3) });
    }
  });

  if (visibility === 'hashed') {
    // Poseidon sponge over [salt, x...], as inputCommitment computes it.
    const elements = ['salt', ...Array.from({ length: model.inputSize }, (_, j) => `x[${j}]`)];
    line();
    line(`// inputHash = Poseidon sponge over [salt, x...]`);
    let acc = '';
    let call = 0;
    for (let start = 0; start < elements.length; start += call === 0 ? 16 : 15) {
      const chunk = call === 0 ? elements.slice(0, 16) : [acc, ...elements.slice(start, start + 15)];
      const component = `inputSponge${call}`;
      line(`component ${component} = Poseidon(${chunk.length});`);
      chunk.forEach((element, i) => line(`${component}.inputs[${i}] <== ${element};`));
      acc = `${component}.out`;
      call += 1;
    }
    line(`inputHash <== ${acc};`);
    estimate.push({ layer: 'input commitment (Poseidon)', constraints: 300 * call });
  }

  const id = sha256Parts([GENERATOR_VERSION, hash, visibility]).slice(0, 20);
  const source = [
    'pragma circom 2.1.0;',
    '',
    `// GENERATED by zkai (${GENERATOR_VERSION}) - do not edit.`,
    `// model "${model.name.replace(/\n/g, ' ')}" (hash ${hash}), input ${visibility}; public signals: ${inferenceSignalNames(model, visibility).join(', ')}`,
    'include "ml/gadgets.circom";',
    'include "circomlib/circuits/poseidon.circom";',
    '',
    'template ModelInference() {',
    ...lines,
    '}',
    '',
    `component main {public [modelHash${visibility === 'public' ? ', x' : ''}]} = ModelInference();`,
    '',
  ].join('\n');
  const path = join(resolveCacheDir(options.cacheDir), 'generated', `model_${id}.circom`);
  if (!existsSync(path) || (await readFile(path, 'utf8')) !== source) await writeFileAtomic(path, source);
  return { id, path, source, modelHash: hash, estimate };
}

/** The circuit input for one inference. */
export function inferenceInput(model: QuantizedModel, input: readonly bigint[], visibility: InputVisibility, salt?: bigint): Record<string, unknown> {
  if (input.length !== model.inputSize) throw new ModelError(`the input has ${input.length} values; the model takes ${model.inputSize}`);
  return {
    modelHash: modelHash(model),
    x: input.map((v) => fieldOf(v).toString()),
    ...(visibility === 'hashed' ? { salt: (salt ?? 0n).toString() } : {}),
  };
}
