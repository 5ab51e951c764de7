import { ModelError } from './errors.ts';
import type { FloatModel } from './native.ts';
import { quantizeInput, quantizeModel, runFloat, runQuantized, type QuantizedModel } from './quantize.ts';

/**
 * Calibration on sample inputs: choose the fixed point's fractional bits f (the scale 2^-f of every input, weight and
 * activation), and report per layer how much of its range the samples use.
 *
 * Bit widths never come from samples: they come from worst cases over the checked input range (quantize.ts), so no
 * input can overflow whatever the samples were. What samples decide is the resolution: a small f means narrower
 * accumulators (fewer constraints per neuron) but coarser weights. The chosen f is the smallest candidate whose
 * quantized predictions lose at most `maxDrop` against the float model: accuracy with labels, agreement without.
 */
export interface CalibrationCandidate {
  fracBits: number;
  /** Share of samples where the quantized model predicts the float model's class. */
  agreement: number;
  /** With labels: accuracy of the float and quantized models. */
  floatAccuracy?: number;
  quantizedAccuracy?: number;
  /** Sum over linear layers of outputs x accumulator bits: the rescale gadgets' cost, to compare candidates. */
  rescaleBits: number;
}

/** One layer at the chosen fixed point: its widths, and the largest output the samples produced. */
export interface CalibrationLayer {
  layer: number;
  label: string;
  accBits?: number;
  weightBits?: number;
  /** Largest |output| over the samples, and the bound the circuit allows (both at f fractional bits). */
  observedMax: bigint;
  bound: bigint;
  /** Unused high bits of the range on these samples (how pessimistic the worst case is). */
  headroomBits: number;
}

export interface CalibrationReport {
  fracBits: number;
  samples: number;
  maxDrop: number;
  candidates: CalibrationCandidate[];
  layers: CalibrationLayer[];
  model: QuantizedModel;
}

const bitLength = (v: bigint) => (v <= 0n ? 0 : v.toString(2).length);
const abs = (v: bigint) => (v < 0n ? -v : v);

/** Calibrate f on sample inputs (floats within the model's declared input range), optionally with their labels. */
export function calibrate(model: FloatModel, samples: readonly (readonly number[])[], options: { labels?: readonly number[]; candidates?: readonly number[]; maxDrop?: number } = {}): CalibrationReport {
  if (samples.length === 0) throw new ModelError('calibration needs at least one sample input');
  const labels = options.labels;
  if (labels && labels.length !== samples.length) throw new ModelError(`${samples.length} samples but ${labels.length} labels`);
  const maxDrop = options.maxDrop ?? 0.01;
  const candidateBits = options.candidates ?? [4, 5, 6, 7, 8, 9, 10, 11, 12];
  const floatPredictions = samples.map((input) => runFloat(model, input).predicted);
  const floatCorrect = labels ? floatPredictions.filter((p, i) => p === labels[i]).length : 0;
  const candidates: CalibrationCandidate[] = [];
  let chosen: QuantizedModel | undefined;
  for (const fracBits of candidateBits) {
    const quantized = quantizeModel(model, fracBits);
    let agree = 0;
    let correct = 0;
    samples.forEach((input, i) => {
      const predicted = runQuantized(quantized, quantizeInput(quantized, [...input], model)).predicted;
      if (predicted === floatPredictions[i]) agree += 1;
      if (labels && predicted === labels[i]) correct += 1;
    });
    const rescaleBits = quantized.layers.reduce((sum, layer) => sum + (layer.op === 'maxpool' ? 0 : layer.outputs * layer.accBits), 0);
    candidates.push({ fracBits, agreement: agree / samples.length, ...(labels ? { floatAccuracy: floatCorrect / samples.length, quantizedAccuracy: correct / samples.length } : {}), rescaleBits });
    const good = labels ? (floatCorrect - correct) / samples.length <= maxDrop : 1 - agree / samples.length <= maxDrop;
    if (good && !chosen) chosen = quantized;
  }
  if (!chosen) {
    const best = candidates.reduce((a, b) => ((b.quantizedAccuracy ?? b.agreement) > (a.quantizedAccuracy ?? a.agreement) ? b : a));
    throw new ModelError(`no fixed point from ${candidateBits[0]} to ${candidateBits.at(-1)} fractional bits stays within ${maxDrop * 100} points of the float model on these samples (best: ${best.fracBits} bits, ${((best.quantizedAccuracy ?? best.agreement) * 100).toFixed(1)}%)`);
  }
  const best = chosen;
  const observed = best.layers.map(() => 0n);
  for (const input of samples) {
    runQuantized(best, quantizeInput(best, [...input], model)).layers.forEach((values, l) => {
      for (const v of values) if (abs(v) > observed[l]!) observed[l] = abs(v);
    });
  }
  const layers = best.layers.map((layer, l): CalibrationLayer => {
    const bound = layer.op === 'maxpool' ? layer.inputBound : 1n << BigInt(Math.max(layer.accBits - 1 - best.fracBits, 0));
    return {
      layer: l,
      label: layer.label,
      ...(layer.op === 'maxpool' ? {} : { accBits: layer.accBits, weightBits: layer.weightBits }),
      observedMax: observed[l]!,
      bound,
      headroomBits: Math.max(bitLength(bound) - bitLength(observed[l]!), 0),
    };
  });
  return { fracBits: best.fracBits, samples: samples.length, maxDrop, candidates, layers, model: best };
}
