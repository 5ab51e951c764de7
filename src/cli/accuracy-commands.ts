import { readFile } from 'node:fs/promises';
import { loadBundle } from '../data/bundle.ts';
import { treeDepth } from '../data/commitment.ts';
import { loadSchema } from '../data/schema.ts';
import { InputFileError, ZkaiError } from '../errors.ts';
import { accuracyTask, proveAccuracy, verifyAccuracy, type AccuracyProof } from '../model/accuracy.ts';
import { modelCommitment, modelHash, type WeightVisibility } from '../model/circuit-gen.ts';
import { quantizeModel } from '../model/quantize.ts';
import { DEV_PTAU_WARNING } from '../setup/dev-ptau.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { expectedCommitment } from './data-commands.ts';
import { fracBitsOf, loadAnyModel, readModelSalt } from './model-commands.ts';
import { emit, progressPrinter, seconds, type GlobalFlags } from './output.ts';
import { contextOption } from './chain-commands.ts';

function scaleOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const scale = Number(value);
  if (!/^[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i.test(value) || !(scale > 0)) throw new ZkaiError('BAD_OPTION', `--scale must be a positive number, got "${value}"`);
  return scale;
}

function featuresOf(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
}

function fractionOf(value: string | undefined, flag: string): number {
  const fraction = Number(value);
  if (value === undefined || !/^(0|1|0?\.[0-9]+|1\.0*)$/.test(value) || !(fraction >= 0 && fraction <= 1)) throw new ZkaiError('BAD_OPTION', `${flag} must be a fraction from 0 to 1 (for example 0.95), got "${value}"`);
  return fraction;
}

/** `zkai model accuracy`: prove a model's accuracy on a committed test set (the data holder's bundle). */
export async function modelAccuracyCommand(
  flags: GlobalFlags & { model: string; bundle: string; schema: string; label: string; features?: string; scale?: string; out: string; samplesPerChunk?: string; modelSalt?: string; fracBits?: string; inputMin?: string; inputMax?: string; vkeyOut?: string; ptau?: string; context?: string },
): Promise<void> {
  const context = contextOption(flags.context);
  const [schema, bundle, { model }] = await Promise.all([loadSchema(flags.schema), loadBundle(flags.bundle), loadAnyModel(flags.model, flags)]);
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const committed = flags.modelSalt ? await readModelSalt(flags.modelSalt) : undefined;
  if (committed && modelCommitment(quantized, committed.salt) !== committed.commitment) throw new ZkaiError('BAD_OPTION', `${flags.modelSalt} belongs to another model (or another --frac-bits)`);
  const samples = flags.samplesPerChunk === undefined ? undefined : Number(flags.samplesPerChunk);
  if (samples !== undefined && (!/^[1-9][0-9]*$/.test(flags.samplesPerChunk ?? '') || samples > 4096)) throw new ZkaiError('BAD_OPTION', `--samples-per-chunk must be an integer from 1 to 4096, got "${flags.samplesPerChunk}"`);
  const scale = scaleOf(flags.scale);
  const features = featuresOf(flags.features);
  const weights: WeightVisibility = committed ? 'hashed' : 'fixed';
  const progress = progressPrinter(flags);
  const started = performance.now();
  const result = await proveAccuracy(quantized, bundle, schema, {
    label: flags.label,
    ...(features ? { features } : {}),
    ...(scale !== undefined ? { scale } : {}),
    ...(samples !== undefined ? { samplesPerChunk: samples } : {}),
    weights,
    ...(committed ? { modelSalt: committed.salt } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  const { prepared, ...published } = result;
  const proof: AccuracyProof = published;
  await writeFileAtomic(flags.out, `${JSON.stringify(proof)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const elapsed = (performance.now() - started) / 1000;
  const accuracy = proof.correct / proof.count;
  emit(flags, { proof: flags.out, vkey: prepared.keys.vkeyPath, correct: proof.correct, count: proof.count, accuracy, chunks: proof.chunks.length, samplesPerChunk: proof.samplesPerChunk, context: (context ?? 0n).toString(), constraints: prepared.circuit.info.constraints, seconds: elapsed }, () =>
    [
      `accuracy proof written to ${flags.out}: model "${model.name}" predicts ${proof.correct} of ${proof.count} test records right (${(accuracy * 100).toFixed(2)}%)`,
      `  test set     root ${proof.testSet.root} (${proof.count} records), label "${proof.task.label}", ${proof.task.features.length} feature columns x ${proof.task.scale}`,
      `  proofs       ${proof.chunks.length} chunk(s) of ${proof.samplesPerChunk} records, ${prepared.circuit.info.constraints} constraints each; ${seconds(elapsed)}`,
      weights === 'hashed' ? `  model        private weights, commitment ${proof.model.commitment}` : `  model hash   ${proof.model.hash}`,
      `  verify with: zkai model verify --vkey ${flags.vkeyOut ?? prepared.keys.vkeyPath} --proof ${flags.out} --commitment TEST-SET-COMMITMENT.json --schema ${flags.schema} ${weights === 'hashed' ? `--model-commitment ${proof.model.commitment}` : `--model ${flags.model}`} --min-accuracy X`,
      ...(prepared.keys.ptau.developmentOnly ? [`  WARNING: ${DEV_PTAU_WARNING}`] : []),
    ].join('\n'),
  );
}

/** `zkai model verify` for an accuracy proof. Exit code 1 if invalid or below the threshold. */
export async function verifyAccuracyFile(
  flags: GlobalFlags & { commitment?: string; root?: string; count?: string; schema?: string; model?: string; modelCommitment?: string; minAccuracy?: string; fracBits?: string; label?: string; features?: string; scale?: string; inputMin?: string; inputMax?: string },
  vkey: unknown,
  file: AccuracyProof,
  path: string,
): Promise<void> {
  if (!flags.schema) throw new ZkaiError('BAD_OPTION', 'an accuracy proof is verified against the test set\'s public schema: give --schema FILE');
  if (flags.minAccuracy === undefined) throw new ZkaiError('BAD_OPTION', 'give --min-accuracy X: the lowest accuracy (a fraction, for example 0.95) you accept');
  const minAccuracy = fractionOf(flags.minAccuracy, '--min-accuracy');
  if (typeof file.task !== 'object' || file.task === null || typeof file.model !== 'object' || file.model === null) throw new InputFileError(path, 'not a zkai accuracy proof (task or model missing)');
  const schema = await loadSchema(flags.schema);
  const published = await expectedCommitment(flags);
  if (published.schemaHash !== undefined && published.schemaHash !== schema.hash) throw new ZkaiError('BAD_OPTION', `the commitment's schema hash ${published.schemaHash} is not the hash of ${flags.schema} (${schema.hash})`);
  const testSet = { root: published.root, count: published.count, depth: treeDepth(published.count), schemaHash: schema.hash };
  let trusted: { modelHash: string } | { modelCommitment: string };
  let fracBits: number;
  let name: string;
  if (flags.modelCommitment !== undefined) {
    if (!/^[0-9]+$/.test(flags.modelCommitment)) throw new ZkaiError('BAD_OPTION', '--model-commitment must be a decimal number');
    trusted = { modelCommitment: flags.modelCommitment };
    // the commitment binds the model's fixed point, and the task hash below binds the proof's to the circuit
    fracBits = fracBitsOf(String(file.model.fracBits));
    name = `committed as ${flags.modelCommitment}`;
  } else {
    if (!flags.model) throw new ZkaiError('BAD_OPTION', 'give --model FILE (the model you trust, weights fixed in the circuit) or --model-commitment C (private weights)');
    const { model } = await loadAnyModel(flags.model, flags);
    const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
    trusted = { modelHash: modelHash(quantized) };
    fracBits = quantized.fracBits;
    name = `"${model.name}" (hash ${trusted.modelHash})`;
  }
  const label = flags.label ?? file.task.label;
  const features = featuresOf(flags.features) ?? file.task.features;
  const scale = scaleOf(flags.scale) ?? file.task.scale;
  const task = accuracyTask(schema, fracBits, { label, features, scale });
  const result = await verifyAccuracy(vkey, file, { testSet, taskHash: task.taskHash, minAccuracy, ...trusted });
  emit(flags, { ...result, task: { label, features, scale }, minAccuracy }, () =>
    result.valid
      ? `OK: the proof is valid: model ${name} predicts the label "${label}" of ${result.correct} of the ${result.count} records of test set ${testSet.root} (${((result.accuracy ?? 0) * 100).toFixed(2)}%, at least the required ${(minAccuracy * 100).toFixed(2)}%); inputs: ${features.length} columns x ${scale}`
      : `INVALID (${result.reason}): ${result.detail}`,
  );
  if (!result.valid) process.exitCode = 1;
}

/** Whether a parsed proof file is an accuracy proof. */
export function isAccuracyProof(raw: unknown): raw is AccuracyProof {
  return typeof raw === 'object' && raw !== null && (raw as { format?: unknown }).format === 'zkai-accuracy-proof-v1';
}

