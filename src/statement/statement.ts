/**
 * What a proof means, decided by the verifier. A {@link Statement} is what a verifier trusts about a circuit: which
 * kind of claim it proves and the parameters that fix its public-signal layout and the values it pins (a policy, a
 * schema, a model, a task, a chunk shape). Every layout zkai reads is derived here from a statement, never from a
 * proof file or a request: a public input that a circuit leaves free (such as `context`) could otherwise be relabelled
 * by a prover as `count` or `class`.
 */
import { CONTEXT_SIGNAL } from '../circuit/context.ts';
import { aggregationSignalNames, type AggregationLevel } from '../data/aggregation-gen.ts';
import { chunkLayout, DATASET_SIGNAL_NAMES, registrySignalName } from '../data/circuit-gen.ts';
import { chunkPartials, partialSignalName } from '../policy/chunks.ts';
import { INCLUSION_SIGNAL_NAMES } from '../data/inclusion.ts';
import type { Policy } from '../policy/policy.ts';
import type { Schema } from '../data/types.ts';
import { accuracySignalNames, type AccuracyTask } from '../model/accuracy.ts';
import { inferenceSignalNames, modelHash, type InputVisibility, type WeightVisibility } from '../model/circuit-gen.ts';
import type { QuantizedModel } from '../model/quantize.ts';

/** The kinds of statement zkai proves; all but `circuit` are also the chain registry's circuit kinds, in its order. */
export const STATEMENT_KINDS = [
  'dataset-policy',
  'dataset-chunk',
  'inference',
  'accuracy',
  'inclusion',
  'dataset-aggregation',
  'dataset-private-chunk',
  'circuit',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** A whole dataset satisfies a policy: `root, count, policyHash, schemaHash, registry.<name>..., context`. */
export interface DatasetPolicyStatement {
  kind: 'dataset-policy';
  schemaHash: string;
  policyHash: string;
  /** The policy's registries, in its order (each root is a public signal). */
  registries: readonly string[];
  /** The registry roots the verifier trusts, by registry name (pinned when given). */
  registryRoots?: Readonly<Record<string, string>>;
}

/** One chunk of a dataset satisfies a policy's rules and publishes its subtree roots and aggregate partials. */
export interface DatasetChunkStatement {
  kind: 'dataset-chunk';
  schemaHash: string;
  policyHash: string;
  registries: readonly string[];
  /** The registry roots the verifier trusts, by registry name (pinned when given). */
  registryRoots?: Readonly<Record<string, string>>;
  /** Partial names (`aggregate<i>.<name>`), from the policy's aggregates. */
  partials: readonly string[];
  /** Subtrees per chunk (public signals `root`, or `root0..root<k-1>`). */
  subtrees: number;
  /** The chunk depth the circuit pins, when the verifier knows it. */
  chunkDepth?: number;
}

/**
 * One chunk of a private chunked proof (issue 18, `committed-chunk` mode): a dataset chunk whose only "partial" is the
 * salted commitment to its partials. A kind of its own so that nothing takes it for a chunk that publishes partials
 * (the registry attests it only with its aggregation proofs, in ZkaiPrivateChunks).
 */
export interface DatasetPrivateChunkStatement extends Omit<DatasetChunkStatement, 'kind'> {
  kind: 'dataset-private-chunk';
}

/**
 * A node or the root of a private chunked proof's aggregation tree (issue 18, src/data/aggregation-gen.ts): `commitment`
 * (node) or `count` (root), `slots`, `policyHash`, then `child0`... (its children's commitments). No context: the chunk
 * proofs the children's commitments come from carry it.
 */
export interface DatasetAggregationStatement {
  kind: 'dataset-aggregation';
  policyHash: string;
  level: AggregationLevel;
  fanIn: number;
}

/** One record is in a committed dataset: `root, subjectHash, schemaHash, context`. */
export interface InclusionStatement {
  kind: 'inclusion';
  /** The schema the verifier trusts, when it knows it. */
  schemaHash?: string;
}

/** A model predicts a class on an input. */
export interface InferenceStatement {
  kind: 'inference';
  visibility: InputVisibility;
  weights: WeightVisibility;
  /** Input values (public signals only when `visibility` is public). */
  inputSize: number;
  /** Fixed weights: the model hash the verifier computed from its own model and quantization. */
  modelHash?: string;
  /** Hashed weights: the published model commitment the verifier trusts. */
  modelCommitment?: string;
}

/** A model's correct predictions over chunks of a committed test set. */
export interface AccuracyStatement {
  kind: 'accuracy';
  weights: WeightVisibility;
  samplesPerChunk: number;
  /** The task hash the verifier computed from its own schema, label, features, scale and fractional bits. */
  taskHash?: string;
  modelHash?: string;
  modelCommitment?: string;
}

/** A proof of any other compiled circuit: its signal names come from the verifier's own compiled circuit. */
export interface CircuitStatement {
  kind: 'circuit';
  signalNames: readonly string[];
}

/** What a verifier trusts about a circuit. */
export type Statement =
  | DatasetPolicyStatement
  | DatasetChunkStatement
  | InclusionStatement
  | InferenceStatement
  | AccuracyStatement
  | DatasetAggregationStatement
  | DatasetPrivateChunkStatement
  | CircuitStatement;

/** The statement of a whole-dataset policy circuit, from the schema and policy the verifier trusts. */
export function datasetStatement(
  schema: Pick<Schema, 'hash'>,
  policy: Pick<Policy, 'hash' | 'registries'>,
  registryRoots?: Readonly<Record<string, string>>,
): DatasetPolicyStatement {
  return {
    kind: 'dataset-policy',
    schemaHash: schema.hash,
    policyHash: policy.hash,
    registries: policy.registries.map((r) => r.name),
    ...(registryRoots ? { registryRoots } : {}),
  };
}

/** The statement of a dataset chunk circuit with `subtrees` subtrees per chunk (and, when known, its chunk depth). */
export function datasetChunkStatement(
  schema: Pick<Schema, 'hash'>,
  policy: Policy,
  shape: { subtrees: number; chunkDepth?: number },
  registryRoots?: Readonly<Record<string, string>>,
): DatasetChunkStatement {
  return {
    kind: 'dataset-chunk',
    schemaHash: schema.hash,
    policyHash: policy.hash,
    registries: policy.registries.map((r) => r.name),
    ...(registryRoots ? { registryRoots } : {}),
    partials: chunkPartials(policy).map(partialSignalName),
    subtrees: shape.subtrees,
    ...(shape.chunkDepth === undefined ? {} : { chunkDepth: shape.chunkDepth }),
  };
}

/**
 * The statement of a private chunked proof's chunk circuit (`committed-chunk` mode): a dataset-chunk statement whose
 * only "partial" is the salted commitment to the partials.
 */
export function committedChunkStatement(
  schema: Pick<Schema, 'hash'>,
  policy: Policy,
  shape: { subtrees: number; chunkDepth?: number },
  registryRoots?: Readonly<Record<string, string>>,
): DatasetPrivateChunkStatement {
  return {
    ...datasetChunkStatement(schema, policy, shape, registryRoots),
    kind: 'dataset-private-chunk',
    partials: ['commitment'],
  };
}

/** The statement of a private chunked proof's aggregation circuit (a node or the root) over `fanIn` children. */
export function datasetAggregationStatement(
  policy: Pick<Policy, 'hash'>,
  level: AggregationLevel,
  fanIn: number,
): DatasetAggregationStatement {
  return { kind: 'dataset-aggregation', policyHash: policy.hash, level, fanIn };
}

/** The statement of an inference circuit of a model the verifier holds (fixed weights) or knows by commitment. */
export function inferenceStatement(
  model: QuantizedModel | { inputSize: number },
  options: { visibility: InputVisibility; weights: WeightVisibility; modelCommitment?: string },
): InferenceStatement {
  const fixed = options.weights === 'fixed' && 'layers' in model;
  return {
    kind: 'inference',
    visibility: options.visibility,
    weights: options.weights,
    inputSize: model.inputSize,
    ...(fixed ? { modelHash: modelHash(model) } : {}),
    ...(options.weights === 'hashed' && options.modelCommitment !== undefined
      ? { modelCommitment: options.modelCommitment }
      : {}),
  };
}

/** The statement of an accuracy chunk circuit for a task and a model the verifier trusts. */
export function accuracyStatement(
  model: QuantizedModel | undefined,
  task: Pick<AccuracyTask, 'taskHash'> | undefined,
  options: { weights: WeightVisibility; samplesPerChunk: number; modelCommitment?: string },
): AccuracyStatement {
  return {
    kind: 'accuracy',
    weights: options.weights,
    samplesPerChunk: options.samplesPerChunk,
    ...(task ? { taskHash: task.taskHash } : {}),
    ...(options.weights === 'fixed' && model ? { modelHash: modelHash(model) } : {}),
    ...(options.weights === 'hashed' && options.modelCommitment !== undefined
      ? { modelCommitment: options.modelCommitment }
      : {}),
  };
}

/** The public signal names of a statement's circuit, in order: the one place layouts come from. */
export function statementSignalNames(statement: Statement): string[] {
  switch (statement.kind) {
    case 'dataset-policy':
      return [...DATASET_SIGNAL_NAMES, ...statement.registries.map(registrySignalName), CONTEXT_SIGNAL];
    case 'dataset-chunk':
    case 'dataset-private-chunk':
      return chunkLayout(statement.partials, statement.registries, statement.subtrees);
    case 'inclusion':
      return [...INCLUSION_SIGNAL_NAMES];
    case 'inference':
      return inferenceSignalNames({ inputSize: statement.inputSize }, statement.visibility, statement.weights);
    case 'accuracy':
      return accuracySignalNames(statement.samplesPerChunk, statement.weights);
    case 'dataset-aggregation':
      return aggregationSignalNames(statement.level, statement.fanIn);
    case 'circuit':
      return [...statement.signalNames];
    default:
      return statement satisfies never;
  }
}

/**
 * The values a statement pins, by signal name: what every proof of it must show whatever its file says (the policy
 * and schema hashes, the chunk shape, the model hash or commitment, the task hash), as far as the verifier knows them.
 */
export function statementPins(statement: Statement): Record<string, string> {
  const pins: Record<string, string> = {};
  const put = (name: string, value: string | number | undefined) => {
    if (value !== undefined) pins[name] = String(value);
  };
  switch (statement.kind) {
    case 'dataset-policy':
      put('policyHash', statement.policyHash);
      put('schemaHash', statement.schemaHash);
      for (const name of statement.registries) put(registrySignalName(name), statement.registryRoots?.[name]);
      break;
    case 'dataset-chunk':
    case 'dataset-private-chunk':
      put('policyHash', statement.policyHash);
      put('schemaHash', statement.schemaHash);
      put('chunkDepth', statement.chunkDepth);
      put('chunkSubtrees', statement.subtrees);
      for (const name of statement.registries) put(registrySignalName(name), statement.registryRoots?.[name]);
      break;
    case 'inclusion':
      put('schemaHash', statement.schemaHash);
      break;
    case 'inference':
      put('modelHash', statement.weights === 'fixed' ? statement.modelHash : undefined);
      put('modelCommitment', statement.weights === 'hashed' ? statement.modelCommitment : undefined);
      break;
    case 'accuracy':
      put('taskHash', statement.taskHash);
      put('modelHash', statement.weights === 'fixed' ? statement.modelHash : undefined);
      put('modelCommitment', statement.weights === 'hashed' ? statement.modelCommitment : undefined);
      break;
    case 'dataset-aggregation':
      put('policyHash', statement.policyHash);
      break;
    case 'circuit':
      break;
    default:
      return statement satisfies never;
  }
  return pins;
}

/** A sentence naming a statement, for messages: "a dataset-chunk statement (policy 123..., 4 subtrees per chunk)". */
export function describeStatement(statement: Statement): string {
  const short = (value: string | undefined) =>
    value === undefined ? 'unknown' : value.length > 14 ? `${value.slice(0, 12)}...` : value;
  switch (statement.kind) {
    case 'dataset-policy':
      return `a dataset policy proof (policy hash ${short(statement.policyHash)}, ${statement.registries.length} registr${statement.registries.length === 1 ? 'y' : 'ies'})`;
    case 'dataset-chunk':
      return `a dataset chunk proof (policy hash ${short(statement.policyHash)}, ${statement.subtrees} subtree(s) per chunk)`;
    case 'inclusion':
      return 'a dataset inclusion proof';
    case 'inference':
      return `an inference proof (input ${statement.visibility}, weights ${statement.weights})`;
    case 'accuracy':
      return `an accuracy proof (${statement.samplesPerChunk} records per chunk, weights ${statement.weights})`;
    case 'dataset-private-chunk':
      return `a private chunk proof (policy hash ${short(statement.policyHash)}, ${statement.subtrees} subtree(s) per chunk)`;
    case 'dataset-aggregation':
      return `a private chunked proof's aggregation ${statement.level} (policy hash ${short(statement.policyHash)}, ${statement.fanIn} children)`;
    case 'circuit':
      return `a circuit proof (${statement.signalNames.length} public signals)`;
    default:
      return statement satisfies never;
  }
}
