import { ModelError } from './native.ts';
import type { QuantizedModel } from './quantize.ts';
import { fieldOf } from '../util/field.ts';

/**
 * The model commitment of private ("hashed") weights: a salted Poseidon sponge over the model's architecture and its
 * quantized weights and biases, packed several per field element. Each weight w of a layer is stored as w + 2^(W-1)
 * in W bits (W = the layer's weight width), each bias in its own width; the circuit reads the same values from ONE
 * range-checking bit decomposition per weight, so the packing is injective and the commitment binds every weight.
 *
 *   commitment = sponge([salt, tag, fracBits, inputSize, inputBits, inputMin, inputMax, (outputs, relu, accBits, W, Wb) per layer, packed...])
 */
export const PACK_BITS = 250;

/** One packed value: which weight or bias, its bit width, and where it sits. */
export interface PackedItem {
  layer: number;
  kind: 'weight' | 'bias';
  /** Output neuron k, and input j for a weight. */
  k: number;
  j: number;
  bits: number;
  element: number;
  shift: number;
}

/** Signed bit widths of each layer's weights and biases: |w| < 2^(W-1) (chosen by quantizeModel). */
export function layerWidths(model: QuantizedModel): Array<{ weightBits: number; biasBits: number }> {
  return model.layers.map((layer) => ({ weightBits: layer.weightBits, biasBits: layer.biasBits }));
}

/** Where every weight and bias is packed: items in order (layer by layer, weights row-major, then biases). */
export function packLayout(model: QuantizedModel): { items: PackedItem[]; elements: number } {
  const widths = layerWidths(model);
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
  model.layers.forEach((layer, l) => {
    layer.weights.forEach((row, k) => row.forEach((_, j) => place({ layer: l, kind: 'weight', k, j, bits: widths[l]!.weightBits })));
    layer.bias.forEach((_, k) => place({ layer: l, kind: 'bias', k, j: 0, bits: widths[l]!.biasBits }));
  });
  return { items, elements: element + 1 };
}

/** The header: everything about the architecture the circuit depends on, as field elements. */
export function architectureHeader(model: QuantizedModel): bigint[] {
  const widths = layerWidths(model);
  return [
    BigInt(0x7a6b61696d32) /* "zkaim2" */,
    BigInt(model.fracBits),
    BigInt(model.inputSize),
    BigInt(model.inputBits),
    fieldOf(model.inputMin),
    fieldOf(model.inputMax),
    ...model.layers.flatMap((layer, l) => [BigInt(layer.weights.length), layer.relu ? 1n : 0n, BigInt(layer.accBits), BigInt(widths[l]!.weightBits), BigInt(widths[l]!.biasBits)]),
  ];
}

/** The packed field elements of the model's weights and biases. */
export function packedWeights(model: QuantizedModel): bigint[] {
  const { items, elements } = packLayout(model);
  const packed = Array<bigint>(elements).fill(0n);
  for (const item of items) {
    const layer = model.layers[item.layer]!;
    const value = item.kind === 'weight' ? layer.weights[item.k]![item.j]! : layer.bias[item.k]!;
    packed[item.element] = packed[item.element]! + ((value + (1n << BigInt(item.bits - 1))) << BigInt(item.shift));
  }
  return packed;
}
