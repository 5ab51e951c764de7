import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxSchema } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkaiError } from '../src/errors.ts';
import {
  listUnsupportedOps,
  OnnxError,
  parseOnnxModel,
  readOnnxModel,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxTensor,
} from '../src/model/onnx.ts';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

const MODELS_DIR = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const FIXTURES = ['mlp', 'mlp-matmul', 'cnn', 'cnn-avgpool', 'unsupported'] as const;

interface Expected {
  producer: string;
  irVersion: number;
  opset: number;
  inputShape: number[];
  opTypes: string[];
  nodeNames: string[];
  samples: Array<{ input: unknown; output: unknown }>;
}

const graphs = new Map<string, OnnxGraph>();
const expected = new Map<string, Expected>();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkai-model-onnx-'));
  for (const name of FIXTURES) {
    graphs.set(name, await readOnnxModel(join(MODELS_DIR, `${name}.onnx`)));
    expected.set(name, JSON.parse(await readFile(join(MODELS_DIR, `${name}.expected.json`), 'utf8')) as Expected);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function graph(name: string): OnnxGraph {
  const found = graphs.get(name);
  if (found === undefined) throw new Error(`fixture ${name} not loaded`);
  return found;
}

function initializer(model: OnnxGraph, name: string): OnnxTensor {
  const found = model.initializers.find((tensor) => tensor.name === name);
  if (found === undefined) throw new Error(`no initializer ${name}`);
  return found;
}

function nodeOf(model: OnnxGraph, opType: string, occurrence = 0) {
  const found = model.nodes.filter((node) => node.opType === opType)[occurrence];
  if (found === undefined) throw new Error(`no ${opType} node #${occurrence}`);
  return found;
}

/** Run `action`, expect an OnnxError, return it. */
async function onnxError(action: () => Promise<unknown> | unknown): Promise<OnnxError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(OnnxError);
    expect(error).toBeInstanceOf(ZkaiError);
    return error as OnnxError;
  }
  throw new Error('expected an OnnxError, nothing was thrown');
}

describe('readOnnxModel on the PyTorch fixtures', () => {
  it.each(FIXTURES)('%s: op types, node names, opset, producer and I/O match the export', (name) => {
    const model = graph(name);
    const want = expected.get(name) as Expected;
    expect(model.nodes.map((node) => node.opType)).toEqual(want.opTypes);
    expect(model.nodes.map((node) => node.name)).toEqual(want.nodeNames);
    expect(model.opset).toBe(want.opset);
    expect(model.opsets).toEqual([{ domain: '', version: want.opset }]);
    expect(model.irVersion).toBe(want.irVersion);
    expect(`${model.producer.name} ${model.producer.version}`).toBe(want.producer);
    expect(model.inputs).toEqual([{ name: 'input', elementType: 'float', shape: want.inputShape }]);
    expect(model.outputs).toHaveLength(1);
    expect(model.outputs[0]?.name).toBe('output');
    expect(model.nodes.every((node) => node.domain === '')).toBe(true);
    expect(want.samples).toHaveLength(3);
    for (const tensor of model.initializers) {
      expect(tensor.dataType).toBe('float');
      expect(tensor.data).toHaveLength(tensor.dims.reduce((a, b) => a * b, 1));
      for (const value of tensor.data) expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('mlp: Gemm weights are [out, in] with transB=1, biases match', () => {
    const model = graph('mlp');
    const first = nodeOf(model, 'Gemm', 0);
    expect(first.name).toBe('/fc1/Gemm');
    expect(first.inputs).toEqual(['input', 'fc1.weight', 'fc1.bias']);
    expect(initializer(model, 'fc1.weight').dims).toEqual([8, 4]);
    expect(initializer(model, 'fc1.bias').dims).toEqual([8]);
    expect(initializer(model, 'fc2.weight').dims).toEqual([3, 8]);
    expect(initializer(model, 'fc2.bias').dims).toEqual([3]);
    expect(first.attributes).toEqual({
      alpha: { type: 'float', value: 1 },
      beta: { type: 'float', value: 1 },
      transB: { type: 'int', value: 1 },
    } satisfies Record<string, OnnxAttribute>);
    expect(nodeOf(model, 'Softmax').attributes.axis).toEqual({ type: 'int', value: 1 });
    expect(model.constants).toEqual([]);
  });

  it('mlp: the decoded weights reproduce PyTorch outputs (Gemm, Relu, Gemm, Softmax in plain TypeScript)', () => {
    const model = graph('mlp');
    const values = (name: string) => initializer(model, name).data as number[];
    const gemm = (x: number[], weight: string, bias: string, outputs: number) =>
      Array.from({ length: outputs }, (_, row) =>
        x.reduce(
          (sum, value, column) => sum + value * (values(weight)[row * x.length + column] as number),
          values(bias)[row] as number,
        ),
      );
    for (const sample of (expected.get('mlp') as Expected).samples) {
      const hidden = gemm((sample.input as number[][])[0] as number[], 'fc1.weight', 'fc1.bias', 8).map((v) =>
        Math.max(0, v),
      );
      const logits = gemm(hidden, 'fc2.weight', 'fc2.bias', 3);
      const exps = logits.map((v) => Math.exp(v - Math.max(...logits)));
      const total = exps.reduce((a, b) => a + b, 0);
      const want = (sample.output as number[][])[0] as number[];
      exps.forEach((v, index) => expect(v / total).toBeCloseTo(want[index] as number, 6));
    }
  });

  it('mlp-matmul: MatMul + Add with pre-transposed weights, the Mul constant resolved, no Dropout', () => {
    const model = graph('mlp-matmul');
    expect(model.nodes.map((node) => node.opType)).not.toContain('Gemm');
    expect(model.nodes.map((node) => node.opType)).not.toContain('Dropout');
    const [firstMatMul, secondMatMul] = model.nodes.filter((node) => node.opType === 'MatMul');
    expect(initializer(model, firstMatMul?.inputs[1] ?? '').dims).toEqual([4, 8]);
    expect(initializer(model, secondMatMul?.inputs[1] ?? '').dims).toEqual([8, 3]);
    const mul = nodeOf(model, 'Mul');
    const constantName = mul.inputs[1];
    expect(model.constants).toEqual([{ name: constantName, dims: [], dataType: 'float', data: [0.5] }]);
    const constantNode = nodeOf(model, 'Constant');
    expect(constantNode.outputs).toEqual([constantName]);
    expect(constantNode.attributes.value?.type).toBe('tensor');
  });

  it('cnn: Conv and MaxPool attributes, BatchNormalization with its four parameter tensors', () => {
    const model = graph('cnn');
    const conv = nodeOf(model, 'Conv');
    expect(conv.attributes.kernel_shape).toEqual({ type: 'ints', value: [3, 3] });
    expect(conv.attributes.pads).toEqual({ type: 'ints', value: [1, 1, 1, 1] });
    expect(conv.attributes.strides).toEqual({ type: 'ints', value: [1, 1] });
    expect(conv.attributes.group).toEqual({ type: 'int', value: 1 });
    expect(initializer(model, 'conv.weight').dims).toEqual([2, 1, 3, 3]);
    expect(initializer(model, 'fc.weight').dims).toEqual([3, 18]);

    const pool = nodeOf(model, 'MaxPool');
    expect(pool.attributes.kernel_shape).toEqual({ type: 'ints', value: [2, 2] });
    expect(pool.attributes.strides).toEqual({ type: 'ints', value: [2, 2] });

    const bn = nodeOf(model, 'BatchNormalization');
    expect(bn.inputs).toHaveLength(5);
    const [scale, bias, mean, variance] = bn.inputs.slice(1).map((name) => initializer(model, name));
    // Values set by scripts/make-onnx-fixtures.py, as float32.
    expect(scale?.data).toEqual([Math.fround(0.8), Math.fround(1.25)]);
    expect(bias?.data).toEqual([Math.fround(0.1), Math.fround(-0.2)]);
    expect(mean?.data).toEqual([0.25, -0.5]);
    expect(variance?.data).toEqual([1.5, 0.75]);
    expect(bn.attributes.epsilon).toEqual({ type: 'float', value: Math.fround(1e-5) });
    expect(nodeOf(model, 'Flatten').attributes.axis).toEqual({ type: 'int', value: 1 });
  });

  it('cnn-avgpool: AveragePool attributes', () => {
    const pool = nodeOf(graph('cnn-avgpool'), 'AveragePool');
    expect(pool.attributes.kernel_shape).toEqual({ type: 'ints', value: [2, 2] });
    expect(pool.attributes.strides).toEqual({ type: 'ints', value: [2, 2] });
    expect(pool.attributes.pads).toEqual({ type: 'ints', value: [0, 0, 0, 0] });
  });
});

describe('listUnsupportedOps', () => {
  const supported = new Set(['Gemm', 'MatMul', 'Add', 'Mul', 'Relu', 'Constant', 'Flatten', 'Conv', 'MaxPool']);

  it('names every node of unsupported.onnx whose op is not supported', () => {
    expect(listUnsupportedOps(graph('unsupported'), supported)).toEqual([
      { node: '/sigmoid/Sigmoid', opType: 'Sigmoid', domain: '' },
      { node: '/tanh/Tanh', opType: 'Tanh', domain: '' },
    ]);
  });

  it('returns nothing when every op is supported, and lists each occurrence', () => {
    expect(listUnsupportedOps(graph('mlp-matmul'), supported)).toEqual([]);
    expect(listUnsupportedOps(graph('mlp'), new Set(['Relu'])).map((entry) => entry.node)).toEqual([
      '/fc1/Gemm',
      '/fc2/Gemm',
      '/softmax/Softmax',
    ]);
  });

  it('uses #index for unnamed nodes and requires domain:opType outside the default domain', () => {
    const nodes = [
      { name: '', opType: 'Sigmoid', domain: '', inputs: [], outputs: [], attributes: {} },
      { name: 'fused', opType: 'Gemm', domain: 'com.microsoft', inputs: [], outputs: [], attributes: {} },
      { name: 'std', opType: 'Gemm', domain: 'ai.onnx', inputs: [], outputs: [], attributes: {} },
    ];
    expect(listUnsupportedOps({ nodes }, new Set(['Gemm']))).toEqual([
      { node: '#0', opType: 'Sigmoid', domain: '' },
      { node: 'fused', opType: 'Gemm', domain: 'com.microsoft' },
    ]);
    expect(listUnsupportedOps({ nodes }, new Set(['Gemm', 'Sigmoid', 'com.microsoft:Gemm']))).toEqual([]);
  });
});

describe('readOnnxModel errors', () => {
  it('a missing file', async () => {
    const path = join(dir, 'missing.onnx');
    const error = await onnxError(() => readOnnxModel(path));
    expect(error.reason).toBe('unreadable');
    expect(error.code).toBe('BAD_ONNX_MODEL');
    expect(error.path).toBe(path);
    expect(error.message).toBe(`${path}: ONNX model file not found`);
  });

  it('a directory', async () => {
    const error = await onnxError(() => readOnnxModel(dir));
    expect(error.reason).toBe('unreadable');
    expect(error.message).toContain(dir);
  });

  it('random bytes', async () => {
    for (let seed = 0; seed < 20; seed += 1) {
      const bytes = Buffer.concat(
        Array.from({ length: 8 }, (_, block) => createHash('sha256').update(`random-${seed}-${block}`).digest()),
      );
      const path = join(dir, `random-${seed}.onnx`);
      await writeFile(path, bytes);
      const error = await onnxError(() => readOnnxModel(path));
      expect(error.reason).toBe('not-onnx');
      expect(error.message.startsWith(`${path}: not an ONNX model (protobuf decoding failed: `)).toBe(true);
    }
  });

  it('text and empty files are not ONNX models', async () => {
    const text = join(dir, 'text.onnx');
    await writeFile(text, 'this is not a model\n');
    const textError = await onnxError(() => readOnnxModel(text));
    expect(textError.reason).toBe('not-onnx');
    expect(textError.message).toMatch(/not an ONNX model/);
    expect(textError.hint).toBeDefined();

    const empty = join(dir, 'empty.onnx');
    await writeFile(empty, new Uint8Array());
    const emptyError = await onnxError(() => readOnnxModel(empty));
    expect(emptyError.reason).toBe('not-onnx');
    expect(emptyError.message).toBe(`${empty}: empty file, not an ONNX model`);
  });

  it('a truncated file, cut at every length', async () => {
    const bytes = await readFile(join(MODELS_DIR, 'mlp.onnx'));
    const path = join(dir, 'truncated.onnx');
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await onnxError(() => readOnnxModel(path));
    expect(error.reason).toBe('malformed');
    expect(error.message).toBe(`${path}: truncated or corrupted ONNX model (protobuf decoding failed: premature EOF)`);
    for (let length = 1; length < bytes.length; length += 1) {
      const cut = await onnxError(() => parseOnnxModel(bytes.subarray(0, length), `mlp.onnx[0:${length}]`));
      expect(cut.reason).toBe('malformed');
      expect(cut.message).toMatch(/^mlp\.onnx\[0:\d+\]: truncated or corrupted ONNX model \(/);
    }
  });
});

describe('parseOnnxModel on hand-built models', () => {
  const floatType = (dims: Array<number | string>): OnnxSchema.ITypeProto => ({
    tensorType: {
      elemType: DataType.FLOAT,
      shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
    },
  });

  /** A model: input x [N, 2] -> Add(x, w) -> y, with `w` as given, plus optional extra nodes. */
  function modelProto(w: OnnxSchema.ITensorProto, extraNodes: OnnxSchema.INodeProto[] = []): OnnxSchema.IModelProto {
    return {
      irVersion: 8,
      producerName: 'hand',
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        input: [{ name: 'x', type: floatType(['N', 2]) }],
        output: [{ name: 'y', type: floatType(['N', 2]) }],
        initializer: [w],
        node: [...extraNodes, { name: 'add', opType: 'Add', input: ['x', 'w'], output: ['y'] }],
      },
    };
  }

  function model(w: OnnxSchema.ITensorProto, extraNodes: OnnxSchema.INodeProto[] = []): Uint8Array {
    return onnx.ModelProto.encode(modelProto(w, extraNodes)).finish();
  }

  // Protobuf written by hand, for what protobufjs does not write: packed fields, wrong wire types, unknown fields.
  const varint = (value: bigint): number[] => {
    const out: number[] = [];
    let rest = BigInt.asUintN(64, value);
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      out.push(rest === 0n ? low : low | 0x80);
    } while (rest !== 0n);
    return out;
  };
  const tag = (field: number, wireType: number): number[] => varint(BigInt(field * 8 + wireType));
  const concat = (...parts: Array<ArrayLike<number>>): Uint8Array =>
    Uint8Array.from(parts.flatMap((part) => Array.from(part)));
  /** A length-delimited field. */
  const record = (field: number, payload: ArrayLike<number> | string): Uint8Array => {
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    return concat(tag(field, 2), varint(BigInt(bytes.length)), bytes);
  };
  const w = { name: 'w', dims: [2], dataType: DataType.FLOAT, floatData: [1, 2] };

  it('keeps symbolic dimensions as strings and decodes typed-field and raw int64/float data', () => {
    const rawFloats = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const bytes = model({ name: 'w', dims: [2], dataType: DataType.FLOAT, rawData: rawFloats }, [
      {
        name: 'k',
        opType: 'Constant',
        output: ['k_out'],
        attribute: [{ name: 'value_ints', type: AttributeType.INTS, ints: [3, -4] }],
      },
      {
        name: 'big',
        opType: 'Constant',
        output: ['big_out'],
        attribute: [
          {
            name: 'value',
            type: AttributeType.TENSOR,
            // fromObject reads int64 values given as decimal strings exactly (as long.js Longs).
            t: onnx.TensorProto.fromObject({
              dims: [2],
              dataType: DataType.INT64,
              int64Data: ['9223372036854775807', '-1'],
            }),
          },
        ],
      },
      {
        name: 'raw64',
        opType: 'Constant',
        output: ['raw64_out'],
        attribute: [
          {
            name: 'value',
            type: AttributeType.TENSOR,
            t: { dims: [1], dataType: DataType.INT64, rawData: new Uint8Array(new BigInt64Array([-7n]).buffer) },
          },
        ],
      },
    ]);
    const parsed = parseOnnxModel(bytes, 'hand.onnx');
    expect(parsed.inputs).toEqual([{ name: 'x', elementType: 'float', shape: ['N', 2] }]);
    expect(parsed.initializers).toEqual([{ name: 'w', dims: [2], dataType: 'float', data: [1.5, -2] }]);
    expect(parsed.constants).toEqual([
      { name: 'k_out', dims: [2], dataType: 'int64', data: [3n, -4n] },
      { name: 'big_out', dims: [2], dataType: 'int64', data: [9223372036854775807n, -1n] },
      { name: 'raw64_out', dims: [1], dataType: 'int64', data: [-7n] },
    ]);
    expect(parsed.nodes.map((node) => node.name)).toEqual(['k', 'big', 'raw64', 'add']);
  });

  it('refuses a tensor stored as ONNX external data, naming the tensor and its file', () => {
    const bytes = model({
      name: 'w',
      dims: [2],
      dataType: DataType.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'weights.bin' }],
    });
    let thrown: unknown;
    try {
      parseOnnxModel(bytes, 'big.onnx');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OnnxError);
    const error = thrown as OnnxError;
    expect(error.reason).toBe('external-data');
    expect(error.message).toBe(
      "big.onnx: initializer 'w' keeps its data in an external file ('weights.bin'); ONNX external data is not supported",
    );
    expect(error.hint).toMatch(/save_as_external_data=False/);
  });

  it('refuses raw data whose length does not fit the shape, and a node reading an undefined value', async () => {
    const short = model({ name: 'w', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) });
    const shortError = await onnxError(() => parseOnnxModel(short, 'short.onnx'));
    expect(shortError.reason).toBe('malformed');
    expect(shortError.message).toMatch(/initializer 'w' has 8 bytes of raw data; shape \[3\] of float needs 12/);

    const dangling = model({ name: 'w', dims: [1], dataType: DataType.FLOAT, floatData: [1] }, [
      { name: 'neg', opType: 'Neg', input: ['nowhere'], output: ['z'] },
    ]);
    const danglingError = await onnxError(() => parseOnnxModel(dangling, 'dangling.onnx'));
    expect(danglingError.reason).toBe('malformed');
    expect(danglingError.message).toMatch(/node 'neg' \(Neg\) reads 'nowhere'/);
  });

  it('reads packed repeated fields, exact 64-bit extremes, and skips fields newer than the ONNX 1.10.2 schema', () => {
    const { graph, ...rest } = modelProto(w, [
      {
        name: 'u',
        opType: 'Constant',
        output: ['u_out'],
        attribute: [
          {
            name: 'value',
            type: AttributeType.TENSOR,
            t: onnx.TensorProto.fromObject({
              dims: [2],
              dataType: DataType.UINT64,
              uint64Data: ['18446744073709551615', '0'],
            }),
          },
        ],
      },
    ]);
    // TensorProto: name (8), data_type (2), then packed dims (1) and data (4: float32, 7: int64 varints).
    const packedFloats = concat(
      record(8, 'p'),
      tag(2, 0),
      varint(1n),
      record(1, varint(2n)),
      record(4, new Uint8Array(new Float32Array([1.5, -2]).buffer)),
    );
    const packedInt64s = concat(
      record(8, 'q'),
      tag(2, 0),
      varint(7n),
      record(1, varint(3n)),
      record(7, [...varint(-1n), ...varint(5n), ...varint(-9223372036854775808n)]),
    );
    const graphBytes = concat(
      onnx.GraphProto.encode(graph ?? {}).finish(),
      record(5, packedFloats),
      record(5, packedInt64s),
      record(16, 'a GraphProto field newer than ONNX 1.10.2'),
    );
    const bytes = concat(
      onnx.ModelProto.encode(rest).finish(),
      record(7, graphBytes),
      record(26, [8, 1]),
      tag(27, 0),
      varint(-1n),
    );
    const parsed = parseOnnxModel(bytes, 'packed.onnx');
    expect(parsed.initializers).toEqual([
      { name: 'w', dims: [2], dataType: 'float', data: [1, 2] },
      { name: 'p', dims: [2], dataType: 'float', data: [1.5, -2] },
      { name: 'q', dims: [3], dataType: 'int64', data: [-1n, 5n, -9223372036854775808n] },
    ]);
    expect(parsed.constants).toEqual([
      { name: 'u_out', dims: [2], dataType: 'uint64', data: [18446744073709551615n, 0n] },
    ]);
    expect(parsed.irVersion).toBe(8);
    expect(parsed.opset).toBe(13);
  });

  it('refuses wire-level damage protobufjs would decode: wrong wire types, split messages, deep nesting', async () => {
    const good = model(w);
    expect(parseOnnxModel(good, 'good.onnx').initializers).toHaveLength(1);

    // doc_string (field 6, a string) written as a 32-bit value: protobufjs would read a length from it.
    const wrongWire = await onnxError(() => parseOnnxModel(concat(good, tag(6, 5), [0, 0, 0, 0]), 'wire.onnx'));
    expect(wrongWire.reason).toBe('malformed');
    expect(wrongWire.message).toMatch(
      /^wire\.onnx: truncated or corrupted ONNX model \(protobuf decoding failed: ModelProto\.doc_string \(field 6\) has wire type 5, not 2, at offset \d+\)$/,
    );

    // A second graph: protobuf merges the two, protobufjs would keep the last.
    const split = await onnxError(() =>
      parseOnnxModel(concat(good, record(7, onnx.GraphProto.encode({ name: 'other' }).finish())), 'split.onnx'),
    );
    expect(split.reason).toBe('malformed');
    expect(split.message).toMatch(/ModelProto\.graph \(field 7\) at offset \d+ repeats a singular message field/);

    // An input type nested 150 sequences deep.
    let type: OnnxSchema.ITypeProto = { tensorType: { elemType: DataType.FLOAT } };
    for (let depth = 0; depth < 150; depth += 1) type = { sequenceType: { elemType: type } };
    const deepModel = modelProto(w);
    deepModel.graph = { ...deepModel.graph, input: [{ name: 'x', type }] };
    const deep = await onnxError(() => parseOnnxModel(onnx.ModelProto.encode(deepModel).finish(), 'deep.onnx'));
    expect(deep.reason).toBe('malformed');
    expect(deep.message).toMatch(/messages nested more than 100 deep/);

    // An attribute type that AttributeType does not list counts as none (proto2 enums are closed).
    const oddAttribute = model(w, [
      {
        name: 'k',
        opType: 'Constant',
        output: ['k'],
        attribute: [{ name: 'value_int', type: 64 as OnnxSchema.AttributeProto.AttributeType, i: 1 }],
      },
    ]);
    const odd = await onnxError(() => parseOnnxModel(oddAttribute, 'odd.onnx'));
    expect(odd.reason).toBe('malformed');
    expect(odd.message).toBe("odd.onnx: attribute 'value_int' of node 'k' (Constant) has no type");
  });
});
