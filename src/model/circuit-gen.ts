import { CircomLines, generatedId, generatedSource, writeGeneratedSource } from '../circuit/generated-source.ts';
import { poseidonSponge as spongeOfFieldElements, poseidonSpongeRemembered } from '../crypto/poseidon.ts';
import { emitSponge } from '../crypto/poseidon-circom.ts';
import { fieldOf } from '../util/field.ts';
import { ModelError } from './errors.ts';
import { linearLayers, type QuantizedModel } from './quantize.ts';
import { architectureHeader, layerArchitecture, packedWeights, packLayout, weightedLayers } from './commitment.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT, emitContextInput } from '../circuit/context.ts';

/** Bumped whenever the generated code changes meaning. */
const GENERATOR_VERSION = 'zkai-model-circuit-v5';

/**
 * Who sees the input. `hashed`: the input is private and the proof publishes a salted Poseidon commitment to it
 * (`inputHash`), so a holder of the input and salt can show which input was used. `public`: the input values are public
 * signals too (each costs verification gas on chain), and `inputHash` (salt 0) as well. `private`: the input is a
 * witness only and nothing about it is published: the proof says "some input in the model's range gives this class".
 * The three layouts have different numbers of public signals, so one cannot be read as another.
 */
export type InputVisibility = 'hashed' | 'public' | 'private';

export { fieldOf } from '../util/field.ts';

/** Poseidon sponge over any number of integers, each taken modulo the field (negative biases included). */
export function poseidonSponge(elements: readonly bigint[]): bigint {
  return spongeOfFieldElements(elements.map(fieldOf));
}

/** {@link poseidonSponge} remembered by content (see `poseidonSpongeRemembered`): for the weights hashed at every proof. */
function rememberedSponge(elements: readonly bigint[]): bigint {
  return poseidonSpongeRemembered(elements.map(fieldOf));
}

/**
 * The model hash: a Poseidon sponge over a tag, the fixed-point format, every layer's shape and widths and every
 * quantized parameter and bias. Two models with any different weight, shape or scale have different hashes. With fixed
 * weights the circuit pins it as a public input, so a proof states which model it is about.
 */
export function modelHash(model: QuantizedModel): string {
  const elements: bigint[] = [
    BigInt(0x7a6b61696d34) /* "zkaim4" */,
    BigInt(model.fracBits),
    BigInt(model.inputSize),
    BigInt(model.inputBits),
    model.inputMin,
    model.inputMax,
    BigInt(model.layers.length),
    ...layerArchitecture(model),
  ];
  for (const layer of linearLayers(model))
    elements.push(BigInt(layer.params.length), ...layer.params, BigInt(layer.bias.length), ...layer.bias);
  return rememberedSponge(elements).toString();
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
 * Where the weights live. `fixed`: compile-time constants of the circuit (linear layers cost nothing; the weights are
 * in the circuit, wasm and proving key; a pinned public `modelHash` names the model). `hashed`: private inputs bound
 * to a public salted `modelCommitment` (every product costs a constraint, but the circuit, its keys and its setup
 * contributors never see the weights, and one setup serves every model of the same architecture and widths).
 */
export type WeightVisibility = 'fixed' | 'hashed';

/** What a generated model circuit's public signals mean, in order. */
export function inferenceSignalNames(
  model: Pick<QuantizedModel, 'inputSize'>,
  visibility: InputVisibility,
  weights: WeightVisibility = 'fixed',
): string[] {
  const inputs = visibility === 'public' ? Array.from({ length: model.inputSize }, (_, j) => `input${j}`) : [];
  const inputHash = visibility === 'private' ? [] : ['inputHash'];
  return weights === 'hashed'
    ? ['modelCommitment', ...inputHash, 'class', ...inputs, CONTEXT_SIGNAL]
    : [...inputHash, 'class', 'modelHash', ...inputs, CONTEXT_SIGNAL];
}

/** The salted commitment to private weights (see commitment.ts). */
export function modelCommitment(model: QuantizedModel, salt: bigint): string {
  return rememberedSponge([salt, ...architectureHeader(model), ...packedWeights(model)]).toString();
}

/** Constraints the generator expects, per layer (before compiling): for `inspect` and reports. */
export type ConstraintEstimate = Array<{ layer: string; constraints: number }>;

/** Approximate constraints of one Poseidon call with t inputs under --O2 (measured: 240 for t = 2 up to about 300). */
const poseidonCost = (inputs: number) => 213 + 6 * inputs * 4;

/** Bits of an unsigned value below 2^bits: the smallest bits with bound < 2^bits... for bound itself included. */
function bitsFor(bound: bigint): number {
  return bound <= 0n ? 1 : bound.toString(2).length;
}

/**
 * Emit the template `ModelCore`: inputs `x` (fixed point) and, with hashed weights, every weighted layer's parameters
 * `w<l>` and biases `b<l>` (range-checked by the caller, which also binds them to the commitment); output `class`.
 * With `checkInputRange`, every input is checked to lie in the model's range (one `Num2Bits(inputBits)` of
 * x - inputMin); a caller that derives x from already range-checked values within that range may skip it.
 */
export function emitModelCore(
  model: QuantizedModel,
  weights: WeightVisibility,
  options: { checkInputRange: boolean },
): { lines: string[]; estimate: ConstraintEstimate } {
  const hidden = weights === 'hashed';
  const f = model.fracBits;
  const { lines, line } = new CircomLines();
  lines.push('template ModelCore() {');
  const estimate: ConstraintEstimate = [];
  line(`signal input x[${model.inputSize}];`);
  if (hidden) {
    for (const { layer, index } of weightedLayers(model)) {
      line(`signal input w${index}[${layer.params.length}];`);
      if (layer.bias.length > 0) line(`signal input b${index}[${layer.bias.length}];`);
    }
  }
  line(`signal output class;`);
  if (options.checkInputRange) {
    line();
    line(
      `// inputs are signed fixed point (${f} fractional bits) in [${model.inputMin}, ${model.inputMax}]: x - inputMin has ${model.inputBits} bits`,
    );
    line(`component inputRange[${model.inputSize}];`);
    line(
      `for (var j = 0; j < ${model.inputSize}; j++) { inputRange[j] = Num2Bits(${model.inputBits}); inputRange[j].in <== x[j] - (${model.inputMin}); }`,
    );
    estimate.push({
      layer: `input range checks (${model.inputSize} x ${model.inputBits} bits)`,
      constraints: model.inputSize * model.inputBits,
    });
  }
  // The current layer's outputs as circom expressions: value(i) for an index (a number, or a loop variable).
  let value: (i: string | number) => string = (i) => `x[${i}]`;
  const functions: string[] = [];
  model.layers.forEach((layer, index) => {
    const name = `layer${index}`;
    line();
    if (layer.op === 'maxpool') {
      // max of each window; inputs shifted to be non-negative (the gadget compares values in [0, 2^bits))
      const offset = layer.nonNegative ? 0n : layer.inputBound;
      const bits = bitsFor(offset + layer.inputBound);
      const shifted = (v: string) => (offset === 0n ? v : `${v} + ${offset}`);
      line(
        `// layer ${index}: ${layer.label}; values ${layer.nonNegative ? 'in [0' : `in [-${layer.inputBound}`}, ${layer.inputBound}], compared in ${bits} bits`,
      );
      line(`component ${name}[${layer.outputs}];`);
      layer.windows.forEach((window, k) => {
        line(`${name}[${k}] = MaxOf(${window.length}, ${bits});`);
        window.forEach((i, t) => line(`${name}[${k}].in[${t}] <== ${shifted(value(i))};`));
      });
      const perWindow = layer.windows[0]!.length;
      estimate.push({
        layer: `${layer.label} (${layer.outputs} windows x ${perWindow * (bits + 2)})`,
        constraints: layer.windows.reduce((sum, w) => sum + w.length * (bits + 2), 0),
      });
      value = offset === 0n ? (k) => `${name}[${k}].out` : (k) => `(${name}[${k}].out - ${offset})`;
      return;
    }
    const B = layer.accBits;
    const privateParams = hidden && !layer.structural;
    const gadget = layer.relu ? 'RescaleRelu' : 'RescaleShifted';
    line(
      `// layer ${index}: ${layer.label}${layer.relu ? ' + ReLU' : ''}, accumulator ${B} bits${privateParams ? ', private weights' : ''}`,
    );
    const totalTerms = layer.terms.reduce((sum, row) => sum + row.length / 2, 0);
    if (privateParams) line(`signal p${index}[${totalTerms}]; // weight x input products`);
    line(`component ${name}[${layer.outputs}];`);
    if (layer.op === 'dense') {
      // Dense: loops over the weight matrix (a few statements whatever its size; circom unrolls them).
      const n = layer.inputs;
      if (!privateParams) {
        functions.push(
          `function ${name}Weights() {`,
          `    var w[${layer.outputs}][${n}] = [${Array.from({ length: layer.outputs }, (_, k) => `[${layer.params.slice(k * n, (k + 1) * n).join(',')}]`).join(',')}];`,
          '    return w;',
          '}',
        );
        functions.push(
          `function ${name}Bias() {`,
          `    var b[${layer.outputs}] = [${Array.from({ length: layer.outputs }, (_, k) => (layer.biasOf[k]! >= 0 ? layer.bias[layer.biasOf[k]!]! : 0n)).join(',')}];`,
          '    return b;',
          '}',
        );
        line(`var ${name}W[${layer.outputs}][${n}] = ${name}Weights();`);
        line(`var ${name}B[${layer.outputs}] = ${name}Bias();`);
      }
      line(`for (var k = 0; k < ${layer.outputs}; k++) {`);
      line(`    var acc = ${privateParams ? `b${index}[k]` : `${name}B[k]`};`);
      line(`    for (var j = 0; j < ${n}; j++) {`);
      if (privateParams) {
        line(`        p${index}[k * ${n} + j] <== w${index}[k * ${n} + j] * ${value('j')};`);
        line(`        acc += p${index}[k * ${n} + j];`);
      } else line(`        acc += ${name}W[k][j] * ${value('j')};`);
      line(`    }`);
      line(`    ${name}[k] = ${gadget}(${B}, ${f});`);
      line(`    ${name}[k].in <== acc;`);
      line(`}`);
    } else {
      let products = 0;
      layer.terms.forEach((row, k) => {
        const terms: string[] = [];
        for (let t = 0; t < row.length; t += 2) {
          const input = value(row[t]!);
          const param = row[t + 1]!;
          if (privateParams) {
            line(`p${index}[${products}] <== w${index}[${param}] * ${input};`);
            terms.push(`p${index}[${products}]`);
            products += 1;
          } else if (layer.params[param] !== 0n) terms.push(`(${layer.params[param]}) * ${input}`);
        }
        const b = layer.biasOf[k]!;
        if (b >= 0) terms.push(privateParams ? `b${index}[${b}]` : `(${layer.bias[b]})`);
        line(`${name}[${k}] = ${gadget}(${B}, ${f});`);
        line(`${name}[${k}].in <== ${terms.length > 0 ? terms.join(' + ') : '0'};`);
      });
    }
    if (privateParams)
      estimate.push({ layer: `${layer.label}: ${totalTerms} weight x input products`, constraints: totalTerms });
    estimate.push({
      layer: `${layer.label} rescale${layer.relu ? ' + ReLU' : ''} (${layer.outputs} x ${layer.relu ? B + 1 : B})`,
      constraints: layer.outputs * (layer.relu ? B + 1 : B),
    });
    const offset = 1n << BigInt(Math.max(B - 1 - f, 0));
    value = layer.relu ? (k) => `${name}[${k}].out` : (k) => `(${name}[${k}].out - ${offset})`;
    if (index === model.layers.length - 1) {
      const bits = B - f;
      line();
      line(`// argmax over the shifted logits (order-preserving, in [0, 2^${bits})); ties go to the lowest index`);
      line(`component argmax = ArgMax(${layer.outputs}, ${bits});`);
      line(`for (var k = 0; k < ${layer.outputs}; k++) { argmax.in[k] <== ${name}[k].out; }`);
      line(`class <== argmax.index;`);
      estimate.push({ layer: `argmax over ${layer.outputs}`, constraints: layer.outputs * (bits + 3) });
    }
  });
  lines.push('}');
  return { lines: [...functions, ...(functions.length > 0 ? [''] : []), ...lines], estimate };
}

/**
 * Emit, inside a main template, the private weights' signals, their range checks and the public `modelCommitment`
 * they are bound to. Returns how to wire them into a `ModelCore` component.
 */
export function emitPrivateWeights(
  model: QuantizedModel,
  line: (text?: string) => void,
): { wire: (component: string) => void; estimate: ConstraintEstimate } {
  const estimate: ConstraintEstimate = [];
  const weighted = weightedLayers(model);
  line(`// private weights and biases, bound to the public modelCommitment`);
  line(`signal output modelCommitment;`);
  line(`signal input modelSalt;`);
  for (const { layer, index } of weighted) {
    line(`signal input w${index}[${layer.params.length}];`);
    if (layer.bias.length > 0) line(`signal input b${index}[${layer.bias.length}];`);
  }
  line(`// every private weight and bias is range-checked to its width (its bits also pack it into the commitment)`);
  for (const { layer, index } of weighted) {
    line(`component w${index}Bits[${layer.params.length}];`);
    line(
      `for (var i = 0; i < ${layer.params.length}; i++) { w${index}Bits[i] = Num2Bits(${layer.weightBits}); w${index}Bits[i].in <== w${index}[i] + ${1n << BigInt(layer.weightBits - 1)}; }`,
    );
    if (layer.bias.length > 0) {
      line(`component b${index}Bits[${layer.bias.length}];`);
      line(
        `for (var i = 0; i < ${layer.bias.length}; i++) { b${index}Bits[i] = Num2Bits(${layer.biasBits}); b${index}Bits[i].in <== b${index}[i] + ${1n << BigInt(layer.biasBits - 1)}; }`,
      );
    }
    estimate.push({
      layer: `${layer.label}: range checks of ${layer.params.length} weights and ${layer.bias.length} biases`,
      constraints: layer.params.length * (layer.weightBits + 1) + layer.bias.length * (layer.biasBits + 1),
    });
  }
  // modelCommitment = Poseidon sponge over [modelSalt, header..., packed...], as modelCommitment() computes it; each
  // packed element is a linear combination of the weights' range-check bits (value + 2^(W-1), W bits each).
  const { items, elements } = packLayout(model);
  const packed: Array<Array<{ bits: string; width: number; shift: number }>> = Array.from(
    { length: elements },
    () => [],
  );
  for (const item of items)
    packed[item.element]!.push({
      bits: item.kind === 'weight' ? `w${item.layer}Bits[${item.index}]` : `b${item.layer}Bits[${item.index}]`,
      width: item.bits,
      shift: item.shift,
    });
  line(`// the model commitment`);
  const names: string[] = [];
  packed.forEach((parts, e) => {
    line(`var packed${e} = 0;`);
    for (const part of parts)
      line(
        `for (var i = 0; i < ${part.width}; i++) { packed${e} += ${part.bits}.out[i] * (1 << (i + ${part.shift})); }`,
      );
    names.push(`packed${e}`);
  });
  const sponge = emitSponge(line, 'modelSponge', ['modelSalt', ...architectureHeader(model).map(String), ...names]);
  line(`modelCommitment <== ${sponge.out};`);
  estimate.push({
    layer: `model commitment (${sponge.calls} Poseidon calls over ${elements} packed elements)`,
    constraints: sponge.calls * poseidonCost(16),
  });
  return {
    estimate,
    wire: (component) => {
      for (const { layer, index } of weighted) {
        line(`for (var i = 0; i < ${layer.params.length}; i++) { ${component}.w${index}[i] <== w${index}[i]; }`);
        if (layer.bias.length > 0)
          line(`for (var i = 0; i < ${layer.bias.length}; i++) { ${component}.b${index}[i] <== b${index}[i]; }`);
      }
    },
  };
}

/**
 * Emit what binds a main template to its model: with fixed weights a public `modelHash` input pinned to this model's
 * hash; with private weights the weights themselves, range-checked and committed (see emitPrivateWeights). Returns how
 * to wire private weights into a `ModelCore` (nothing to wire for fixed weights).
 */
export function emitModelBinding(
  model: QuantizedModel,
  weights: WeightVisibility,
  line: (text?: string) => void,
): { wire?: (component: string) => void; estimate: ConstraintEstimate } {
  if (weights === 'hashed') return emitPrivateWeights(model, line);
  line(`signal input modelHash;`);
  line(`modelHash === ${modelHash(model)}; // weights are fixed in this circuit: a proof always names this model`);
  return { estimate: [] };
}

/** A generated inference circuit. */
export interface GeneratedModelCircuit {
  id: string;
  path: string;
  source: string;
  modelHash: string;
  /** Constraints the generator expects, per layer (before compiling): for `inspect` and reports. */
  estimate: ConstraintEstimate;
}

/**
 * Generate the circuit proving "the model (hash H with fixed weights, or committed as C with private weights) predicts
 * class c on an input that is public, committed as inputHash, or private". With fixed weights every linear layer is a
 * linear combination (no constraints); each neuron costs one fused rescale(+ReLU) gadget of about B constraints.
 */
export async function generateModelCircuit(
  model: QuantizedModel,
  visibility: InputVisibility,
  options: { cacheDir?: string; weights?: WeightVisibility } = {},
): Promise<GeneratedModelCircuit> {
  const weights = options.weights ?? 'fixed';
  const hidden = weights === 'hashed';
  const hash = modelHash(model);
  const { lines, line } = new CircomLines();
  const { wire, estimate } = emitModelBinding(model, weights, line);
  line(`signal input x[${model.inputSize}];`);
  if (visibility !== 'private') {
    line(`signal input salt;`);
    line(`signal output inputHash;`);
  }
  line(`signal output class;`);
  emitContextInput(line);
  line();
  line(`component core = ModelCore();`);
  line(`for (var j = 0; j < ${model.inputSize}; j++) { core.x[j] <== x[j]; }`);
  wire?.('core');
  line(`class <== core.class;`);
  if (visibility !== 'private') {
    // Poseidon sponge over [salt, tag, length, x...], as inputCommitment computes it.
    line();
    line(`// inputHash = Poseidon sponge over [salt, tag, length, x...]`);
    const sponge = emitSponge(line, 'inputSponge', [
      'salt',
      INPUT_TAG.toString(),
      String(model.inputSize),
      ...Array.from({ length: model.inputSize }, (_, j) => `x[${j}]`),
    ]);
    line(`inputHash <== ${sponge.out};`);
    estimate.push({
      layer: `input commitment (${sponge.calls} Poseidon calls)`,
      constraints: sponge.calls * poseidonCost(16),
    });
  }
  const core = emitModelCore(model, weights, { checkInputRange: true });
  estimate.unshift(...core.estimate);

  const id = generatedId(GENERATOR_VERSION, [hidden ? architectureHeader(model).join(',') : hash, visibility, weights]);
  const source = generatedSource({
    version: GENERATOR_VERSION,
    comments: [
      hidden
        ? `architecture of model "${model.name}", private weights, input ${visibility}; public signals: ${inferenceSignalNames(model, visibility, weights).join(', ')}`
        : `model "${model.name}" (hash ${hash}), input ${visibility}; public signals: ${inferenceSignalNames(model, visibility).join(', ')}`,
    ],
    includes: ['ml/gadgets.circom', 'circomlib/circuits/poseidon.circom'],
    before: core.lines,
    template: 'ModelInference',
    body: lines,
    publicInputs: [...(hidden ? [] : ['modelHash']), ...(visibility === 'public' ? ['x'] : []), CONTEXT_SIGNAL],
  });
  const path = await writeGeneratedSource(`model_${hidden ? 'hashed_' : ''}${id}`, source, options);
  return { id, path, source, modelHash: hash, estimate };
}

/** The private weights' circuit input: the model salt, and every weighted layer's parameters and biases. */
export function privateWeightsInput(model: QuantizedModel, salt: bigint): Record<string, unknown> {
  const field = (v: bigint) => fieldOf(v).toString();
  return {
    modelSalt: salt.toString(),
    ...Object.fromEntries(
      weightedLayers(model).flatMap(({ layer, index }) => [
        [`w${index}`, layer.params.map(field)],
        ...(layer.bias.length > 0 ? [[`b${index}`, layer.bias.map(field)]] : []),
      ]),
    ),
  };
}

/** The circuit input for one inference; with hashed weights, the weights, biases and the model salt too. */
export function inferenceInput(
  model: QuantizedModel,
  input: readonly bigint[],
  visibility: InputVisibility,
  salt?: bigint,
  weights: { visibility: WeightVisibility; salt?: bigint } = { visibility: 'fixed' },
): Record<string, unknown> {
  if (input.length !== model.inputSize)
    throw new ModelError(`the input has ${input.length} values; the model takes ${model.inputSize}`);
  return {
    ...(weights.visibility === 'hashed'
      ? privateWeightsInput(model, weights.salt ?? 0n)
      : { modelHash: modelHash(model) }),
    x: input.map((v) => fieldOf(v).toString()),
    ...(visibility === 'private' ? {} : { salt: (salt ?? 0n).toString() }),
    context: NO_CONTEXT,
  };
}
