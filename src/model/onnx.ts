/**
 * Reading ONNX models into plain, typed data.
 *
 * The protobuf is decoded with `onnx-buf` (ONNX 1.20's `onnx.proto` compiled for `@bufbuild/protobuf`), then turned
 * into an {@link OnnxGraph}: no protobuf classes, int64 tensor data as `bigint`, shapes with symbolic dimensions kept
 * as strings, every tensor's data decoded from whichever field the producer used (`raw_data` or the typed fields).
 * Nothing is inferred or executed here: later stages (operator support, quantisation, circuits) work from this.
 */

import { readFile } from 'node:fs/promises';
import { fromBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AttributeType,
  ModelProtoSchema,
  TensorProto_DataLocation,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { ZkaiError } from '../errors.ts';

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
  | 'float'
  | 'double'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'bool';

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
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    return broken(`protobuf decoding failed: ${describe(error)}`, error);
  }
  const graph = model.graph;
  if (graph === undefined) return broken('no graph');
  if (model.irVersion <= 0n) return broken('no IR version');
  if (model.opsetImport.length === 0) return broken('no opset import');

  const initializers = graph.initializer.map((tensor) => decodeTensor(tensor, tensor.name, `initializer '${tensor.name}'`, fail));
  const initializerNames = new Set(initializers.map((tensor) => tensor.name));
  const inputs = graph.input
    .filter((value) => !initializerNames.has(value.name))
    .map((value) => decodeValueInfo(value, 'graph input', fail));
  const outputs = graph.output.map((value) => decodeValueInfo(value, 'graph output', fail));
  if (outputs.length === 0) fail('malformed', 'the graph has no outputs (is the file truncated?)');

  const constants: OnnxTensor[] = [];
  const nodes = graph.node.map((node, index) => {
    const decoded = decodeNode(node, index, fail);
    if (decoded.opType === 'Constant' && isDefaultDomain(decoded.domain)) constants.push(resolveConstant(decoded, fail));
    return decoded;
  });
  checkTopologicalOrder(nodes, [...graph.input.map((value) => value.name), ...initializerNames], outputs, fail);

  const opsets = model.opsetImport.map((entry) => ({ domain: entry.domain, version: toSafeNumber(entry.version, 'opset version', fail) }));
  const defaultOpset = opsets.find((entry) => isDefaultDomain(entry.domain));
  return {
    path,
    irVersion: toSafeNumber(model.irVersion, 'IR version', fail),
    opsets,
    opset: defaultOpset === undefined ? null : defaultOpset.version,
    producer: { name: model.producerName, version: model.producerVersion },
    graphName: graph.name,
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
    const ok = isDefaultDomain(node.domain) ? supported.has(node.opType) : supported.has(`${node.domain}:${node.opType}`);
    if (!ok) unsupported.push({ node: node.name === '' ? `#${index}` : node.name, opType: node.opType, domain: node.domain });
  });
  return unsupported;
}

function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

function decodeValueInfo(value: ValueInfoProto, role: string, fail: Fail): OnnxValueInfo {
  const type = value.type?.value;
  if (type === undefined || type.case !== 'tensorType') {
    const kind = type?.case === undefined ? 'has no type' : `is a ${type.case.replace(/Type$/, '')}, not a tensor`;
    return fail(type === undefined ? 'malformed' : 'unsupported', `${role} '${value.name}' ${kind}`);
  }
  const elementType = DATA_TYPES[type.value.elemType];
  if (elementType === undefined) {
    return fail('unsupported', `${role} '${value.name}' has unknown element type ${type.value.elemType}`);
  }
  const shapeProto = type.value.shape;
  const shape =
    shapeProto === undefined
      ? null
      : shapeProto.dim.map((dim): OnnxDim => {
          if (dim.value.case === 'dimValue') return toSafeNumber(dim.value.value, `dimension of '${value.name}'`, fail);
          if (dim.value.case === 'dimParam') return dim.value.value;
          return '?';
        });
  return { name: value.name, elementType, shape };
}

function decodeNode(node: NodeProto, index: number, fail: Fail): OnnxNode {
  const where = `node ${node.name === '' ? `#${index}` : `'${node.name}'`} (${node.opType})`;
  if (node.opType === '') fail('malformed', `node #${index} has no operator type`);
  const attributes: Record<string, OnnxAttribute> = {};
  for (const attribute of node.attribute) {
    attributes[attribute.name] = decodeAttribute(attribute, `attribute '${attribute.name}' of ${where}`, fail);
  }
  return {
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    inputs: [...node.input],
    outputs: [...node.output],
    attributes,
  };
}

function decodeAttribute(attribute: AttributeProto, where: string, fail: Fail): OnnxAttribute {
  const text = (value: Uint8Array): string => new TextDecoder().decode(value);
  switch (attribute.type) {
    case AttributeType.INT:
      return { type: 'int', value: Number(attribute.i) };
    case AttributeType.FLOAT:
      return { type: 'float', value: attribute.f };
    case AttributeType.STRING:
      return { type: 'string', value: text(attribute.s) };
    case AttributeType.INTS:
      return { type: 'ints', value: attribute.ints.map(Number) };
    case AttributeType.FLOATS:
      return { type: 'floats', value: [...attribute.floats] };
    case AttributeType.STRINGS:
      return { type: 'strings', value: attribute.strings.map(text) };
    case AttributeType.TENSOR:
      if (attribute.t === undefined) return fail('malformed', `${where} is a tensor attribute without a tensor`);
      return { type: 'tensor', value: decodeTensor(attribute.t, attribute.t.name, where, fail) };
    case AttributeType.TENSORS:
      return { type: 'tensors', value: attribute.tensors.map((tensor) => decodeTensor(tensor, tensor.name, where, fail)) };
    case AttributeType.UNDEFINED:
      return fail('malformed', `${where} has no type`);
    default:
      return { type: 'unsupported', attributeType: AttributeType[attribute.type] ?? String(attribute.type) };
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
      return attribute.type === 'int' ? { name, dims: [], dataType: 'int64', data: [BigInt(attribute.value)] } : wrongType();
    case 'value_ints':
      return attribute.type === 'ints'
        ? { name, dims: [attribute.value.length], dataType: 'int64', data: attribute.value.map((value) => BigInt(value)) }
        : wrongType();
    case 'value_string':
      return attribute.type === 'string' ? { name, dims: [], dataType: 'string', data: [attribute.value] } : wrongType();
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
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL || tensor.externalData.length > 0) {
    const location = tensor.externalData.find((entry) => entry.key === 'location')?.value;
    return fail(
      'external-data',
      `${where} keeps its data in an external file${location === undefined ? '' : ` ('${location}')`}; ` +
        'ONNX external data is not supported',
      'save the model with all tensors inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False))',
    );
  }
  if (tensor.segment !== undefined) return fail('unsupported', `${where} is a segmented tensor, which zkai does not read`);
  const dataType = DATA_TYPES[tensor.dataType];
  if (dataType === undefined) return fail('malformed', `${where} has unknown data type ${tensor.dataType}`);
  const dims = tensor.dims.map((dim) => toSafeNumber(dim, `dimension of ${where}`, fail));
  if (dims.some((dim) => dim < 0)) return fail('malformed', `${where} has a negative dimension (${dims.join('x')})`);
  const count = dims.reduce((product, dim) => product * dim, 1);
  const raw = tensor.rawData.length > 0 ? tensor.rawData : undefined;

  const checkCount = (length: number): void => {
    if (length !== count) fail('malformed', `${where} has ${length} values for shape [${dims.join(', ')}] (${count})`);
  };
  const rawView = (size: number): DataView => {
    const bytes = raw as Uint8Array;
    if (bytes.length !== count * size) {
      fail('malformed', `${where} has ${bytes.length} bytes of raw data; shape [${dims.join(', ')}] of ${dataType} needs ${count * size}`);
    }
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const readRaw = <T>(size: number, read: (view: DataView, offset: number) => T): T[] => {
    const view = rawView(size);
    return Array.from({ length: count }, (_, index) => read(view, index * size));
  };

  switch (dataType) {
    case 'string': {
      const data = tensor.stringData.map((value) => new TextDecoder().decode(value));
      checkCount(data.length);
      return { name, dims, dataType, data };
    }
    case 'int64':
    case 'uint64': {
      const data =
        raw !== undefined
          ? readRaw(8, (view, offset) => (dataType === 'int64' ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true)))
          : dataType === 'int64'
            ? [...tensor.int64Data]
            : [...tensor.uint64Data];
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
      const data = raw !== undefined ? readRaw(size, rawReader(dataType)) : typedFieldData(tensor, dataType);
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
function typedFieldData(tensor: TensorProto, dataType: OnnxNumberDataType): number[] {
  switch (dataType) {
    case 'float':
      return [...tensor.floatData];
    case 'double':
      return [...tensor.doubleData];
    case 'uint32':
      return tensor.uint64Data.map(Number);
    case 'float16':
      return tensor.int32Data.map((bits) => halfToNumber(bits & 0xffff));
    case 'bfloat16':
      return tensor.int32Data.map((bits) => bfloat16ToNumber(bits & 0xffff));
    case 'bool':
      return tensor.int32Data.map((value) => (value === 0 ? 0 : 1));
    default:
      return [...tensor.int32Data];
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

function toSafeNumber(value: bigint, what: string, fail: Fail): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    return fail('malformed', `${what} ${value} is out of range`);
  }
  return Number(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
