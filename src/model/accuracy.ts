import type { CompiledCircuit } from '../circuit/compile.ts';
import { CircomLines, generatedId, generatedSource, writeGeneratedSource } from '../circuit/generated-source.ts';
import { recommit, type DatasetBundle } from '../data/bundle.ts';
import { merkleLevels } from '../crypto/merkle.ts';
import { poseidon } from '../crypto/poseidon.ts';
import type { DatasetCommitment } from '../data/commitment.ts';
import { emitRecordLeaf, leafChunks, leafLayout } from '../data/leaf.ts';
import { compileAndSetupGenerated, type PrepareOptions } from '../data/prepare-generated.ts';
import { parseScaledDecimal } from '../data/schema.ts';
import type { Column, Schema } from '../data/types.ts';
import { ZkaiError } from '../errors.ts';
import { ProverPool } from '../prover/pool.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { fieldOf } from '../util/field.ts';
import { randomFieldSalt } from '../util/salt.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { architectureHeader } from './commitment.ts';
import {
  emitModelBinding,
  emitModelCore,
  modelCommitment,
  modelHash,
  poseidonSponge,
  privateWeightsInput,
  type ConstraintEstimate,
  type WeightVisibility,
} from './circuit-gen.ts';
import { ModelError } from './errors.ts';
import { runQuantized, type QuantizedModel } from './quantize.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT, emitContextInput } from '../circuit/context.ts';

/**
 * Accuracy attestation: "the committed model predicts the label of at least T of the N records of this committed test
 * set", without revealing the records or (with private weights) the model.
 *
 * The test set is an ordinary zkai dataset commitment (`zkai data commit`): a Merkle root of salted records under a
 * public schema. A task says which column is the label (an integer column with minimum 0, or a category column:
 * class k is the k-th category) and which columns are the model's inputs, scaled by a factor: the model's input j is
 * `value_j * scale`, so at f fractional bits the circuit computes x_j = encoded_j * A_j + C_j with integers A_j, C_j
 * (refused when they are not integers). The task hash binds the schema, the columns and these integers.
 *
 * A chunk proof covers K consecutive records: for each it recomputes the record's leaf (range-checking every value to
 * its schema), runs the model (the same ModelCore as an inference proof) and compares the class with the label. It
 * outputs the K leaves (0 for a slot marked inactive). The verifier rebuilds the test set's tree from all chunks'
 * leaves: a skipped record, a record outside the set or a duplicated one changes the root.
 *
 * The counts of correct predictions stay private (issue 18): chunks are chained by salted commitments to running
 * totals. Chunk j takes the previous chunk's commitment `previous` as a public input, opens it privately as
 * Poseidon(S, r) (the first chunk's is Poseidon(0, 0), {@link ACCURACY_CHAIN_START}), and publishes
 * `commitment` = Poseidon(S + its correct predictions, r') with a fresh salt r'. The last chunk's salt is 0, so its
 * commitment is Poseidon(total, 0): the verifier checks it against the total the file states. Public: the leaves,
 * the commitments (salted with 248 random bits except the last, whose sum is the statement's total), the model and
 * task hashes, the context; no chunk's count.
 */
export interface AccuracyTask {
  /** The label column's name and index. */
  label: { name: string; column: number };
  /** Per model input: the column, and x = encoded * multiplier + offset (fixed point). */
  features: Array<{ name: string; column: number; multiplier: bigint; offset: bigint }>;
  scale: number;
  fracBits: number;
  /** Poseidon hash of the task (schema hash, label, feature columns, multipliers, offsets): pinned in the circuit. */
  taskHash: string;
}

const TASK_TAG = BigInt(0x7a6b616961); // "zkaia"

/** A decimal number as numerator / 10^places, read exactly by the schema's own decimal parser. */
function decimalParts(text: string | number): { numerator: bigint; places: number } {
  const places = String(text).split('.')[1]?.length ?? 0;
  const numerator = parseScaledDecimal(String(text), places);
  if (typeof numerator !== 'bigint') throw new ModelError(`cannot read the number ${String(text)}`);
  return { numerator, places };
}

/** scale * 2^f as an exact rational numerator / 10^places (the scale is given as decimal text). */
function scaledUnit(scale: number, fracBits: number): { numerator: bigint; places: number } {
  const { numerator, places } = decimalParts(
    scale.toString().includes('e') ? scale.toFixed(20).replace(/0+$/, '') : scale,
  );
  return { numerator: numerator * (1n << BigInt(fracBits)), places };
}

function exactDivide(numerator: bigint, denominatorPower: number, what: string): bigint {
  const denominator = 10n ** BigInt(denominatorPower);
  if (numerator % denominator !== 0n) throw new ModelError(what);
  return numerator / denominator;
}

/**
 * The accuracy task of a test-set schema for a model at f fractional bits. Features default to every column except
 * the label and the subject id, in schema order.
 */
export function accuracyTask(
  schema: Schema,
  fracBits: number,
  options: { label: string; features?: readonly string[]; scale?: number },
): AccuracyTask {
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale) || scale <= 0)
    throw new ModelError(`the input scale must be a positive number, got ${scale}`);
  const byName = new Map(schema.columns.map((c) => [c.name, c]));
  const nullable = schema.columns.filter((c) => c.nullable);
  if (nullable.length > 0)
    throw new ModelError(
      `a test set's columns must not be nullable: ${nullable.map((c) => c.name).join(', ')}`,
      'mark the columns "nullable": false in the schema (a model input cannot be null)',
    );
  const label = byName.get(options.label);
  if (!label)
    throw new ModelError(
      `the label column "${options.label}" is not in the schema (columns: ${schema.columns.map((c) => c.name).join(', ')})`,
    );
  if (!(label.spec.type === 'category' || (label.spec.type === 'integer' && BigInt(label.spec.min) === 0n))) {
    throw new ModelError(
      `the label column "${label.name}" must be an integer column with minimum 0 (class k is the value k) or a category column (class k is its k-th value); it is ${label.spec.type}`,
    );
  }
  const names =
    options.features ??
    schema.columns.filter((c) => c !== label && c.name !== schema.spec.subjectId).map((c) => c.name);
  const unit = scaledUnit(scale, fracBits);
  const features = names.map((name) => {
    const column: Column | undefined = byName.get(name);
    if (!column) throw new ModelError(`the feature column "${name}" is not in the schema`);
    if (column === label) throw new ModelError(`the label column "${name}" cannot also be a feature`);
    const spec = column.spec;
    // value = encoded / 10^s + min, so x = value * scale * 2^f = encoded * (unit / 10^s) + min * unit
    let places: number;
    let min: { numerator: bigint; places: number };
    if (spec.type === 'integer') {
      places = 0;
      min = decimalParts(spec.min);
    } else if (spec.type === 'decimal') {
      places = spec.scale;
      min = decimalParts(spec.min);
    } else if (spec.type === 'boolean') {
      places = 0;
      min = { numerator: 0n, places: 0 };
    } else
      throw new ModelError(
        `the feature column "${name}" is ${spec.type}: model inputs must be integer, decimal or boolean columns`,
      );
    const hint = `column "${name}" times the scale ${scale} is not a whole number at ${fracBits} fractional bits: choose a scale (or --frac-bits) that makes it one`;
    const multiplier = exactDivide(unit.numerator, unit.places + places, hint);
    const offset = exactDivide(unit.numerator * min.numerator, unit.places + min.places, hint);
    return { name, column: column.index, multiplier, offset };
  });
  const taskHash = poseidonSponge([
    TASK_TAG,
    BigInt(schema.hash),
    BigInt(label.index),
    BigInt(features.length),
    ...features.flatMap((f) => [BigInt(f.column), fieldOf(f.multiplier), fieldOf(f.offset)]),
  ]).toString();
  return { label: { name: label.name, column: label.index }, features, scale, fracBits, taskHash };
}

/** Check that every feature maps into the model's checked input range (then the circuit need not re-check it). */
function checkTaskFitsModel(task: AccuracyTask, schema: Schema, model: QuantizedModel): void {
  if (task.fracBits !== model.fracBits)
    throw new ModelError(`the task was made for ${task.fracBits} fractional bits, the model has ${model.fracBits}`);
  if (task.features.length !== model.inputSize)
    throw new ModelError(
      `the task has ${task.features.length} feature columns (${task.features.map((f) => f.name).join(', ')}); the model takes ${model.inputSize} inputs`,
    );
  for (const feature of task.features) {
    const max = schema.columns[feature.column]!.maxEncoded as bigint;
    const low = feature.offset;
    const high = max * feature.multiplier + feature.offset;
    if (low < model.inputMin || high > model.inputMax) {
      throw new ModelError(
        `column "${feature.name}" maps to [${low}, ${high}] (fixed point), outside the model's input range [${model.inputMin}, ${model.inputMax}]`,
        "widen the model's input range, or change the scale",
      );
    }
  }
}

/** The model input of one encoded record. */
export function taskInput(task: AccuracyTask, values: readonly bigint[]): bigint[] {
  return task.features.map((f) => values[f.column]! * f.multiplier + f.offset);
}

/** What a chunk circuit's public signals mean, in order. */
export function accuracySignalNames(samples: number, weights: WeightVisibility): string[] {
  const leaves = Array.from({ length: samples }, (_, i) => `leaf${i}`);
  return weights === 'hashed'
    ? ['modelCommitment', ...leaves, 'commitment', 'taskHash', 'previous', CONTEXT_SIGNAL]
    : [...leaves, 'commitment', 'modelHash', 'taskHash', 'previous', CONTEXT_SIGNAL];
}

/** Public signals of an accuracy chunk circuit besides its K leaves (commitment, model, task, previous, context). */
export const ACCURACY_FIXED_SIGNALS = 5;

/** The commitment the first chunk opens: Poseidon(0, 0), a running total of 0 (also the registry's zeroRoots[1]). */
export const ACCURACY_CHAIN_START: bigint = poseidon([0n, 0n]);

/** A chunk's commitment to the running total of correct predictions up to it: Poseidon(total, salt). */
export function runningTotalCommitment(total: bigint, salt: bigint): bigint {
  return poseidon([total, salt]);
}

/** Bits of a running total: test sets hold fewer than 2^32 records. */
const RUNNING_TOTAL_BITS = 32;

const GENERATOR_VERSION = 'zkai-accuracy-circuit-v4';

/** A generated accuracy chunk circuit. */
export interface GeneratedAccuracyCircuit {
  id: string;
  path: string;
  samples: number;
  estimate: ConstraintEstimate;
}

/** Estimated constraints of one sample (leaf, model, comparison): to choose how many samples fill a proof. */
export function accuracySampleCost(model: QuantizedModel, schema: Schema, weights: WeightVisibility): number {
  const core = emitModelCore(model, weights, { checkInputRange: false }).estimate.reduce(
    (sum, e) => sum + e.constraints,
    0,
  );
  const rangeBits = schema.columns.reduce((sum, c) => sum + (c.spec.type === 'string' ? 0 : 2 * c.bits), 0);
  return core + rangeBits + leafChunks(leafLayout(schema.columns).length).length * 300 + 6;
}

/** Generate the accuracy chunk circuit for K samples per proof. */
export async function generateAccuracyCircuit(
  model: QuantizedModel,
  schema: Schema,
  task: AccuracyTask,
  samples: number,
  options: { weights?: WeightVisibility; cacheDir?: string } = {},
): Promise<GeneratedAccuracyCircuit> {
  const weights = options.weights ?? 'fixed';
  const hidden = weights === 'hashed';
  checkTaskFitsModel(task, schema, model);
  if (!Number.isInteger(samples) || samples < 1 || samples > 4096)
    throw new ModelError(`samples per chunk must be an integer from 1 to 4096, got ${samples}`);
  const columns = schema.columns.length;
  const { lines, line } = new CircomLines();
  const { wire, estimate } = emitModelBinding(model, weights, line);
  line(`signal input taskHash;`);
  line(`taskHash === ${task.taskHash}; // schema, label column, feature columns and their scaling`);
  line(`signal input v[${samples}][${columns}]; // encoded record values`);
  line(`signal input s[${samples}]; // record salts`);
  line(`signal input active[${samples}];`);
  // Public inputs are ordered as declared (accuracySignalNames): previous before the context.
  line(`signal input previous; // the previous chunk's commitment to its running total`);
  emitContextInput(line);
  line(`signal input previousTotal; // private: the running total it commits to`);
  line(`signal input previousSalt; // private`);
  line(`signal input salt; // private: fresh per chunk, 0 for the last (its total is the statement's)`);
  line(`signal output leaf[${samples}];`);
  line(`signal output commitment;`);
  line(`component core[${samples}];`);
  line(`component same[${samples}];`);
  line(`signal hit[${samples}];`);
  for (let i = 0; i < samples; i++) {
    line();
    line(`// sample ${i}`);
    line(`active[${i}] * (active[${i}] - 1) === 0;`);
    const leaf = emitRecordLeaf((text) => line(text), `rec${i}_`, schema.columns, {
      salt: `s[${i}]`,
      value: (c) => `v[${i}][${c}]`,
      isNull: () => '0',
    });
    line(`leaf[${i}] <== active[${i}] * ${leaf};`);
    line(`core[${i}] = ModelCore();`);
    task.features.forEach((f, j) =>
      line(`core[${i}].x[${j}] <== v[${i}][${f.column}] * ${fieldOf(f.multiplier)} + ${fieldOf(f.offset)};`),
    );
    wire?.(`core[${i}]`);
    line(`same[${i}] = IsEqual();`);
    line(`same[${i}].in[0] <== core[${i}].class;`);
    line(`same[${i}].in[1] <== v[${i}][${task.label.column}];`);
    line(`hit[${i}] <== active[${i}] * same[${i}].out;`);
  }
  line();
  line(`// the running total of correct predictions, chained by salted commitments`);
  line(`var hits = 0;`);
  line(`for (var i = 0; i < ${samples}; i++) { hits += hit[i]; }`);
  line(`component opened = Poseidon(2);`);
  line(`opened.inputs[0] <== previousTotal;`);
  line(`opened.inputs[1] <== previousSalt;`);
  line(`previous === opened.out;`);
  // Both totals range-checked: a previous total near the field order would wrap (the chain from Poseidon(0, 0) already
  // rules it out; this keeps the circuit sound on its own).
  line(`component previousRange = Num2Bits(${RUNNING_TOTAL_BITS});`);
  line(`previousRange.in <== previousTotal;`);
  line(`signal running <== previousTotal + hits;`);
  line(`component runningRange = Num2Bits(${RUNNING_TOTAL_BITS});`);
  line(`runningRange.in <== running;`);
  line(`component committed = Poseidon(2);`);
  line(`committed.inputs[0] <== running;`);
  line(`committed.inputs[1] <== salt;`);
  line(`commitment <== committed.out;`);
  const perSample = accuracySampleCost(model, schema, weights);
  estimate.push({
    layer: `${samples} samples (leaf, model, comparison) x about ${perSample}`,
    constraints: samples * perSample,
  });
  const core = emitModelCore(model, weights, { checkInputRange: false });
  const id = generatedId(GENERATOR_VERSION, [
    hidden ? architectureHeader(model).join(',') : modelHash(model),
    weights,
    task.taskHash,
    String(samples),
  ]);
  const source = generatedSource({
    version: GENERATOR_VERSION,
    comments: [
      `accuracy of model "${model.name}" (${hidden ? 'private weights' : `hash ${modelHash(model)}`}) on ${samples} test records per proof; public signals: ${accuracySignalNames(samples, weights).join(', ')}`,
    ],
    includes: ['ml/gadgets.circom', 'circomlib/circuits/poseidon.circom', 'circomlib/circuits/comparators.circom'],
    before: core.lines,
    template: 'AccuracyChunk',
    body: lines,
    publicInputs: [...(hidden ? [] : ['modelHash']), 'taskHash', 'previous', 'context'],
  });
  const path = await writeGeneratedSource(`accuracy_${id}`, source, options);
  return { id, path, samples, estimate };
}

/** A published accuracy proof. */
export interface AccuracyProof {
  format: 'zkai-accuracy-proof-v2';
  model: { name: string; hash?: string; commitment?: string; fracBits: number };
  weights: WeightVisibility;
  /** The test set's public commitment. */
  testSet: DatasetCommitment;
  task: { label: string; features: string[]; scale: number; taskHash: string };
  samplesPerChunk: number;
  /** The claim: `correct` of `count` records predicted right (the last chunk's commitment is Poseidon(correct, 0)). */
  correct: number;
  count: number;
  circuitId: string;
  chunks: Array<{ index: number; proof: Groth16Proof; publicSignals: string[] }>;
}

/** Why a file of the first accuracy format is refused: its chunk proofs published their counts of correct predictions. */
export const ACCURACY_V1_REFUSAL =
  "an accuracy proof of the earlier format (zkai-accuracy-proof-v1), whose chunk proofs publish each chunk's count of correct predictions (how accuracy is spread over the test set); it is no longer accepted: prove again with this version (zkai model accuracy)";

/** Samples per proof that fill a 2^14 domain (at least 1, at most the test set). */
export function defaultSamplesPerChunk(
  model: QuantizedModel,
  schema: Schema,
  weights: WeightVisibility,
  count: number,
): number {
  const perSample = accuracySampleCost(model, schema, weights);
  const fixed = weights === 'hashed' ? 20_000 : 0;
  return Math.max(1, Math.min(count, Math.floor((16_000 - fixed) / perSample)));
}

/**
 * Prove the accuracy of a model on a committed test set (the data holder's bundle). The integer reference predicts
 * every record first; the proofs must agree with it.
 */
export async function proveAccuracy(
  model: QuantizedModel,
  bundle: DatasetBundle,
  schema: Schema,
  options: PrepareOptions & {
    label: string;
    features?: readonly string[];
    scale?: number;
    samplesPerChunk?: number;
    weights?: WeightVisibility;
    modelSalt?: bigint;
    pool?: ProverPool;
    onChunk?: (done: number, total: number) => void;
    context?: bigint;
  },
): Promise<AccuracyProof & { prepared: { circuit: CompiledCircuit; keys: CircuitKeys } }> {
  const weights = options.weights ?? 'fixed';
  if (weights === 'hashed' && options.modelSalt === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'private weights are proven against a published model commitment: give the modelSalt it was made with',
    );
  const testSet = recommit(bundle, schema);
  const task = accuracyTask(schema, model.fracBits, {
    label: options.label,
    ...(options.features ? { features: options.features } : {}),
    ...(options.scale !== undefined ? { scale: options.scale } : {}),
  });
  const count = bundle.records.length;
  const samples = options.samplesPerChunk ?? defaultSamplesPerChunk(model, schema, weights, count);
  const generated = await generateAccuracyCircuit(model, schema, task, samples, {
    weights,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  // The integer reference predicts every record; the chunks' running totals (and so their commitments) follow from it.
  const hits = bundle.records.map(
    (record) =>
      BigInt(runQuantized(model, taskInput(task, record.values)).predicted) === record.values[task.label.column],
  );
  const correct = hits.filter(Boolean).length;
  const prepared = await compileAndSetupGenerated(generated.path, options);
  const weightInput =
    weights === 'hashed' ? privateWeightsInput(model, options.modelSalt as bigint) : { modelHash: modelHash(model) };
  const chunkCount = Math.ceil(count / samples);
  // Each chunk's running total and salt (fresh from the OS, never written anywhere; 0 for the last chunk).
  const chain: Array<{ total: bigint; salt: bigint; commitment: bigint }> = [];
  for (let c = 0; c < chunkCount; c++) {
    const before = c === 0 ? 0n : chain[c - 1]!.total;
    const total = before + BigInt(hits.slice(c * samples, (c + 1) * samples).filter(Boolean).length);
    const salt = c === chunkCount - 1 ? 0n : randomFieldSalt();
    chain.push({ total, salt, commitment: runningTotalCommitment(total, salt) });
  }
  const inputs = Array.from({ length: chunkCount }, (_, c) => {
    const slots = Array.from({ length: samples }, (_, i) => c * samples + i);
    const before = c === 0 ? { total: 0n, salt: 0n, commitment: ACCURACY_CHAIN_START } : chain[c - 1]!;
    return {
      ...weightInput,
      taskHash: task.taskHash,
      v: slots.map((r) =>
        (r < count ? bundle.records[r]!.values : Array<bigint>(schema.columns.length).fill(0n)).map(String),
      ),
      s: slots.map((r) => (r < count ? bundle.salts[r]! : 0n).toString()),
      active: slots.map((r) => (r < count ? '1' : '0')),
      previous: before.commitment.toString(),
      previousTotal: before.total.toString(),
      previousSalt: before.salt.toString(),
      salt: chain[c]!.salt.toString(),
      context: (options.context ?? NO_CONTEXT).toString(),
    };
  });
  const pool = options.pool ?? new ProverPool();
  const names = accuracySignalNames(samples, weights);
  const chunks: AccuracyProof['chunks'] = [];
  try {
    let done = 0;
    for await (const result of pool.proveMany(
      { wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath },
      inputs,
    )) {
      if (!result.ok)
        throw new ZkaiError(
          result.error.code,
          `accuracy chunk ${result.index} (records ${result.index * samples + 1} to ${Math.min((result.index + 1) * samples, count)}): ${result.error.message}`,
          { cause: result.error },
        );
      // The circuit counted this chunk's hits itself: its commitment must be the one the reference predicts.
      if (result.publicSignals[names.indexOf('commitment')] !== chain[result.index]!.commitment.toString())
        throw new ZkaiError(
          'INTERNAL',
          `accuracy chunk ${result.index}: the circuit's count of correct predictions differs from the integer reference's`,
        );
      chunks.push({ index: result.index, proof: result.proof, publicSignals: result.publicSignals });
      done += 1;
      options.onChunk?.(done, chunkCount);
      (options.onProgress as ProgressListener | undefined)?.({
        stage: 'prove',
        message: `accuracy chunk ${done}/${chunkCount}`,
      });
    }
  } finally {
    if (!options.pool) await pool.close();
  }
  chunks.sort((a, b) => a.index - b.index);
  return {
    format: 'zkai-accuracy-proof-v2',
    model:
      weights === 'hashed'
        ? {
            name: model.name,
            commitment: modelCommitment(model, options.modelSalt as bigint),
            fracBits: model.fracBits,
          }
        : { name: model.name, hash: modelHash(model), fracBits: model.fracBits },
    weights,
    testSet,
    task: {
      label: task.label.name,
      features: task.features.map((f) => f.name),
      scale: task.scale,
      taskHash: task.taskHash,
    },
    samplesPerChunk: samples,
    correct,
    count,
    circuitId: prepared.circuit.id,
    chunks,
    prepared,
  };
}

/** The verdict on an accuracy proof. */
export interface AccuracyVerdict {
  valid: boolean;
  reason?: string;
  detail?: string;
  /** For a claim mismatch: the chunk whose public signals differ from what the verifier expected, and which differ. */
  chunk?: number;
  mismatches?: VerificationResult['mismatches'];
  correct?: number;
  count?: number;
  accuracy?: number;
}

/**
 * Whether the leaves of an accuracy proof's chunks, in order (each chunk's slots, 0 for an unused one), rebuild the
 * test set's committed root; undefined when they do, else why not.
 */
export function testSetRootFromLeaves(
  leaves: readonly bigint[],
  testSet: Pick<DatasetCommitment, 'root' | 'depth'>,
): string | undefined {
  // The tree is no larger than the leaves need (a depth from a file could otherwise ask for 2^64 hashes).
  if (!Number.isInteger(testSet.depth) || testSet.depth < 1 || 2 ** testSet.depth > 2 * Math.max(leaves.length, 1))
    return `a test set tree of depth ${testSet.depth} does not fit ${leaves.length} leaves`;
  const size = 2 ** testSet.depth;
  const padded = leaves.length >= size ? leaves : [...leaves, ...Array<bigint>(size - leaves.length).fill(0n)];
  if (padded.slice(size).some((leaf) => leaf !== 0n)) return "a chunk has records past the end of the test set's tree";
  const root = merkleLevels(padded.slice(0, size), testSet.depth).at(-1)![0]!;
  if (root.toString() !== testSet.root)
    return `the chunks' records give the root ${root}, not the test set's ${testSet.root}: the proof is about other records`;
  return undefined;
}

/**
 * Verify an accuracy proof against what the verifier trusts: the chunk circuit's verification key, the test set's
 * published commitment, the task (recomputed from the public schema, label, features and scale), the model (hash, or
 * commitment for private weights) and the lowest accuracy it accepts. Every chunk proof must be valid with the same
 * model and task, each opening the commitment of the chunk before it (the first {@link ACCURACY_CHAIN_START}); their
 * leaves, in order, must rebuild the test set's root; the last commitment must be Poseidon(correct, 0) for the total
 * the file states, which must reach the threshold.
 */
export async function verifyAccuracy(
  vkey: unknown,
  proof: AccuracyProof,
  expected: {
    testSet: DatasetCommitment;
    taskHash: string;
    modelHash?: string;
    modelCommitment?: string;
    minAccuracy: number;
  },
): Promise<AccuracyVerdict> {
  const fail = (reason: string, detail: string): AccuracyVerdict => ({ valid: false, reason, detail });
  const weights: WeightVisibility = expected.modelCommitment !== undefined ? 'hashed' : 'fixed';
  if (weights === 'fixed' && expected.modelHash === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'an accuracy proof is verified against the model hash (fixed weights) or model commitment (private weights) the verifier trusts',
    );
  if (!(expected.minAccuracy >= 0 && expected.minAccuracy <= 1))
    throw new ZkaiError(
      'BAD_OPTION',
      `the minimum accuracy must be a fraction from 0 to 1, got ${expected.minAccuracy}`,
    );
  const { testSet } = expected;
  if ((proof as { format?: unknown }).format !== 'zkai-accuracy-proof-v2')
    return fail('malformed', ACCURACY_V1_REFUSAL);
  // The layout comes from the verifier's key: a chunk circuit of K samples has K + 5 public signals (K leaves, the
  // commitment, the model hash or commitment, the task hash, the previous commitment, the context). The file's
  // samplesPerChunk must agree with it.
  const nPublic = typeof vkey === 'object' && vkey !== null ? (vkey as { nPublic?: unknown }).nPublic : undefined;
  if (typeof nPublic !== 'number' || !Number.isInteger(nPublic))
    return fail('malformed', 'the verification key has no integer nPublic (not a snarkjs Groth16 key)');
  const samples = nPublic - ACCURACY_FIXED_SIGNALS;
  if (samples < 1 || samples > 4096)
    return fail(
      'wrong-signal-count',
      `the verification key has ${nPublic} public signals: not an accuracy chunk circuit (K leaves + ${ACCURACY_FIXED_SIGNALS}, K from 1 to 4096)`,
    );
  const claimed = proof.correct;
  if (!Number.isSafeInteger(claimed) || claimed < 0 || claimed > testSet.count)
    return fail('malformed', `the file states ${String(claimed)} correct predictions of ${testSet.count} records`);
  if (proof.samplesPerChunk !== samples)
    return fail(
      'malformed',
      `the file says ${String(proof.samplesPerChunk)} records per chunk, but the verification key's circuit takes ${samples}`,
    );
  if (!Array.isArray(proof.chunks)) return fail('malformed', 'the proof has no chunk list');
  const chunkCount = Math.ceil(testSet.count / samples);
  if (proof.chunks.length !== chunkCount)
    return fail(
      'chunk-count',
      `${testSet.count} records at ${samples} per chunk need ${chunkCount} chunk proofs, the file has ${proof.chunks.length}`,
    );
  const names = accuracySignalNames(samples, weights);
  const size = 2 ** testSet.depth;
  const leaves: bigint[] = Array<bigint>(Math.max(size, chunkCount * samples)).fill(0n);
  let previous = ACCURACY_CHAIN_START;
  for (let c = 0; c < chunkCount; c++) {
    const chunk = proof.chunks[c];
    if (!chunk || chunk.index !== c) return fail('chunk-order', `chunk ${c} is missing or out of order`);
    const expect: Record<string, string> = {
      taskHash: expected.taskHash,
      previous: previous.toString(),
      ...(weights === 'hashed'
        ? { modelCommitment: expected.modelCommitment as string }
        : { modelHash: expected.modelHash as string }),
    };
    const result = await verifyProof(vkey, chunk.proof, chunk.publicSignals, { expect, signalNames: names });
    if (!result.valid)
      return {
        ...fail(result.reason ?? 'invalid', `chunk ${c}: ${result.detail ?? result.reason}`),
        chunk: c,
        ...(result.mismatches ? { mismatches: result.mismatches } : {}),
      };
    previous = BigInt(chunk.publicSignals[names.indexOf('commitment')]!);
    for (let i = 0; i < samples; i++) leaves[c * samples + i] = BigInt(chunk.publicSignals[names.indexOf(`leaf${i}`)]!);
  }
  const rebuilt = testSetRootFromLeaves(leaves, testSet);
  if (rebuilt) return fail('root-mismatch', rebuilt);
  if (previous !== runningTotalCommitment(BigInt(claimed), 0n))
    return fail(
      'claim-mismatch',
      `the last chunk's commitment is not to ${claimed} correct predictions: the file states another total than the proofs`,
    );
  const correct = claimed;
  const accuracy = correct / testSet.count;
  const needed = Math.ceil(expected.minAccuracy * testSet.count - 1e-9);
  if (correct < needed)
    return {
      valid: false,
      reason: 'below-threshold',
      detail: `${correct} of ${testSet.count} correct (${(accuracy * 100).toFixed(2)}%), below the required ${(expected.minAccuracy * 100).toFixed(2)}% (${needed})`,
      correct,
      count: testSet.count,
      accuracy,
    };
  return { valid: true, correct, count: testSet.count, accuracy };
}
