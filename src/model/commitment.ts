import { ModelError } from './errors.ts';
import type { QuantizedLinear, QuantizedModel } from './quantize.ts';
import { fieldOf } from '../util/field.ts';

/**
 * The model commitment of private ("hashed") weights: a salted Poseidon sponge over the model's architecture and its
 * quantized weights and biases, packed several per field element. Each weight w of a layer is stored as w + 2^(W-1)
 * in W bits (W = the layer's weight width), each bias in its own width; the circuit reads the same values from ONE
 * range-checking bit decomposition per weight, so the packing is injective and the commitment binds every weight.
 *
 *   commitment = sponge([salt, tag, fracBits, inputSize, inputBits, inputMin, inputMax, layer count, layer architecture..., packed...])
 *
 * Pooling parameters (1/window) are architecture constants: they are fixed in the circuit and not packed.
 */
export const PACK_BITS = 250;

/** One packed value: which parameter or bias of which layer, its bit width, and where it sits. */
export interface PackedItem {
  /** Index into model.layers. */
  layer: number;
  kind: 'weight' | 'bias';
  /** Index into the layer's params or bias. */
  index: number;
  bits: number;
  element: number;
  shift: number;
}

/** The layers whose parameters are private weights when weights are hashed (linear layers that are not pooling). */
export function weightedLayers(model: QuantizedModel): Array<{ layer: QuantizedLinear; index: number }> {
  return model.layers.flatMap((layer, index) =>
    layer.op !== 'maxpool' && !layer.structural ? [{ layer, index }] : [],
  );
}

/** Where every weight and bias is packed: items in order (layer by layer, parameters in order, then biases). */
export function packLayout(model: QuantizedModel): { items: PackedItem[]; elements: number } {
  const items: PackedItem[] = [];
  let element = 0;
  let shift = 0;
  const place = (item: Omit<PackedItem, 'element' | 'shift'>) => {
    if (item.bits > PACK_BITS) throw new ModelError(`a ${item.bits}-bit value cannot be packed`);
    if (shift + item.bits > PACK_BITS) {
      element += 1;
      shift = 0;
    }
    items.push({ ...item, element, shift });
    shift += item.bits;
  };
  for (const { layer, index } of weightedLayers(model)) {
    layer.params.forEach((_, p) => place({ layer: index, kind: 'weight', index: p, bits: layer.weightBits }));
    layer.bias.forEach((_, b) => place({ layer: index, kind: 'bias', index: b, bits: layer.biasBits }));
  }
  return { items, elements: element + 1 };
}

/** Every layer's shape, widths and ReLU flag as numbers: what a circuit depends on besides the weights' values. */
export function layerArchitecture(model: QuantizedModel): bigint[] {
  return model.layers.flatMap((layer) =>
    (layer.op === 'maxpool'
      ? layer.arch
      : [...layer.arch, layer.relu ? 1 : 0, layer.accBits, layer.weightBits, layer.biasBits]
    ).map((v) => BigInt(v)),
  );
}

/** The header: everything about the architecture the circuit depends on, as field elements. */
export function architectureHeader(model: QuantizedModel): bigint[] {
  return [
    BigInt(0x7a6b61696d33) /* "zkaim3" */,
    BigInt(model.fracBits),
    BigInt(model.inputSize),
    BigInt(model.inputBits),
    fieldOf(model.inputMin),
    fieldOf(model.inputMax),
    BigInt(model.layers.length),
    ...layerArchitecture(model),
  ];
}

/** The packed field elements of the model's weights and biases. */
export function packedWeights(model: QuantizedModel): bigint[] {
  const { items, elements } = packLayout(model);
  const packed = Array<bigint>(elements).fill(0n);
  for (const item of items) {
    const layer = model.layers[item.layer] as QuantizedLinear;
    const value = item.kind === 'weight' ? layer.params[item.index]! : layer.bias[item.index]!;
    packed[item.element] = packed[item.element]! + ((value + (1n << BigInt(item.bits - 1))) << BigInt(item.shift));
  }
  return packed;
}
