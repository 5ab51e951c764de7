import { ModelError } from './errors.ts';

/**
 * Layer geometry shared by the float model, the quantizer, the integer reference and the circuit generator.
 *
 * Activations flow as flat vectors. An image-like activation of shape [C, H, W] is flattened channel first, then row,
 * then column (ONNX/PyTorch NCHW order without the batch), so Flatten and Reshape are no-ops and a Gemm after Flatten
 * reads its inputs in the order PyTorch does.
 *
 * Every linear layer (dense, conv, average pooling) is lowered to one sparse form: output k is
 * `sum over its terms (input i, parameter p) of param[p] * x[i]  +  bias[biasOf[k]]`. A dense layer has one parameter
 * per (k, i); a convolution shares its kernel between outputs (few parameters, many terms); pooling's parameters are
 * architecture constants (1/window size), never private. Zero padding is simply a missing term.
 */
export type Shape3 = readonly [channels: number, height: number, width: number];

/** Window geometry of a convolution or pooling layer (dilation 1). `pads` = [top, left, bottom, right]. */
export interface WindowSpec {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  pads: readonly [number, number, number, number];
}

/** The output height and width of a window sliding over [H, W] (floor mode, as ONNX with ceil_mode 0). */
export function windowOutput(input: Shape3, spec: WindowSpec, what: string): [number, number] {
  const [, height, width] = input;
  const [kh, kw] = spec.kernel;
  const [sh, sw] = spec.stride;
  const [top, left, bottom, right] = spec.pads;
  if (![kh, kw, sh, sw].every((v) => Number.isInteger(v) && v >= 1))
    throw new ModelError(
      `${what}: kernel and stride must be positive integers, got kernel [${kh}, ${kw}], stride [${sh}, ${sw}]`,
    );
  if (![top, left, bottom, right].every((v) => Number.isInteger(v) && v >= 0))
    throw new ModelError(`${what}: pads must be non-negative integers, got [${spec.pads.join(', ')}]`);
  if (top >= kh || bottom >= kh || left >= kw || right >= kw)
    throw new ModelError(
      `${what}: padding [${spec.pads.join(', ')}] must be smaller than the kernel [${kh}, ${kw}] (a window would see only padding)`,
    );
  const outH = Math.floor((height + top + bottom - kh) / sh) + 1;
  const outW = Math.floor((width + left + right - kw) / sw) + 1;
  if (outH < 1 || outW < 1)
    throw new ModelError(
      `${what}: a ${kh}x${kw} window does not fit a ${height}x${width} input with pads [${spec.pads.join(', ')}]`,
    );
  return [outH, outW];
}

/** The input positions one window covers, in row-major kernel order; positions in the padding are -1. */
function windowPositions(input: Shape3, spec: WindowSpec, channel: number, oy: number, ox: number): number[] {
  const [, height, width] = input;
  const positions: number[] = [];
  for (let ky = 0; ky < spec.kernel[0]; ky++) {
    for (let kx = 0; kx < spec.kernel[1]; kx++) {
      const y = oy * spec.stride[0] - spec.pads[0] + ky;
      const x = ox * spec.stride[1] - spec.pads[1] + kx;
      positions.push(y >= 0 && y < height && x >= 0 && x < width ? (channel * height + y) * width + x : -1);
    }
  }
  return positions;
}

/** A linear layer in sparse form (see the module comment); parameters are numbers or bigints. */
export interface SparseLinear<T> {
  inputs: number;
  outputs: number;
  /** terms[k] = [input0, param0, input1, param1, ...]. */
  terms: Int32Array[];
  params: T[];
  bias: T[];
  /** The bias index of output k, or -1 for none. */
  biasOf: Int32Array;
}

/** Dense weights [out][in] as a sparse linear layer (one parameter per weight, row-major). */
export function denseTerms(outputs: number, inputs: number): Int32Array[] {
  return Array.from({ length: outputs }, (_, k) => {
    const row = new Int32Array(2 * inputs);
    for (let j = 0; j < inputs; j++) {
      row[2 * j] = j;
      row[2 * j + 1] = k * inputs + j;
    }
    return row;
  });
}

/** A convolution's terms: output (o, y, x) takes kernel[o][c][ky][kx] (parameter ((o*C + c)*kh + ky)*kw + kx) times its input. */
export function convTerms(
  input: Shape3,
  outChannels: number,
  spec: WindowSpec,
): { terms: Int32Array[]; outShape: Shape3 } {
  const [channels] = input;
  const [outH, outW] = windowOutput(input, spec, 'conv');
  const perKernel = spec.kernel[0] * spec.kernel[1];
  const terms: Int32Array[] = [];
  for (let o = 0; o < outChannels; o++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const row: number[] = [];
        for (let c = 0; c < channels; c++) {
          windowPositions(input, spec, c, oy, ox).forEach((position, offset) => {
            if (position >= 0) row.push(position, (o * channels + c) * perKernel + offset);
          });
        }
        terms.push(Int32Array.from(row));
      }
    }
  }
  return { terms, outShape: [outChannels, outH, outW] };
}

/**
 * Average pooling as a linear layer: output (c, y, x) = sum of its window / divisor. The divisor is the kernel size
 * when padding counts (count_include_pad = 1, or padding that came from an explicit zero Pad), else the number of
 * positions inside the input. `params[p]` is 1 / divisor, one parameter per distinct divisor.
 */
export function averagePoolTerms(
  input: Shape3,
  spec: WindowSpec,
  countIncludePad: boolean,
): { terms: Int32Array[]; divisors: number[]; outShape: Shape3 } {
  const [channels] = input;
  const [outH, outW] = windowOutput(input, spec, 'average pooling');
  const divisors: number[] = [];
  const terms: Int32Array[] = [];
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const positions = windowPositions(input, spec, c, oy, ox);
        const inside = positions.filter((p) => p >= 0);
        const divisor = countIncludePad ? positions.length : inside.length;
        let param = divisors.indexOf(divisor);
        if (param < 0) param = divisors.push(divisor) - 1;
        terms.push(Int32Array.from(inside.flatMap((p) => [p, param])));
      }
    }
  }
  return { terms, divisors, outShape: [channels, outH, outW] };
}

/** Max pooling windows: the input positions each output takes the maximum of (ONNX pads are -infinity: left out). */
export function maxPoolWindows(input: Shape3, spec: WindowSpec): { windows: Int32Array[]; outShape: Shape3 } {
  const [channels] = input;
  const [outH, outW] = windowOutput(input, spec, 'max pooling');
  const windows: Int32Array[] = [];
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++)
        windows.push(Int32Array.from(windowPositions(input, spec, c, oy, ox).filter((p) => p >= 0)));
    }
  }
  return { windows, outShape: [channels, outH, outW] };
}

/** Evaluate a sparse linear layer on numbers (the float reference). */
export function applySparseFloat(layer: SparseLinear<number>, input: readonly number[]): number[] {
  return layer.terms.map((row, k) => {
    let sum = layer.biasOf[k]! >= 0 ? layer.bias[layer.biasOf[k]!]! : 0;
    for (let t = 0; t < row.length; t += 2) sum += layer.params[row[t + 1]!]! * input[row[t]!]!;
    return sum;
  });
}

/** Evaluate a sparse linear layer on integers: the exact accumulator, before rescaling. */
export function applySparseExact(layer: SparseLinear<bigint>, input: readonly bigint[]): bigint[] {
  return layer.terms.map((row, k) => {
    let sum = layer.biasOf[k]! >= 0 ? layer.bias[layer.biasOf[k]!]! : 0n;
    for (let t = 0; t < row.length; t += 2) sum += layer.params[row[t + 1]!]! * input[row[t]!]!;
    return sum;
  });
}

/** The largest number of terms of any output (what a worst-case accumulator bound multiplies). */
export function maxTerms(terms: readonly Int32Array[]): number {
  return terms.reduce((max, row) => Math.max(max, row.length / 2), 0);
}
