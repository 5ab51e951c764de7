/**
 * The model options the model commands and `zkai chain register` share: fractional bits (a verifier's, never
 * defaulted), an ONNX model's input range, loading a model file, the words that name a model, a model salt file, and
 * the accuracy task a verifier states (label, features, scale). Diagnosis helpers for a model hash that differs.
 */
import { InputFileError, ZkaiError } from '../errors.ts';
import { modelHash } from '../model/circuit-gen.ts';
import { isOnnxPath, loadModelFile } from '../model/load.ts';
import type { FloatModel } from '../model/native.ts';
import { DEFAULT_FRAC_BITS, quantizeModel, type QuantizedModel } from '../model/quantize.ts';
import type { VerificationResult } from '../verifier/verify.ts';
import { readJsonFile } from './io.ts';
import type { ModelProveFlags, ModelVerifyFlags } from './groups/model.ts';

/** An ONNX model's input range flags (every model command, and chain register and check-circuit, declare them). */
type RangeFlags = Pick<ModelProveFlags, 'inputMin' | 'inputMax'>;

export function fracBitsOf(value: string | undefined): number {
  const bits = Number(value ?? DEFAULT_FRAC_BITS);
  if (!/^[0-9]+$/.test(value ?? String(DEFAULT_FRAC_BITS)) || bits < 1 || bits > 24)
    throw new ZkaiError('BAD_OPTION', `--frac-bits must be an integer from 1 to 24, got "${value}"`);
  return bits;
}

/**
 * The fractional bits a VERIFIER gives: required, never defaulted and never read from the proof file. They are part
 * of the model hash (and of an accuracy task's hash), so they decide which model a proof is checked against.
 */
export function verifierFracBits(value: string | undefined, what: string): number {
  if (value === undefined) {
    throw new ZkaiError(
      'BAD_OPTION',
      `give --frac-bits N: the fractional bits you expect ${what} to be quantized with`,
      {
        hint: 'they are part of the model hash, so the verifier decides them (there is no default, and the proof file\'s word is not taken); `zkai model prove` and `zkai model accuracy` print them in their "verify with:" line',
      },
    );
  }
  return fracBitsOf(value);
}

/** The input range of an ONNX model, from --input-min and --input-max. */
export function rangeOf(flags: RangeFlags): { min: number; max: number } {
  if (flags.inputMin === undefined || flags.inputMax === undefined) {
    throw new ZkaiError(
      'BAD_OPTION',
      'an ONNX model does not say what range its inputs lie in: give --input-min and --input-max (quantization derives every bit width from them)',
    );
  }
  const min = Number(flags.inputMin);
  const max = Number(flags.inputMax);
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max))
    throw new ZkaiError(
      'BAD_OPTION',
      `--input-min and --input-max must be numbers with min < max, got "${flags.inputMin}" and "${flags.inputMax}"`,
    );
  return { min, max };
}

/** A loaded model; `onnx` when it was imported from an ONNX file (its float reference is onnxruntime on that file). */
export interface LoadedModel {
  model: FloatModel;
  notes: string[];
  onnx?: { path: string; output: 'logits' | 'Softmax' | 'LogSoftmax'; inputMin: string; inputMax: string };
}

/** A model file: native JSON, or ONNX (imported on the fly; needs the input range). */
export async function loadAnyModel(path: string, flags: RangeFlags): Promise<LoadedModel> {
  if (!isOnnxPath(path)) return loadModelFile(path);
  const { model, notes, report } = await loadModelFile(path, rangeOf(flags));
  return {
    model,
    notes,
    onnx: { path, output: report!.output, inputMin: String(flags.inputMin), inputMax: String(flags.inputMax) },
  };
}

/** The words that name a model to a verifier: the file, its fractional bits and (ONNX) its input range. */
export function modelFlagsFor(modelPath: string, fracBits: number, loaded: LoadedModel): string[] {
  return [
    '--model',
    modelPath,
    '--frac-bits',
    String(fracBits),
    ...(loaded.onnx ? ['--input-min', loaded.onnx.inputMin, '--input-max', loaded.onnx.inputMax] : []),
  ];
}

/** Read a model salt file written by `zkai model commit`. */
export async function readModelSalt(path: string): Promise<{ salt: bigint; commitment: string }> {
  const raw = (await readJsonFile(path, 'model salt')) as { salt?: unknown; modelCommitment?: unknown } | null;
  if (typeof raw?.salt !== 'string' || !/^[0-9]+$/.test(raw.salt) || typeof raw.modelCommitment !== 'string')
    throw new InputFileError(path, 'not a model salt file written by zkai model commit ({salt, modelCommitment})');
  return { salt: BigInt(raw.salt), commitment: raw.modelCommitment };
}

/** The fractional bits (1 to 24) at which `model` has the model hash `hash`, if any. */
export function fracBitsWithModelHash(model: FloatModel, hash: string): number | undefined {
  for (let bits = 1; bits <= 24; bits++) {
    let quantized: QuantizedModel;
    try {
      quantized = quantizeModel(model, bits);
    } catch {
      continue; // too wide at these bits: no proof can have been made with them
    }
    if (modelHash(quantized) === hash) return bits;
  }
  return undefined;
}

/**
 * Why the proof's model hash is not the verifier's, for a person to read (diagnosis only: the verdict stays INVALID).
 * The same model at other fractional bits is tried; an ONNX model's hash also binds the input range given.
 */
export function modelHashCause(
  loaded: LoadedModel,
  modelPath: string,
  fracBits: number,
  proofHash: string,
  bits = fracBitsWithModelHash(loaded.model, proofHash),
): string {
  if (bits !== undefined && bits !== fracBits)
    return `this proof was made with --frac-bits ${bits}, you gave ${fracBits}: the same model quantized with other fractional bits is another model (another hash); verify with --frac-bits ${bits} if you accept that quantization`;
  if (loaded.onnx)
    return `the proof is of another model, or of ${modelPath} imported with another input range (you gave --input-min ${loaded.onnx.inputMin} --input-max ${loaded.onnx.inputMax}; the model hash binds the range, so give the one the proof was made with), at no --frac-bits from 1 to 24 is it this model`;
  return `the proof is of another model than ${modelPath}: no --frac-bits from 1 to 24 gives the proof's model hash ${proofHash}`;
}

/** The value of a named signal among verifyProof's mismatches (what the proof says). */
export function mismatchOf(result: Pick<VerificationResult, 'mismatches'>, name: string): string | undefined {
  return result.mismatches?.find((m) => m.name === name)?.actual;
}

export function scaleOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const scale = Number(value);
  if (!/^[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i.test(value) || !(scale > 0))
    throw new ZkaiError('BAD_OPTION', `--scale must be a positive number, got "${value}"`);
  return scale;
}

export function featuresOf(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0);
}

/** The verifier's task flags: every one required (the task says what the accuracy means, so the verifier states it). */
export function verifierTask(flags: Pick<ModelVerifyFlags, 'label' | 'features' | 'allFeatures' | 'scale'>): {
  label: string;
  features?: string[];
  scale: number;
} {
  const why =
    "the task (label, features, scale, fractional bits) says what the accuracy means, so the verifier states it: the proof file's word is not taken";
  if (flags.label === undefined)
    throw new ZkaiError('BAD_OPTION', "give --label COLUMN: the test set's column that holds the true class", {
      hint: why,
    });
  if (flags.features === undefined && !flags.allFeatures)
    throw new ZkaiError(
      'BAD_OPTION',
      "give --features A,B,... (the model's input columns, in model input order) or --all-features (every column but the label and the subject id, in schema order)",
      { hint: why },
    );
  if (flags.features !== undefined && flags.allFeatures)
    throw new ZkaiError('BAD_OPTION', '--features and --all-features contradict each other: give one');
  if (flags.scale === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'give --scale X: model input = column value x X (1 when the columns are the inputs as they are)',
      { hint: why },
    );
  const features = featuresOf(flags.features);
  return { label: flags.label, ...(features ? { features } : {}), scale: scaleOf(flags.scale) as number };
}
