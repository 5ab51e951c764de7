import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputFileError, ZkaiError } from '../errors.ts';
import { DEV_PTAU_WARNING } from '../setup/dev-ptau.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { generateModelCircuit, modelCommitment, modelHash, type InputVisibility, type WeightVisibility } from '../model/circuit-gen.ts';
import { randomFieldSalt } from '../util/salt.ts';
import { proveInference, verifyInference, type InferenceProof } from '../model/inference.ts';
import { loadNativeModel, NATIVE_MODEL_FORMAT, type FloatModel } from '../model/native.ts';
import { importOnnxModel } from '../model/onnx-import.ts';
import { DEFAULT_FRAC_BITS, quantizeInput, quantizeModel } from '../model/quantize.ts';
import { calibrate } from '../model/calibrate.ts';
import { readJsonFile } from './io.ts';
import { isAccuracyProof, verifyAccuracyFile } from './accuracy-commands.ts';
import { emit, progressPrinter, seconds, type GlobalFlags } from './output.ts';
import { contextOption } from './chain-commands.ts';

export function fracBitsOf(value: string | undefined): number {
  const bits = Number(value ?? DEFAULT_FRAC_BITS);
  if (!/^[0-9]+$/.test(value ?? String(DEFAULT_FRAC_BITS)) || bits < 1 || bits > 24) throw new ZkaiError('BAD_OPTION', `--frac-bits must be an integer from 1 to 24, got "${value}"`);
  return bits;
}

function rangeOf(flags: { inputMin?: string; inputMax?: string }): { min: number; max: number } {
  if (flags.inputMin === undefined || flags.inputMax === undefined) {
    throw new ZkaiError('BAD_OPTION', 'an ONNX model does not say what range its inputs lie in: give --input-min and --input-max (quantization derives every bit width from them)');
  }
  const min = Number(flags.inputMin);
  const max = Number(flags.inputMax);
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) throw new ZkaiError('BAD_OPTION', `--input-min and --input-max must be numbers with min < max, got "${flags.inputMin}" and "${flags.inputMax}"`);
  return { min, max };
}

/** A model file: native JSON, or ONNX (imported on the fly; needs the input range). */
export async function loadAnyModel(path: string, flags: { inputMin?: string; inputMax?: string }): Promise<{ model: FloatModel; notes: string[] }> {
  if (/\.onnx$/i.test(path)) {
    const { model, report } = await importOnnxModel(path, { inputRange: rangeOf(flags) });
    return { model, notes: report.notes };
  }
  return { model: await loadNativeModel(path), notes: [] };
}

/** Read an input vector: a JSON array of numbers. */
async function readInputVector(path: string): Promise<number[]> {
  const raw = await readJsonFile(path, 'input');
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'number')) throw new InputFileError(path, 'an input must be a JSON array of numbers');
  return raw as number[];
}

/** `zkai model import`: ONNX -> native JSON model. */
export async function modelImportCommand(file: string, flags: GlobalFlags & { out: string; inputMin?: string; inputMax?: string; name?: string }): Promise<void> {
  if (resolve(file) === resolve(flags.out)) throw new ZkaiError('BAD_OPTION', `--out ${flags.out} is the ONNX file itself`);
  const { model, report } = await importOnnxModel(file, { inputRange: rangeOf(flags), ...(flags.name ? { name: flags.name } : {}) });
  await writeFileAtomic(flags.out, `${JSON.stringify({ format: NATIVE_MODEL_FORMAT, ...model }, null, 1)}\n`);
  emit(flags, { out: flags.out, name: model.name, layers: model.layers.map((l) => l.type), steps: report.steps, notes: report.notes }, () =>
    [`imported ${file} as ${flags.out}: ${model.layers.map((l) => (l.type === 'dense' ? `dense ${l.weights[0]!.length}->${l.weights.length}` : l.type === 'conv' ? `conv ${l.kernel.join('x')}->${l.outChannels}` : l.type)).join(', ')}`, ...report.steps.map((s) => `  ${s}`), ...report.notes.map((n) => `  note: ${n}`)].join('\n'),
  );
}

/** The input visibility from --input-visibility (or the older --public-input). */
export function inputVisibilityOf(flags: { publicInput?: boolean; inputVisibility?: string }): InputVisibility {
  if (flags.inputVisibility !== undefined) {
    if (!['hashed', 'public', 'private'].includes(flags.inputVisibility)) throw new ZkaiError('BAD_OPTION', `--input-visibility must be hashed, public or private, got "${flags.inputVisibility}"`);
    if (flags.publicInput && flags.inputVisibility !== 'public') throw new ZkaiError('BAD_OPTION', '--public-input contradicts --input-visibility');
    return flags.inputVisibility as InputVisibility;
  }
  return flags.publicInput ? 'public' : 'hashed';
}

/** Sample inputs for calibration: a JSON array of inputs, or {inputs, labels}. */
async function readSamples(path: string): Promise<{ inputs: number[][]; labels?: number[] }> {
  const raw = await readJsonFile(path, 'samples');
  const shape = 'samples must be a JSON array of inputs (arrays of numbers), or {"inputs": [...], "labels": [...]}';
  const object = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { inputs?: unknown; labels?: unknown }) : undefined;
  const inputs = object ? object.inputs : raw;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((s) => !Array.isArray(s) || s.some((v: unknown) => typeof v !== 'number'))) throw new InputFileError(path, shape);
  if (object?.labels === undefined) return { inputs: inputs as number[][] };
  if (!Array.isArray(object.labels) || object.labels.length !== inputs.length || object.labels.some((l) => !Number.isInteger(l))) throw new InputFileError(path, `"labels" must be one integer class per input (${inputs.length})`);
  return { inputs: inputs as number[][], labels: object.labels as number[] };
}

/**
 * `zkai model inspect`: layers, quantization, constraint estimate per layer, and with samples the calibration (float vs
 * quantized per fixed point, range used per layer); no setup is paid.
 */
export async function modelInspectCommand(file: string, flags: GlobalFlags & { fracBits?: string; inputMin?: string; inputMax?: string; samples?: string; publicInput?: boolean; inputVisibility?: string; weights?: string }): Promise<void> {
  const { model, notes } = await loadAnyModel(file, flags);
  const samples = flags.samples ? await readSamples(flags.samples) : undefined;
  if (flags.fracBits === 'auto' && !samples) throw new ZkaiError('BAD_OPTION', '--frac-bits auto calibrates on sample inputs: give --samples FILE');
  const calibration = samples ? calibrate(model, samples.inputs, { ...(samples.labels ? { labels: samples.labels } : {}), ...(flags.fracBits === 'auto' ? {} : { candidates: [fracBitsOf(flags.fracBits)] }), maxDrop: flags.fracBits === 'auto' ? 0.01 : 1 }) : undefined;
  const quantized = calibration?.model ?? quantizeModel(model, fracBitsOf(flags.fracBits));
  const visibility = inputVisibilityOf(flags);
  const weights: WeightVisibility = flags.weights === 'hashed' ? 'hashed' : 'fixed';
  if (flags.weights !== undefined && !['fixed', 'hashed'].includes(flags.weights)) throw new ZkaiError('BAD_OPTION', `--weights must be fixed or hashed, got "${flags.weights}"`);
  const generated = await generateModelCircuit(quantized, visibility, { ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}), weights });
  const total = generated.estimate.reduce((sum, e) => sum + e.constraints, 0);
  const layers = quantized.layers.map((l, i) => ({ layer: i, op: l.op, label: l.label, inputs: l.inputs, outputs: l.outputs, ...(l.op === 'maxpool' ? {} : { relu: l.relu, accumulatorBits: l.accBits, weightBits: l.weightBits, parameters: l.params.length }) }));
  const chosen = calibration?.candidates.find((c) => c.fracBits === quantized.fracBits);
  const percent = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
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
    ...(calibration
      ? {
          agreement: { samples: calibration.samples, agree: Math.round((chosen?.agreement ?? 0) * calibration.samples) },
          calibration: { fracBits: calibration.fracBits, candidates: calibration.candidates, layers: calibration.layers.map((l) => ({ ...l, observedMax: l.observedMax.toString(), bound: l.bound.toString() })) },
        }
      : {}),
    notes,
  };
  emit(flags, json, () =>
    [
      `model "${model.name}": ${model.input.size} inputs${model.input.shape ? ` (${model.input.shape.join('x')})` : ''} in [${model.input.min}, ${model.input.max}], ${quantized.fracBits} fractional bits (inputs checked in [${quantized.inputMin}, ${quantized.inputMax}], ${quantized.inputBits} bits)`,
      `  model hash   ${generated.modelHash}`,
      ...layers.map((l) => `  layer ${l.layer}    ${l.label}${l.relu ? ' + ReLU' : ''}${l.accumulatorBits !== undefined ? `, accumulator ${l.accumulatorBits} bits, weights ${l.weightBits} bits` : ''}`),
      `  constraint estimate (input ${visibility}, weights ${weights}):`,
      ...generated.estimate.map((e) => `    ${e.layer}: ${e.constraints}`),
      `    total about ${total} (a 2^${Math.ceil(Math.log2(total + 8))} ptau)`,
      ...(calibration
        ? [
            `  calibration on ${calibration.samples} samples${flags.fracBits === 'auto' ? ` (chose ${calibration.fracBits} fractional bits: the fewest within 1 point of float)` : ''}:`,
            '    frac bits  same class as float  float accuracy  quantized accuracy  rescale bits',
            ...calibration.candidates.map((c) => `    ${String(c.fracBits).padStart(9)}  ${percent(c.agreement).padStart(20)}  ${percent(c.floatAccuracy).padStart(14)}  ${percent(c.quantizedAccuracy).padStart(18)}  ${String(c.rescaleBits).padStart(12)}`),
            '    range used per layer (largest |output| on the samples vs the worst-case bound):',
            ...calibration.layers.map((l) => `      layer ${l.layer} ${l.label}: ${l.observedMax} of ${l.bound} (${l.headroomBits} bits of headroom)`),
          ]
        : ['  pass --samples FILE (inputs, or {inputs, labels}) to compare float and quantized, and --frac-bits auto to calibrate']),
      ...notes.map((n) => `  note: ${n}`),
    ].join('\n'),
  );
}

/** Read a model salt file written by `zkai model commit`. */
export async function readModelSalt(path: string): Promise<{ salt: bigint; commitment: string }> {
  const raw = (await readJsonFile(path, 'model salt')) as { salt?: unknown; modelCommitment?: unknown } | null;
  if (typeof raw?.salt !== 'string' || !/^[0-9]+$/.test(raw.salt) || typeof raw.modelCommitment !== 'string') throw new InputFileError(path, 'not a model salt file written by zkai model commit ({salt, modelCommitment})');
  return { salt: BigInt(raw.salt), commitment: raw.modelCommitment };
}

/** `zkai model commit`: the public commitment to a model's weights (for private-weight proofs), and its private salt. */
export async function modelCommitCommand(flags: GlobalFlags & { model: string; out: string; saltOut: string; fracBits?: string; inputMin?: string; inputMax?: string }): Promise<void> {
  if (resolve(flags.out) === resolve(flags.saltOut)) throw new ZkaiError('BAD_OPTION', '--out and --salt-out must be different files (the salt is private, the commitment public)');
  const { model } = await loadAnyModel(flags.model, flags);
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const salt = randomFieldSalt();
  const commitment = modelCommitment(quantized, salt);
  await writeFileAtomic(flags.saltOut, `${JSON.stringify({ salt: salt.toString(), modelCommitment: commitment }, null, 1)}\n`, { mode: 0o600 });
  await writeFileAtomic(flags.out, `${JSON.stringify({ name: model.name, fracBits: quantized.fracBits, inputSize: quantized.inputSize, modelCommitment: commitment }, null, 1)}\n`);
  emit(flags, { modelCommitment: commitment, out: flags.out, saltOut: flags.saltOut }, () =>
    [
      `model "${model.name}" committed: ${commitment}`,
      `  commitment   ${flags.out} (public: publish it; verifiers check private-weight proofs against it)`,
      `  salt         ${flags.saltOut} (PRIVATE, mode 0600: needed to prove, and it keeps the weights from being guessed)`,
    ].join('\n'),
  );
}

/** `zkai model prove`: prove the model's prediction on an input. */
export async function modelProveCommand(flags: GlobalFlags & { model: string; input: string; out: string; vkeyOut?: string; saltOut?: string; fracBits?: string; publicInput?: boolean; inputVisibility?: string; ptau?: string; inputMin?: string; inputMax?: string; modelSalt?: string; context?: string }): Promise<void> {
  const context = contextOption(flags.context);
  const visibility = inputVisibilityOf(flags);
  const weights: WeightVisibility = flags.modelSalt ? 'hashed' : 'fixed';
  const committed = flags.modelSalt ? await readModelSalt(flags.modelSalt) : undefined;
  if (visibility === 'hashed' && !flags.saltOut) throw new ZkaiError('BAD_OPTION', 'a hashed input needs --salt-out FILE: the salt opens the input commitment later (keep it private); or pass --input-visibility public|private');
  const { model } = await loadAnyModel(flags.model, flags);
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const input = quantizeInput(quantized, await readInputVector(flags.input), model);
  const progress = progressPrinter(flags);
  const started = performance.now();
  if (committed && modelCommitment(quantized, committed.salt) !== committed.commitment) {
    throw new ZkaiError('BAD_OPTION', `${flags.modelSalt} belongs to another model (or another --frac-bits): its commitment ${committed.commitment} is not this model's`);
  }
  const result = await proveInference(quantized, input, {
    visibility,
    weights,
    ...(committed ? { modelSalt: committed.salt } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  const { prepared, salt, ...published } = result;
  const proof: InferenceProof = published;
  if (salt !== undefined && flags.saltOut) await writeFileAtomic(flags.saltOut, `${JSON.stringify({ salt: salt.toString(), inputHash: proof.inputHash }, null, 1)}\n`, { mode: 0o600 });
  await writeFileAtomic(flags.out, `${JSON.stringify(proof, null, 1)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const elapsed = (performance.now() - started) / 1000;
  emit(flags, { proof: flags.out, vkey: prepared.keys.vkeyPath, predicted: proof.predicted, weights, modelHash: proof.model.hash, modelCommitment: proof.model.commitment, inputHash: proof.inputHash, context: (context ?? 0n).toString(), constraints: prepared.circuit.info.constraints, seconds: elapsed }, () =>
    [
      `proof written to ${flags.out}: model "${model.name}" predicts class ${proof.predicted} on the ${visibility === 'hashed' ? `input committed as ${proof.inputHash}` : visibility === 'public' ? 'public input' : 'private input (nothing about it is published)'}`,
      `  circuit      ${prepared.circuit.info.constraints} constraints (${prepared.circuit.cached ? 'compiled earlier' : 'compiled now'}, keys ${prepared.keys.cached ? 'from cache' : 'set up now'}); ${seconds(elapsed)}`,
      weights === 'hashed' ? `  model        private weights, commitment ${proof.model.commitment} (the circuit and its keys hold no weight)` : `  model hash   ${proof.model.hash} (weights fixed in the circuit)`,
      ...(flags.saltOut ? [`  salt         ${flags.saltOut} (PRIVATE, mode 0600: it opens the input commitment)`] : []),
      ...(context ? [`  context      ${context} (attest with: zkai chain attest ${flags.out} --nonce NONCE, the nonce this context was made with)`] : []),
      `  verify with: zkai model verify --vkey ${flags.vkeyOut ?? prepared.keys.vkeyPath} --proof ${flags.out} ${weights === 'hashed' ? `--model-commitment ${proof.model.commitment}` : `--model ${flags.model}`}`,
      ...(prepared.keys.ptau.developmentOnly ? [`  WARNING: ${DEV_PTAU_WARNING}`] : []),
    ].join('\n'),
  );
}

/** `zkai model verify`: check an inference proof against the model the verifier holds. Exit code 1 if invalid. */
export async function modelVerifyCommand(
  flags: GlobalFlags & { vkey: string; proof: string; model?: string; modelCommitment?: string; fracBits?: string; class?: string; inputHash?: string; input?: string; inputMin?: string; inputMax?: string; commitment?: string; root?: string; count?: string; schema?: string; minAccuracy?: string; label?: string; features?: string; scale?: string },
): Promise<void> {
  const [vkey, raw] = await Promise.all([readJsonFile(flags.vkey, 'verification key'), readJsonFile(flags.proof, 'inference proof')]);
  if (isAccuracyProof(raw)) return verifyAccuracyFile(flags, vkey, raw, flags.proof);
  const file = raw as Partial<InferenceProof>;
  if (typeof file !== 'object' || file === null || file.format !== 'zkai-inference-proof-v1') throw new InputFileError(flags.proof, 'not a zkai inference or accuracy proof (format "zkai-inference-proof-v1" or "zkai-accuracy-proof-v1" missing)');
  if (file.weights === 'hashed') return verifyPrivateWeights(flags, vkey, file);
  if (!flags.model) throw new ZkaiError('BAD_OPTION', 'this proof has the weights fixed in its circuit: give --model FILE, the model you trust');
  const { model } = await loadAnyModel(flags.model, flags);
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const visibility: InputVisibility = file.visibility === 'public' || file.visibility === 'private' ? file.visibility : 'hashed';
  const predicted = flags.class !== undefined ? Number(flags.class) : Number(file.predicted);
  if (!Number.isInteger(predicted) || predicted < 0) throw new ZkaiError('BAD_OPTION', `the class must be a non-negative integer, got "${flags.class ?? file.predicted}"`);
  const input = visibility === 'public' ? (flags.input ? quantizeInput(quantized, await readInputVector(flags.input), model) : (file.input ?? []).map((v) => BigInt(v))) : undefined;
  const result = await verifyInference(vkey, file.proof, file.publicSignals, {
    model: quantized,
    visibility,
    predicted,
    ...(visibility === 'hashed' ? { inputHash: flags.inputHash ?? file.inputHash ?? '' } : visibility === 'public' ? { input: input ?? [] } : {}),
  });
  emit(flags, { ...result, modelHash: modelHash(quantized), predicted, visibility }, () =>
    result.valid
      ? `OK: the proof is valid: model "${model.name}" (hash ${modelHash(quantized)}) predicts class ${predicted} on the ${visibility === 'hashed' ? `input committed as ${flags.inputHash ?? file.inputHash}` : visibility === 'public' ? `public input [${(input ?? []).join(', ')}] (fixed point, ${quantized.fracBits} fractional bits)` : 'input, which is private (the proof claims nothing about it beyond its range)'}`
      : `INVALID (${result.reason}): ${result.detail}`,
  );
  if (!result.valid) process.exitCode = 1;
}

/** `zkai model verify` for a private-weights proof: against the published model commitment. */
async function verifyPrivateWeights(flags: GlobalFlags & { modelCommitment?: string; class?: string; inputHash?: string; input?: string }, vkey: unknown, file: Partial<InferenceProof>): Promise<void> {
  if (!flags.modelCommitment || !/^[0-9]+$/.test(flags.modelCommitment)) throw new ZkaiError('BAD_OPTION', 'this proof keeps the weights private: give --model-commitment C, the published commitment you trust (zkai model commit prints it)');
  const predicted = flags.class !== undefined ? Number(flags.class) : Number(file.predicted);
  if (!Number.isInteger(predicted) || predicted < 0) throw new ZkaiError('BAD_OPTION', `the class must be a non-negative integer, got "${flags.class ?? file.predicted}"`);
  const visibility: InputVisibility = file.visibility === 'public' || file.visibility === 'private' ? file.visibility : 'hashed';
  if (flags.input) throw new ZkaiError('BAD_OPTION', '--input is for fixed-weight proofs (the input is quantized with the model, which a private-weights verifier does not hold); a public input is read from the proof and printed');
  const input = visibility === 'public' ? (file.input ?? []).map((v) => BigInt(v)) : undefined;
  const result = await verifyInference(vkey, file.proof, file.publicSignals, {
    model: { inputSize: visibility === 'public' ? (input ?? []).length : 0 },
    weights: 'hashed',
    modelCommitment: flags.modelCommitment,
    visibility,
    predicted,
    ...(visibility === 'hashed' ? { inputHash: flags.inputHash ?? file.inputHash ?? '' } : visibility === 'public' ? { input: input ?? [] } : {}),
  });
  emit(flags, { ...result, modelCommitment: flags.modelCommitment, predicted, visibility, weights: 'hashed' }, () =>
    result.valid
      ? `OK: the proof is valid: the model committed as ${flags.modelCommitment} (weights private) predicts class ${predicted} on the ${visibility === 'hashed' ? `input committed as ${flags.inputHash ?? file.inputHash}` : visibility === 'public' ? 'public input' : 'input, which is private'}`
      : `INVALID (${result.reason}): ${result.detail}`,
  );
  if (!result.valid) process.exitCode = 1;
}
