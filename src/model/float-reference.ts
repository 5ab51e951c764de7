/**
 * A float reference: run an ONNX model as it is, in float32, with ONNX Runtime (`onnxruntime-node`, CPU), to compare
 * zkai's quantized models and circuits against what the original model computes.
 *
 * `onnxruntime-node` is loaded only when a model is run, so commands that never need it do not pay for loading its
 * native library. The dependency is pinned to 1.17.0, the newest version with no install script: every later version
 * (and 1.17.3) runs a postinstall step that downloads CUDA binaries from GitHub or NuGet on Linux x64, which fails
 * without network access beyond npm. 1.17.0 ships no type declarations of its own, so its API is typed with those of
 * `onnxruntime-common` (the package it re-exports, at the same exact version).
 */

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { ModelError } from './native.ts';
import { readOnnxModel, type OnnxDim, type OnnxGraph } from './onnx.ts';

/** The part of the `onnxruntime-node` module this file uses. */
type OnnxRuntime = Pick<typeof import('onnxruntime-common'), 'InferenceSession' | 'Tensor'>;

/** One input's result: the model's first output, flattened, and the index of its largest value. */
export interface FloatReferenceResult {
  /** The first output tensor, flattened row-major. */
  output: number[];
  /** Index of the largest value of `output` (the first one on ties). */
  predicted: number;
}

/** Options of {@link runOnnxFloat}. */
export interface FloatReferenceOptions {
  /**
   * The full shape of the tensor to feed, batch dimension (1) included, for example `[1, 4]` or `[1, 1, 6, 6]`.
   * Defaults to the shape the model declares for its input, with a symbolic batch dimension taken as 1.
   */
  inputShape?: number[];
}

// A variable specifier: onnxruntime-node 1.17.0 has no type declarations, so a literal `import('onnxruntime-node')`
// would not type-check; the module's API is typed with onnxruntime-common's declarations instead.
const ORT_MODULE: string = 'onnxruntime-node';

const NOT_ONNX_HINT = 'check that the file is an ONNX model (for example from torch.onnx.export) and was copied whole';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function modelError(message: string, hint: string | undefined, cause: unknown): ModelError {
  const error = new ModelError(message, hint);
  error.cause = cause;
  return error;
}

function isOnnxRuntime(value: unknown): value is OnnxRuntime {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof OnnxRuntime, unknown>>;
  return typeof candidate.InferenceSession === 'function' && typeof candidate.Tensor === 'function';
}

async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  let loaded: unknown;
  try {
    loaded = await import(ORT_MODULE);
  } catch (error) {
    throw modelError(
      `cannot load onnxruntime-node: ${errorText(error)}`,
      'run `npm ci` (or `npm install`) in the zkai directory; onnxruntime-node ships CPU binaries for Linux, macOS and Windows',
      error,
    );
  }
  // Node gives a CommonJS module's exports as named exports when it can detect them, and always as `default`.
  if (isOnnxRuntime(loaded)) return loaded;
  const fallback =
    typeof loaded === 'object' && loaded !== null ? (loaded as { default?: unknown }).default : undefined;
  if (isOnnxRuntime(fallback)) return fallback;
  throw new ModelError(
    'onnxruntime-node loaded but does not export InferenceSession and Tensor',
    'reinstall dependencies with `npm ci`',
  );
}

function checkShape(shape: readonly number[], path: string): number[] {
  if (shape.length === 0 || !shape.every((dim) => Number.isInteger(dim) && dim >= 1)) {
    throw new ModelError(
      `${path}: inputShape must be a non-empty list of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  return [...shape];
}

/** The shape the model declares for `inputName`, a symbolic batch dimension taken as 1. */
async function declaredInputShape(path: string, inputName: string): Promise<number[]> {
  const passShape = 'pass options.inputShape, the full input shape with batch dimension 1 (for example [1, 4])';
  let graph: OnnxGraph;
  try {
    graph = await readOnnxModel(path);
  } catch (error) {
    throw modelError(`${path}: cannot read the model's declared input shape: ${errorText(error)}`, passShape, error);
  }
  const input = graph.inputs.find((value) => value.name === inputName);
  if (input === undefined) throw new ModelError(`${path}: the model declares no input named '${inputName}'`, passShape);
  if (input.elementType !== 'float') {
    throw new ModelError(
      `${path}: input '${inputName}' is of type ${input.elementType}; the float reference feeds float32 inputs only`,
    );
  }
  const declared: readonly OnnxDim[] | null = input.shape;
  if (declared === null || declared.length === 0) {
    throw new ModelError(`${path}: the model does not declare the shape of input '${inputName}'`, passShape);
  }
  return declared.map((dim, axis) => {
    if (typeof dim === 'number' && dim >= 1) return dim;
    if (axis === 0) return 1;
    throw new ModelError(
      `${path}: dimension ${axis} of input '${inputName}' is not fixed (${JSON.stringify(dim)})`,
      passShape,
    );
  });
}

/** The tensor's values as numbers, flattened. */
function outputValues(tensor: Tensor, path: string, outputName: string, index: number): number[] {
  const data = tensor.data;
  if (tensor.type === 'string' || tensor.type === 'float16' || Array.isArray(data)) {
    throw new ModelError(
      `${path}: output '${outputName}' for input ${index} is of type ${tensor.type}, not a number type the float reference reads`,
    );
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return Array.from(data, (value) => Number(value));
  return Array.from(data);
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) > (values[best] as number)) best = i;
  }
  return best;
}

/**
 * Run an ONNX model in float32 with ONNX Runtime (CPU), one input at a time: the reference that zkai's quantized
 * model and circuit outputs are compared against.
 *
 * The model is loaded once (one intra-op and one inter-op thread, sequential execution) and always released before
 * this returns or throws. Each input is fed as a float32 tensor of the input shape, batch dimension 1, to the model's
 * only input; the result holds the model's first output.
 *
 * @param path the `.onnx` file
 * @param inputs the inputs, each one tensor flattened row-major (channel first for images): as many values as the
 *   input shape holds
 * @param options `inputShape`: the full input shape with batch dimension 1, for example `[1, 1, 6, 6]`; by default the
 *   shape the model declares, a symbolic first (batch) dimension taken as 1
 * @returns one result per input, in order: the first output flattened, and its argmax (the first index of the largest
 *   value)
 * @throws {ModelError} when onnxruntime-node cannot be loaded; when ONNX Runtime cannot load the file (missing, not an
 *   ONNX model, unsupported operators); when the model has more than one input, or its input shape is not known and
 *   no `inputShape` is given; when an input has the wrong number of values or a non-finite value (the message names
 *   the input's index); when ONNX Runtime fails on an input (the message names the file and the input's index)
 */
export async function runOnnxFloat(
  path: string,
  inputs: readonly (readonly number[])[],
  options: FloatReferenceOptions = {},
): Promise<FloatReferenceResult[]> {
  const ort = await loadOnnxRuntime();
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Errors only: ONNX Runtime otherwise warns on stderr about things such as unused initializers.
    logSeverityLevel: 3,
  };
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, sessionOptions);
  } catch (error) {
    throw modelError(`${path}: ONNX Runtime cannot load the model: ${errorText(error)}`, NOT_ONNX_HINT, error);
  }
  let failed = false;
  try {
    if (session.inputNames.length !== 1) {
      throw new ModelError(
        `${path}: the float reference runs models with exactly one input; this one has ${session.inputNames.length} (${session.inputNames.join(', ')})`,
      );
    }
    const inputName = session.inputNames[0] as string;
    const outputName = session.outputNames[0];
    if (outputName === undefined) throw new ModelError(`${path}: the model has no outputs`);
    const shape =
      options.inputShape === undefined
        ? await declaredInputShape(path, inputName)
        : checkShape(options.inputShape, path);
    const size = shape.reduce((product, dim) => product * dim, 1);

    inputs.forEach((input, index) => {
      if (input.length !== size) {
        throw new ModelError(
          `${path}: input ${index} has ${input.length} values, but the model's input '${inputName}' of shape [${shape.join(', ')}] takes ${size}`,
        );
      }
      const bad = input.findIndex((value) => typeof value !== 'number' || !Number.isFinite(value));
      if (bad !== -1)
        throw new ModelError(
          `${path}: input ${index} has a non-finite value at position ${bad}: ${String(input[bad])}`,
        );
    });

    const results: FloatReferenceResult[] = [];
    for (const [index, input] of inputs.entries()) {
      let outputs: InferenceSession.OnnxValueMapType;
      try {
        outputs = await session.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(input), shape) }, [
          outputName,
        ]);
      } catch (error) {
        throw modelError(`${path}: ONNX Runtime failed on input ${index}: ${errorText(error)}`, undefined, error);
      }
      const tensor = outputs[outputName];
      if (tensor === undefined)
        throw new ModelError(`${path}: ONNX Runtime returned no output '${outputName}' for input ${index}`);
      const output = outputValues(tensor, path, outputName, index);
      if (output.length === 0) throw new ModelError(`${path}: output '${outputName}' for input ${index} is empty`);
      results.push({ output, predicted: argmax(output) });
    }
    return results;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      await session.release();
    } catch (error) {
      // Do not hide the error that is already on its way out; report a failed release only after a success.
      if (!failed) {
        // eslint-disable-next-line no-unsafe-finally -- thrown only when nothing else is on its way out
        throw modelError(`${path}: ONNX Runtime failed to release the model: ${errorText(error)}`, undefined, error);
      }
    }
  }
}
