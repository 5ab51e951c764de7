/**
 * Reading ONNX models into plain, typed data.
 *
 * The protobuf is decoded with `onnx-proto` (ONNX 1.10.2's `onnx.proto` compiled for protobufjs 6), then turned into
 * an {@link OnnxGraph}: no protobuf classes, int64 tensor data as `bigint`, shapes with symbolic dimensions kept as
 * strings, every tensor's data decoded from whichever field the producer used (`raw_data` or the typed fields).
 * Nothing is inferred or executed here: later stages (operator support, quantisation, circuits) work from this.
 *
 * protobufjs's generated decoders trust the input: they read a known field as its declared type whatever wire type
 * the bytes give, so damaged or random bytes can decode into garbage without an error. Before decoding, the bytes are
 * therefore checked against the schema ({@link checkWireFormat}): every tag, wire type, length and nesting depth.
 * Fields newer than ONNX 1.10.2 (none of which this reader uses) are skipped as unknown fields, as protobuf requires.
 */

import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxSchema } from 'onnx-proto';
import { ZkaiError } from '../errors.ts';

// onnx-proto is CommonJS (`module.exports = { onnx }`), so Node gives it to ES modules as a default export only.
const { onnx } = onnxProto;
const AttributeType = onnx.AttributeProto.AttributeType;
type AttributeProto = OnnxSchema.IAttributeProto;
type NodeProto = OnnxSchema.INodeProto;
type TensorProto = OnnxSchema.ITensorProto;
type ValueInfoProto = OnnxSchema.IValueInfoProto;

/** What went wrong with a model file. */
export type OnnxErrorReason =
  /** The file is missing or cannot be read. */
  | 'unreadable'
  /** The bytes are not an ONNX model (not protobuf, no graph, or an empty file). */
  | 'not-onnx'
  /**
   * A damaged ONNX model: truncated or corrupted bytes (a file that starts like a model but does not decode), a node
   * reading an undefined value, tensor data that does not fit its shape.
   */
  | 'malformed'
  /** A tensor stored outside the .onnx file (ONNX external data), which zkai does not read. */
  | 'external-data'
  /** A valid ONNX feature this reader does not handle (a data type, sparse or segmented tensors, non-tensor values). */
  | 'unsupported';

/** An ONNX model file could not be read. `message` starts with the file's path. */
export class OnnxError extends ZkaiError {
  /** The model file. */
  readonly path: string;
  /** The kind of problem. */
  readonly reason: OnnxErrorReason;

  constructor(
    path: string,
    reason: OnnxErrorReason,
    message: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super('BAD_ONNX_MODEL', `${path}: ${message}`, options);
    this.path = path;
    this.reason = reason;
  }
}

/** ONNX tensor element types (`TensorProto.DataType`), lower-case, as of ONNX 1.20. */
export type OnnxDataType =
  | 'float'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'double'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

/** Index = the `TensorProto.DataType` code. */
const DATA_TYPES: ReadonlyArray<OnnxDataType | undefined> = [
  undefined,
  'float',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'double',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
  'float8e8m0',
  'uint2',
  'int2',
];

/** Element types whose data this reader decodes to `number`. */
export type OnnxNumberDataType =
  'float' | 'double' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'bool';

interface OnnxTensorBase {
  /** The tensor's name (for a Constant node: its output's name). */
  name: string;
  /** Dimensions; `[]` for a scalar. */
  dims: number[];
}

/**
 * A tensor with its data, row-major. Floating-point data is given exactly (a float32 value as the double it equals);
 * booleans are 0 or 1; 64-bit integers are `bigint`.
 */
export type OnnxTensor =
  | (OnnxTensorBase & { dataType: OnnxNumberDataType; data: number[] })
  | (OnnxTensorBase & { dataType: 'int64' | 'uint64'; data: bigint[] })
  | (OnnxTensorBase & { dataType: 'string'; data: string[] });

/** A dimension: a number, or a symbolic dimension's name (`dim_param`), or `'?'` when the model gives neither. */
export type OnnxDim = number | string;

/** A graph input or output. */
export interface OnnxValueInfo {
  name: string;
  elementType: OnnxDataType;
  /** `null` when the model does not give the rank. */
  shape: OnnxDim[] | null;
}

/**
 * A node attribute, decoded. Integers are numbers: values beyond ±2^53 (in practice only sentinels such as INT64_MAX
 * in `Slice` ends) become the nearest double. Graph, sparse-tensor and type attributes are not decoded
 * (`unsupported`): reading still succeeds, and the operators that carry them are refused later by operator support.
 */
export type OnnxAttribute =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'tensors'; value: OnnxTensor[] }
  | { type: 'unsupported'; attributeType: string };

/** One operator node. */
export interface OnnxNode {
  /** The node's name; `''` when the model gives none. */
  name: string;
  opType: string;
  /** Operator set domain; `''` is the default ONNX domain (`ai.onnx`). */
  domain: string;
  /** Input value names, in order; `''` marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** An ONNX model, as plain data. */
export interface OnnxGraph {
  /** The file it was read from. */
  path: string;
  irVersion: number;
  /** Imported operator sets; domain `''` is the default ONNX domain. */
  opsets: Array<{ domain: string; version: number }>;
  /** Version of the default domain's operator set (`ai.onnx`), or `null` if the model imports none. */
  opset: number | null;
  producer: { name: string; version: string };
  graphName: string;
  /** Graph inputs that are not initializers (the values a caller feeds). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Weights and other stored tensors, in file order. */
  initializers: OnnxTensor[];
  /** The tensor each `Constant` node produces, named by the node's output, in node order. */
  constants: OnnxTensor[];
  /** Every node, `Constant` ones included, in graph (topological) order. */
  nodes: OnnxNode[];
}

/** Where a decoding problem is, for error messages. */
type Fail = (reason: OnnxErrorReason, message: string, hint?: string) => never;

/**
 * Read an ONNX model file into an {@link OnnxGraph}.
 *
 * @param path the `.onnx` file
 * @returns the model's opsets, producer, inputs, outputs, initializers, constants and nodes
 * @throws {OnnxError} `unreadable` (missing or unreadable file), `not-onnx` (not an ONNX protobuf), `malformed`
 *   (truncated or inconsistent model), `external-data` (weights stored in a separate file), `unsupported` (a tensor
 *   data type or a feature this reader does not decode)
 */
export async function readOnnxModel(path: string): Promise<OnnxGraph> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw new OnnxError(path, 'unreadable', `ONNX model ${what}`, { cause: error });
  }
  return parseOnnxModel(bytes, path);
}

/**
 * Decode ONNX model bytes into an {@link OnnxGraph}, as {@link readOnnxModel} does for a file.
 *
 * @param bytes the serialized `ModelProto`
 * @param path the name to use in errors and in the result's `path`
 * @throws {OnnxError} as {@link readOnnxModel}, except `unreadable`
 */
export function parseOnnxModel(bytes: Uint8Array, path: string): OnnxGraph {
  const fail: Fail = (reason, message, hint) => {
    throw new OnnxError(path, reason, message, hint === undefined ? {} : { hint });
  };
  const notOnnx = 'check that the file is a .onnx model (for example from torch.onnx.export) and was copied whole';
  if (bytes.length === 0) fail('not-onnx', 'empty file, not an ONNX model', notOnnx);
  // Writers put ModelProto.ir_version (field 1, varint: tag byte 0x08) first, so a file starting that way that does
  // not decode is most likely a damaged model rather than some other file.
  const damaged = bytes[0] === 0x08;
  const broken = (detail: string, cause?: unknown): never => {
    const message = damaged ? `truncated or corrupted ONNX model (${detail})` : `not an ONNX model (${detail})`;
    throw new OnnxError(path, damaged ? 'malformed' : 'not-onnx', message, { cause, hint: notOnnx });
  };
  let model: OnnxSchema.ModelProto;
  try {
    checkWireFormat(bytes, 'ModelProto');
    // A Buffer makes protobufjs decode strings with Node's UTF-8 decoder (invalid bytes become U+FFFD).
    model = onnx.ModelProto.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    return broken(`protobuf decoding failed: ${describe(error)}`, error);
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) return broken('no graph');
  const irVersion = int64(model.irVersion, 'IR version', fail);
  if (irVersion <= 0n) return broken('no IR version');
  if (model.opsetImport.length === 0) return broken('no opset import');

  const initializers = (graph.initializer ?? []).map((tensor) => {
    const name = tensor.name ?? '';
    return decodeTensor(tensor, name, `initializer '${name}'`, fail);
  });
  const initializerNames = new Set(initializers.map((tensor) => tensor.name));
  const graphInputs = graph.input ?? [];
  const inputs = graphInputs
    .filter((value) => !initializerNames.has(value.name ?? ''))
    .map((value) => decodeValueInfo(value, 'graph input', fail));
  const outputs = (graph.output ?? []).map((value) => decodeValueInfo(value, 'graph output', fail));
  if (outputs.length === 0) fail('malformed', 'the graph has no outputs (is the file truncated?)');

  const constants: OnnxTensor[] = [];
  const nodes = (graph.node ?? []).map((node, index) => {
    const decoded = decodeNode(node, index, fail);
    if (decoded.opType === 'Constant' && isDefaultDomain(decoded.domain))
      constants.push(resolveConstant(decoded, fail));
    return decoded;
  });
  checkTopologicalOrder(nodes, [...graphInputs.map((value) => value.name ?? ''), ...initializerNames], outputs, fail);

  const opsets = model.opsetImport.map((entry) => ({
    domain: entry.domain ?? '',
    version: toSafeNumber(int64(entry.version, 'opset version', fail), 'opset version', fail),
  }));
  const defaultOpset = opsets.find((entry) => isDefaultDomain(entry.domain));
  return {
    path,
    irVersion: toSafeNumber(irVersion, 'IR version', fail),
    opsets,
    opset: defaultOpset === undefined ? null : defaultOpset.version,
    producer: { name: model.producerName, version: model.producerVersion },
    graphName: graph.name ?? '',
    inputs,
    outputs,
    initializers,
    constants,
    nodes,
  };
}

/**
 * List the nodes whose operator is not in `supported`.
 *
 * A node of the default ONNX domain (`''` or `ai.onnx`) is supported when its `opType` is in the set; a node of any
 * other domain only when the set holds `domain:opType` (so a vendor's `com.microsoft` `Gelu` is not taken for a
 * standard one).
 *
 * @param graph a model read by {@link readOnnxModel}
 * @param supported the operator types the caller handles
 * @returns one entry per unsupported node, in graph order; `node` is its name, or `#<index>` if it has none
 */
export function listUnsupportedOps(
  graph: Pick<OnnxGraph, 'nodes'>,
  supported: ReadonlySet<string>,
): Array<{ node: string; opType: string; domain: string }> {
  const unsupported: Array<{ node: string; opType: string; domain: string }> = [];
  graph.nodes.forEach((node, index) => {
    const ok = isDefaultDomain(node.domain)
      ? supported.has(node.opType)
      : supported.has(`${node.domain}:${node.opType}`);
    if (!ok)
      unsupported.push({ node: node.name === '' ? `#${index}` : node.name, opType: node.opType, domain: node.domain });
  });
  return unsupported;
}

function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

function decodeValueInfo(value: ValueInfoProto, role: string, fail: Fail): OnnxValueInfo {
  const name = value.name ?? '';
  // `value` (a decoded message's getter) names the member of the `TypeProto.value` oneof that is set.
  const typeCase = value.type instanceof onnx.TypeProto ? value.type.value : undefined;
  const tensorType = value.type?.tensorType;
  if (typeCase !== 'tensorType' || tensorType === null || tensorType === undefined) {
    const kind = typeCase === undefined ? 'has no type' : `is a ${typeCase.replace(/Type$/, '')}, not a tensor`;
    // No type at all is a damaged model; a type with none of the kinds this schema knows may be a newer kind.
    return fail(
      value.type === null || value.type === undefined ? 'malformed' : 'unsupported',
      `${role} '${name}' ${kind}`,
    );
  }
  const elemType = tensorType.elemType ?? 0;
  const elementType = DATA_TYPES[elemType];
  if (elementType === undefined) {
    return fail('unsupported', `${role} '${name}' has unknown element type ${elemType}`);
  }
  const shapeProto = tensorType.shape;
  const shape =
    shapeProto === null || shapeProto === undefined
      ? null
      : (shapeProto.dim ?? []).map((dim): OnnxDim => {
          const dimCase = dim instanceof onnx.TensorShapeProto.Dimension ? dim.value : undefined;
          const what = `dimension of '${name}'`;
          if (dimCase === 'dimValue') return toSafeNumber(int64(dim.dimValue, what, fail), what, fail);
          if (dimCase === 'dimParam') return dim.dimParam ?? '';
          return '?';
        });
  return { name, elementType, shape };
}

function decodeNode(node: NodeProto, index: number, fail: Fail): OnnxNode {
  const name = node.name ?? '';
  const opType = node.opType ?? '';
  const where = `node ${name === '' ? `#${index}` : `'${name}'`} (${opType})`;
  if (opType === '') fail('malformed', `node #${index} has no operator type`);
  const attributes: Record<string, OnnxAttribute> = {};
  for (const attribute of node.attribute ?? []) {
    const attributeName = attribute.name ?? '';
    attributes[attributeName] = decodeAttribute(attribute, `attribute '${attributeName}' of ${where}`, fail);
  }
  return {
    name,
    opType,
    domain: node.domain ?? '',
    inputs: [...(node.input ?? [])],
    outputs: [...(node.output ?? [])],
    attributes,
  };
}

function decodeAttribute(attribute: AttributeProto, where: string, fail: Fail): OnnxAttribute {
  const text = (value: Uint8Array): string => new TextDecoder().decode(value);
  // AttributeType is a proto2 (closed) enum: a value it does not list counts as no value, as protobuf's own parsers
  // treat it (protobufjs keeps the number).
  const rawType = attribute.type ?? AttributeType.UNDEFINED;
  const type = AttributeType[rawType] === undefined ? AttributeType.UNDEFINED : rawType;
  switch (type) {
    case AttributeType.INT:
      return { type: 'int', value: int64ToNumber(attribute.i) };
    case AttributeType.FLOAT:
      return { type: 'float', value: attribute.f ?? 0 };
    case AttributeType.STRING:
      return { type: 'string', value: text(attribute.s ?? new Uint8Array()) };
    case AttributeType.INTS:
      return { type: 'ints', value: (attribute.ints ?? []).map(int64ToNumber) };
    case AttributeType.FLOATS:
      return { type: 'floats', value: [...(attribute.floats ?? [])] };
    case AttributeType.STRINGS:
      return { type: 'strings', value: (attribute.strings ?? []).map(text) };
    case AttributeType.TENSOR:
      if (attribute.t === null || attribute.t === undefined)
        return fail('malformed', `${where} is a tensor attribute without a tensor`);
      return { type: 'tensor', value: decodeTensor(attribute.t, attribute.t.name ?? '', where, fail) };
    case AttributeType.TENSORS:
      return {
        type: 'tensors',
        value: (attribute.tensors ?? []).map((tensor) => decodeTensor(tensor, tensor.name ?? '', where, fail)),
      };
    case AttributeType.UNDEFINED:
      return fail('malformed', `${where} has no type`);
    default:
      return { type: 'unsupported', attributeType: AttributeType[type] };
  }
}

/** The tensor a default-domain `Constant` node produces (its one attribute says which form the value takes). */
function resolveConstant(node: OnnxNode, fail: Fail): OnnxTensor {
  const where = `Constant node '${node.name}'`;
  const name = node.outputs[0];
  if (name === undefined) return fail('malformed', `${where} has no output`);
  const entries = Object.entries(node.attributes);
  const [key, attribute] = entries[0] ?? [];
  if (entries.length !== 1 || key === undefined || attribute === undefined) {
    return fail('malformed', `${where} must have exactly one value attribute, has ${entries.length}`);
  }
  const wrongType = (): never => fail('malformed', `${where}: attribute '${key}' is of type ${attribute.type}`);
  switch (key) {
    case 'value':
      return attribute.type === 'tensor' ? { ...attribute.value, name } : wrongType();
    case 'value_float':
      return attribute.type === 'float' ? { name, dims: [], dataType: 'float', data: [attribute.value] } : wrongType();
    case 'value_floats':
      return attribute.type === 'floats'
        ? { name, dims: [attribute.value.length], dataType: 'float', data: attribute.value }
        : wrongType();
    case 'value_int':
      return attribute.type === 'int'
        ? { name, dims: [], dataType: 'int64', data: [BigInt(attribute.value)] }
        : wrongType();
    case 'value_ints':
      return attribute.type === 'ints'
        ? {
            name,
            dims: [attribute.value.length],
            dataType: 'int64',
            data: attribute.value.map((value) => BigInt(value)),
          }
        : wrongType();
    case 'value_string':
      return attribute.type === 'string'
        ? { name, dims: [], dataType: 'string', data: [attribute.value] }
        : wrongType();
    case 'value_strings':
      return attribute.type === 'strings'
        ? { name, dims: [attribute.value.length], dataType: 'string', data: attribute.value }
        : wrongType();
    default:
      return fail('unsupported', `${where} has a '${key}' value, which zkai does not read`);
  }
}

/** Every non-empty node input must be a graph input, an initializer or an earlier node's output (ONNX's rule). */
function checkTopologicalOrder(nodes: OnnxNode[], available: string[], outputs: OnnxValueInfo[], fail: Fail): void {
  const defined = new Set(available);
  nodes.forEach((node, index) => {
    for (const input of node.inputs) {
      if (input !== '' && !defined.has(input)) {
        const where = `node ${node.name === '' ? `#${index}` : `'${node.name}'`} (${node.opType})`;
        fail('malformed', `${where} reads '${input}', which no graph input, initializer or earlier node defines`);
      }
    }
    for (const output of node.outputs) if (output !== '') defined.add(output);
  });
  for (const output of outputs) {
    if (!defined.has(output.name)) fail('malformed', `graph output '${output.name}' is not produced by any node`);
  }
}

const BYTES_PER_ELEMENT: Partial<Record<OnnxDataType, number>> = {
  float: 4,
  double: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
};

/** Decode a tensor's data from `raw_data` (little-endian) or from the typed field ONNX stores that type in. */
function decodeTensor(tensor: TensorProto, name: string, where: string, fail: Fail): OnnxTensor {
  const externalData = tensor.externalData ?? [];
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || externalData.length > 0) {
    const location = externalData.find((entry) => entry.key === 'location')?.value ?? undefined;
    return fail(
      'external-data',
      `${where} keeps its data in an external file${location === undefined ? '' : ` ('${location}')`}; ` +
        'ONNX external data is not supported',
      'save the model with all tensors inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False))',
    );
  }
  if (tensor.segment !== null && tensor.segment !== undefined) {
    return fail('unsupported', `${where} is a segmented tensor, which zkai does not read`);
  }
  const dataTypeCode = tensor.dataType ?? 0;
  const dataType = DATA_TYPES[dataTypeCode];
  if (dataType === undefined) return fail('malformed', `${where} has unknown data type ${dataTypeCode}`);
  const dimWhat = `dimension of ${where}`;
  const dims = (tensor.dims ?? []).map((dim) => toSafeNumber(int64(dim, dimWhat, fail), dimWhat, fail));
  if (dims.some((dim) => dim < 0)) return fail('malformed', `${where} has a negative dimension (${dims.join('x')})`);
  const count = dims.reduce((product, dim) => product * dim, 1);
  const raw =
    tensor.rawData !== null && tensor.rawData !== undefined && tensor.rawData.length > 0 ? tensor.rawData : undefined;

  const checkCount = (length: number): void => {
    if (length !== count) fail('malformed', `${where} has ${length} values for shape [${dims.join(', ')}] (${count})`);
  };
  const rawView = (size: number): DataView => {
    const bytes = raw as Uint8Array;
    if (bytes.length !== count * size) {
      fail(
        'malformed',
        `${where} has ${bytes.length} bytes of raw data; shape [${dims.join(', ')}] of ${dataType} needs ${count * size}`,
      );
    }
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const readRaw = <T>(size: number, read: (view: DataView, offset: number) => T): T[] => {
    const view = rawView(size);
    return Array.from({ length: count }, (_, index) => read(view, index * size));
  };

  switch (dataType) {
    case 'string': {
      const data = (tensor.stringData ?? []).map((value) => new TextDecoder().decode(value));
      checkCount(data.length);
      return { name, dims, dataType, data };
    }
    case 'int64':
    case 'uint64': {
      const data =
        raw !== undefined
          ? readRaw(8, (view, offset) =>
              dataType === 'int64' ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true),
            )
          : (dataType === 'int64' ? (tensor.int64Data ?? []) : (tensor.uint64Data ?? [])).map((value) =>
              int64(value, `a value of ${where}`, fail),
            );
      checkCount(data.length);
      return { name, dims, dataType, data };
    }
    case 'float':
    case 'double':
    case 'float16':
    case 'bfloat16':
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'bool': {
      const size = BYTES_PER_ELEMENT[dataType] as number;
      const data =
        raw !== undefined ? readRaw(size, rawReader(dataType)) : typedFieldData(tensor, dataType, where, fail);
      checkCount(data.length);
      return { name, dims, dataType, data };
    }
    default:
      return fail('unsupported', `${where} has data type ${dataType}, which zkai does not read`);
  }
}

function rawReader(dataType: OnnxNumberDataType): (view: DataView, offset: number) => number {
  switch (dataType) {
    case 'float':
      return (view, offset) => view.getFloat32(offset, true);
    case 'double':
      return (view, offset) => view.getFloat64(offset, true);
    case 'float16':
      return (view, offset) => halfToNumber(view.getUint16(offset, true));
    case 'bfloat16':
      return (view, offset) => bfloat16ToNumber(view.getUint16(offset, true));
    case 'int8':
      return (view, offset) => view.getInt8(offset);
    case 'uint8':
      return (view, offset) => view.getUint8(offset);
    case 'bool':
      return (view, offset) => (view.getUint8(offset) === 0 ? 0 : 1);
    case 'int16':
      return (view, offset) => view.getInt16(offset, true);
    case 'uint16':
      return (view, offset) => view.getUint16(offset, true);
    case 'int32':
      return (view, offset) => view.getInt32(offset, true);
    case 'uint32':
      return (view, offset) => view.getUint32(offset, true);
  }
}

/** The typed field ONNX keeps each type in when `raw_data` is not used (see `TensorProto` in onnx.proto). */
function typedFieldData(tensor: TensorProto, dataType: OnnxNumberDataType, where: string, fail: Fail): number[] {
  const int32Data = tensor.int32Data ?? [];
  switch (dataType) {
    case 'float':
      return [...(tensor.floatData ?? [])];
    case 'double':
      return [...(tensor.doubleData ?? [])];
    case 'uint32':
      return (tensor.uint64Data ?? []).map((value) => Number(int64(value, `a value of ${where}`, fail)));
    case 'float16':
      return int32Data.map((bits) => halfToNumber(bits & 0xffff));
    case 'bfloat16':
      return int32Data.map((bits) => bfloat16ToNumber(bits & 0xffff));
    case 'bool':
      return int32Data.map((value) => (value === 0 ? 0 : 1));
    default:
      return [...int32Data];
  }
}

/** IEEE 754 half precision bits to the number they denote. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits (the top half of a float32) to the number they denote. */
function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}

/**
 * An int64/uint64 field as protobufjs gives it: a long.js `Long` when protobufjs finds long.js (its own dependency, so
 * in practice always), otherwise a number, exact only up to 2^53.
 */
type Int64 = number | { toString(): string };

/** An int64/uint64 value exactly, as a `bigint` (a `Long` through its decimal string, never through a number). */
function int64(value: Int64 | null | undefined, what: string, fail: Fail): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt(value);
    return fail('unsupported', `${what} ${value} may have lost precision: protobufjs decoded it without long.js`);
  }
  return BigInt(value.toString());
}

/** An int64 attribute value as a number: exact within ±2^53, beyond that the nearest double (see {@link OnnxAttribute}). */
function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(BigInt(value.toString()));
}

function toSafeNumber(value: bigint, what: string, fail: Fail): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    return fail('malformed', `${what} ${value} is out of range`);
  }
  return Number(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The fields of the messages in ONNX 1.10.2's `onnx.proto` (the schema onnx-proto compiles), by message and field
 * number, as `name:type`: a scalar type (read by protobufjs as that type), `string`, `bytes`, or a message of this
 * table. `[]` marks a repeated field (a repeated scalar may also come packed: one length-delimited record); `|` a
 * member of the message's oneof.
 */
const WIRE_SCHEMA: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  ModelProto: {
    1: 'ir_version:int64',
    2: 'producer_name:string',
    3: 'producer_version:string',
    4: 'domain:string',
    5: 'model_version:int64',
    6: 'doc_string:string',
    7: 'graph:GraphProto',
    8: 'opset_import:OperatorSetIdProto[]',
    14: 'metadata_props:StringStringEntryProto[]',
    20: 'training_info:TrainingInfoProto[]',
    25: 'functions:FunctionProto[]',
  },
  OperatorSetIdProto: { 1: 'domain:string', 2: 'version:int64' },
  StringStringEntryProto: { 1: 'key:string', 2: 'value:string' },
  TrainingInfoProto: {
    1: 'initialization:GraphProto',
    2: 'algorithm:GraphProto',
    3: 'initialization_binding:StringStringEntryProto[]',
    4: 'update_binding:StringStringEntryProto[]',
  },
  FunctionProto: {
    1: 'name:string',
    4: 'input:string[]',
    5: 'output:string[]',
    6: 'attribute:string[]',
    7: 'node:NodeProto[]',
    8: 'doc_string:string',
    9: 'opset_import:OperatorSetIdProto[]',
    10: 'domain:string',
  },
  GraphProto: {
    1: 'node:NodeProto[]',
    2: 'name:string',
    5: 'initializer:TensorProto[]',
    10: 'doc_string:string',
    11: 'input:ValueInfoProto[]',
    12: 'output:ValueInfoProto[]',
    13: 'value_info:ValueInfoProto[]',
    14: 'quantization_annotation:TensorAnnotation[]',
    15: 'sparse_initializer:SparseTensorProto[]',
  },
  TensorAnnotation: { 1: 'tensor_name:string', 2: 'quant_parameter_tensor_names:StringStringEntryProto[]' },
  NodeProto: {
    1: 'input:string[]',
    2: 'output:string[]',
    3: 'name:string',
    4: 'op_type:string',
    5: 'attribute:AttributeProto[]',
    6: 'doc_string:string',
    7: 'domain:string',
  },
  AttributeProto: {
    1: 'name:string',
    2: 'f:float',
    3: 'i:int64',
    4: 's:bytes',
    5: 't:TensorProto',
    6: 'g:GraphProto',
    7: 'floats:float[]',
    8: 'ints:int64[]',
    9: 'strings:bytes[]',
    10: 'tensors:TensorProto[]',
    11: 'graphs:GraphProto[]',
    13: 'doc_string:string',
    14: 'tp:TypeProto',
    15: 'type_protos:TypeProto[]',
    20: 'type:int32',
    21: 'ref_attr_name:string',
    22: 'sparse_tensor:SparseTensorProto',
    23: 'sparse_tensors:SparseTensorProto[]',
  },
  ValueInfoProto: { 1: 'name:string', 2: 'type:TypeProto', 3: 'doc_string:string' },
  TensorProto: {
    1: 'dims:int64[]',
    2: 'data_type:int32',
    3: 'segment:TensorProto.Segment',
    4: 'float_data:float[]',
    5: 'int32_data:int32[]',
    6: 'string_data:bytes[]',
    7: 'int64_data:int64[]',
    8: 'name:string',
    9: 'raw_data:bytes',
    10: 'double_data:double[]',
    11: 'uint64_data:uint64[]',
    12: 'doc_string:string',
    13: 'external_data:StringStringEntryProto[]',
    14: 'data_location:int32',
  },
  'TensorProto.Segment': { 1: 'begin:int64', 2: 'end:int64' },
  SparseTensorProto: { 1: 'values:TensorProto', 2: 'indices:TensorProto', 3: 'dims:int64[]' },
  TensorShapeProto: { 1: 'dim:TensorShapeProto.Dimension[]' },
  'TensorShapeProto.Dimension': { 1: 'dim_value:int64|', 2: 'dim_param:string|', 3: 'denotation:string' },
  TypeProto: {
    1: 'tensor_type:TypeProto.Tensor|',
    4: 'sequence_type:TypeProto.Sequence|',
    5: 'map_type:TypeProto.Map|',
    6: 'denotation:string',
    8: 'sparse_tensor_type:TypeProto.SparseTensor|',
    9: 'optional_type:TypeProto.Optional|',
  },
  'TypeProto.Tensor': { 1: 'elem_type:int32', 2: 'shape:TensorShapeProto' },
  'TypeProto.Sequence': { 1: 'elem_type:TypeProto' },
  'TypeProto.Map': { 1: 'key_type:int32', 2: 'value_type:TypeProto' },
  'TypeProto.Optional': { 1: 'elem_type:TypeProto' },
  'TypeProto.SparseTensor': { 1: 'elem_type:int32', 2: 'shape:TensorShapeProto' },
};

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** Deepest message nesting accepted (protobuf's usual recursion limit); deeper input is refused before decoding. */
const MAX_NESTING = 100;

/** The wire type each scalar type is read with; anything else in the schema is length-delimited. */
const SCALAR_WIRE_TYPES: Readonly<Record<string, number>> = {
  int64: VARINT,
  uint64: VARINT,
  int32: VARINT,
  float: FIXED32,
  double: FIXED64,
};

/** A protobuf wire format error; its message becomes part of the {@link OnnxError}'s. */
class WireFormatError extends Error {}

/**
 * Check that `bytes` are a well-formed `type` message as protobufjs will read it: every tag valid, every known field
 * with the wire type its declared type uses (or packed, for repeated scalars), every length and varint inside the
 * data and its enclosing message, nesting at most {@link MAX_NESTING} deep. Unknown fields are skipped.
 *
 * Also refused, though valid protobuf: a singular message field or a oneof given more than once in a message. Protobuf
 * merges such pieces (or keeps the last oneof member) where protobufjs keeps one, so the model would not be the one
 * other ONNX tools read; no ONNX writer produces them.
 *
 * @throws {WireFormatError} at the first problem; `premature EOF` when data runs past the end of the bytes
 */
function checkWireFormat(bytes: Uint8Array, type: string): void {
  const overrun = (end: number, at: number): never => {
    throw new WireFormatError(
      end === bytes.length
        ? 'premature EOF'
        : `field data at offset ${at} runs past the end of its message (at offset ${end})`,
    );
  };
  /** The position after the varint at `pos`; varints are at most 10 bytes. */
  const varintEnd = (pos: number, end: number): number => {
    for (let index = pos; ; index += 1) {
      if (index >= end) return overrun(end, pos);
      if (index - pos >= 10) throw new WireFormatError(`varint longer than 10 bytes at offset ${pos}`);
      if ((bytes[index] as number) < 0x80) return index + 1;
    }
  };
  /**
   * The end of a varint that protobufjs reads as 32 bits (tags, lengths, int32 values), which it does by reading 5
   * bytes and skipping 5 more if the varint goes on (a negative int32 is written in 10 bytes): other lengths would
   * put it out of step. Tags and lengths must fit in 32 bits.
   */
  const varint32End = (pos: number, end: number, int32Value: boolean): number => {
    const next = varintEnd(pos, end);
    const length = next - pos;
    if (int32Value ? length > 5 && length < 10 : length > 5 || (length === 5 && (bytes[pos + 4] as number) > 0x0f)) {
      throw new WireFormatError(`varint too long for 32 bits at offset ${pos}`);
    }
    return next;
  };
  const uint32 = (pos: number, end: number): [value: number, next: number] => {
    const next = varint32End(pos, end, false);
    let value = 0;
    for (let index = next - 1; index >= pos; index -= 1) value = value * 128 + ((bytes[index] as number) & 0x7f);
    return [value, next];
  };
  /** The end of the `size` bytes at `pos`. */
  const span = (pos: number, size: number, end: number): number => (pos + size > end ? overrun(end, pos) : pos + size);
  /** Skip a scalar of a known field (of type `scalar`, with wire type `wireType`) at `pos`. */
  const skipScalar = (wireType: number, scalar: string, pos: number, end: number): number => {
    if (wireType === FIXED32) return span(pos, 4, end);
    if (wireType === FIXED64) return span(pos, 8, end);
    return scalar === 'int32' ? varint32End(pos, end, true) : varintEnd(pos, end);
  };
  /** Skip an unknown field's value; `fieldNumber` closes a group. */
  const skipUnknown = (
    wireType: number,
    fieldNumber: number,
    pos: number,
    end: number,
    depth: number,
    tagAt: number,
  ): number => {
    switch (wireType) {
      case VARINT:
        return varintEnd(pos, end);
      case FIXED64:
        return span(pos, 8, end);
      case FIXED32:
        return span(pos, 4, end);
      case LENGTH_DELIMITED: {
        const [length, next] = uint32(pos, end);
        return span(next, length, end);
      }
      case START_GROUP: {
        if (depth >= MAX_NESTING)
          throw new WireFormatError(`groups nested more than ${MAX_NESTING} deep at offset ${tagAt}`);
        for (let at = pos; ;) {
          const innerTagAt = at;
          const [tag, next] = uint32(at, end);
          if (tag >>> 3 === 0) throw new WireFormatError(`invalid field number 0 at offset ${innerTagAt}`);
          if ((tag & 7) === END_GROUP) {
            if (tag >>> 3 !== fieldNumber)
              throw new WireFormatError(`mismatched end-group tag at offset ${innerTagAt}`);
            return next;
          }
          at = skipUnknown(tag & 7, tag >>> 3, next, end, depth + 1, innerTagAt);
        }
      }
      case END_GROUP:
        throw new WireFormatError(`unexpected end-group tag at offset ${tagAt}`);
      default:
        throw new WireFormatError(`invalid wire type ${wireType} at offset ${tagAt}`);
    }
  };
  const checkMessage = (messageType: string, start: number, end: number, depth: number): void => {
    if (depth > MAX_NESTING)
      throw new WireFormatError(`messages nested more than ${MAX_NESTING} deep at offset ${start}`);
    const fields = WIRE_SCHEMA[messageType] ?? {};
    /** Singular message fields and oneof members already seen in this message. */
    const seen = new Set<string>();
    let pos = start;
    while (pos < end) {
      const tagAt = pos;
      const [tag, afterTag] = uint32(pos, end);
      const fieldNumber = tag >>> 3;
      const wireType = tag & 7;
      if (fieldNumber === 0) throw new WireFormatError(`invalid field number 0 at offset ${tagAt}`);
      const spec = fields[fieldNumber];
      if (spec === undefined) {
        pos = skipUnknown(wireType, fieldNumber, afterTag, end, depth, tagAt);
        continue;
      }
      const [name = '', declared = ''] = spec.split(':');
      const repeated = declared.endsWith('[]');
      const oneof = declared.endsWith('|');
      const fieldType = declared.replace(/\[\]$|\|$/, '');
      const field = `${messageType}.${name} (field ${fieldNumber})`;
      const isMessage = WIRE_SCHEMA[fieldType] !== undefined;
      if (oneof || (isMessage && !repeated)) {
        const slot = oneof ? '|' : name;
        if (seen.has(slot)) {
          throw new WireFormatError(
            `${field} at offset ${tagAt} repeats ${oneof ? 'a oneof' : 'a singular message field'}`,
          );
        }
        seen.add(slot);
      }
      const scalarWireType = SCALAR_WIRE_TYPES[fieldType];
      if (scalarWireType !== undefined && wireType === scalarWireType) {
        pos = skipScalar(wireType, fieldType, afterTag, end);
      } else if (wireType === LENGTH_DELIMITED && (scalarWireType === undefined || repeated)) {
        const [length, payload] = uint32(afterTag, end);
        const payloadEnd = span(payload, length, end);
        if (scalarWireType === FIXED32 || scalarWireType === FIXED64) {
          const size = scalarWireType === FIXED32 ? 4 : 8;
          if (length % size !== 0)
            throw new WireFormatError(`${field} at offset ${tagAt}: packed data is not whole values`);
        } else if (scalarWireType === VARINT) {
          // Packed varints: the last one must end exactly at the record's end.
          for (let at = payload; at < payloadEnd;) at = skipScalar(VARINT, fieldType, at, payloadEnd);
        } else if (isMessage) {
          checkMessage(fieldType, payload, payloadEnd, depth + 1);
        }
        pos = payloadEnd;
      } else {
        const expected = scalarWireType ?? LENGTH_DELIMITED;
        throw new WireFormatError(`${field} has wire type ${wireType}, not ${expected}, at offset ${tagAt}`);
      }
    }
  };
  checkMessage(type, 0, bytes.length, 0);
}
