import { listUnsupportedOps, readOnnxModel, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx.ts';
import { ModelError, parseNativeModel, type FloatLayer, type FloatModel } from './native.ts';

/** ONNX operators the importer turns into dense/relu/argmax layers today (MLPs as PyTorch's exporter writes them). */
export const IMPORTABLE_OPS: ReadonlySet<string> = new Set(['Gemm', 'MatMul', 'Add', 'Mul', 'Div', 'Relu', 'Constant', 'Identity', 'Dropout', 'Flatten', 'Reshape', 'Softmax', 'LogSoftmax']);

/** What the import did that a user should know. */
export interface ImportReport {
  /** One line per ONNX node: what it became. */
  steps: string[];
  /** Notes such as "Softmax at the output replaced by argmax". */
  notes: string[];
}

function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes[name];
}

function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.type === 'int' ? a.value : fallback;
}

function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.type === 'float' ? a.value : fallback;
}

function floats(tensor: OnnxTensor, what: string): number[] {
  if (tensor.dataType !== 'float' && tensor.dataType !== 'double') throw new ModelError(`${what}: expected a float tensor, got ${tensor.dataType}`);
  return tensor.data as number[];
}

/** A [rows, cols] float matrix as rows, transposed when asked. */
function matrix(tensor: OnnxTensor, transpose: boolean, what: string): number[][] {
  if (tensor.dims.length !== 2) throw new ModelError(`${what}: expected a 2-D weight matrix, got dims [${tensor.dims.join(', ')}]`);
  const [rows, cols] = tensor.dims as [number, number];
  const data = floats(tensor, what);
  const at = (r: number, c: number) => data[r * cols + c] as number;
  return transpose ? Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => at(r, c))) : Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(r, c)));
}

/**
 * Turn an ONNX graph into a native float model: a chain of Gemm / MatMul(+Add) layers with ReLU, where Mul and Div by a
 * constant are folded into the neighbouring dense layer, Identity, Dropout (inference no-op), Flatten and Reshape pass
 * the vector through, and a Softmax or LogSoftmax at the output is replaced by argmax (same predicted class). A graph
 * without one ends in argmax too. Any other operator is refused with every unsupported node listed.
 *
 * @param inputRange the range every input value lies in: ONNX does not carry it, and quantization needs it
 */
export function importOnnxGraph(graph: OnnxGraph, options: { inputRange: { min: number; max: number }; name?: string }): { model: FloatModel; report: ImportReport } {
  const unsupported = listUnsupportedOps(graph, IMPORTABLE_OPS);
  if (unsupported.length > 0) {
    throw new ModelError(
      `${graph.path}: ${unsupported.length} node(s) use operators zkai cannot import yet:\n${unsupported.map((u) => `  ${u.node}: ${u.domain ? `${u.domain}:` : ''}${u.opType}`).join('\n')}`,
      `importable today: ${[...IMPORTABLE_OPS].join(', ')} (multilayer perceptrons)`,
    );
  }
  if (graph.inputs.length !== 1) throw new ModelError(`${graph.path}: the model has ${graph.inputs.length} inputs; zkai imports models with exactly one`);
  const shape = graph.inputs[0]!.shape ?? [];
  const dims = shape.filter((d, i) => !(i === 0 && (d === 1 || typeof d === 'string')) && d !== 1);
  if (dims.some((d) => typeof d !== 'number')) throw new ModelError(`${graph.path}: input ${graph.inputs[0]!.name} has a symbolic dimension besides the batch: [${shape.join(', ')}]`);
  const inputSize = (dims as number[]).reduce((a, b) => a * b, 1);

  const tensors = new Map<string, OnnxTensor>([...graph.initializers, ...graph.constants].map((t) => [t.name, t]));
  const layers: FloatLayer[] = [];
  const steps: string[] = [];
  const notes: string[] = [];
  let current = graph.inputs[0]!.name; // the name of the activation vector flowing through the chain
  let pendingScale = 1; // a constant multiplier on the current vector, folded into the next dense layer
  let width = inputSize;
  const lastDense = () => {
    const layer = layers.at(-1);
    return layer?.type === 'dense' ? layer : undefined;
  };
  const constantScalar = (name: string, what: string): number => {
    const tensor = tensors.get(name);
    if (!tensor) throw new ModelError(`${what}: its other operand is not a constant (only multiplication and division by a constant are supported)`);
    const values = floats(tensor, what);
    if (values.length !== 1) throw new ModelError(`${what}: only a scalar constant is supported, got ${values.length} values`);
    return values[0] as number;
  };
  const addDense = (weights: number[][], bias: number[], what: string) => {
    if (weights[0]!.length !== width) throw new ModelError(`${what}: takes ${weights[0]!.length} values but receives ${width}`);
    layers.push({ type: 'dense', weights: weights.map((row) => row.map((w) => w * pendingScale)), bias });
    pendingScale = 1;
    width = weights.length;
  };

  for (const node of graph.nodes) {
    const what = `${graph.path}: node ${node.name || node.opType} (${node.opType})`;
    if (node.opType === 'Constant') {
      steps.push(`${node.name}: constant`);
      continue;
    }
    const flowing = node.inputs.filter((input) => input !== '' && !tensors.has(input));
    if (flowing.length !== 1 || flowing[0] !== current) throw new ModelError(`${what}: zkai imports a single chain of layers; this node does not take the previous layer's output alone (inputs: ${node.inputs.join(', ')})`);
    switch (node.opType) {
      case 'Gemm': {
        if (floatAttribute(node, 'alpha', 1) !== 1 || floatAttribute(node, 'beta', 1) !== 1 || intAttribute(node, 'transA', 0) !== 0) throw new ModelError(`${what}: only alpha = beta = 1 and transA = 0 are supported`);
        const weightTensor = tensors.get(node.inputs[1]!);
        if (!weightTensor) throw new ModelError(`${what}: the weights are not a stored tensor`);
        const weights = matrix(weightTensor, intAttribute(node, 'transB', 0) === 0, what);
        const biasTensor = node.inputs[2] ? tensors.get(node.inputs[2]) : undefined;
        const bias = biasTensor ? floats(biasTensor, what) : weights.map(() => 0);
        if (bias.length !== weights.length) throw new ModelError(`${what}: bias has ${bias.length} values for ${weights.length} outputs`);
        addDense(weights, bias, what);
        steps.push(`${node.name}: dense ${weights[0]!.length} -> ${weights.length}`);
        break;
      }
      case 'MatMul': {
        const weightTensor = tensors.get(node.inputs[1]!);
        if (!weightTensor || node.inputs[0] !== current) throw new ModelError(`${what}: only activation x weight-matrix is supported`);
        const weights = matrix(weightTensor, true, what); // ONNX MatMul weights are [in, out]
        addDense(weights, weights.map(() => 0), what);
        steps.push(`${node.name}: dense ${weights[0]!.length} -> ${weights.length} (bias from the next Add)`);
        break;
      }
      case 'Add': {
        const other = node.inputs.find((input) => input !== current);
        const tensor = other ? tensors.get(other) : undefined;
        const dense = lastDense();
        if (!tensor || !dense) throw new ModelError(`${what}: only adding a constant bias right after a dense layer is supported`);
        const bias = floats(tensor, what);
        if (bias.length !== dense.bias.length) throw new ModelError(`${what}: bias has ${bias.length} values for ${dense.bias.length} outputs`);
        dense.bias = dense.bias.map((b, k) => b + (bias[k] as number));
        steps.push(`${node.name}: bias folded into the dense layer`);
        break;
      }
      case 'Mul':
      case 'Div': {
        const other = node.inputs.find((input) => input !== current) ?? '';
        const constant = constantScalar(other, what);
        if (node.opType === 'Div' && node.inputs[1] !== other) throw new ModelError(`${what}: only division BY a constant is supported`);
        const factor = node.opType === 'Mul' ? constant : 1 / constant;
        const dense = lastDense();
        if (dense) {
          // right after a dense layer (no ReLU in between): scale its weights and bias
          dense.weights = dense.weights.map((row) => row.map((w) => w * factor));
          dense.bias = dense.bias.map((b) => b * factor);
          steps.push(`${node.name}: x ${factor} folded into the previous dense layer`);
        } else {
          if (!(factor > 0) && layers.at(-1)?.type === 'relu') throw new ModelError(`${what}: a non-positive factor after ReLU cannot be folded`);
          pendingScale *= factor;
          steps.push(`${node.name}: x ${factor} folded into the next dense layer`);
        }
        break;
      }
      case 'Relu':
        if (!lastDense()) throw new ModelError(`${what}: ReLU must follow a dense layer`);
        layers.push({ type: 'relu' });
        steps.push(`${node.name}: relu`);
        break;
      case 'Identity':
      case 'Dropout':
      case 'Flatten':
      case 'Reshape':
        steps.push(`${node.name}: ${node.opType === 'Dropout' ? 'dropout (no-op at inference)' : 'pass-through (the activation is a vector)'}`);
        break;
      case 'Softmax':
      case 'LogSoftmax':
        if (node.outputs[0] !== graph.outputs[0]?.name) throw new ModelError(`${what}: ${node.opType} is supported only at the output (where it is replaced by argmax)`);
        notes.push(`${node.opType} at the output was replaced by argmax: the proven output is the predicted class (${node.opType} does not change it)`);
        steps.push(`${node.name}: replaced by argmax`);
        break;
    }
    current = node.outputs[0] as string;
  }
  if (pendingScale !== 1) throw new ModelError(`${graph.path}: a scaling by ${pendingScale} after the last dense layer cannot be folded`);
  if (!notes.some((n) => n.includes('argmax'))) notes.push('the model ends in raw outputs (logits): argmax was appended, and the proven output is the predicted class');
  const model = parseNativeModel(
    { format: 'zkai-model-v1', name: options.name ?? (graph.graphName || 'onnx-model'), input: { size: inputSize, min: options.inputRange.min, max: options.inputRange.max }, layers: [...layers, { type: 'argmax' }] },
    graph.path,
  );
  return { model, report: { steps, notes } };
}

/** Read an ONNX file and import it (see {@link importOnnxGraph}). */
export async function importOnnxModel(path: string, options: { inputRange: { min: number; max: number }; name?: string }): Promise<{ model: FloatModel; report: ImportReport }> {
  return importOnnxGraph(await readOnnxModel(path), options);
}
