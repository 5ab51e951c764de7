import { readFile } from 'node:fs/promises';
import { loadBundle } from '../data/bundle.ts';
import { treeDepth } from '../data/commitment.ts';
import { loadSchema } from '../data/schema.ts';
import { InputFileError, ZkaiError } from '../errors.ts';
import {
  accuracyTask,
  proveAccuracy,
  verifyAccuracy,
  type AccuracyProof,
  type AccuracyVerdict,
} from '../model/accuracy.ts';
import type { Schema } from '../data/types.ts';
import { modelCommitment, modelHash, type WeightVisibility } from '../model/circuit-gen.ts';
import { quantizeModel, type QuantizedModel } from '../model/quantize.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import {
  ceremonyKeyLines,
  commandHint,
  expectedCommitment,
  hintLines,
  keyJson,
  keyOptions,
  keyWarningLines,
} from './data-commands.ts';
import {
  featuresOf,
  fracBitsOf,
  fracBitsWithModelHash,
  loadAnyModel,
  mismatchOf,
  modelFlagsFor,
  modelHashCause,
  readModelSalt,
  scaleOf,
  verifierFracBits,
  verifierTask,
  type LoadedModel,
} from './model-options.ts';
import { emit, progressPrinter, seconds } from './output.ts';
import { checkVerdictKey, keySourceLine, verifierKeyNote, verifierKeySource } from './verify-key.ts';
import type { ModelAccuracyFlags, ModelVerifyFlags } from './groups/model.ts';
import { contextOption } from './chain-commands.ts';

function fractionOf(value: string | undefined, flag: string): number {
  const fraction = Number(value);
  if (value === undefined || !/^(0|1|0?\.[0-9]+|1\.0*)$/.test(value) || !(fraction >= 0 && fraction <= 1))
    throw new ZkaiError('BAD_OPTION', `${flag} must be a fraction from 0 to 1 (for example 0.95), got "${value}"`);
  return fraction;
}

/** The placeholders of an accuracy verify hint: what the verifier must bring itself. */
const TEST_SET_PLACEHOLDER = 'TEST_SET_COMMITMENT.json';
const MIN_ACCURACY_PLACEHOLDER = 'MIN_ACCURACY';

/** `zkai model accuracy`: prove a model's accuracy on a committed test set (the data holder's bundle). */
export async function modelAccuracyCommand(flags: ModelAccuracyFlags): Promise<void> {
  const context = contextOption(flags.context);
  const [schema, bundle, loaded] = await Promise.all([
    loadSchema(flags.schema),
    loadBundle(flags.bundle),
    loadAnyModel(flags.model, flags),
  ]);
  const { model } = loaded;
  const quantized = quantizeModel(model, fracBitsOf(flags.fracBits));
  const committed = flags.modelSalt ? await readModelSalt(flags.modelSalt) : undefined;
  if (committed && modelCommitment(quantized, committed.salt) !== committed.commitment)
    throw new ZkaiError('BAD_OPTION', `${flags.modelSalt} belongs to another model (or another --frac-bits)`);
  const samples = flags.samplesPerChunk === undefined ? undefined : Number(flags.samplesPerChunk);
  if (samples !== undefined && (!/^[1-9][0-9]*$/.test(flags.samplesPerChunk ?? '') || samples > 4096))
    throw new ZkaiError(
      'BAD_OPTION',
      `--samples-per-chunk must be an integer from 1 to 4096, got "${flags.samplesPerChunk}"`,
    );
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
    ...keyOptions(flags),
    ...(progress ? { onProgress: progress } : {}),
  });
  const { prepared, ...published } = result;
  const proof: AccuracyProof = published;
  await writeFileAtomic(flags.out, `${JSON.stringify(proof)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const elapsed = (performance.now() - started) / 1000;
  const accuracy = proof.correct / proof.count;
  // Everything the verifier needs to state: the task (label, features, scale) and the model as it must be given (file,
  // fractional bits, ONNX input range; or the published commitment and the fractional bits). The test set's
  // commitment comes from its data holder and the threshold is the verifier's own: placeholders.
  const verifyWith = commandHint(
    [
      'zkai',
      'model',
      'verify',
      '--vkey',
      flags.vkeyOut ?? prepared.keys.vkeyPath,
      '--proof',
      flags.out,
      '--commitment',
      TEST_SET_PLACEHOLDER,
      '--schema',
      flags.schema,
      ...(weights === 'hashed'
        ? ['--model-commitment', proof.model.commitment as string, '--frac-bits', String(quantized.fracBits)]
        : modelFlagsFor(flags.model, quantized.fracBits, loaded)),
      '--label',
      proof.task.label,
      ...(features ? ['--features', proof.task.features.join(',')] : ['--all-features']),
      '--scale',
      String(proof.task.scale),
      '--min-accuracy',
      MIN_ACCURACY_PLACEHOLDER,
    ],
    {
      [TEST_SET_PLACEHOLDER]:
        "the test set's commitment as its data holder published it with zkai data commit --public; bring it from your own trusted source, not from the prover",
      [MIN_ACCURACY_PLACEHOLDER]: 'the lowest accuracy you accept, a fraction such as 0.95',
    },
  );
  emit(
    flags,
    {
      verifyWith,
      proof: flags.out,
      vkey: prepared.keys.vkeyPath,
      ...keyJson(prepared.keys),
      correct: proof.correct,
      count: proof.count,
      accuracy,
      chunks: proof.chunks.length,
      samplesPerChunk: proof.samplesPerChunk,
      context: (context ?? 0n).toString(),
      constraints: prepared.circuit.info.constraints,
      seconds: elapsed,
    },
    () =>
      [
        `accuracy proof written to ${flags.out}: model "${model.name}" predicts ${proof.correct} of ${proof.count} test records right (${(accuracy * 100).toFixed(2)}%)`,
        `  test set     root ${proof.testSet.root} (${proof.count} records), label "${proof.task.label}", ${proof.task.features.length} feature columns x ${proof.task.scale}`,
        `  proofs       ${proof.chunks.length} chunk(s) of ${proof.samplesPerChunk} records, ${prepared.circuit.info.constraints} constraints each; ${seconds(elapsed)}`,
        weights === 'hashed'
          ? `  model        private weights, commitment ${proof.model.commitment}`
          : `  model hash   ${proof.model.hash}`,
        ...ceremonyKeyLines(prepared.keys),
        ...hintLines('verify with', verifyWith),
        verifierKeyNote(prepared.keys),
        ...keyWarningLines(prepared.keys),
      ].join('\n'),
  );
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Why an accuracy proof's model hash, model commitment or task hash is not the verifier's, for a person to read. The
 * verdict stays INVALID: this only compares the verifier's inputs with other fractional bits and with what the file
 * states, to name the likely difference (fractional bits, input range, label, features, scale, schema).
 */
export function accuracyCause(
  result: AccuracyVerdict,
  context: {
    schema: Schema;
    schemaPath: string;
    fracBits: number;
    task: { label: string; features: string[]; scale: number };
    file: AccuracyProof;
    loaded?: LoadedModel;
    modelPath?: string;
    modelCommitment?: string;
  },
): string | undefined {
  const causes: string[] = [];
  const proofHash = mismatchOf(result, 'modelHash');
  // With fixed weights the model hash binds the fractional bits: when it matched, the proof's bits are the verifier's;
  // when it did not, they are the bits (if any) at which the verifier's model has the proof's hash.
  const proofBits = context.loaded
    ? proofHash === undefined
      ? context.fracBits
      : fracBitsWithModelHash(context.loaded.model, proofHash)
    : undefined;
  if (proofHash !== undefined && context.loaded && context.modelPath)
    causes.push(modelHashCause(context.loaded, context.modelPath, context.fracBits, proofHash, proofBits));
  const proofCommitment = mismatchOf(result, 'modelCommitment');
  if (proofCommitment !== undefined)
    causes.push(
      `the proof is about the model committed as ${proofCommitment}, not ${context.modelCommitment}: another model, or one committed with other --frac-bits or another salt`,
    );
  const proofTask = mismatchOf(result, 'taskHash');
  if (proofTask !== undefined) {
    const { schema, task, file } = context;
    const taskHashAt = (
      bits: number,
      parts: { label: string; features?: readonly string[]; scale: number },
    ): string | undefined => {
      try {
        return accuracyTask(schema, bits, {
          label: parts.label,
          ...(parts.features ? { features: parts.features } : {}),
          scale: parts.scale,
        }).taskHash;
      } catch {
        return undefined; // not a task at all with these parts (a scale not whole at these bits, a column not in the schema)
      }
    };
    let explained = false;
    if (proofBits !== undefined && proofBits !== context.fracBits && taskHashAt(proofBits, task) === proofTask) {
      causes.push(
        `your task (label, features, scale) is the proof's at --frac-bits ${proofBits}: only the fractional bits differ`,
      );
      explained = true;
    } else if (!context.loaded) {
      // private weights: the salted commitment hides the bits. The task binds scale x 2^f, so a match at other bits
      // means those bits, or a scale that many powers of two apart.
      for (let b = 1; b <= 24 && !explained; b++) {
        if (b !== context.fracBits && taskHashAt(b, task) === proofTask) {
          causes.push(
            `the proof's task is yours at --frac-bits ${b}: it was likely made with --frac-bits ${b}, you gave ${context.fracBits} (or with your scale x 2^${b - context.fracBits})`,
          );
          explained = true;
        }
      }
    }
    if (!explained) {
      const stated = {
        label: String(file.task.label),
        features: Array.isArray(file.task.features) ? file.task.features.map(String) : [],
        scale: Number(file.task.scale),
        fracBits: Number(file.model.fracBits),
      };
      const differences = [
        ...(stated.label !== task.label ? [`label: you gave "${task.label}", the file states "${stated.label}"`] : []),
        ...(!sameList(stated.features, task.features)
          ? [`features: you gave ${task.features.join(',')}, the file states ${stated.features.join(',')}`]
          : []),
        ...(stated.scale !== task.scale ? [`scale: you gave ${task.scale}, the file states ${stated.scale}`] : []),
        ...(stated.fracBits !== context.fracBits
          ? [`frac bits: you gave ${context.fracBits}, the file states ${stated.fracBits}`]
          : []),
      ];
      const statedMatches = Number.isInteger(stated.fracBits) && taskHashAt(stated.fracBits, stated) === proofTask;
      const schemaNote = `the schema you gave (${context.schemaPath}) may not be the one the proof was made with`;
      if (differences.length > 0)
        causes.push(
          `the task differs (${differences.join('; ')}); the task the file states ${statedMatches ? "is the proof's: the proof is about that task, not yours" : `is not the proof's either: ${schemaNote}, or the file's statement was edited`}`,
        );
      else
        causes.push(
          `the task you gave is the one the file states, but the proof's task hash is neither: ${schemaNote}, or the file's statement was edited`,
        );
    }
  }
  return causes.length > 0 ? causes.join('; also, ') : undefined;
}

/**
 * `zkai model verify` for an accuracy proof. Exit code 1 if invalid or below the threshold. The test set, the schema,
 * the model (file and fractional bits, or commitment and fractional bits), the task (label, features, scale) and the
 * threshold all come from the verifier; the file's statements are read only to diagnose a mismatch.
 */
export async function verifyAccuracyFile(
  flags: ModelVerifyFlags,
  vkey: unknown,
  file: AccuracyProof,
  path: string,
): Promise<void> {
  if (!flags.schema)
    throw new ZkaiError(
      'BAD_OPTION',
      "an accuracy proof is verified against the test set's public schema: give --schema FILE",
    );
  if (flags.minAccuracy === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'give --min-accuracy X: the lowest accuracy (a fraction, for example 0.95) you accept',
    );
  const minAccuracy = fractionOf(flags.minAccuracy, '--min-accuracy');
  const given = verifierTask(flags);
  if (typeof file.task !== 'object' || file.task === null || typeof file.model !== 'object' || file.model === null)
    throw new InputFileError(path, 'not a zkai accuracy proof (task or model missing)');
  const schema = await loadSchema(flags.schema);
  const published = await expectedCommitment(flags);
  if (published.schemaHash !== undefined && published.schemaHash !== schema.hash)
    throw new ZkaiError(
      'BAD_OPTION',
      `the commitment's schema hash ${published.schemaHash} is not the hash of ${flags.schema} (${schema.hash})`,
    );
  const testSet = {
    root: published.root,
    count: published.count,
    depth: treeDepth(published.count),
    schemaHash: schema.hash,
  };
  let trusted: { modelHash: string } | { modelCommitment: string };
  let fracBits: number;
  let name: string;
  let loaded: LoadedModel | undefined;
  let quantized: QuantizedModel | undefined;
  if (flags.modelCommitment !== undefined) {
    if (!/^[0-9]+$/.test(flags.modelCommitment))
      throw new ZkaiError('BAD_OPTION', '--model-commitment must be a decimal number');
    trusted = { modelCommitment: flags.modelCommitment };
    // the commitment binds the fixed point, and so does the task hash (its multipliers are scale x 2^f)
    fracBits = verifierFracBits(flags.fracBits, 'the committed model');
    name = `committed as ${flags.modelCommitment}`;
  } else {
    if (!flags.model)
      throw new ZkaiError(
        'BAD_OPTION',
        'give --model FILE (the model you trust, weights fixed in the circuit) or --model-commitment C (private weights)',
      );
    fracBits = verifierFracBits(flags.fracBits, `the model ${flags.model}`);
    loaded = await loadAnyModel(flags.model, flags);
    quantized = quantizeModel(loaded.model, fracBits);
    trusted = { modelHash: modelHash(quantized) };
    name = `"${loaded.model.name}" (hash ${trusted.modelHash}, ${fracBits} fractional bits)`;
  }
  const task = accuracyTask(schema, fracBits, given);
  const stated = { label: task.label.name, features: task.features.map((f) => f.name), scale: task.scale };
  // The key must be one the verifier trusts, made (fixed weights) for the circuit its model and task generate, before
  // anything is checked; with private weights the verifier holds no architecture to generate it from.
  const keySource = await verifierKeySource(
    vkey,
    flags,
    quantized ? { kind: 'accuracy', model: quantized, schema, task, samplesPerChunk: file.samplesPerChunk } : undefined,
  );
  const result = await verifyAccuracy(vkey, file, { testSet, taskHash: task.taskHash, minAccuracy, ...trusted });
  const cause = result.valid
    ? undefined
    : accuracyCause(result, {
        schema,
        schemaPath: flags.schema,
        fracBits,
        task: stated,
        file,
        ...(loaded && flags.model ? { loaded, modelPath: flags.model } : {}),
        ...(flags.modelCommitment !== undefined ? { modelCommitment: flags.modelCommitment } : {}),
      });
  checkVerdictKey(keySource, result, flags);
  emit(
    flags,
    { ...result, ...(cause ? { likelyCause: cause } : {}), task: { ...stated, fracBits }, minAccuracy, keySource },
    () =>
      [
        ...(result.valid
          ? [
              `OK: the proof is valid: model ${name} predicts the label "${stated.label}" of ${result.correct} of the ${result.count} records of test set ${testSet.root} (${((result.accuracy ?? 0) * 100).toFixed(2)}%, at least the required ${(minAccuracy * 100).toFixed(2)}%); inputs: ${stated.features.length} columns x ${stated.scale}`,
            ]
          : [`INVALID (${result.reason}): ${result.detail}`, ...(cause ? [`  likely cause: ${cause}`] : [])]),
        keySourceLine(keySource),
      ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

/** Whether a parsed proof file is an accuracy proof. */
export function isAccuracyProof(raw: unknown): raw is AccuracyProof {
  return typeof raw === 'object' && raw !== null && (raw as { format?: unknown }).format === 'zkai-accuracy-proof-v2';
}
