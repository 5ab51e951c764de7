import { ModelError } from './errors.ts';
import type { FloatLayer, FloatModel } from './native.ts';
import {
  applySparseExact,
  applySparseFloat,
  averagePoolTerms,
  convTerms,
  denseTerms,
  maxPoolWindows,
  maxTerms,
  type Shape3,
  type SparseLinear,
} from './layers.ts';

/**
 * Power-of-two fixed point. A real number r is the integer round(r * 2^f). Inputs and weights share f fractional bits;
 * a linear layer's accumulator (input * weight) then has 2f, its bias is quantized at 2f, and the fused gadget divides
 * by 2^f (floor division, rounding toward minus infinity) to come back to f, then applies ReLU if the layer has one.
 * Max pooling compares values and needs no rescale.
 *
 * Bit widths are derived from worst cases, not from samples, and from the layer's weight WIDTHS rather than its
 * actual weights: a layer's accumulator bound is T * 2^(W-1) * max|input| + 2^(Wb-1), where T is the most terms any
 * output has (a dense layer's inputs, a convolution's kernel volume), |w| < 2^(W-1) and |b| < 2^(Wb-1). So no input
 * within the range the circuit checks can overflow any value, and neither can any other weights of the same widths
 * (which matters when the weights are private: the circuit range-checks them to W bits, and one circuit serves every
 * model of those widths). Pooling's weights (1/window) are architecture constants, so their exact sum is used. Every
 * width stays far below the 253 bits a sound decomposition allows, and at least f + 1 so a rescale always keeps its
 * sign bit.
 */
export interface QuantizedLinear {
  op: 'dense' | 'conv' | 'avgpool';
  /** What the layer is, for reports ("conv 1x8x8 -> 4x8x8, kernel 3x3"). */
  label: string;
  inputs: number;
  outputs: number;
  /** Output k = sum of params[p] * x[i] over terms[k] (pairs i, p) + bias[biasOf[k]] (see layers.ts). */
  terms: Int32Array[];
  /** The layer's parameters (weights, or 1/window for pooling), at f fractional bits. */
  params: bigint[];
  /** Biases at 2f fractional bits (the accumulator's scale); biasOf[k] = -1 for none. */
  bias: bigint[];
  biasOf: Int32Array;
  /** Pooling: the parameters are architecture constants, fixed in every circuit even when weights are private. */
  structural: boolean;
  relu: boolean;
  /** Bits B of the signed accumulator (acc + bias lies in [-2^(B-1), 2^(B-1))). */
  accBits: number;
  /** Signed widths of the parameters and biases: |w| < 2^(weightBits-1), |b| < 2^(biasBits-1). */
  weightBits: number;
  biasBits: number;
  /** Largest |input| this layer can receive (integer, f fractional bits). */
  inputBound: bigint;
  /** Numbers that fix the layer's shape (hashed into the model hash and commitment header). */
  arch: number[];
}

/** Max pooling: output k is the largest of the inputs windows[k] (values keep their scale). */
export interface QuantizedMaxPool {
  op: 'maxpool';
  label: string;
  inputs: number;
  outputs: number;
  windows: Int32Array[];
  /** Largest |input|; the inputs are non-negative when the previous layer has a ReLU. */
  inputBound: bigint;
  nonNegative: boolean;
  arch: number[];
}

export type QuantizedLayer = QuantizedLinear | QuantizedMaxPool;

/** A quantized model ending in argmax over its last (dense) layer. */
export interface QuantizedModel {
  name: string;
  fracBits: number;
  inputSize: number;
  /**
   * Inputs are integers in [inputMin, inputMax] (f fractional bits): the circuit checks exactly this range, with one
   * decomposition of x - inputMin into inputBits bits, so inputMax = inputMin + 2^inputBits - 1 (the declared range,
   * rounded up to a power-of-two width). Every bound is derived from it.
   */
  inputMin: bigint;
  inputMax: bigint;
  /** max(|inputMin|, |inputMax|). */
  inputBound: bigint;
  inputBits: number;
  layers: QuantizedLayer[];
}

/** Default fractional bits: 8 (a resolution of 1/256). */
export const DEFAULT_FRAC_BITS = 8;

/** Widest accumulator a model may need (the gadget decomposes B bits; far below 253 for soundness margin). */
export const MAX_ACC_BITS = 200;

function bitLength(value: bigint): number {
  return value <= 0n ? 0 : value.toString(2).length;
}

const magnitude = (v: bigint) => (v < 0n ? -v : v);

/** round(r * 2^bits) as a bigint, refusing values too large to represent exactly. */
export function toFixed(value: number, bits: number): bigint {
  const scaled = Math.round(value * 2 ** bits);
  if (!Number.isSafeInteger(scaled))
    throw new ModelError(`the value ${value} at ${bits} fractional bits exceeds 2^53: use fewer fractional bits`);
  return BigInt(scaled);
}

/** A float layer lowered to sparse form, with what the quantizer needs to know about it. */
interface LoweredLinear {
  op: QuantizedLinear['op'];
  label: string;
  sparse: SparseLinear<number>;
  structural: boolean;
  arch: number[];
}

const shapeText = (shape: Shape3) => shape.join('x');

/** Lower a dense, conv or avgpool float layer to sparse form (see layers.ts). */
export function lowerLinear(layer: Extract<FloatLayer, { type: 'dense' | 'conv' | 'avgpool' }>): LoweredLinear {
  if (layer.type === 'dense') {
    const outputs = layer.weights.length;
    const inputs = layer.weights[0]!.length;
    return {
      op: 'dense',
      label: `dense ${inputs} -> ${outputs}`,
      sparse: {
        inputs,
        outputs,
        terms: denseTerms(outputs, inputs),
        params: layer.weights.flat(),
        bias: [...layer.bias],
        biasOf: Int32Array.from({ length: outputs }, (_, k) => k),
      },
      structural: false,
      arch: [1, inputs, outputs],
    };
  }
  const spec = { kernel: layer.kernel, stride: layer.stride, pads: layer.pads };
  const window = [...layer.kernel, ...layer.stride, ...layer.pads];
  const inputs = layer.input[0] * layer.input[1] * layer.input[2];
  if (layer.type === 'conv') {
    const { terms, outShape } = convTerms(layer.input, layer.outChannels, spec);
    const perChannel = outShape[1] * outShape[2];
    return {
      op: 'conv',
      label: `conv ${shapeText(layer.input)} -> ${shapeText(outShape)}, kernel ${layer.kernel.join('x')}${layer.stride.some((s) => s !== 1) ? `, stride ${layer.stride.join('x')}` : ''}${layer.pads.some((p) => p !== 0) ? `, pads ${layer.pads.join(',')}` : ''}`,
      sparse: {
        inputs,
        outputs: terms.length,
        terms,
        params: layer.weights.flat(3),
        bias: [...layer.bias],
        biasOf: Int32Array.from({ length: terms.length }, (_, k) => Math.floor(k / perChannel)),
      },
      structural: false,
      arch: [2, ...layer.input, layer.outChannels, ...window],
    };
  }
  const { terms, divisors, outShape } = averagePoolTerms(layer.input, spec, layer.countIncludePad);
  return {
    op: 'avgpool',
    label: `avgpool ${shapeText(layer.input)} -> ${shapeText(outShape)}, window ${layer.kernel.join('x')}`,
    sparse: {
      inputs,
      outputs: terms.length,
      terms,
      params: divisors.map((d) => 1 / d),
      bias: [],
      biasOf: new Int32Array(terms.length).fill(-1),
    },
    structural: true,
    arch: [3, ...layer.input, ...window, layer.countIncludePad ? 1 : 0],
  };
}

/**
 * Quantize a float model: every weight at f bits, every bias at 2f, every accumulator width from its worst case over
 * the input range the circuit checks (see {@link QuantizedLinear}).
 */
export function quantizeModel(model: FloatModel, fracBits = DEFAULT_FRAC_BITS): QuantizedModel {
  if (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > 24)
    throw new ModelError(`fractional bits must be an integer from 1 to 24, got ${fracBits}`);
  // The declared range, widened to 2^inputBits values so ONE decomposition checks it: upward for a non-negative range
  // (which stays non-negative), evenly on both sides otherwise (a smaller largest |input|).
  const declaredMin = toFixed(model.input.min, fracBits);
  const span = toFixed(model.input.max, fracBits) - declaredMin;
  const inputBits = Math.max(bitLength(span), 1);
  const extra = (1n << BigInt(inputBits)) - 1n - span;
  const inputMin = declaredMin >= 0n ? declaredMin : declaredMin - extra / 2n;
  const inputMax = inputMin + (1n << BigInt(inputBits)) - 1n;
  const inputBound = magnitude(inputMin) > magnitude(inputMax) ? magnitude(inputMin) : magnitude(inputMax);
  const layers: QuantizedLayer[] = [];
  let bound = inputBound;
  let nonNegative = inputMin >= 0n;
  model.layers.forEach((layer, index) => {
    if (layer.type === 'relu' || layer.type === 'argmax') return;
    if (layer.type === 'maxpool') {
      const { windows, outShape } = maxPoolWindows(layer.input, layer);
      const inputs = layer.input[0] * layer.input[1] * layer.input[2];
      layers.push({
        op: 'maxpool',
        label: `maxpool ${shapeText(layer.input)} -> ${shapeText(outShape)}, window ${layer.kernel.join('x')}`,
        inputs,
        outputs: windows.length,
        windows,
        inputBound: bound,
        nonNegative,
        arch: [4, ...layer.input, ...layer.kernel, ...layer.stride, ...layer.pads],
      });
      return;
    }
    const lowered = lowerLinear(layer);
    const { sparse } = lowered;
    const params = sparse.params.map((w) => toFixed(w, fracBits));
    const bias = sparse.bias.map((b) => toFixed(b, 2 * fracBits));
    const relu = model.layers[index + 1]?.type === 'relu';
    const weightBits = bitLength(params.reduce((max, w) => (magnitude(w) > max ? magnitude(w) : max), 0n)) + 1;
    const biasBits = bitLength(bias.reduce((max, b) => (magnitude(b) > max ? magnitude(b) : max), 0n)) + 1;
    let worst: bigint;
    if (lowered.structural) {
      // architecture constants: the exact largest sum of |param| over an output's terms
      worst =
        sparse.terms.reduce((max, row) => {
          let sum = 0n;
          for (let t = 1; t < row.length; t += 2) sum += magnitude(params[row[t]!]!);
          return sum > max ? sum : max;
        }, 0n) * bound;
    } else {
      // |acc + bias| <= T * 2^(W-1) * bound + 2^(Wb-1), for ANY weights of these widths
      worst =
        BigInt(maxTerms(sparse.terms)) * (1n << BigInt(weightBits - 1)) * bound +
        (bias.length > 0 ? 1n << BigInt(biasBits - 1) : 0n);
    }
    const accBits = Math.max(bitLength(worst) + 1, fracBits + 1);
    if (accBits > MAX_ACC_BITS)
      throw new ModelError(
        `layer ${index} (${lowered.label}) needs a ${accBits}-bit accumulator (more than ${MAX_ACC_BITS}): narrow the input range or use fewer fractional bits`,
      );
    layers.push({
      op: lowered.op,
      label: lowered.label,
      inputs: sparse.inputs,
      outputs: sparse.outputs,
      terms: sparse.terms,
      params,
      bias,
      biasOf: sparse.biasOf,
      structural: lowered.structural,
      relu,
      accBits,
      weightBits,
      biasBits,
      inputBound: bound,
      arch: lowered.arch,
    });
    // floor(v / 2^f) for |v| < 2^(B-1) lies in [-2^(B-1-f), 2^(B-1-f)); after ReLU in [0, 2^(B-1-f)).
    bound = 1n << BigInt(Math.max(accBits - 1 - fracBits, 0));
    nonNegative = relu;
  });
  const last = layers.at(-1);
  if (!last || last.op !== 'dense' || last.relu)
    throw new ModelError(
      `${model.name}: the last layer must be a dense layer without ReLU (its outputs are the logits argmax reads)`,
    );
  return { name: model.name, fracBits, inputSize: model.input.size, inputMin, inputMax, inputBound, inputBits, layers };
}

/** The linear layers of a model (the ones with weights, accumulators and rescales). */
export function linearLayers(model: QuantizedModel): QuantizedLinear[] {
  return model.layers.filter((layer): layer is QuantizedLinear => layer.op !== 'maxpool');
}

/** Quantize an input vector (floats) to the model's fixed point, refusing values outside its declared range. */
export function quantizeInput(model: QuantizedModel, values: readonly number[], floatModel: FloatModel): bigint[] {
  if (values.length !== model.inputSize)
    throw new ModelError(`the input has ${values.length} values; the model takes ${model.inputSize}`);
  return values.map((value, j) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new ModelError(`input[${j}] must be a finite number, got ${JSON.stringify(value)}`);
    if (value < floatModel.input.min || value > floatModel.input.max)
      throw new ModelError(
        `input[${j}] = ${value} is outside the model's input range [${floatModel.input.min}, ${floatModel.input.max}]`,
      );
    return toFixed(value, model.fracBits);
  });
}

/** How an input vector lands on the fixed-point grid: which values {@link quantizeInput} rounds, and by how much. */
export interface InputRounding {
  /** How many values are not multiples of 2^-f (value * 2^f is not an integer), so the proven input differs. */
  rounded: number;
  /** Largest |round(value * 2^f) / 2^f - value| (real units; 0 when nothing is rounded). */
  maxError: number;
  /** Index of the value with the largest error (-1 when nothing is rounded). */
  maxErrorIndex: number;
  /** Indexes of the rounded values, ascending. */
  indexes: number[];
}

/**
 * Which input values are off the fixed-point grid at f fractional bits. Multiplying a double by 2^f is exact (short of
 * overflow), so `value * 2^f` is an integer exactly when the value is on the grid.
 */
export function inputRounding(values: readonly number[], fracBits: number): InputRounding {
  const scale = 2 ** fracBits;
  const indexes: number[] = [];
  let maxError = 0;
  let maxErrorIndex = -1;
  values.forEach((value, j) => {
    const scaled = value * scale;
    if (Number.isInteger(scaled)) return;
    indexes.push(j);
    const error = Math.abs(Math.round(scaled) / scale - value);
    if (error > maxError || maxErrorIndex === -1) {
      maxError = error;
      maxErrorIndex = j;
    }
  });
  return { rounded: indexes.length, maxError, maxErrorIndex, indexes };
}

/** floor(a / 2^s) for any integer a (toward minus infinity, as the circuit computes it). */
export function floorShift(value: bigint, shift: number): bigint {
  return value >> BigInt(shift); // BigInt >> is an arithmetic shift: floor division by 2^shift
}

/** What the integer reference computes: every layer's outputs, and the class (first index of the largest logit). */
export interface ReferenceResult {
  layers: bigint[][];
  logits: bigint[];
  predicted: number;
}

/**
 * The integer reference implementation: exactly the circuit's semantics. A linear layer computes
 * acc_k = sum over its terms of param * x + bias_k, then out_k = floor(acc_k / 2^f), then max(0, out_k) with ReLU;
 * max pooling takes the largest value of each window; the class is the first index of the largest logit.
 */
export function runQuantized(model: QuantizedModel, input: readonly bigint[]): ReferenceResult {
  if (input.length !== model.inputSize)
    throw new ModelError(`the input has ${input.length} values; the model takes ${model.inputSize}`);
  input.forEach((x, j) => {
    if (x < model.inputMin || x > model.inputMax)
      throw new ModelError(`input[${j}] = ${x} (fixed point) is outside [${model.inputMin}, ${model.inputMax}]`);
  });
  const outputs: bigint[][] = [];
  let current = [...input];
  for (const layer of model.layers) {
    if (layer.op === 'maxpool') {
      const values = current;
      current = layer.windows.map((window) =>
        window.reduce((max, i) => (values[i]! > max ? values[i]! : max), values[window[0]!]!),
      );
    } else {
      current = applySparseExact(layer, current).map((acc) => {
        const out = floorShift(acc, model.fracBits);
        return layer.relu && out < 0n ? 0n : out;
      });
    }
    outputs.push(current);
  }
  return { layers: outputs, logits: current, predicted: argmaxOf(current) };
}

/** The first index of the largest value. */
function argmaxOf<T extends number | bigint>(values: readonly T[]): number {
  let best = 0;
  values.forEach((value, k) => {
    if (value > values[best]!) best = k;
  });
  return best;
}

/** The float model's own prediction (for reporting the accuracy of float vs quantized). */
export function runFloat(model: FloatModel, input: readonly number[]): { logits: number[]; predicted: number } {
  let current = [...input];
  for (const layer of model.layers) {
    if (layer.type === 'relu') current = current.map((v) => Math.max(0, v));
    else if (layer.type === 'maxpool') {
      const values = current;
      current = maxPoolWindows(layer.input, layer).windows.map((window) =>
        Math.max(...Array.from(window, (i) => values[i]!)),
      );
    } else if (layer.type !== 'argmax') current = applySparseFloat(lowerLinear(layer).sparse, current);
  }
  return { logits: current, predicted: argmaxOf(current) };
}
