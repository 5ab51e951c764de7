import { ModelError } from './errors.ts';
import { windowOutput, type Shape3, type WindowSpec } from './layers.ts';
import { readJsonFile } from '../util/json-file.ts';

/**
 * zkai's native model format (JSON), for models written by hand or converted from elsewhere (and what `zkai model
 * import` writes): dense, convolution and pooling layers, ReLU after a linear layer, ending in an argmax over the last
 * dense layer's outputs.
 *
 * ```json
 * { "format": "zkai-model-v1", "name": "iris-mlp",
 *   "input": { "size": 4, "min": -10, "max": 10 },
 *   "layers": [ { "type": "dense", "weights": [[...4 numbers], ...8 rows], "bias": [...8] }, { "type": "relu" },
 *               { "type": "dense", "weights": [[...8], ...3 rows], "bias": [...3] }, { "type": "argmax" } ] }
 * ```
 *
 * `weights[k][j]` multiplies input j into output k (PyTorch's Linear layout). `input.min`/`max` bound every input
 * value: quantization derives every bit width from them, so no value can overflow its range.
 *
 * Image models give `input.shape` [C, H, W] (the input vector is that tensor flattened channel first) and use
 * `{ "type": "conv", "outChannels": 4, "kernel": [3, 3], "stride": [1, 1], "pads": [1, 1, 1, 1], "weights":
 * [out][in][kh][kw], "bias": [out] }`, `{ "type": "maxpool", "kernel": [2, 2] }` and `{ "type": "avgpool", "kernel":
 * [2, 2], "countIncludePad": false }` (stride defaults to the kernel, pads [top, left, bottom, right] to 0). A dense
 * layer after them reads the flattened activation (PyTorch's Flatten).
 */
export const NATIVE_MODEL_FORMAT = 'zkai-model-v1';

/** One layer of a float model. Convolution and pooling layers carry the [C, H, W] shape they receive. */
export type FloatLayer =
  | { type: 'dense'; weights: number[][]; bias: number[] }
  | ({ type: 'conv'; input: Shape3; outChannels: number; weights: number[][][][]; bias: number[] } & WindowSpec)
  | ({ type: 'maxpool'; input: Shape3 } & WindowSpec)
  | ({ type: 'avgpool'; input: Shape3; countIncludePad: boolean } & WindowSpec)
  | { type: 'relu' }
  | { type: 'argmax' };

/** A validated float model. `input.shape` is [C, H, W] for image-like inputs (required before a conv or pooling layer). */
export interface FloatModel {
  name: string;
  input: { size: number; min: number; max: number; shape?: Shape3 };
  layers: FloatLayer[];
}

export { ModelError };

function finiteNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ModelError(`${what} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

function intPair(value: unknown, what: string, fallback?: [number, number]): [number, number] {
  if (value === undefined && fallback) return fallback;
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => Number.isInteger(v) && v >= 1 && v <= 64))
    throw new ModelError(`${what} must be two integers from 1 to 64, got ${JSON.stringify(value)}`);
  return [value[0] as number, value[1] as number];
}

function padsOf(value: unknown, what: string): [number, number, number, number] {
  if (value === undefined) return [0, 0, 0, 0];
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => Number.isInteger(v) && v >= 0 && v <= 64))
    throw new ModelError(
      `${what} must be four integers [top, left, bottom, right] from 0 to 64, got ${JSON.stringify(value)}`,
    );
  return value as [number, number, number, number];
}

function shapeOf(value: unknown, what: string): Shape3 {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096))
    throw new ModelError(`${what} must be [channels, height, width] (positive integers), got ${JSON.stringify(value)}`);
  return value as unknown as Shape3;
}

const LINEAR_TYPES = new Set(['dense', 'conv', 'avgpool']);

/**
 * Validate a native model object: shapes chain (each layer takes the previous layer's output size), ReLU only after a
 * dense, conv or average-pooling layer (it is fused into that layer's rescale), exactly one argmax, last, after a dense
 * layer; every number finite. Conv and pooling layers need the [C, H, W] shape they receive: from `input.shape`, or
 * from the previous conv or pooling layer.
 */
export function parseNativeModel(raw: unknown, source = 'model'): FloatModel {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ModelError(`${source}: a model must be a JSON object`);
  const spec = raw as Record<string, unknown>;
  if (spec.format !== NATIVE_MODEL_FORMAT)
    throw new ModelError(`${source}: "format" must be "${NATIVE_MODEL_FORMAT}", got ${JSON.stringify(spec.format)}`);
  const unknownKeys = Object.keys(spec).filter((key) => !['format', 'name', 'input', 'layers'].includes(key));
  if (unknownKeys.length > 0)
    throw new ModelError(
      `${source}: unknown key(s) ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} (allowed: format, name, input, layers)`,
    );
  if (typeof spec.name !== 'string' || spec.name.length === 0)
    throw new ModelError(`${source}: "name" must be a non-empty string`);
  const input = spec.input as Record<string, unknown> | undefined;
  if (typeof input !== 'object' || input === null)
    throw new ModelError(`${source}: "input" must be an object {size, min, max}`);
  const size = input.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 65536)
    throw new ModelError(`${source}: input.size must be an integer from 1 to 65536, got ${JSON.stringify(size)}`);
  const min = finiteNumber(input.min, `${source}: input.min`);
  const max = finiteNumber(input.max, `${source}: input.max`);
  if (!(min < max)) throw new ModelError(`${source}: input.min must be below input.max`);
  const inputShape = input.shape === undefined ? undefined : shapeOf(input.shape, `${source}: input.shape`);
  if (inputShape && inputShape[0] * inputShape[1] * inputShape[2] !== size)
    throw new ModelError(
      `${source}: input.shape [${inputShape.join(', ')}] holds ${inputShape[0] * inputShape[1] * inputShape[2]} values, not input.size ${size}`,
    );
  if (!Array.isArray(spec.layers) || spec.layers.length === 0)
    throw new ModelError(`${source}: "layers" must be a non-empty list`);
  const rawLayers = spec.layers as Array<Record<string, unknown> | null>;
  let width = size;
  let shape: Shape3 | undefined = inputShape;
  const layers = rawLayers.map((layer, index): FloatLayer => {
    const what = `${source}: layers[${index}]`;
    if (typeof layer !== 'object' || layer === null) throw new ModelError(`${what} must be an object with a "type"`);
    const l = layer;
    const previous = rawLayers[index - 1]?.type;
    const imageInput = (): Shape3 => {
      const given = l.input === undefined ? undefined : shapeOf(l.input, `${what}: input`);
      const current = given ?? shape;
      if (!current)
        throw new ModelError(
          `${what}: a ${String(l.type)} layer needs the [C, H, W] shape it receives: give input.shape (or "input" on the layer)`,
        );
      if (current[0] * current[1] * current[2] !== width)
        throw new ModelError(
          `${what}: input shape [${current.join(', ')}] holds ${current[0] * current[1] * current[2]} values, but the previous layer gives ${width}`,
        );
      return current;
    };
    const window = (): WindowSpec => ({
      kernel: intPair(l.kernel, `${what}: kernel`),
      stride: intPair(l.stride, `${what}: stride`, intPair(l.kernel, `${what}: kernel`)),
      pads: padsOf(l.pads, `${what}: pads`),
    });
    const pass = (out: Shape3) => {
      shape = out;
      width = out[0] * out[1] * out[2];
    };
    switch (l.type) {
      case 'dense': {
        if (!Array.isArray(l.weights) || l.weights.length === 0)
          throw new ModelError(`${what}: dense "weights" must be a non-empty list of rows`);
        const weights = l.weights.map((row: unknown, k) => {
          if (!Array.isArray(row) || row.length !== width)
            throw new ModelError(
              `${what}: weights row ${k} must have ${width} numbers (the previous layer's size), got ${Array.isArray(row) ? row.length : typeof row}`,
            );
          return row.map((w: unknown, j) => finiteNumber(w, `${what}: weights[${k}][${j}]`));
        });
        if (!Array.isArray(l.bias) || l.bias.length !== weights.length)
          throw new ModelError(`${what}: "bias" must have ${weights.length} numbers (one per row of weights)`);
        const bias = l.bias.map((b: unknown, k) => finiteNumber(b, `${what}: bias[${k}]`));
        width = weights.length;
        shape = undefined;
        return { type: 'dense', weights, bias };
      }
      case 'conv': {
        const inShape = imageInput();
        const spec = window();
        const outChannels = l.outChannels;
        if (typeof outChannels !== 'number' || !Number.isInteger(outChannels) || outChannels < 1 || outChannels > 1024)
          throw new ModelError(`${what}: outChannels must be an integer from 1 to 1024`);
        const [kh, kw] = spec.kernel;
        if (!Array.isArray(l.weights) || l.weights.length !== outChannels)
          throw new ModelError(
            `${what}: conv "weights" must be [outChannels=${outChannels}][inChannels=${inShape[0]}][${kh}][${kw}]`,
          );
        const weights = (l.weights as unknown[]).map((perOut, o) => {
          if (!Array.isArray(perOut) || perOut.length !== inShape[0])
            throw new ModelError(`${what}: weights[${o}] must have ${inShape[0]} input channels`);
          return perOut.map((kernel: unknown, c) => {
            if (!Array.isArray(kernel) || kernel.length !== kh)
              throw new ModelError(`${what}: weights[${o}][${c}] must have ${kh} rows`);
            return kernel.map((row: unknown, y) => {
              if (!Array.isArray(row) || row.length !== kw)
                throw new ModelError(`${what}: weights[${o}][${c}][${y}] must have ${kw} numbers`);
              return row.map((w: unknown, x) => finiteNumber(w, `${what}: weights[${o}][${c}][${y}][${x}]`));
            });
          });
        });
        if (!Array.isArray(l.bias) || l.bias.length !== outChannels)
          throw new ModelError(`${what}: "bias" must have ${outChannels} numbers (one per output channel)`);
        const bias = l.bias.map((b: unknown, k) => finiteNumber(b, `${what}: bias[${k}]`));
        const [outH, outW] = windowOutput(inShape, spec, what);
        pass([outChannels, outH, outW]);
        return { type: 'conv', input: inShape, outChannels, ...spec, weights, bias };
      }
      case 'maxpool':
      case 'avgpool': {
        const inShape = imageInput();
        const spec = window();
        const [outH, outW] = windowOutput(inShape, spec, what);
        pass([inShape[0], outH, outW]);
        if (l.type === 'maxpool') return { type: 'maxpool', input: inShape, ...spec };
        if (l.countIncludePad !== undefined && typeof l.countIncludePad !== 'boolean')
          throw new ModelError(`${what}: countIncludePad must be true or false`);
        return { type: 'avgpool', input: inShape, ...spec, countIncludePad: l.countIncludePad === true };
      }
      case 'relu':
        if (index === 0 || !LINEAR_TYPES.has(String(previous)))
          throw new ModelError(
            `${what}: relu must follow a dense, conv or avgpool layer (it is fused into that layer's rescale)`,
          );
        return { type: 'relu' };
      case 'argmax':
        if (index !== rawLayers.length - 1) throw new ModelError(`${what}: argmax must be the last layer`);
        if (previous !== 'dense')
          throw new ModelError(`${what}: argmax must follow a dense layer (its logits), not a ${String(previous)}`);
        return { type: 'argmax' };
      default:
        throw new ModelError(
          `${what}: unknown layer type ${JSON.stringify(l.type)} (native models support dense, conv, maxpool, avgpool, relu, argmax)`,
        );
    }
  });
  if (layers.at(-1)?.type !== 'argmax')
    throw new ModelError(`${source}: the last layer must be argmax (the proven output is the predicted class)`);
  return { name: spec.name, input: { size, min, max, ...(inputShape ? { shape: inputShape } : {}) }, layers };
}

/** Read and validate a native model file. */
export async function loadNativeModel(path: string): Promise<FloatModel> {
  return parseNativeModel(await readJsonFile(path, 'model'), path);
}
