import { ModelError, type FloatModel } from './native.ts';

/**
 * Power-of-two fixed point. A real number r is the integer round(r * 2^f). Inputs and weights share f fractional bits;
 * a dense layer's accumulator (input * weight) then has 2f, its bias is quantized at 2f, and the fused gadget divides
 * by 2^f (floor division, rounding toward minus infinity) to come back to f, then applies ReLU if the layer has one.
 *
 * Bit widths are derived from worst cases, not from samples, and from the layer's weight WIDTHS rather than its
 * actual weights: a dense layer's accumulator bound is n_in * 2^(W-1) * max|input| + 2^(Wb-1), where |w| < 2^(W-1)
 * and |b| < 2^(Wb-1). So no input within the range the circuit checks can overflow any value, and neither can any
 * other weights of the same widths (which matters when the weights are private: the circuit range-checks them to W
 * bits, and one circuit serves every model of those widths). Every width stays far below the 253 bits a sound
 * decomposition allows, and at least f + 1 so a rescale always keeps its sign bit.
 */
export interface QuantizedLayer {
  /** weights[k][j], at f fractional bits. */
  weights: bigint[][];
  /** bias[k], at 2f fractional bits (the accumulator's scale). */
  bias: bigint[];
  relu: boolean;
  /** Bits B of the signed accumulator (acc + bias lies in [-2^(B-1), 2^(B-1))). */
  accBits: number;
  /** Signed widths of the weights and biases: |w| < 2^(weightBits-1), |b| < 2^(biasBits-1). */
  weightBits: number;
  biasBits: number;
  /** Largest |input| this layer can receive (integer, f fractional bits). */
  inputBound: bigint;
}

/** A quantized MLP ending in argmax. */
export interface QuantizedModel {
  name: string;
  fracBits: number;
  inputSize: number;
  /** Inputs are integers in [inputMin, inputMax] (f fractional bits): the circuit checks exactly this range. */
  inputMin: bigint;
  inputMax: bigint;
  /** max(|inputMin|, |inputMax|). */
  inputBound: bigint;
  /** Bits of inputMax - inputMin: the width of the circuit's two range checks per input. */
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
  const inputMin = toFixed(model.input.min, fracBits);
  const inputMax = toFixed(model.input.max, fracBits);
  const inputBound = (inputMin < 0n ? -inputMin : inputMin) > (inputMax < 0n ? -inputMax : inputMax) ? (inputMin < 0n ? -inputMin : inputMin) : inputMax < 0n ? -inputMax : inputMax;
  const inputBits = Math.max(bitLength(inputMax - inputMin), 1);
  const layers: QuantizedLayer[] = [];
  let bound = inputBound;
  model.layers.forEach((layer, index) => {
    if (layer.type !== 'dense') return;
    const weights = layer.weights.map((row) => row.map((w) => toFixed(w, fracBits)));
    const bias = layer.bias.map((b) => toFixed(b, 2 * fracBits));
    const relu = model.layers[index + 1]?.type === 'relu';
    const magnitude = (v: bigint) => (v < 0n ? -v : v);
    const weightBits = bitLength(weights.flat().reduce((max, w) => (magnitude(w) > max ? magnitude(w) : max), 0n)) + 1;
    const biasBits = bitLength(bias.reduce((max, b) => (magnitude(b) > max ? magnitude(b) : max), 0n)) + 1;
    // |acc + bias| <= n_in * 2^(W-1) * bound + 2^(Wb-1) = worst < 2^(B-1); and B >= f + 1 for the rescale gadgets.
    const worst = BigInt(weights[0]!.length) * (1n << BigInt(weightBits - 1)) * bound + (1n << BigInt(biasBits - 1));
    const accBits = Math.max(bitLength(worst) + 1, fracBits + 1);
    if (accBits > MAX_ACC_BITS) throw new ModelError(`layer ${index} needs a ${accBits}-bit accumulator (more than ${MAX_ACC_BITS}): narrow the input range or use fewer fractional bits`);
    layers.push({ weights, bias, relu, accBits, weightBits, biasBits, inputBound: bound });
    // floor(v / 2^f) for |v| < 2^(B-1) lies in [-2^(B-1-f), 2^(B-1-f)); after ReLU in [0, 2^(B-1-f)).
    bound = 1n << BigInt(Math.max(accBits - 1 - fracBits, 0));
  });
  return { name: model.name, fracBits, inputSize: model.input.size, inputMin, inputMax, inputBound, inputBits, layers };
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
    if (x < model.inputMin || x > model.inputMax) throw new ModelError(`input[${j}] = ${x} (fixed point) is outside [${model.inputMin}, ${model.inputMax}]`);
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
