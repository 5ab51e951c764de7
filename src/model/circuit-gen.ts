import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { sha256Parts } from '../util/hash.ts';
import { poseidon } from '../data/poseidon-n.ts';
import { fieldOf } from '../util/field.ts';
import { ModelError } from './native.ts';
import type { QuantizedModel } from './quantize.ts';
import { architectureHeader, layerWidths, packedWeights, packLayout } from './commitment.ts';

/** Bumped whenever the generated code changes meaning. */
const GENERATOR_VERSION = 'zkai-model-circuit-v3';

/**
 * Who sees the input. `hashed`: the input is private and the proof publishes a salted Poseidon commitment to it
 * (`inputHash`), so a holder of the input and salt can show which input was used. `public`: the input values are public
 * signals too (each costs verification gas on chain). Both layouts publish `inputHash`, so they never have the same
 * number of public signals and one cannot be read as the other.
 */
export type InputVisibility = 'hashed' | 'public';

export { fieldOf } from '../util/field.ts';

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
  const elements: bigint[] = [BigInt(0x7a6b61696d31) /* "zkaim1" */, BigInt(model.fracBits), BigInt(model.inputSize), BigInt(model.inputBits), model.inputMin, model.inputMax];
  for (const layer of model.layers) {
    elements.push(BigInt(layer.weights.length), layer.relu ? 1n : 0n, BigInt(layer.accBits));
    for (const row of layer.weights) elements.push(...row);
    elements.push(...layer.bias);
  }
  return poseidonSponge(elements).toString();
}

/** Domain tag of input commitments. */
const INPUT_TAG = BigInt(0x7a6b616978); // "zkaix"

/**
 * The salted commitment to an input: Poseidon sponge over [salt, tag, length, inputs...] (inputs as field elements).
 * The length is hashed so one commitment cannot be opened as inputs of two lengths.
 */
export function inputCommitment(input: readonly bigint[], salt: bigint): string {
  return poseidonSponge([salt, INPUT_TAG, BigInt(input.length), ...input]).toString();
}

/**
 * Where the weights live. `fixed`: compile-time constants of the circuit (dense layers cost nothing; the weights are
 * in the circuit, wasm and proving key; a pinned public `modelHash` names the model). `hashed`: private inputs bound
 * to a public salted `modelCommitment` (every product costs a constraint, but the circuit, its keys and its setup
 * contributors never see the weights, and one setup serves every model of the same architecture and widths).
 */
export type WeightVisibility = 'fixed' | 'hashed';

/** What a generated model circuit's public signals mean, in order. */
export function inferenceSignalNames(model: Pick<QuantizedModel, 'inputSize'>, visibility: InputVisibility, weights: WeightVisibility = 'fixed'): string[] {
  const inputs = visibility === 'public' ? Array.from({ length: model.inputSize }, (_, j) => `input${j}`) : [];
  return weights === 'hashed' ? ['modelCommitment', 'inputHash', 'class', ...inputs] : ['inputHash', 'class', 'modelHash', ...inputs];
}

/** The salted commitment to private weights (see commitment.ts). */
export function modelCommitment(model: QuantizedModel, salt: bigint): string {
  return poseidonSponge([salt, ...architectureHeader(model), ...packedWeights(model)]).toString();
}

/** Emit a Poseidon sponge over the given element expressions; returns the expression of its output. */
function emitSponge(line: (text?: string) => void, prefix: string, elements: readonly string[]): { out: string; calls: number } {
  // The same chunks as poseidonSponge: the first 16 elements, then [previous output, next 15]...
  const chunks: string[][] = [elements.slice(0, 16)];
  for (let start = 16; start < elements.length; start += 15) chunks.push(elements.slice(start, start + 15));
  let acc = '';
  chunks.forEach((chunk, call) => {
    const inputs = call === 0 ? chunk : [acc, ...chunk];
    const component = `${prefix}${call}`;
    line(`component ${component} = Poseidon(${inputs.length});`);
    inputs.forEach((element, i) => line(`${component}.inputs[${i}] <== ${element};`));
    acc = `${component}.out`;
  });
  return { out: acc, calls: chunks.length };
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
export async function generateModelCircuit(model: QuantizedModel, visibility: InputVisibility, options: { cacheDir?: string; weights?: WeightVisibility } = {}): Promise<GeneratedModelCircuit> {
  const weights = options.weights ?? 'fixed';
  const hidden = weights === 'hashed';
  const hash = modelHash(model);
  const f = model.fracBits;
  const lines: string[] = [];
  const line = (text = '') => lines.push(text ? `    ${text}` : '');
  const estimate: GeneratedModelCircuit['estimate'] = [];
  const widths = layerWidths(model);
  if (hidden) {
    line(`// private weights and biases, bound to the public modelCommitment`);
    line(`signal output modelCommitment;`);
    line(`signal input modelSalt;`);
    model.layers.forEach((layer, l) => {
      line(`signal input w${l}[${layer.weights.length}][${layer.weights[0]!.length}];`);
      line(`signal input b${l}[${layer.weights.length}];`);
    });
  } else {
    line(`signal input modelHash;`);
    line(`modelHash === ${hash}; // weights are fixed in this circuit: a proof always names this model`);
  }
  line(`signal input x[${model.inputSize}];`);
  line(`signal input salt;`);
  line(`signal output inputHash;`);
  line(`signal output class;`);
  line();
  line(`// inputs are signed fixed point (${f} fractional bits), checked to lie in the model's range [${model.inputMin}, ${model.inputMax}]`);
  line(`component inputRange[${model.inputSize}];`);
  line(`for (var j = 0; j < ${model.inputSize}; j++) { inputRange[j] = InRange(${model.inputBits}, ${model.inputMin}, ${model.inputMax}); inputRange[j].in <== x[j]; }`);
  estimate.push({ layer: 'input range checks', constraints: model.inputSize * 2 * model.inputBits });

  let inputs = Array.from({ length: model.inputSize }, (_, j) => `x[${j}]`);
  model.layers.forEach((layer, index) => {
    const last = index === model.layers.length - 1;
    const name = `layer${index}`;
    const B = layer.accBits;
    line();
    line(`// layer ${index}: dense ${layer.weights[0]!.length} -> ${layer.weights.length}${layer.relu ? ' + ReLU' : ''}, accumulator ${B} bits`);
    if (hidden) {
      const { weightBits, biasBits } = widths[index]!;
      const outs = layer.weights.length;
      const ins = layer.weights[0]!.length;
      line(`// every private weight and bias is range-checked (its bits also pack it into the commitment)`);
      line(`component w${index}Bits[${outs}][${ins}];`);
      line(`component b${index}Bits[${outs}];`);
      line(`signal p${index}[${outs}][${ins}]; // weight x input products`);
      line(`for (var k = 0; k < ${outs}; k++) {`);
      line(`    for (var j = 0; j < ${ins}; j++) { w${index}Bits[k][j] = Num2Bits(${weightBits}); w${index}Bits[k][j].in <== w${index}[k][j] + ${1n << BigInt(weightBits - 1)}; }`);
      line(`    b${index}Bits[k] = Num2Bits(${biasBits}); b${index}Bits[k].in <== b${index}[k] + ${1n << BigInt(biasBits - 1)};`);
      line(`}`);
      layer.weights.forEach((row, k) => row.forEach((_, j) => line(`p${index}[${k}][${j}] <== w${index}[${k}][${j}] * ${inputs[j]};`)));
      estimate.push({ layer: `dense ${index} weights: range checks and ${outs * ins} products`, constraints: outs * ins * (weightBits + 2) + outs * (biasBits + 1) });
    }
    line(`component ${name}[${layer.weights.length}];`);
    layer.weights.forEach((row, k) => {
      const terms = hidden ? row.map((_, j) => `p${index}[${k}][${j}]`) : row.flatMap((w, j) => (w === 0n ? [] : [`(${w}) * ${inputs[j]}`]));
      terms.push(hidden ? `b${index}[${k}]` : `(${layer.bias[k]})`);
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

  {
    // Poseidon sponge over [salt, tag, length, x...], as inputCommitment computes it (published in both visibilities).
    line();
    line(`// inputHash = Poseidon sponge over [salt, tag, length, x...]`);
    const sponge = emitSponge(line, 'inputSponge', ['salt', INPUT_TAG.toString(), String(model.inputSize), ...Array.from({ length: model.inputSize }, (_, j) => `x[${j}]`)]);
    line(`inputHash <== ${sponge.out};`);
    estimate.push({ layer: 'input commitment (Poseidon)', constraints: 300 * sponge.calls });
  }
  if (hidden) {
    // modelCommitment = Poseidon sponge over [modelSalt, header..., packed...], as modelCommitment() computes it; each
    // packed element is a linear combination of the weights' range-check bits (value + 2^(W-1), W bits each).
    const { items, elements } = packLayout(model);
    const packed: Array<Array<{ bits: string; width: number; shift: number }>> = Array.from({ length: elements }, () => []);
    for (const item of items) {
      const bits = item.kind === 'weight' ? `w${item.layer}Bits[${item.k}][${item.j}]` : `b${item.layer}Bits[${item.k}]`;
      packed[item.element]!.push({ bits, width: item.bits, shift: item.shift });
    }
    line();
    line(`// the model commitment`);
    const names: string[] = [];
    packed.forEach((parts, e) => {
      line(`var packed${e} = 0;`);
      for (const part of parts) line(`for (var i = 0; i < ${part.width}; i++) { packed${e} += ${part.bits}.out[i] * (1 << (i + ${part.shift})); }`);
      names.push(`packed${e}`);
    });
    const sponge = emitSponge(line, 'modelSponge', ['modelSalt', ...architectureHeader(model).map(String), ...names]);
    line(`modelCommitment <== ${sponge.out};`);
    estimate.push({ layer: 'model commitment (Poseidon)', constraints: 300 * sponge.calls });
  }

  const id = sha256Parts([GENERATOR_VERSION, hidden ? architectureHeader(model).join(',') : hash, visibility, weights]).slice(0, 20);
  const source = [
    'pragma circom 2.1.0;',
    '',
    `// GENERATED by zkai (${GENERATOR_VERSION}) - do not edit.`,
    hidden
      ? `// architecture of model "${model.name.replace(/\n/g, ' ')}", private weights, input ${visibility}; public signals: ${inferenceSignalNames(model, visibility, weights).join(', ')}`
      : `// model "${model.name.replace(/\n/g, ' ')}" (hash ${hash}), input ${visibility}; public signals: ${inferenceSignalNames(model, visibility).join(', ')}`,
    'include "ml/gadgets.circom";',
    'include "circomlib/circuits/poseidon.circom";',
    '',
    'template ModelInference() {',
    ...lines,
    '}',
    '',
    hidden
      ? visibility === 'public' ? 'component main {public [x]} = ModelInference();' : 'component main = ModelInference();'
      : `component main {public [modelHash${visibility === 'public' ? ', x' : ''}]} = ModelInference();`,
    '',
  ].join('\n');
  const path = join(resolveCacheDir(options.cacheDir), 'generated', `model_${hidden ? 'hashed_' : ''}${id}.circom`);
  if (!existsSync(path) || (await readFile(path, 'utf8')) !== source) await writeFileAtomic(path, source);
  return { id, path, source, modelHash: hash, estimate };
}

/** The circuit input for one inference; with hashed weights, the weights, biases and the model salt too. */
export function inferenceInput(model: QuantizedModel, input: readonly bigint[], visibility: InputVisibility, salt?: bigint, weights: { visibility: WeightVisibility; salt?: bigint } = { visibility: 'fixed' }): Record<string, unknown> {
  if (input.length !== model.inputSize) throw new ModelError(`the input has ${input.length} values; the model takes ${model.inputSize}`);
  const field = (v: bigint) => fieldOf(v).toString();
  return {
    ...(weights.visibility === 'hashed'
      ? { modelSalt: (weights.salt ?? 0n).toString(), ...Object.fromEntries(model.layers.flatMap((layer, l) => [[`w${l}`, layer.weights.map((row) => row.map(field))], [`b${l}`, layer.bias.map(field)]])) }
      : { modelHash: modelHash(model) }),
    x: input.map(field),
    salt: (salt ?? 0n).toString(),
  };
}
