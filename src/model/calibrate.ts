import { ModelError } from './errors.ts';
import { runOnnxFloat } from './float-reference.ts';
import type { FloatModel } from './native.ts';
import { quantizeInput, quantizeModel, runFloat, runQuantized, type QuantizedModel } from './quantize.ts';

/**
 * Calibration on sample inputs: choose the fixed point's fractional bits f (the scale 2^-f of every input, weight and
 * activation), and report per layer how much of its range the samples use.
 *
 * Bit widths never come from samples: they come from worst cases over the checked input range (quantize.ts), so no
 * input can overflow whatever the samples were. What samples decide is the resolution: a small f means narrower
 * accumulators (fewer constraints per neuron) but coarser weights.
 *
 * The measure is agreement with the float model, sample by sample: a candidate f at which a sample's quantized class
 * differs from the float model's class would let a valid proof state a class the float model never predicted on that
 * input. So by default the chosen f is the smallest candidate at which EVERY sample keeps the float model's class;
 * `maxDisagreement` lowers that bar explicitly (at most that many samples may change class). Accuracy against labels,
 * when given, is reported but decides nothing (an f that loses no agreement loses no accuracy).
 */
export interface CalibrationCandidate {
  fracBits: number;
  /** Samples whose quantized class is the float model's class. */
  agree: number;
  /** `agree` as a share of the samples. */
  agreement: number;
  /** Indexes of the samples whose quantized class differs from the float model's (ascending). */
  disagreeing: number[];
  /** Largest |quantized logit - float logit| over every sample and class, in real units (the logit scale, not 2^-f). */
  maxLogitError: number;
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

/** What the quantized model is compared with: the float model's class and logits for every sample. */
export interface FloatReference {
  /** Where the classes come from ("onnxruntime on model.onnx", "the float model (TypeScript)"). */
  source: string;
  /** Where the logits come from, when not from `source` (an ONNX graph ending in Softmax outputs probabilities). */
  logitsSource: string;
  /** Per sample: the float model's class. */
  predicted: number[];
  /** Per sample: the float model's logits (the values argmax reads), in real units. */
  logits: number[][];
}

export interface CalibrationReport {
  fracBits: number;
  samples: number;
  /** The most samples allowed to change class (absent when a single f was given and nothing was chosen). */
  maxDisagreement?: number;
  reference: { source: string; logitsSource: string };
  candidates: CalibrationCandidate[];
  /** Candidates that cannot be quantized at all (too wide, or a value beyond 2^53), with the reason. */
  skipped: Array<{ fracBits: number; reason: string }>;
  /** The chosen candidate's disagreeing samples (empty unless `maxDisagreement` allowed some). */
  disagreeing: number[];
  layers: CalibrationLayer[];
  model: QuantizedModel;
}

/** The candidates `calibrate` tries by default. */
export const DEFAULT_CALIBRATION_CANDIDATES: readonly number[] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

const bitLength = (v: bigint) => (v <= 0n ? 0 : v.toString(2).length);
const abs = (v: bigint) => (v < 0n ? -v : v);

/** Refuse samples of the wrong length before any model runs on them. */
function checkSamples(model: FloatModel, samples: readonly (readonly number[])[]): void {
  samples.forEach((sample, i) => {
    if (sample.length !== model.input.size)
      throw new ModelError(`calibration sample ${i} has ${sample.length} values; the model takes ${model.input.size}`);
  });
}

/** The TypeScript float model as its own reference (a native JSON model is the float model). */
export function nativeFloatReference(model: FloatModel, samples: readonly (readonly number[])[]): FloatReference {
  checkSamples(model, samples);
  const runs = samples.map((input) => runFloat(model, input));
  const source = 'the float model (TypeScript)';
  return { source, logitsSource: source, predicted: runs.map((r) => r.predicted), logits: runs.map((r) => r.logits) };
}

/**
 * The float reference of a model imported from ONNX: ONNX Runtime runs the ONNX file itself on every sample, and its
 * classes are the float model's classes. When the graph ends in raw outputs those are the logits compared with the
 * quantized logits; when it ends in Softmax or LogSoftmax (which the import replaces by argmax) ONNX Runtime's outputs
 * are not logits, so the logits come from the imported float model (which reproduces the graph before that node).
 *
 * @param onnxPath the `.onnx` file the model was imported from
 * @param output what the graph's output is (the import report's `output`)
 * @throws {ModelError} when ONNX Runtime cannot run the file on the samples (see runOnnxFloat)
 */
export async function onnxFloatReference(
  model: FloatModel,
  samples: readonly (readonly number[])[],
  onnxPath: string,
  output: 'logits' | 'Softmax' | 'LogSoftmax',
): Promise<FloatReference> {
  checkSamples(model, samples);
  const results = await runOnnxFloat(onnxPath, samples);
  const source = `onnxruntime on ${onnxPath}`;
  if (output === 'logits')
    return {
      source,
      logitsSource: source,
      predicted: results.map((r) => r.predicted),
      logits: results.map((r) => r.output),
    };
  return {
    source,
    logitsSource: `the imported float model (the ONNX output is ${output}, not logits)`,
    predicted: results.map((r) => r.predicted),
    logits: samples.map((input) => runFloat(model, input).logits),
  };
}

/**
 * Calibrate f on sample inputs (floats within the model's declared input range), optionally with their labels.
 *
 * @param options `reference`: the float model's classes and logits per sample (default: the TypeScript float model;
 *   pass {@link onnxFloatReference} for a model imported from ONNX); `maxDisagreement`: how many samples may prove
 *   another class than the float model (default 0; `Infinity` reports without refusing, for a single given f);
 *   `candidates`: the f to try, smallest first (default 4 to 16)
 * @returns the smallest candidate within `maxDisagreement`, every candidate's agreement and largest logit error, and
 *   the range each layer uses at the chosen f
 * @throws {ModelError} without samples, when labels or the reference do not match the samples, or when no candidate
 *   stays within `maxDisagreement` (the message names the best one and its disagreeing samples)
 */
export function calibrate(
  model: FloatModel,
  samples: readonly (readonly number[])[],
  options: {
    labels?: readonly number[];
    candidates?: readonly number[];
    maxDisagreement?: number;
    reference?: FloatReference;
  } = {},
): CalibrationReport {
  if (samples.length === 0) throw new ModelError('calibration needs at least one sample input');
  const labels = options.labels;
  if (labels && labels.length !== samples.length)
    throw new ModelError(`${samples.length} samples but ${labels.length} labels`);
  checkSamples(model, samples);
  const maxDisagreement = options.maxDisagreement ?? 0;
  if (!(maxDisagreement === Infinity || (Number.isInteger(maxDisagreement) && maxDisagreement >= 0)))
    throw new ModelError(
      `the most samples allowed to change class must be a non-negative integer, got ${maxDisagreement}`,
    );
  const candidateBits = options.candidates ?? DEFAULT_CALIBRATION_CANDIDATES;
  if (candidateBits.length === 0)
    throw new ModelError('calibration needs at least one candidate number of fractional bits');
  const reference = options.reference ?? nativeFloatReference(model, samples);
  if (reference.predicted.length !== samples.length || reference.logits.length !== samples.length)
    throw new ModelError(`the float reference has ${reference.predicted.length} results for ${samples.length} samples`);
  const floatCorrect = labels ? reference.predicted.filter((p, i) => p === labels[i]).length : 0;
  const candidates: CalibrationCandidate[] = [];
  const skipped: CalibrationReport['skipped'] = [];
  let chosen: QuantizedModel | undefined;
  let chosenCandidate: CalibrationCandidate | undefined;
  for (const fracBits of candidateBits) {
    let quantized: QuantizedModel;
    try {
      quantized = quantizeModel(model, fracBits);
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      skipped.push({ fracBits, reason: error.message });
      continue;
    }
    const disagreeing: number[] = [];
    let correct = 0;
    let maxLogitError = 0;
    samples.forEach((input, i) => {
      const run = runQuantized(quantized, quantizeInput(quantized, input, model));
      if (run.predicted !== reference.predicted[i]) disagreeing.push(i);
      if (labels && run.predicted === labels[i]) correct += 1;
      const floatLogits = reference.logits[i]!;
      if (floatLogits.length !== run.logits.length)
        throw new ModelError(
          `sample ${i}: the float reference gives ${floatLogits.length} outputs, the quantized model ${run.logits.length} logits`,
        );
      run.logits.forEach((q, k) => {
        maxLogitError = Math.max(maxLogitError, Math.abs(Number(q) / 2 ** fracBits - floatLogits[k]!));
      });
    });
    const rescaleBits = quantized.layers.reduce(
      (sum, layer) => sum + (layer.op === 'maxpool' ? 0 : layer.outputs * layer.accBits),
      0,
    );
    const agree = samples.length - disagreeing.length;
    const candidate: CalibrationCandidate = {
      fracBits,
      agree,
      agreement: agree / samples.length,
      disagreeing,
      maxLogitError,
      ...(labels ? { floatAccuracy: floatCorrect / samples.length, quantizedAccuracy: correct / samples.length } : {}),
      rescaleBits,
    };
    candidates.push(candidate);
    if (!chosen && disagreeing.length <= maxDisagreement) {
      chosen = quantized;
      chosenCandidate = candidate;
    }
  }
  if (!chosen || !chosenCandidate) {
    if (candidates.length === 0)
      throw new ModelError(
        `no candidate number of fractional bits can be quantized: ${skipped.map((s) => `${s.fracBits}: ${s.reason}`).join('; ')}`,
      );
    const best = candidates.reduce((a, b) => (b.agree > a.agree ? b : a));
    const bar =
      maxDisagreement === 0
        ? `keeps the float model's class on every one of the ${samples.length} samples`
        : `keeps the float model's class on all but at most ${maxDisagreement} of the ${samples.length} samples`;
    throw new ModelError(
      `no fixed point from ${candidateBits[0]} to ${candidateBits.at(-1)} fractional bits ${bar} (float reference: ${reference.source}); best: ${best.fracBits} bits, ${best.agree} of ${samples.length} agree, samples ${shortList(best.disagreeing)} prove another class`,
      `a proof at such a setting could state a class the float model does not predict; allow it explicitly with --max-disagreement N (the most samples that may change class), try more fractional bits, or check the samples and the input range`,
    );
  }
  const best = chosen;
  const observed = best.layers.map(() => 0n);
  for (const input of samples) {
    runQuantized(best, quantizeInput(best, input, model)).layers.forEach((values, l) => {
      for (const v of values) if (abs(v) > observed[l]!) observed[l] = abs(v);
    });
  }
  const layers = best.layers.map((layer, l): CalibrationLayer => {
    const bound =
      layer.op === 'maxpool' ? layer.inputBound : 1n << BigInt(Math.max(layer.accBits - 1 - best.fracBits, 0));
    return {
      layer: l,
      label: layer.label,
      ...(layer.op === 'maxpool' ? {} : { accBits: layer.accBits, weightBits: layer.weightBits }),
      observedMax: observed[l]!,
      bound,
      headroomBits: Math.max(bitLength(bound) - bitLength(observed[l]!), 0),
    };
  });
  return {
    fracBits: best.fracBits,
    samples: samples.length,
    ...(maxDisagreement === Infinity ? {} : { maxDisagreement }),
    reference: { source: reference.source, logitsSource: reference.logitsSource },
    candidates,
    skipped,
    disagreeing: chosenCandidate.disagreeing,
    layers,
    model: best,
  };
}

/** Up to `limit` indexes, then how many more: "3, 7, 12 and 4 more". */
export function shortList(indexes: readonly number[], limit = 8): string {
  const shown = indexes.slice(0, limit).join(', ');
  return indexes.length > limit ? `${shown} and ${indexes.length - limit} more` : shown;
}
