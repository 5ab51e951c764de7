import { ZkaiError } from '../errors.ts';
import { readJsonFile } from '../util/json-file.ts';

/**
 * zkai's native model format (JSON), for models written by hand or converted from elsewhere: a multilayer perceptron
 * of dense layers, each optionally followed by ReLU, ending in an argmax over the last layer's outputs.
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
 */
export const NATIVE_MODEL_FORMAT = 'zkai-model-v1';

/** One layer of a float model. */
export type FloatLayer = { type: 'dense'; weights: number[][]; bias: number[] } | { type: 'relu' } | { type: 'argmax' };

/** A validated float model. */
export interface FloatModel {
  name: string;
  input: { size: number; min: number; max: number };
  layers: FloatLayer[];
}

/** A model that is malformed or that zkai cannot prove. */
export class ModelError extends ZkaiError {
  constructor(message: string, hint?: string) {
    super('BAD_MODEL', message, hint ? { hint } : undefined);
  }
}

function finiteNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ModelError(`${what} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Validate a native model object: shapes chain (each dense layer takes the previous size), ReLU only after a dense
 * layer, exactly one argmax and it is last, every number finite.
 */
export function parseNativeModel(raw: unknown, source = 'model'): FloatModel {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelError(`${source}: a model must be a JSON object`);
  const spec = raw as Record<string, unknown>;
  if (spec.format !== NATIVE_MODEL_FORMAT) throw new ModelError(`${source}: "format" must be "${NATIVE_MODEL_FORMAT}", got ${JSON.stringify(spec.format)}`);
  const unknownKeys = Object.keys(spec).filter((key) => !['format', 'name', 'input', 'layers'].includes(key));
  if (unknownKeys.length > 0) throw new ModelError(`${source}: unknown key(s) ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} (allowed: format, name, input, layers)`);
  if (typeof spec.name !== 'string' || spec.name.length === 0) throw new ModelError(`${source}: "name" must be a non-empty string`);
  const input = spec.input as Record<string, unknown> | undefined;
  if (typeof input !== 'object' || input === null) throw new ModelError(`${source}: "input" must be an object {size, min, max}`);
  const size = input.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 4096) throw new ModelError(`${source}: input.size must be an integer from 1 to 4096, got ${JSON.stringify(size)}`);
  const min = finiteNumber(input.min, `${source}: input.min`);
  const max = finiteNumber(input.max, `${source}: input.max`);
  if (!(min < max)) throw new ModelError(`${source}: input.min must be below input.max`);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new ModelError(`${source}: "layers" must be a non-empty list`);
  let width = size;
  const layers = spec.layers.map((layer: unknown, index): FloatLayer => {
    const what = `${source}: layers[${index}]`;
    if (typeof layer !== 'object' || layer === null) throw new ModelError(`${what} must be an object with a "type"`);
    const l = layer as Record<string, unknown>;
    switch (l.type) {
      case 'dense': {
        if (!Array.isArray(l.weights) || l.weights.length === 0) throw new ModelError(`${what}: dense "weights" must be a non-empty list of rows`);
        const weights = l.weights.map((row: unknown, k) => {
          if (!Array.isArray(row) || row.length !== width) throw new ModelError(`${what}: weights row ${k} must have ${width} numbers (the previous layer's size), got ${Array.isArray(row) ? row.length : typeof row}`);
          return row.map((w: unknown, j) => finiteNumber(w, `${what}: weights[${k}][${j}]`));
        });
        if (!Array.isArray(l.bias) || l.bias.length !== weights.length) throw new ModelError(`${what}: "bias" must have ${weights.length} numbers (one per row of weights)`);
        const bias = l.bias.map((b: unknown, k) => finiteNumber(b, `${what}: bias[${k}]`));
        width = weights.length;
        return { type: 'dense', weights, bias };
      }
      case 'relu':
        if (index === 0 || (spec.layers as Array<{ type?: unknown }>)[index - 1]?.type !== 'dense') throw new ModelError(`${what}: relu must follow a dense layer`);
        return { type: 'relu' };
      case 'argmax':
        if (index !== (spec.layers as unknown[]).length - 1) throw new ModelError(`${what}: argmax must be the last layer`);
        if ((spec.layers as Array<{ type?: unknown }>)[index - 1]?.type !== 'dense') throw new ModelError(`${what}: argmax must follow a dense layer (its logits), not a relu`);
        return { type: 'argmax' };
      default:
        throw new ModelError(`${what}: unknown layer type ${JSON.stringify(l.type)} (native models support dense, relu, argmax)`);
    }
  });
  if (layers.at(-1)?.type !== 'argmax') throw new ModelError(`${source}: the last layer must be argmax (the proven output is the predicted class)`);
  return { name: spec.name, input: { size, min, max }, layers };
}

/** Read and validate a native model file. */
export async function loadNativeModel(path: string): Promise<FloatModel> {
  return parseNativeModel(await readJsonFile(path, 'model'), path);
}
