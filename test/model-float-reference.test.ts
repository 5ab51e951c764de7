import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runOnnxFloat } from '../src/model/float-reference.ts';
import { ModelError } from '../src/model/native.ts';

const MODELS_DIR = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const FIXTURES = ['mlp', 'mlp-matmul', 'cnn', 'cnn-avgpool'] as const;
const TOLERANCE = 1e-5;

interface Expected {
  inputShape: number[];
  samples: Array<{ input: unknown; output: unknown }>;
}

/** A nested array of numbers (as PyTorch's `tolist()` writes a tensor), flattened row-major. */
function flatten(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (!Array.isArray(value))
    throw new Error(`expected numbers or nested arrays of numbers, got ${JSON.stringify(value)}`);
  return value.flatMap((item: unknown) => flatten(item));
}

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((value, index) => {
    if (value > (values[best] as number)) best = index;
  });
  return best;
}

async function readExpected(name: string): Promise<Expected> {
  return JSON.parse(await readFile(join(MODELS_DIR, `${name}.expected.json`), 'utf8')) as Expected;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('runOnnxFloat', () => {
  for (const name of FIXTURES) {
    it(`reproduces PyTorch's outputs for ${name}.onnx`, async () => {
      const expected = await readExpected(name);
      const inputs = expected.samples.map((sample) => flatten(sample.input));
      const product = expected.inputShape.reduce((a, b) => a * b, 1);
      for (const input of inputs) expect(input).toHaveLength(product);

      // The shape the model declares...
      const results = await runOnnxFloat(join(MODELS_DIR, `${name}.onnx`), inputs);
      // ...and the one the caller gives give the same outputs.
      const withShape = await runOnnxFloat(join(MODELS_DIR, `${name}.onnx`), inputs, {
        inputShape: expected.inputShape,
      });
      expect(withShape).toEqual(results);

      expect(results).toHaveLength(expected.samples.length);
      results.forEach((result, index) => {
        const want = flatten(expected.samples[index]?.output);
        expect(result.output).toHaveLength(want.length);
        result.output.forEach((value, j) => {
          expect(Math.abs(value - (want[j] as number)), `${name} sample ${index} output ${j}`).toBeLessThanOrEqual(
            TOLERANCE,
          );
        });
        expect(result.predicted).toBe(argmax(want));
      });
    });
  }

  it('gives an empty result for no inputs', async () => {
    expect(await runOnnxFloat(join(MODELS_DIR, 'mlp.onnx'), [])).toEqual([]);
  });

  it('refuses an input of the wrong length with a ModelError naming its index', async () => {
    const path = join(MODELS_DIR, 'mlp.onnx');
    const error = await rejection(
      runOnnxFloat(path, [
        [0.1, 0.2, 0.3, 0.4],
        [0.1, 0.2, 0.3],
      ]),
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('BAD_MODEL');
    expect((error as ModelError).message).toContain(path);
    expect((error as ModelError).message).toMatch(/input 1 has 3 values.*\[1, 4\] takes 4/);

    const shaped = await rejection(
      runOnnxFloat(join(MODELS_DIR, 'cnn.onnx'), [new Array<number>(36).fill(0)], { inputShape: [1, 1, 6, 5] }),
    );
    expect(shaped).toBeInstanceOf(ModelError);
    expect((shaped as ModelError).message).toMatch(/input 0 has 36 values.*\[1, 1, 6, 5\] takes 30/);
  });

  it('wraps an ONNX Runtime failure on an input into a ModelError naming the file and the input index', async () => {
    const path = join(MODELS_DIR, 'mlp.onnx');
    // The right number of values for the given shape, but a shape the model does not accept.
    const error = await rejection(
      runOnnxFloat(
        path,
        [
          [1, 2, 3, 4],
          [1, 2, 3, 4, 5],
        ],
        { inputShape: [1, 5] },
      ),
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toContain(path);
    expect((error as ModelError).message).toContain('input 0 has 4 values');

    const failed = await rejection(runOnnxFloat(path, [[1, 2, 3, 4, 5]], { inputShape: [1, 5] }));
    expect(failed).toBeInstanceOf(ModelError);
    expect((failed as ModelError).message).toContain(`${path}: ONNX Runtime failed on input 0`);
  });

  it('refuses a non-ONNX file and a missing file with a ModelError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkai-float-ref-'));
    try {
      const path = join(dir, 'not-a-model.onnx');
      await writeFile(path, 'this is not an ONNX model\n');
      const error = await rejection(runOnnxFloat(path, [[1, 2, 3, 4]]));
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).message).toContain(path);
      expect((error as ModelError).hint).toMatch(/ONNX model/);

      const missing = await rejection(runOnnxFloat(join(dir, 'missing.onnx'), [[1, 2, 3, 4]]));
      expect(missing).toBeInstanceOf(ModelError);
      expect((missing as ModelError).message).toContain('missing.onnx');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad inputShape and non-finite input values', async () => {
    const path = join(MODELS_DIR, 'mlp.onnx');
    await expect(runOnnxFloat(path, [[1, 2, 3, 4]], { inputShape: [1, 0, 4] })).rejects.toThrow(ModelError);
    const error = await rejection(
      runOnnxFloat(path, [
        [1, 2, 3, 4],
        [1, Number.NaN, 3, 4],
      ]),
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toContain('input 1 has a non-finite value at position 1');
  });
});
