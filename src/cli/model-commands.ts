import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputFileError, ZkaiError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import {
  generateModelCircuit,
  modelCommitment,
  modelHash,
  type InputVisibility,
  type WeightVisibility,
} from '../model/circuit-gen.ts';
import { randomFieldSalt } from '../util/salt.ts';
import { proveInference, verifyInference, type InferenceProof } from '../model/inference.ts';
import { NATIVE_MODEL_FORMAT } from '../model/native.ts';
import { importOnnxModel } from '../model/onnx-import.ts';
import { inputRounding, quantizeInput, quantizeModel, type InputRounding } from '../model/quantize.ts';
import {
  calibrate,
  nativeFloatReference,
  onnxFloatReference,
  shortList,
  type CalibrationReport,
} from '../model/calibrate.ts';
import type { VerificationResult } from '../verifier/verify.ts';
import { readJsonFile } from './io.ts';
import { parseProofFile, type ProofFile } from '../statement/index.ts';
import { isAccuracyProof, verifyAccuracyFile } from './accuracy-commands.ts';
import {
  fracBitsOf,
  loadAnyModel,
  mismatchOf,
  modelFlagsFor,
  modelHashCause,
  rangeOf,
  readModelSalt,
  verifierFracBits,
  type LoadedModel,
} from './model-options.ts';
import { emit, progressPrinter, seconds } from './output.ts';
import { contextOption } from './chain-commands.ts';
import { ceremonyKeyLines, commandHint, hintLines, keyJson, keyOptions, keyWarningLines } from './data-commands.ts';
import {
  checkVerdictKey,
  keySourceLine,
  verifierKeyNote,
  verifierKeySource,
  type VerifyKeyFlags,
} from './verify-key.ts';
import type { KeySource } from '../verifier/key-source.ts';
import type {
  ModelCommitFlags,
  ModelImportFlags,
  ModelInspectFlags,
  ModelProveFlags,
  ModelVerifyFlags,
} from './groups/model.ts';

/** Flags `zkai model inspect` and `zkai model prove` both have: the input's visibility. */
type VisibilityFlags = Pick<ModelInspectFlags, 'publicInput' | 'inputVisibility'> &
  Pick<ModelProveFlags, 'publicInput' | 'inputVisibility'>;
/** Flags `zkai model inspect` and `zkai model prove` both have: calibration of the fractional bits. */
type CalibrationFlags = Pick<ModelInspectFlags, 'fracBits' | 'maxDisagreement'> &
  Pick<ModelProveFlags, 'fracBits' | 'maxDisagreement'>;

/** A parsed inference proof file. */
type InferenceProofFile = Extract<ProofFile, { format: 'zkai-inference-proof-v1' }>;

/** Read an input vector: a JSON array of numbers. */
async function readInputVector(path: string): Promise<number[]> {
  const raw = await readJsonFile(path, 'input');
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'number'))
    throw new InputFileError(path, 'an input must be a JSON array of numbers');
  return raw as number[];
}

/** `zkai model import`: ONNX -> native JSON model. */
export async function modelImportCommand(file: string, flags: ModelImportFlags): Promise<void> {
  if (resolve(file) === resolve(flags.out))
    throw new ZkaiError('BAD_OPTION', `--out ${flags.out} is the ONNX file itself`);
  const { model, report } = await importOnnxModel(file, {
    inputRange: rangeOf(flags),
    ...(flags.name ? { name: flags.name } : {}),
  });
  await writeFileAtomic(flags.out, `${JSON.stringify({ format: NATIVE_MODEL_FORMAT, ...model }, null, 1)}\n`);
  emit(
    flags,
    {
      out: flags.out,
      name: model.name,
      layers: model.layers.map((l) => l.type),
      steps: report.steps,
      notes: report.notes,
    },
    () =>
      [
        `imported ${file} as ${flags.out}: ${model.layers.map((l) => (l.type === 'dense' ? `dense ${l.weights[0]!.length}->${l.weights.length}` : l.type === 'conv' ? `conv ${l.kernel.join('x')}->${l.outChannels}` : l.type)).join(', ')}`,
        ...report.steps.map((s) => `  ${s}`),
        ...report.notes.map((n) => `  note: ${n}`),
      ].join('\n'),
  );
}

/** The input visibility from --input-visibility (or the older --public-input). */
export function inputVisibilityOf(flags: VisibilityFlags): InputVisibility {
  if (flags.inputVisibility !== undefined) {
    if (!['hashed', 'public', 'private'].includes(flags.inputVisibility))
      throw new ZkaiError(
        'BAD_OPTION',
        `--input-visibility must be hashed, public or private, got "${flags.inputVisibility}"`,
      );
    if (flags.publicInput && flags.inputVisibility !== 'public')
      throw new ZkaiError('BAD_OPTION', '--public-input contradicts --input-visibility');
    return flags.inputVisibility as InputVisibility;
  }
  return flags.publicInput ? 'public' : 'hashed';
}

/** Sample inputs for calibration: a JSON array of inputs, or {inputs, labels}. */
async function readSamples(path: string): Promise<{ inputs: number[][]; labels?: number[] }> {
  const raw = await readJsonFile(path, 'samples');
  const shape = 'samples must be a JSON array of inputs (arrays of numbers), or {"inputs": [...], "labels": [...]}';
  const object =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as { inputs?: unknown; labels?: unknown })
      : undefined;
  const inputs = object ? object.inputs : raw;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    inputs.some((s) => !Array.isArray(s) || s.some((v: unknown) => typeof v !== 'number'))
  )
    throw new InputFileError(path, shape);
  if (object?.labels === undefined) return { inputs: inputs as number[][] };
  if (
    !Array.isArray(object.labels) ||
    object.labels.length !== inputs.length ||
    object.labels.some((l) => !Number.isInteger(l))
  )
    throw new InputFileError(path, `"labels" must be one integer class per input (${inputs.length})`);
  return { inputs: inputs as number[][], labels: object.labels as number[] };
}

/** --max-disagreement: how many calibration samples may prove another class than the float model (default 0). */
function maxDisagreementOf(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^[0-9]+$/.test(value))
    throw new ZkaiError(
      'BAD_OPTION',
      `--max-disagreement must be a whole number of samples (0 or more), got "${value}"`,
    );
  return Number(value);
}

/**
 * Calibration for a command: `--frac-bits auto` chooses f on the samples (refusing, unless --max-disagreement allows
 * it, any f at which a sample changes class); a given f is only reported on. The float reference is onnxruntime on
 * the ONNX file for an imported model, the TypeScript float model for a native one.
 */
async function calibrateWithFlags(
  loaded: LoadedModel,
  samples: { inputs: number[][]; labels?: number[] },
  flags: CalibrationFlags,
): Promise<CalibrationReport> {
  const auto = flags.fracBits === 'auto';
  if (!auto && flags.maxDisagreement !== undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      '--max-disagreement goes with --frac-bits auto (it lowers the bar calibration chooses f by)',
    );
  const reference = loaded.onnx
    ? await onnxFloatReference(loaded.model, samples.inputs, loaded.onnx.path, loaded.onnx.output)
    : nativeFloatReference(loaded.model, samples.inputs);
  return calibrate(loaded.model, samples.inputs, {
    ...(samples.labels ? { labels: samples.labels } : {}),
    reference,
    ...(auto
      ? { maxDisagreement: maxDisagreementOf(flags.maxDisagreement) }
      : { candidates: [fracBitsOf(flags.fracBits)], maxDisagreement: Infinity }),
  });
}

/** The calibration as JSON (bigints as strings). */
function calibrationJson(calibration: CalibrationReport) {
  const chosen = calibration.candidates.find((c) => c.fracBits === calibration.fracBits);
  return {
    agreement: { samples: calibration.samples, agree: chosen?.agree ?? 0, disagreeing: calibration.disagreeing },
    calibration: {
      fracBits: calibration.fracBits,
      ...(calibration.maxDisagreement !== undefined ? { maxDisagreement: calibration.maxDisagreement } : {}),
      reference: calibration.reference,
      candidates: calibration.candidates,
      skipped: calibration.skipped,
      disagreeing: calibration.disagreeing,
      layers: calibration.layers.map((l) => ({
        ...l,
        observedMax: l.observedMax.toString(),
        bound: l.bound.toString(),
      })),
    },
  };
}

/** A short real number for reports (logit errors, rounding errors). */
function realText(value: number): string {
  return value === 0 ? '0' : value >= 0.01 ? value.toFixed(4) : value.toPrecision(3);
}

/** The calibration in human lines (indented by two spaces). */
function calibrationLines(calibration: CalibrationReport, auto: boolean): string[] {
  const percent = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
  const n = calibration.samples;
  const allowed = calibration.maxDisagreement ?? 0;
  const rule =
    allowed === 0
      ? "the fewest at which every sample keeps the float model's class"
      : `the fewest at which at most ${allowed} sample(s) change class, as --max-disagreement ${allowed} allows`;
  const lines = [
    `  calibration on ${n} samples against ${calibration.reference.source}${auto ? ` (chose ${calibration.fracBits} fractional bits: ${rule})` : ''}:`,
    ...(calibration.reference.logitsSource !== calibration.reference.source
      ? [`    logits compared with ${calibration.reference.logitsSource}`]
      : []),
    '    frac bits  same class as float  largest logit error  float accuracy  quantized accuracy  rescale bits',
    ...calibration.candidates.map(
      (c) =>
        `    ${String(c.fracBits).padStart(9)}  ${`${c.agree} of ${n} (${percent(c.agreement)})`.padStart(20)}  ${realText(c.maxLogitError).padStart(19)}  ${percent(c.floatAccuracy).padStart(14)}  ${percent(c.quantizedAccuracy).padStart(18)}  ${String(c.rescaleBits).padStart(12)}`,
    ),
    ...calibration.skipped.map((s) => `    ${String(s.fracBits).padStart(9)}  skipped: ${s.reason}`),
  ];
  if (calibration.disagreeing.length > 0) {
    lines.push(
      auto
        ? `    samples proving another class than the float model at ${calibration.fracBits} bits: ${shortList(calibration.disagreeing)} (allowed by --max-disagreement ${allowed})`
        : `    WARNING: at ${calibration.fracBits} fractional bits, samples ${shortList(calibration.disagreeing)} prove another class than the float model (a valid proof on such an input states a class the float model does not predict); --frac-bits auto chooses a setting without`,
    );
  }
  lines.push(
    '    range used per layer (largest |output| on the samples vs the worst-case bound):',
    ...calibration.layers.map(
      (l) => `      layer ${l.layer} ${l.label}: ${l.observedMax} of ${l.bound} (${l.headroomBits} bits of headroom)`,
    ),
  );
  return lines;
}

/**
 * `zkai model inspect`: layers, quantization, constraint estimate per layer, and with samples the calibration (float vs
 * quantized per fixed point, range used per layer); no setup is paid.
 */
export async function modelInspectCommand(file: string, flags: ModelInspectFlags): Promise<void> {
  const loaded = await loadAnyModel(file, flags);
  const { model, notes } = loaded;
  const samples = flags.samples ? await readSamples(flags.samples) : undefined;
  if (flags.fracBits === 'auto' && !samples)
    throw new ZkaiError('BAD_OPTION', '--frac-bits auto calibrates on sample inputs: give --samples FILE');
  if (flags.maxDisagreement !== undefined && flags.fracBits !== 'auto')
    throw new ZkaiError(
      'BAD_OPTION',
      '--max-disagreement goes with --frac-bits auto (it lowers the bar calibration chooses f by)',
    );
  const calibration = samples ? await calibrateWithFlags(loaded, samples, flags) : undefined;
  const quantized = calibration?.model ?? quantizeModel(model, fracBitsOf(flags.fracBits));
  const visibility = inputVisibilityOf(flags);
  const weights: WeightVisibility = flags.weights === 'hashed' ? 'hashed' : 'fixed';
  if (flags.weights !== undefined && !['fixed', 'hashed'].includes(flags.weights))
    throw new ZkaiError('BAD_OPTION', `--weights must be fixed or hashed, got "${flags.weights}"`);
  const generated = await generateModelCircuit(quantized, visibility, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    weights,
  });
  const total = generated.estimate.reduce((sum, e) => sum + e.constraints, 0);
  const layers = quantized.layers.map((l, i) => ({
    layer: i,
    op: l.op,
    label: l.label,
    inputs: l.inputs,
    outputs: l.outputs,
    ...(l.op === 'maxpool'
      ? {}
      : { relu: l.relu, accumulatorBits: l.accBits, weightBits: l.weightBits, parameters: l.params.length }),
  }));
  const json = {
    name: model.name,
    modelHash: generated.modelHash,
    fracBits: quantized.fracBits,
    inputBits: quantized.inputBits,
    inputRange: [quantized.inputMin.toString(), quantized.inputMax.toString()],
    layers,
    visibility,
    weights,
    estimate: generated.estimate,
    estimatedConstraints: total,
    ptauPower: Math.ceil(Math.log2(total + 8)),
    ...(calibration ? calibrationJson(calibration) : {}),
    notes,
  };
  emit(flags, json, () =>
    [
      `model "${model.name}": ${model.input.size} inputs${model.input.shape ? ` (${model.input.shape.join('x')})` : ''} in [${model.input.min}, ${model.input.max}], ${quantized.fracBits} fractional bits (inputs checked in [${quantized.inputMin}, ${quantized.inputMax}], ${quantized.inputBits} bits)`,
      `  model hash   ${generated.modelHash}`,
      ...layers.map(
        (l) =>
          `  layer ${l.layer}    ${l.label}${l.relu ? ' + ReLU' : ''}${l.accumulatorBits !== undefined ? `, accumulator ${l.accumulatorBits} bits, weights ${l.weightBits} bits` : ''}`,
      ),
      `  constraint estimate (input ${visibility}, weights ${weights}):`,
      ...generated.estimate.map((e) => `    ${e.layer}: ${e.constraints}`),
      `    total about ${total} (a 2^${Math.ceil(Math.log2(total + 8))} ptau)`,
      ...(calibration
        ? calibrationLines(calibration, flags.fracBits === 'auto')
        : [
            '  pass --samples FILE (inputs, or {inputs, labels}) to compare float and quantized, and --frac-bits auto to calibrate',
          ]),
      ...notes.map((n) => `  note: ${n}`),
    ].join('\n'),
  );
}

/** `zkai model commit`: the public commitment to a model's weights (for private-weight proofs), and its private salt. */
export async function modelCommitCommand(flags: ModelCommitFlags): Promise<void> {
  if (resolve(flags.out) === resolve(flags.saltOut))
    throw new ZkaiError(
      'BAD_OPTION',
      '--out and --salt-out must be different files (the salt is private, the commitment public)',
    );
  const { model } = await loadAnyModel(flags.model, flags);
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const salt = randomFieldSalt();
  const commitment = modelCommitment(quantized, salt);
  await writeFileAtomic(
    flags.saltOut,
    `${JSON.stringify({ salt: salt.toString(), modelCommitment: commitment }, null, 1)}\n`,
    { mode: 0o600 },
  );
  await writeFileAtomic(
    flags.out,
    `${JSON.stringify({ name: model.name, fracBits: quantized.fracBits, inputSize: quantized.inputSize, modelCommitment: commitment }, null, 1)}\n`,
  );
  emit(flags, { modelCommitment: commitment, out: flags.out, saltOut: flags.saltOut }, () =>
    [
      `model "${model.name}" committed: ${commitment}`,
      `  commitment   ${flags.out} (public: publish it; verifiers check private-weight proofs against it)`,
      `  salt         ${flags.saltOut} (PRIVATE, mode 0600: needed to prove, and it keeps the weights from being guessed)`,
    ].join('\n'),
  );
}

/** The rounding of an input as JSON: counts, the largest error, and the first indexes. */
function roundingJson(rounding: InputRounding, size: number) {
  return {
    rounded: rounding.rounded,
    of: size,
    maxError: rounding.maxError,
    ...(rounding.rounded > 0 ? { maxErrorIndex: rounding.maxErrorIndex } : {}),
    firstIndexes: rounding.indexes.slice(0, 10),
  };
}

/** `zkai model prove`: prove the model's prediction on an input. */
export async function modelProveCommand(flags: ModelProveFlags): Promise<void> {
  const context = contextOption(flags.context);
  const visibility = inputVisibilityOf(flags);
  const weights: WeightVisibility = flags.modelSalt ? 'hashed' : 'fixed';
  const committed = flags.modelSalt ? await readModelSalt(flags.modelSalt) : undefined;
  if (visibility === 'hashed' && !flags.saltOut)
    throw new ZkaiError(
      'BAD_OPTION',
      'a hashed input needs --salt-out FILE: the salt opens the input commitment later (keep it private); or pass --input-visibility public|private',
    );
  const auto = flags.fracBits === 'auto';
  if (auto && !flags.samples)
    throw new ZkaiError('BAD_OPTION', '--frac-bits auto calibrates on sample inputs: give --samples FILE');
  if (!auto && flags.samples !== undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      '--samples goes with --frac-bits auto (model prove calibrates only to choose the fractional bits); run zkai model inspect --samples to compare a given --frac-bits',
    );
  const loaded = await loadAnyModel(flags.model, flags);
  const { model } = loaded;
  const calibration = auto
    ? await calibrateWithFlags(loaded, await readSamples(flags.samples as string), flags)
    : undefined;
  const quantized = calibration?.model ?? quantizeModel(model, fracBitsOf(flags.fracBits));
  const values = await readInputVector(flags.input);
  const input = quantizeInput(quantized, values, model);
  const rounding = inputRounding(values, quantized.fracBits);
  const progress = progressPrinter(flags);
  const started = performance.now();
  if (committed && modelCommitment(quantized, committed.salt) !== committed.commitment) {
    throw new ZkaiError(
      'BAD_OPTION',
      `${flags.modelSalt} belongs to another model (or another --frac-bits${auto ? `: calibration chose ${quantized.fracBits}` : ''}): its commitment ${committed.commitment} is not this model's`,
    );
  }
  const result = await proveInference(quantized, input, {
    visibility,
    weights,
    ...(committed ? { modelSalt: committed.salt } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...keyOptions(flags),
    ...(progress ? { onProgress: progress } : {}),
  });
  const { prepared, salt, ...published } = result;
  const proof: InferenceProof = published;
  if (salt !== undefined && flags.saltOut)
    await writeFileAtomic(
      flags.saltOut,
      `${JSON.stringify({ salt: salt.toString(), inputHash: proof.inputHash }, null, 1)}\n`,
      { mode: 0o600 },
    );
  await writeFileAtomic(flags.out, `${JSON.stringify(proof, null, 1)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const elapsed = (performance.now() - started) / 1000;
  // Everything the verifier needs: the key, the proof, and the model as the verifier must state it (file, fractional
  // bits, ONNX input range) or, with private weights, the published commitment (which binds the fixed point).
  const verifyWith = commandHint([
    'zkai',
    'model',
    'verify',
    '--vkey',
    flags.vkeyOut ?? prepared.keys.vkeyPath,
    '--proof',
    flags.out,
    ...(weights === 'hashed'
      ? ['--model-commitment', proof.model.commitment as string]
      : modelFlagsFor(flags.model, quantized.fracBits, loaded)),
  ]);
  const inputLine =
    rounding.rounded > 0
      ? `  input        ${rounding.rounded} of ${values.length} values are off the ${quantized.fracBits}-bit fixed-point grid and were ROUNDED (largest error ${realText(rounding.maxError)} at input[${rounding.maxErrorIndex}]; rounded: ${shortList(rounding.indexes, 5)}): the proof is about the rounded input`
      : `  input        every value is on the ${quantized.fracBits}-bit fixed-point grid (nothing rounded)`;
  emit(
    flags,
    {
      proof: flags.out,
      vkey: prepared.keys.vkeyPath,
      ...keyJson(prepared.keys),
      predicted: proof.predicted,
      weights,
      fracBits: quantized.fracBits,
      modelHash: proof.model.hash,
      modelCommitment: proof.model.commitment,
      inputHash: proof.inputHash,
      inputRounding: roundingJson(rounding, values.length),
      ...(calibration ? calibrationJson(calibration) : {}),
      context: (context ?? 0n).toString(),
      constraints: prepared.circuit.info.constraints,
      seconds: elapsed,
      verifyWith,
    },
    () =>
      [
        `proof written to ${flags.out}: model "${model.name}" predicts class ${proof.predicted} on the ${visibility === 'hashed' ? `input committed as ${proof.inputHash}` : visibility === 'public' ? 'public input' : 'private input (nothing about it is published)'}`,
        `  circuit      ${prepared.circuit.info.constraints} constraints (${prepared.circuit.cached ? 'compiled earlier' : 'compiled now'}, keys ${prepared.keys.cached ? 'from cache' : 'set up now'}); ${seconds(elapsed)}`,
        weights === 'hashed'
          ? `  model        private weights, commitment ${proof.model.commitment} (the circuit and its keys hold no weight)`
          : `  model hash   ${proof.model.hash} (weights fixed in the circuit)`,
        `  fixed point  ${quantized.fracBits} fractional bits${calibration ? `, chosen by calibration on ${calibration.samples} samples (${calibration.disagreeing.length === 0 ? "every one keeps the float model's class" : `samples ${shortList(calibration.disagreeing)} change class, as --max-disagreement allows`})` : ''}`,
        inputLine,
        ...(flags.saltOut
          ? [`  salt         ${flags.saltOut} (PRIVATE, mode 0600: it opens the input commitment)`]
          : []),
        ...(context
          ? [
              `  context      ${context} (attest with: zkai chain attest ${flags.out} --nonce NONCE, the nonce this context was made with)`,
              `  register     the registry owner registers this circuit once, from the model: zkai chain register ${flags.out} ${modelFlagsFor(flags.model, quantized.fracBits, loaded).join(' ')} ${prepared.keys.phase2.source === 'ceremony' ? `--zkey ${prepared.keys.zkeyPath} --ptau ${prepared.keys.ptau.path}` : '--development'}`,
            ]
          : []),
        ...ceremonyKeyLines(prepared.keys),
        ...hintLines('verify with', verifyWith),
        verifierKeyNote(prepared.keys),
        ...keyWarningLines(prepared.keys),
      ].join('\n'),
  );
}

/**
 * The input visibility of an inference circuit, read from the verifier's key, not from the proof file: with fixed or
 * private weights a circuit has 3 public signals for a private input, 4 for a hashed one (its commitment) and 4 + n
 * for a public one of n values. A file that states another visibility is refused.
 */
function visibilityFromKey(
  vkey: unknown,
  stated: unknown,
): { visibility: InputVisibility; publicInputs: number } | { refused: string } {
  const nPublic = typeof vkey === 'object' && vkey !== null ? (vkey as { nPublic?: unknown }).nPublic : undefined;
  const statedVisibility: InputVisibility = stated === 'public' || stated === 'private' ? stated : 'hashed';
  if (typeof nPublic !== 'number' || !Number.isInteger(nPublic) || nPublic < 3)
    return { visibility: statedVisibility, publicInputs: 0 }; // verifyProof refuses the key
  const visibility: InputVisibility = nPublic === 3 ? 'private' : nPublic === 4 ? 'hashed' : 'public';
  if (stated !== undefined && stated !== visibility)
    return {
      refused: `the file says its input is ${String(stated)}, but the verification key's circuit has ${nPublic} public signals: the layout of a ${visibility} input`,
    };
  return { visibility, publicInputs: visibility === 'public' ? nPublic - 4 : 0 };
}

/** Print a verdict (with a likely cause when invalid, and where its key comes from) and set the exit code. */
function emitVerdict(
  flags: VerifyKeyFlags,
  keySource: KeySource,
  result: VerificationResult,
  cause: string | undefined,
  extra: Record<string, unknown>,
  ok: () => string,
): void {
  checkVerdictKey(keySource, result, flags);
  emit(flags, { ...result, ...(cause ? { likelyCause: cause } : {}), ...extra, keySource }, () =>
    [
      ...(result.valid
        ? [ok()]
        : [`INVALID (${result.reason}): ${result.detail}`, ...(cause ? [`  likely cause: ${cause}`] : [])]),
      keySourceLine(keySource),
    ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

/**
 * `zkai model verify`: check an inference proof against the model the verifier holds. Exit code 1 if invalid.
 * Everything that decides the verdict comes from the verifier: the key, the model and its fractional bits (and an
 * ONNX model's input range), or the published model commitment; the input's visibility is read from the key.
 */
export async function modelVerifyCommand(flags: ModelVerifyFlags): Promise<void> {
  const [vkey, raw] = await Promise.all([
    readJsonFile(flags.vkey, 'verification key'),
    readJsonFile(flags.proof, 'inference proof'),
  ]);
  // The one proof-file parser checks every field; what the file states is then checked against the verifier's model.
  const parsed = parseProofFile(raw, flags.proof);
  if (parsed.format !== 'zkai-inference-proof-v1' && parsed.format !== 'zkai-accuracy-proof-v2')
    throw new InputFileError(
      flags.proof,
      `${parsed.format === 'plain' ? 'a bare snarkjs proof' : `a ${parsed.format} file`}, not a zkai inference or accuracy proof (format "zkai-inference-proof-v1" or "zkai-accuracy-proof-v2")`,
    );
  if (parsed.format === 'zkai-accuracy-proof-v2' && isAccuracyProof(raw))
    return verifyAccuracyFile(flags, vkey, raw, flags.proof);
  if (parsed.format !== 'zkai-inference-proof-v1')
    throw new InputFileError(
      flags.proof,
      'not a zkai inference or accuracy proof (format "zkai-inference-proof-v1" or "zkai-accuracy-proof-v2")',
    );
  const file = parsed;
  // Private weights: the verifier holds no architecture to generate the circuit from, so its key is not bound to one.
  if (file.weights === 'hashed') return verifyPrivateWeights(flags, vkey, file, await verifierKeySource(vkey, flags));
  if (!flags.model)
    throw new ZkaiError(
      'BAD_OPTION',
      'this proof has the weights fixed in its circuit: give --model FILE, the model you trust',
    );
  const fracBits = verifierFracBits(flags.fracBits, `the model ${flags.model}`);
  const loaded = await loadAnyModel(flags.model, flags);
  const { model } = loaded;
  const quantized = quantizeModel(model, fracBits);
  const hash = modelHash(quantized);
  const layout = visibilityFromKey(vkey, file.visibility);
  // The key must be one the verifier trusts, made for the circuit its own model generates, before anything is checked.
  const keySource = await verifierKeySource(
    vkey,
    flags,
    'refused' in layout ? undefined : { kind: 'inference', model: quantized, visibility: layout.visibility },
  );
  if ('refused' in layout)
    return emitVerdict(
      flags,
      keySource,
      { valid: false, reason: 'malformed', detail: layout.refused },
      undefined,
      { modelHash: hash },
      () => '',
    );
  const { visibility } = layout;
  const predicted = flags.class !== undefined ? Number(flags.class) : Number(file.predicted);
  if (!Number.isInteger(predicted) || predicted < 0)
    throw new ZkaiError(
      'BAD_OPTION',
      `the class must be a non-negative integer, got "${flags.class ?? file.predicted}"`,
    );
  const input =
    visibility === 'public'
      ? flags.input
        ? quantizeInput(quantized, await readInputVector(flags.input), model)
        : (file.input ?? []).map((v) => BigInt(v))
      : undefined;
  if (input && input.length !== quantized.inputSize) {
    return emitVerdict(
      flags,
      keySource,
      {
        valid: false,
        reason: 'malformed',
        detail: `the ${flags.input ? `input ${flags.input}` : "file's public input"} has ${input.length} values; the model takes ${quantized.inputSize}`,
      },
      undefined,
      { modelHash: hash },
      () => '',
    );
  }
  const result = await verifyInference(vkey, file.proof, file.publicSignals, {
    model: quantized,
    visibility,
    predicted,
    ...(visibility === 'hashed'
      ? { inputHash: flags.inputHash ?? file.inputHash ?? '' }
      : visibility === 'public'
        ? { input: input ?? [] }
        : {}),
  });
  const proofHash = mismatchOf(result, 'modelHash');
  const cause = proofHash !== undefined ? modelHashCause(loaded, flags.model, fracBits, proofHash) : undefined;
  emitVerdict(
    flags,
    keySource,
    result,
    cause,
    { modelHash: hash, fracBits, predicted, visibility },
    () =>
      `OK: the proof is valid: model "${model.name}" (hash ${hash}, ${fracBits} fractional bits) predicts class ${predicted} on the ${visibility === 'hashed' ? `input committed as ${flags.inputHash ?? file.inputHash}` : visibility === 'public' ? `public input [${(input ?? []).join(', ')}] (fixed point, ${quantized.fracBits} fractional bits)` : 'input, which is private (the proof claims nothing about it beyond its range)'}`,
  );
}

/** `zkai model verify` for a private-weights proof: against the published model commitment (which binds the fixed point). */
async function verifyPrivateWeights(
  flags: ModelVerifyFlags,
  vkey: unknown,
  file: InferenceProofFile,
  keySource: KeySource,
): Promise<void> {
  if (!flags.modelCommitment || !/^[0-9]+$/.test(flags.modelCommitment))
    throw new ZkaiError(
      'BAD_OPTION',
      'this proof keeps the weights private: give --model-commitment C, the published commitment you trust (zkai model commit prints it)',
    );
  const predicted = flags.class !== undefined ? Number(flags.class) : Number(file.predicted);
  if (!Number.isInteger(predicted) || predicted < 0)
    throw new ZkaiError(
      'BAD_OPTION',
      `the class must be a non-negative integer, got "${flags.class ?? file.predicted}"`,
    );
  if (flags.input)
    throw new ZkaiError(
      'BAD_OPTION',
      '--input is for fixed-weight proofs (the input is quantized with the model, which a private-weights verifier does not hold); a public input is read from the proof and printed',
    );
  const layout = visibilityFromKey(vkey, file.visibility);
  if ('refused' in layout)
    return emitVerdict(
      flags,
      keySource,
      { valid: false, reason: 'malformed', detail: layout.refused },
      undefined,
      { modelCommitment: flags.modelCommitment, weights: 'hashed' },
      () => '',
    );
  const { visibility, publicInputs } = layout;
  const input = visibility === 'public' ? (file.input ?? []).map((v) => BigInt(v)) : undefined;
  if (input && input.length !== publicInputs) {
    return emitVerdict(
      flags,
      keySource,
      {
        valid: false,
        reason: 'malformed',
        detail: `the file's public input has ${input.length} values; the verification key's circuit publishes ${publicInputs}`,
      },
      undefined,
      { modelCommitment: flags.modelCommitment, weights: 'hashed' },
      () => '',
    );
  }
  const result = await verifyInference(vkey, file.proof, file.publicSignals, {
    model: { inputSize: publicInputs },
    weights: 'hashed',
    modelCommitment: flags.modelCommitment,
    visibility,
    predicted,
    ...(visibility === 'hashed'
      ? { inputHash: flags.inputHash ?? file.inputHash ?? '' }
      : visibility === 'public'
        ? { input: input ?? [] }
        : {}),
  });
  const proofCommitment = mismatchOf(result, 'modelCommitment');
  const cause =
    proofCommitment !== undefined
      ? `the proof is about the model committed as ${proofCommitment}, not ${flags.modelCommitment}: another model, or the same one committed with other --frac-bits or another salt (a commitment binds the weights, the fixed point and the salt); take the commitment from the model owner's publication`
      : undefined;
  emitVerdict(
    flags,
    keySource,
    result,
    cause,
    { modelCommitment: flags.modelCommitment, predicted, visibility, weights: 'hashed' },
    () =>
      `OK: the proof is valid: the model committed as ${flags.modelCommitment} (weights private) predicts class ${predicted} on the ${visibility === 'hashed' ? `input committed as ${flags.inputHash ?? file.inputHash}` : visibility === 'public' ? 'public input' : 'input, which is private'}`,
  );
}
