import { ModelError, type FloatModel } from './native.ts';

/**
 * Power-of-two fixed point. A real number r is the integer round(r * 2^f). Inputs and weights share f fractional bits;
 * a dense layer's accumulator (input * weight) then has 2f, its bias is quantized at 2f, and the fused gadget divides
 * by 2^f (floor division, rounding toward minus infinity) to come back to f, then applies ReLU if the layer has one.
 *
 * Bit widths are derived from worst cases, not from samples: a dense layer's accumulator bound is
 * sum_j |W_kj| * max|input| + |b_k|, maximised over its outputs, so no input within the model's declared input range
 * can overflow any value. Every width stays far below the 253 bits a sound decomposition allows.
 */
export interface QuantizedLayer {
  /** weights[k][j], at f fractional bits. */
  weights: bigint[][];
  /** bias[k], at 2f fractional bits (the accumulator's scale). */
  bias: bigint[];
  relu: boolean;
  /** Bits B of the signed accumulator (acc + bias lies in [-2^(B-1), 2^(B-1))). */
  accBits: number;
  /** Largest |input| this layer can receive (integer, f fractional bits). */
  inputBound: bigint;
}

/** A quantized MLP ending in argmax. */
export interface QuantizedModel {
  name: string;
  fracBits: number;
  inputSize: number;
  /** Inputs are integers in [-inputBound, inputBound] (f fractional bits) and are range-checked to inputBits signed bits. */
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

/** round(r * 2^bits) as a bigint, refusing values too large to represent exactly. */
export function toFixed(value: number, bits: number): bigint {
  const scaled = Math.round(value * 2 ** bits);
  if (!Number.isSafeInteger(scaled)) throw new ModelError(`the value ${value} at ${bits} fractional bits exceeds 2^53: use fewer fractional bits`);
  return BigInt(scaled);
}

/** Quantize a float model: every weight at f bits, every bias at 2f, every accumulator width from its worst case. */
export function quantizeModel(model: FloatModel, fracBits = DEFAULT_FRAC_BITS): QuantizedModel {
  if (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > 24) throw new ModelError(`fractional bits must be an integer from 1 to 24, got ${fracBits}`);
  const inputBound = BigInt(Math.ceil(Math.max(Math.abs(model.input.min), Math.abs(model.input.max)) * 2 ** fracBits));
  const inputBits = bitLength(inputBound) + 1;
  const layers: QuantizedLayer[] = [];
  // The circuit range-checks inputs to [-2^(inputBits-1), 2^(inputBits-1)): bound the first layer by that, so even an
  // input just outside the declared range but inside the checked one cannot overflow.
  let bound = 1n << BigInt(inputBits - 1);
  model.layers.forEach((layer, index) => {
    if (layer.type !== 'dense') return;
    const weights = layer.weights.map((row) => row.map((w) => toFixed(w, fracBits)));
    const bias = layer.bias.map((b) => toFixed(b, 2 * fracBits));
    const relu = model.layers[index + 1]?.type === 'relu';
    let worst = 0n;
    weights.forEach((row, k) => {
      const total = row.reduce((sum, w) => sum + (w < 0n ? -w : w) * bound, 0n) + (bias[k]! < 0n ? -bias[k]! : bias[k]!);
      if (total > worst) worst = total;
    });
    const accBits = bitLength(worst) + 1; // |acc + bias| <= worst < 2^(B-1)
    if (accBits > MAX_ACC_BITS) throw new ModelError(`layer ${index} needs a ${accBits}-bit accumulator (more than ${MAX_ACC_BITS}): narrow the input range or use fewer fractional bits`);
    layers.push({ weights, bias, relu, accBits, inputBound: bound });
    // floor(v / 2^f) for |v| < 2^(B-1) lies in [-2^(B-1-f), 2^(B-1-f)); after ReLU in [0, 2^(B-1-f)).
    bound = 1n << BigInt(Math.max(accBits - 1 - fracBits, 0));
  });
  return { name: model.name, fracBits, inputSize: model.input.size, inputBound, inputBits, layers };
}

/** Quantize an input vector (floats) to the model's fixed point, refusing values outside its declared range. */
export function quantizeInput(model: QuantizedModel, values: readonly number[], floatModel: FloatModel): bigint[] {
  if (values.length !== model.inputSize) throw new ModelError(`the input has ${values.length} values; the model takes ${model.inputSize}`);
  return values.map((value, j) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ModelError(`input[${j}] must be a finite number, got ${JSON.stringify(value)}`);
    if (value < floatModel.input.min || value > floatModel.input.max) throw new ModelError(`input[${j}] = ${value} is outside the model's input range [${floatModel.input.min}, ${floatModel.input.max}]`);
    return toFixed(value, model.fracBits);
  });
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
 * The integer reference implementation: exactly the circuit's semantics. acc_k = sum_j W_kj x_j + b_k;
 * out_k = floor(acc_k / 2^f), then max(0, out_k) for a ReLU layer; the class is the first index of the largest logit.
 */
export function runQuantized(model: QuantizedModel, input: readonly bigint[]): ReferenceResult {
  if (input.length !== model.inputSize) throw new ModelError(`the input has ${input.length} values; the model takes ${model.inputSize}`);
  input.forEach((x, j) => {
    if (x < -model.inputBound || x > model.inputBound) throw new ModelError(`input[${j}] = ${x} (fixed point) is outside [-${model.inputBound}, ${model.inputBound}]`);
  });
  const outputs: bigint[][] = [];
  let current = [...input];
  for (const layer of model.layers) {
    current = layer.weights.map((row, k) => {
      const acc = row.reduce((sum, w, j) => sum + w * (current[j] as bigint), 0n) + (layer.bias[k] as bigint);
      const out = floorShift(acc, model.fracBits);
      return layer.relu && out < 0n ? 0n : out;
    });
    outputs.push(current);
  }
  let predicted = 0;
  current.forEach((value, k) => {
    if (value > (current[predicted] as bigint)) predicted = k;
  });
  return { layers: outputs, logits: current, predicted };
}

/** The float model's own prediction (for reporting the accuracy of float vs quantized). */
export function runFloat(model: FloatModel, input: readonly number[]): { logits: number[]; predicted: number } {
  let current = [...input];
  for (const layer of model.layers) {
    if (layer.type === 'dense') current = layer.weights.map((row, k) => row.reduce((sum, w, j) => sum + w * (current[j] as number), layer.bias[k] as number));
    else if (layer.type === 'relu') current = current.map((v) => Math.max(0, v));
  }
  let predicted = 0;
  current.forEach((value, k) => {
    if (value > (current[predicted] as number)) predicted = k;
  });
  return { logits: current, predicted };
}
