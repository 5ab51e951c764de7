import {
  listUnsupportedOps,
  readOnnxModel,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
} from './onnx.ts';
import { ModelError, parseNativeModel, type FloatLayer, type FloatModel } from './native.ts';
import { windowOutput, type Shape3 } from './layers.ts';

/** ONNX operators the importer understands (MLPs and small CNNs as PyTorch's exporter and tf2onnx write them). */
export const IMPORTABLE_OPS: ReadonlySet<string> = new Set([
  'Gemm',
  'MatMul',
  'Add',
  'Mul',
  'Div',
  'Relu',
  'Conv',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Pad',
  'Constant',
  'Identity',
  'Dropout',
  'Flatten',
  'Reshape',
  'Softmax',
  'LogSoftmax',
]);

/** What the import did that a user should know. */
export interface ImportReport {
  /** One line per ONNX node: what it became. */
  steps: string[];
  /** Notes such as "Softmax at the output replaced by argmax". */
  notes: string[];
  /** What the graph outputs: raw logits, or a Softmax / LogSoftmax of them (replaced by argmax in the model). */
  output: 'logits' | 'Softmax' | 'LogSoftmax';
}

function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes[name];
}

function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.type === 'int' ? a.value : fallback;
}

function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a?.type === 'ints' ? a.value : undefined;
}

function stringAttribute(node: OnnxNode, name: string): string | undefined {
  const a = attribute(node, name);
  return a?.type === 'string' ? a.value : undefined;
}

function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.type === 'float' ? a.value : fallback;
}

function floats(tensor: OnnxTensor, what: string): number[] {
  if (tensor.dataType !== 'float' && tensor.dataType !== 'double')
    throw new ModelError(`${what}: expected a float tensor, got ${tensor.dataType}`);
  return tensor.data as number[];
}

/** A [rows, cols] float matrix as rows, transposed when asked. */
function matrix(tensor: OnnxTensor, transpose: boolean, what: string): number[][] {
  if (tensor.dims.length !== 2)
    throw new ModelError(`${what}: expected a 2-D weight matrix, got dims [${tensor.dims.join(', ')}]`);
  const [rows, cols] = tensor.dims as [number, number];
  const data = floats(tensor, what);
  const at = (r: number, c: number) => data[r * cols + c] as number;
  return transpose
    ? Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => at(r, c)))
    : Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(r, c)));
}

/** A window's ONNX attributes as [top, left, bottom, right] pads, kernel and strides; refuses what zkai cannot prove. */
function windowAttributes(
  node: OnnxNode,
  what: string,
  kernel?: [number, number],
): { kernel: [number, number]; stride: [number, number]; pads: [number, number, number, number] } {
  const autoPad = stringAttribute(node, 'auto_pad');
  if (autoPad !== undefined && autoPad !== 'NOTSET')
    throw new ModelError(`${what}: auto_pad ${autoPad} is not supported (export with explicit pads)`);
  if (intAttribute(node, 'ceil_mode', 0) !== 0) throw new ModelError(`${what}: ceil_mode 1 is not supported`);
  const dilations = intsAttribute(node, 'dilations');
  if (dilations && dilations.some((d) => d !== 1))
    throw new ModelError(`${what}: dilation [${dilations.join(', ')}] is not supported (only 1)`);
  const kernelShape = kernel ?? intsAttribute(node, 'kernel_shape');
  if (!kernelShape || kernelShape.length !== 2)
    throw new ModelError(`${what}: only 2-D windows are supported (kernel_shape [${kernelShape?.join(', ') ?? ''}])`);
  const strides = intsAttribute(node, 'strides') ?? [1, 1];
  const pads = intsAttribute(node, 'pads') ?? [0, 0, 0, 0];
  if (strides.length !== 2 || pads.length !== 4)
    throw new ModelError(
      `${what}: expected 2 strides and 4 pads, got [${strides.join(', ')}] and [${pads.join(', ')}]`,
    );
  // ONNX pads are [y_begin, x_begin, y_end, x_end] = [top, left, bottom, right]
  return {
    kernel: [kernelShape[0]!, kernelShape[1]!],
    stride: [strides[0]!, strides[1]!],
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
  };
}

/**
 * Turn an ONNX graph into a native float model: a single chain of
 * - Gemm, MatMul (+ Add of a bias) as dense layers; Conv (2-D, dilation 1, group 1) as conv layers;
 * - BatchNormalization folded into the Conv or dense layer before it; Mul and Div by a constant folded into the
 *   neighbouring linear layer;
 * - Relu; MaxPool, AveragePool and GlobalAveragePool; Pad (constant 0, on height and width) merged into the Conv or
 *   pooling layer after it;
 * - Identity, Dropout (inference no-op), Flatten and Reshape (the activation is already a flat vector in NCHW order;
 *   a Reshape to [N, C, H, W] gives it an image shape);
 * - a Softmax or LogSoftmax at the output replaced by argmax (same predicted class). A graph without one ends in
 *   argmax too.
 * Any other operator is refused with every unsupported node listed.
 *
 * @param inputRange the range every input value lies in: ONNX does not carry it, and quantization needs it
 */
export function importOnnxGraph(
  graph: OnnxGraph,
  options: { inputRange: { min: number; max: number }; name?: string },
): { model: FloatModel; report: ImportReport } {
  const unsupported = listUnsupportedOps(graph, IMPORTABLE_OPS);
  if (unsupported.length > 0) {
    throw new ModelError(
      `${graph.path}: ${unsupported.length} node(s) use operators zkai cannot import yet:\n${unsupported.map((u) => `  ${u.node}: ${u.domain ? `${u.domain}:` : ''}${u.opType}`).join('\n')}`,
      `importable: ${[...IMPORTABLE_OPS].join(', ')} (multilayer perceptrons and small CNNs)`,
    );
  }
  if (graph.inputs.length !== 1)
    throw new ModelError(
      `${graph.path}: the model has ${graph.inputs.length} inputs; zkai imports models with exactly one`,
    );
  const declared = graph.inputs[0]!.shape ?? [];
  const withoutBatch =
    declared.length > 1 && (declared[0] === 1 || typeof declared[0] === 'string') ? declared.slice(1) : declared;
  if (withoutBatch.some((d) => typeof d !== 'number'))
    throw new ModelError(
      `${graph.path}: input ${graph.inputs[0]!.name} has a symbolic dimension besides the batch: [${declared.join(', ')}]`,
    );
  const inputDims = withoutBatch as number[];
  const inputSize = inputDims.reduce((a, b) => a * b, 1);
  const inputShape: Shape3 | undefined =
    inputDims.length === 3 ? [inputDims[0]!, inputDims[1]!, inputDims[2]!] : undefined;

  const tensors = new Map<string, OnnxTensor>([...graph.initializers, ...graph.constants].map((t) => [t.name, t]));
  const layers: FloatLayer[] = [];
  const steps: string[] = [];
  const notes: string[] = [];
  let output: ImportReport['output'] = 'logits';
  let current = graph.inputs[0]!.name; // the name of the activation flowing through the chain
  let pendingScale = 1; // a constant multiplier on the current activation, folded into the next linear layer
  let pendingPad: [number, number, number, number] | undefined; // an explicit zero Pad, merged into the next window layer
  let width = inputSize;
  let shape: Shape3 | undefined = inputShape;
  const lastLinear = () => {
    const layer = layers.at(-1);
    return layer?.type === 'dense' || layer?.type === 'conv' ? layer : undefined;
  };
  const constantScalar = (name: string, what: string): number => {
    const tensor = tensors.get(name);
    if (!tensor)
      throw new ModelError(
        `${what}: its other operand is not a constant (only multiplication and division by a constant are supported)`,
      );
    const values = floats(tensor, what);
    if (values.length !== 1)
      throw new ModelError(`${what}: only a scalar constant is supported, got ${values.length} values`);
    return values[0] as number;
  };
  const addDense = (weights: number[][], bias: number[], what: string) => {
    if (weights[0]!.length !== width)
      throw new ModelError(`${what}: takes ${weights[0]!.length} values but receives ${width}`);
    if (pendingPad)
      throw new ModelError(`${what}: a Pad before a dense layer is not supported (only before Conv and pooling)`);
    layers.push({ type: 'dense', weights: weights.map((row) => row.map((w) => w * pendingScale)), bias });
    pendingScale = 1;
    width = weights.length;
    shape = undefined;
  };
  const needShape = (what: string): Shape3 => {
    if (!shape)
      throw new ModelError(
        `${what}: needs an image-shaped [N, C, H, W] activation, but receives a flat vector of ${width}`,
      );
    return shape;
  };
  const setShape = (next: Shape3) => {
    shape = next;
    width = next[0] * next[1] * next[2];
  };
  const takePad = (own: [number, number, number, number]): [number, number, number, number] => {
    const merged = pendingPad ? (own.map((p, i) => p + pendingPad![i]!) as [number, number, number, number]) : own;
    pendingPad = undefined;
    return merged;
  };

  for (const node of graph.nodes) {
    const what = `${graph.path}: node ${node.name || node.opType} (${node.opType})`;
    if (node.opType === 'Constant') {
      steps.push(`${node.name}: constant`);
      continue;
    }
    const flowing = node.inputs.filter((input) => input !== '' && !tensors.has(input));
    if (flowing.length !== 1 || flowing[0] !== current)
      throw new ModelError(
        `${what}: zkai imports a single chain of layers; this node does not take the previous layer's output alone (inputs: ${node.inputs.join(', ')})`,
      );
    if (pendingPad && !['Conv', 'AveragePool', 'MaxPool'].includes(node.opType))
      throw new ModelError(
        `${what}: a Pad must be followed by Conv, AveragePool or MaxPool (it is merged into their padding)`,
      );
    switch (node.opType) {
      case 'Gemm': {
        if (
          floatAttribute(node, 'alpha', 1) !== 1 ||
          floatAttribute(node, 'beta', 1) !== 1 ||
          intAttribute(node, 'transA', 0) !== 0
        )
          throw new ModelError(`${what}: only alpha = beta = 1 and transA = 0 are supported`);
        const weightTensor = tensors.get(node.inputs[1]!);
        if (!weightTensor) throw new ModelError(`${what}: the weights are not a stored tensor`);
        const weights = matrix(weightTensor, intAttribute(node, 'transB', 0) === 0, what);
        const biasTensor = node.inputs[2] ? tensors.get(node.inputs[2]) : undefined;
        const bias = biasTensor ? floats(biasTensor, what) : weights.map(() => 0);
        if (bias.length !== weights.length)
          throw new ModelError(`${what}: bias has ${bias.length} values for ${weights.length} outputs`);
        addDense(weights, bias, what);
        steps.push(`${node.name}: dense ${weights[0]!.length} -> ${weights.length}`);
        break;
      }
      case 'MatMul': {
        const weightTensor = tensors.get(node.inputs[1]!);
        if (!weightTensor || node.inputs[0] !== current)
          throw new ModelError(`${what}: only activation x weight-matrix is supported`);
        const weights = matrix(weightTensor, true, what); // ONNX MatMul weights are [in, out]
        addDense(
          weights,
          weights.map(() => 0),
          what,
        );
        steps.push(`${node.name}: dense ${weights[0]!.length} -> ${weights.length} (bias from the next Add)`);
        break;
      }
      case 'Add': {
        const other = node.inputs.find((input) => input !== current);
        const tensor = other ? tensors.get(other) : undefined;
        const dense = layers.at(-1);
        if (!tensor || dense?.type !== 'dense')
          throw new ModelError(`${what}: only adding a constant bias right after a dense layer is supported`);
        const bias = floats(tensor, what);
        if (bias.length !== dense.bias.length)
          throw new ModelError(`${what}: bias has ${bias.length} values for ${dense.bias.length} outputs`);
        dense.bias = dense.bias.map((b, k) => b + (bias[k] as number));
        steps.push(`${node.name}: bias folded into the dense layer`);
        break;
      }
      case 'Conv': {
        const input = needShape(what);
        if (intAttribute(node, 'group', 1) !== 1)
          throw new ModelError(
            `${what}: grouped convolution (group ${intAttribute(node, 'group', 1)}) is not supported`,
          );
        const weightTensor = tensors.get(node.inputs[1]!);
        if (!weightTensor || weightTensor.dims.length !== 4)
          throw new ModelError(`${what}: the weights must be a stored [out, in, kh, kw] tensor`);
        const [outChannels, inChannels, kh, kw] = weightTensor.dims as [number, number, number, number];
        if (inChannels !== input[0])
          throw new ModelError(`${what}: the kernel takes ${inChannels} channels but the input has ${input[0]}`);
        const window = windowAttributes(node, what, [kh, kw]);
        const data = floats(weightTensor, what);
        const weights = Array.from({ length: outChannels }, (_, o) =>
          Array.from({ length: inChannels }, (_, c) =>
            Array.from({ length: kh }, (_, y) =>
              Array.from(
                { length: kw },
                (_, x) => (data[((o * inChannels + c) * kh + y) * kw + x] as number) * pendingScale,
              ),
            ),
          ),
        );
        pendingScale = 1;
        const biasTensor = node.inputs[2] ? tensors.get(node.inputs[2]) : undefined;
        const bias = biasTensor ? floats(biasTensor, what) : Array<number>(outChannels).fill(0);
        if (bias.length !== outChannels)
          throw new ModelError(`${what}: bias has ${bias.length} values for ${outChannels} output channels`);
        const pads = takePad(window.pads);
        const [outH, outW] = windowOutput(input, { ...window, pads }, what);
        layers.push({
          type: 'conv',
          input,
          outChannels,
          kernel: window.kernel,
          stride: window.stride,
          pads,
          weights,
          bias,
        });
        setShape([outChannels, outH, outW]);
        steps.push(`${node.name}: conv ${input.join('x')} -> ${outChannels}x${outH}x${outW}, kernel ${kh}x${kw}`);
        break;
      }
      case 'BatchNormalization': {
        const linear = lastLinear();
        if (!linear)
          throw new ModelError(
            `${what}: BatchNormalization is folded into the Conv or dense layer right before it, and there is none`,
          );
        const [scale, shift, mean, variance] = node.inputs.slice(1, 5).map((name) => {
          const tensor = tensors.get(name);
          if (!tensor) throw new ModelError(`${what}: parameter ${name} is not a stored tensor`);
          return floats(tensor, what);
        }) as [number[], number[], number[], number[]];
        const epsilon = floatAttribute(node, 'epsilon', 1e-5);
        const channels = linear.type === 'conv' ? linear.outChannels : linear.weights.length;
        if ([scale, shift, mean, variance].some((v) => v.length !== channels))
          throw new ModelError(`${what}: expected ${channels} values per parameter (one per channel)`);
        // y = gamma * (x - mean) / sqrt(var + eps) + beta = a * x + (beta - a * mean), with a = gamma / sqrt(var + eps)
        const factor = scale.map((gamma, c) => gamma / Math.sqrt((variance[c] as number) + epsilon));
        if (linear.type === 'conv')
          linear.weights = linear.weights.map((perOut, c) =>
            perOut.map((kernel) => kernel.map((row) => row.map((w) => w * factor[c]!))),
          );
        else linear.weights = linear.weights.map((row, c) => row.map((w) => w * factor[c]!));
        linear.bias = linear.bias.map((b, c) => (b - mean[c]!) * factor[c]! + shift[c]!);
        steps.push(`${node.name}: batch normalization folded into the ${linear.type} layer`);
        break;
      }
      case 'MaxPool':
      case 'AveragePool':
      case 'GlobalAveragePool': {
        const input = needShape(what);
        if (node.outputs.filter((o) => o !== '').length > 1)
          throw new ModelError(`${what}: the Indices output of MaxPool is not supported`);
        const window =
          node.opType === 'GlobalAveragePool'
            ? {
                kernel: [input[1], input[2]] as [number, number],
                stride: [1, 1] as [number, number],
                pads: [0, 0, 0, 0] as [number, number, number, number],
              }
            : windowAttributes(node, what);
        let countIncludePad = intAttribute(node, 'count_include_pad', 0) === 1;
        if (pendingPad) {
          if (node.opType === 'MaxPool' && layers.at(-1)?.type !== 'relu')
            throw new ModelError(
              `${what}: a zero Pad before MaxPool is merged only after a ReLU (where a zero never exceeds the window's values)`,
            );
          if (node.opType === 'AveragePool' && window.pads.some((p) => p !== 0) && !countIncludePad)
            throw new ModelError(
              `${what}: a zero Pad before an AveragePool that has its own padding and count_include_pad 0 is not supported`,
            );
          if (node.opType === 'AveragePool') countIncludePad = true; // the Pad's zeros are real values: they count
        }
        const pads = takePad(window.pads);
        const [outH, outW] = windowOutput(input, { ...window, pads }, what);
        if (node.opType === 'MaxPool')
          layers.push({ type: 'maxpool', input, kernel: window.kernel, stride: window.stride, pads });
        else
          layers.push({ type: 'avgpool', input, kernel: window.kernel, stride: window.stride, pads, countIncludePad });
        setShape([input[0], outH, outW]);
        steps.push(
          `${node.name}: ${node.opType === 'MaxPool' ? 'max' : 'average'} pooling ${input.join('x')} -> ${input[0]}x${outH}x${outW}`,
        );
        break;
      }
      case 'Pad': {
        const mode = stringAttribute(node, 'mode') ?? 'constant';
        if (mode !== 'constant') throw new ModelError(`${what}: Pad mode "${mode}" is not supported (only constant 0)`);
        const padsTensor = node.inputs[1] ? tensors.get(node.inputs[1]) : undefined;
        const raw = padsTensor ? (padsTensor.data as Array<number | bigint>).map(Number) : intsAttribute(node, 'pads');
        const value = node.inputs[2] ? tensors.get(node.inputs[2]) : undefined;
        if (value && (value.data as Array<number | bigint>).some((v) => Number(v) !== 0))
          throw new ModelError(`${what}: only padding with 0 is supported`);
        if (floatAttribute(node, 'value', 0) !== 0) throw new ModelError(`${what}: only padding with 0 is supported`);
        needShape(what);
        if (!raw || raw.length !== 8)
          throw new ModelError(
            `${what}: expected 8 pads for an [N, C, H, W] activation, got ${raw ? raw.length : 'none (pads must be a constant)'}`,
          );
        // [n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end]
        if ([raw[0], raw[1], raw[4], raw[5]].some((p) => p !== 0) || raw.some((p) => p! < 0))
          throw new ModelError(
            `${what}: only non-negative padding of height and width is supported, got [${raw.join(', ')}]`,
          );
        const pad: [number, number, number, number] = [raw[2]!, raw[3]!, raw[6]!, raw[7]!];
        pendingPad = pendingPad ? (pendingPad.map((p, i) => p + pad[i]!) as [number, number, number, number]) : pad;
        steps.push(
          `${node.name}: zero padding [${pad.join(', ')}] (top, left, bottom, right), merged into the next layer`,
        );
        break;
      }
      case 'Mul':
      case 'Div': {
        const other = node.inputs.find((input) => input !== current) ?? '';
        const constant = constantScalar(other, what);
        if (node.opType === 'Div' && node.inputs[1] !== other)
          throw new ModelError(`${what}: only division BY a constant is supported`);
        const factor = node.opType === 'Mul' ? constant : 1 / constant;
        const linear = lastLinear();
        if (linear) {
          // right after a linear layer (no ReLU in between): scale its weights and bias
          if (linear.type === 'conv')
            linear.weights = linear.weights.map((perOut) =>
              perOut.map((kernel) => kernel.map((row) => row.map((w) => w * factor))),
            );
          else linear.weights = linear.weights.map((row) => row.map((w) => w * factor));
          linear.bias = linear.bias.map((b) => b * factor);
          steps.push(`${node.name}: x ${factor} folded into the previous ${linear.type} layer`);
        } else {
          if (!(factor > 0) && layers.length > 0)
            throw new ModelError(`${what}: a non-positive factor after a ReLU or pooling cannot be folded`);
          if (layers.at(-1)?.type === 'maxpool' || layers.at(-1)?.type === 'avgpool')
            throw new ModelError(`${what}: a scaling after pooling cannot be folded yet`);
          pendingScale *= factor;
          steps.push(`${node.name}: x ${factor} folded into the next linear layer`);
        }
        break;
      }
      case 'Relu': {
        const previous = layers.at(-1)?.type;
        if (previous !== 'dense' && previous !== 'conv' && previous !== 'avgpool')
          throw new ModelError(
            `${what}: ReLU must follow a dense, conv or average-pooling layer (it is fused into that layer's rescale), not ${previous ?? 'the input'}`,
          );
        layers.push({ type: 'relu' });
        steps.push(`${node.name}: relu`);
        break;
      }
      case 'Reshape': {
        const target = node.inputs[1] ? tensors.get(node.inputs[1]) : undefined;
        const dims = target ? (target.data as Array<number | bigint>).map(Number) : undefined;
        if (dims && dims.length === 4) {
          // [N, C, H, W] with -1 or 0 for a dimension: an image shape of the same flat vector
          const known = dims
            .slice(1)
            .filter((d) => d > 0)
            .reduce((a, b) => a * b, 1);
          const resolved = dims.slice(1).map((d) => (d > 0 ? d : d === -1 ? width / known : NaN));
          if (
            !resolved.every((d) => Number.isInteger(d) && d > 0) ||
            resolved[0]! * resolved[1]! * resolved[2]! !== width
          )
            throw new ModelError(`${what}: cannot reshape ${width} values to [${dims.join(', ')}]`);
          setShape(resolved as unknown as Shape3);
          steps.push(`${node.name}: reshape to ${resolved.join('x')}`);
        } else {
          shape = undefined;
          steps.push(`${node.name}: flatten (the activation is a vector in NCHW order)`);
        }
        break;
      }
      case 'Identity':
      case 'Dropout':
        steps.push(`${node.name}: ${node.opType === 'Dropout' ? 'dropout (no-op at inference)' : 'pass-through'}`);
        break;
      case 'Flatten':
        shape = undefined;
        steps.push(`${node.name}: flatten (the activation is a vector in NCHW order)`);
        break;
      case 'Softmax':
      case 'LogSoftmax':
        if (node.outputs[0] !== graph.outputs[0]?.name)
          throw new ModelError(
            `${what}: ${node.opType} is supported only at the output (where it is replaced by argmax)`,
          );
        output = node.opType;
        notes.push(
          `${node.opType} at the output was replaced by argmax: the proven output is the predicted class (${node.opType} does not change it)`,
        );
        steps.push(`${node.name}: replaced by argmax`);
        break;
    }
    current = node.outputs[0] as string;
  }
  if (pendingScale !== 1)
    throw new ModelError(`${graph.path}: a scaling by ${pendingScale} after the last linear layer cannot be folded`);
  if (pendingPad) throw new ModelError(`${graph.path}: a Pad at the end of the graph has no layer to merge into`);
  if (!notes.some((n) => n.includes('argmax')))
    notes.push(
      'the model ends in raw outputs (logits): argmax was appended, and the proven output is the predicted class',
    );
  const model = parseNativeModel(
    {
      format: 'zkai-model-v1',
      name: options.name ?? (graph.graphName || 'onnx-model'),
      input: {
        size: inputSize,
        min: options.inputRange.min,
        max: options.inputRange.max,
        ...(inputShape ? { shape: inputShape } : {}),
      },
      layers: [...layers, { type: 'argmax' }],
    },
    graph.path,
  );
  return { model, report: { steps, notes, output } };
}

/** Read an ONNX file and import it (see {@link importOnnxGraph}). */
export async function importOnnxModel(
  path: string,
  options: { inputRange: { min: number; max: number }; name?: string },
): Promise<{ model: FloatModel; report: ImportReport }> {
  return importOnnxGraph(await readOnnxModel(path), options);
}
