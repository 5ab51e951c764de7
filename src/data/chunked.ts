import { merkleRoot, sparseTreeLevels, zeroRoots } from '../crypto/merkle.ts';
import { ZkaiError } from '../errors.ts';
import { ProverPool } from '../prover/pool.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { recommit, type DatasetBundle } from './bundle.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT } from '../circuit/context.ts';
import {
  chunkSignalNames,
  datasetCircuitInput,
  generateDatasetCircuit,
  MAX_SUBTREES_PER_CHUNK,
  registrySignalName,
} from './circuit-gen.ts';
import { commitRecords, treeDepth, type DatasetCommitment } from './commitment.ts';
import {
  PolicyViolationError,
  policyRegistries,
  type PreparedDatasetCircuit,
  type RegistryRoot,
} from './dataset-proof.ts';
import type { Registry } from './registry.ts';
import { evaluatePolicy, type Policy } from '../policy/policy.ts';
import { chunkPartials } from '../policy/chunks.ts';
import { compileAndSetupGenerated, type PrepareOptions } from './prepare-generated.ts';
import type { Schema } from './types.ts';

/**
 * A dataset proven in chunks: one proof per non-empty chunk. A chunk is `subtreesPerChunk` consecutive aligned subtrees
 * of 2^chunkDepth records each, so its subtree roots are nodes of the committed tree. This format is for policies with
 * no aggregate over records and no UNIQUE: its chunks publish their subtree roots and record counts only. A policy with
 * aggregates is proven in private chunks (private-chunked.ts); files of this format made for one (with per-chunk
 * aggregate partials, before private chunks existed) are refused by {@link verifyChunkedDataset}.
 */
export interface ChunkedDatasetProof {
  format: 'zkai-chunked-dataset-proof-v1';
  commitment: DatasetCommitment;
  policy: { name: string; hash: string };
  chunkDepth: number;
  /** Subtrees per chunk (1 when absent, as in files written before it existed). */
  subtreesPerChunk?: number;
  circuitId: string;
  /** The registries the policy checked against, in public-signal order. */
  registries: RegistryRoot[];
  /** Public signal names of every chunk proof, in order. */
  signalNames: string[];
  chunks: Array<{ index: number; proof: Groth16Proof; publicSignals: string[] }>;
}

/** Most subtrees one chunk circuit may prove. */

/** Root of a subtree of 2^height zero leaves (the tree's padding). */
export function zeroSubtreeRoot(height: number): bigint {
  return zeroRoots(height)[height] as bigint;
}

/** The input of a chunk circuit: its records (at most subtrees * 2^chunkDepth), their salts, and its pinned shape. */
export function chunkCircuitInput(
  records: ReadonlyArray<{ values: bigint[]; nulls: boolean[] }>,
  salts: readonly bigint[],
  schema: Schema,
  policy: Policy,
  chunkDepth: number,
  registries: readonly Registry[] = [],
  subtrees = 1,
): Record<string, unknown> {
  return {
    ...datasetCircuitInput(records, salts, schema, policy, chunkDepth, registries, subtrees * 2 ** chunkDepth),
    chunkDepth,
    chunkSubtrees: subtrees,
  };
}

/** Refuse a chunk shape that does not fit a dataset tree of depth `treeDepth` (a chunked proof's options). */
export function checkChunkShape(chunkDepth: number, subtrees: number, treeDepth: number): void {
  if (!Number.isInteger(chunkDepth) || chunkDepth < 0 || chunkDepth > treeDepth) {
    throw new ZkaiError(
      'BAD_OPTION',
      `chunk depth must be an integer from 0 to the dataset's tree depth ${treeDepth}, got ${chunkDepth}`,
    );
  }
  if (!Number.isInteger(subtrees) || subtrees < 1 || subtrees > MAX_SUBTREES_PER_CHUNK) {
    throw new ZkaiError(
      'BAD_OPTION',
      `subtrees per chunk must be an integer from 1 to ${MAX_SUBTREES_PER_CHUNK}, got ${subtrees}`,
    );
  }
}

/** Every chunk's circuit input (records, salts, registry witnesses, pinned shape, context), in chunk order. */
export function chunkInputs(
  bundle: DatasetBundle,
  schema: Schema,
  policy: Policy,
  shape: { chunkDepth: number; subtrees: number; registries: readonly Registry[]; context: bigint | undefined },
): Array<Record<string, unknown>> {
  const size = shape.subtrees * 2 ** shape.chunkDepth;
  return Array.from({ length: Math.ceil(bundle.records.length / size) }, (_, j) => ({
    ...chunkCircuitInput(
      bundle.records.slice(j * size, (j + 1) * size),
      bundle.salts.slice(j * size, (j + 1) * size),
      schema,
      policy,
      shape.chunkDepth,
      shape.registries,
      shape.subtrees,
    ),
    context: shape.context ?? NO_CONTEXT,
  }));
}

/** Generate (chunk mode), compile and set up the chunk circuit of (schema, policy, chunkDepth, subtrees); all cached. */
export async function prepareChunkCircuit(
  schema: Schema,
  policy: Policy,
  chunkDepth: number,
  options: PrepareOptions & { subtrees?: number } = {},
): Promise<PreparedDatasetCircuit> {
  const generated = await generateDatasetCircuit(schema, policy, chunkDepth, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    mode: 'chunk',
    subtrees: options.subtrees ?? 1,
  });
  return { generated, ...(await compileAndSetupGenerated(generated.path, options)) };
}

/**
 * Prove a committed dataset in chunks of 2^chunkDepth records, all chunks in parallel in the prover pool, with
 * progress, for a policy with no aggregate over records and no UNIQUE (others: {@link provePrivateChunks}). Each chunk
 * proof shows every rule for its records and publishes its subtree root and its record count;
 * {@link verifyChunkedDataset} combines them. The policy is evaluated first, as for a single
 * proof: a violating dataset gets a row-level report and no proof (unless `force`, which exists for tests that show
 * the verifier refuses such a dataset).
 */
export async function proveDatasetInChunks(
  bundle: DatasetBundle,
  schema: Schema,
  policy: Policy,
  options: PrepareOptions & {
    chunkDepth: number;
    subtreesPerChunk?: number;
    pool?: ProverPool;
    force?: boolean;
    registries?: readonly Registry[];
    onChunk?: (done: number, total: number) => void;
    context?: bigint;
  },
): Promise<ChunkedDatasetProof & { prepared: PreparedDatasetCircuit }> {
  const { chunkDepth } = options;
  const subtrees = options.subtreesPerChunk ?? 1;
  refusePublicPartials(policy);
  const commitment = recommit(bundle, schema);
  checkChunkShape(chunkDepth, subtrees, commitment.depth);
  const registries = policyRegistries(schema, policy, options.registries ?? []);
  const report = evaluatePolicy(policy, bundle.records, registries);
  if (!report.ok && !options.force) throw new PolicyViolationError(report);
  const prepared = await prepareChunkCircuit(schema, policy, chunkDepth, { ...options, subtrees });
  const size = subtrees * 2 ** chunkDepth;
  const inputs = chunkInputs(bundle, schema, policy, { chunkDepth, subtrees, registries, context: options.context });
  const chunkCount = inputs.length;
  const pool = options.pool ?? new ProverPool();
  const chunks: ChunkedDatasetProof['chunks'] = [];
  try {
    let done = 0;
    for await (const result of pool.proveMany(
      { wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath },
      inputs,
    )) {
      if (!result.ok)
        throw new ZkaiError(
          result.error.code,
          `chunk ${result.index} (records ${result.index * size + 1} to ${Math.min((result.index + 1) * size, bundle.records.length)}): ${result.error.message}`,
          { cause: result.error },
        );
      chunks.push({ index: result.index, proof: result.proof, publicSignals: result.publicSignals });
      done += 1;
      options.onChunk?.(done, chunkCount);
      (options.onProgress as ProgressListener | undefined)?.({
        stage: 'prove',
        message: `chunk ${done}/${chunkCount}`,
      });
    }
  } finally {
    if (!options.pool) await pool.close();
  }
  chunks.sort((a, b) => a.index - b.index);
  return {
    format: 'zkai-chunked-dataset-proof-v1',
    commitment,
    policy: { name: policy.spec.name, hash: policy.hash },
    chunkDepth,
    subtreesPerChunk: subtrees,
    circuitId: prepared.circuit.id,
    registries: registries.map((r) => ({ name: r.name, root: r.root })),
    signalNames: chunkSignalNames(policy, subtrees),
    chunks,
    prepared,
  };
}

/** What the verifier expects of a chunked dataset: the published commitment, the schema, the registries, the context. */
export interface ChunkedExpectation {
  root: string;
  count: number;
  schemaHash: string;
  registries?: readonly RegistryRoot[];
  context?: bigint;
}

/**
 * The checks every chunked format shares: one proof per non-empty chunk, in order, each valid under `vkey` with the
 * policy and schema hashes, its expected record count (full chunks, then the remainder), the chunk shape, the trusted
 * registry roots and the context; then the chunk roots, completed with zero subtrees, give the published root.
 * Returns each chunk's public signals (named by `signalNames`) when all of that holds.
 */
export async function verifyChunkProofs(
  vkey: unknown,
  file: Pick<ChunkedDatasetProof, 'chunkDepth' | 'chunks' | 'subtreesPerChunk'>,
  expected: ChunkedExpectation,
  policy: Policy,
  /** The chunk circuit's signal names for a shape, called only once the shape is within bounds (a file sets it). */
  signalNamesOf: (subtrees: number) => readonly string[],
): Promise<{ valid: true; signals: string[][] } | (VerificationResult & { valid: false })> {
  const registries = expected.registries ?? [];
  if (
    registries.length !== policy.registries.length ||
    registries.some((r, j) => r.name !== policy.registries[j]!.name)
  ) {
    return {
      valid: false,
      reason: 'malformed',
      detail: `the policy checks registries [${policy.registries.map((r) => r.name).join(', ')}], but roots were given for [${registries.map((r) => r.name).join(', ')}]`,
    };
  }
  const { chunkDepth } = file;
  const subtrees = file.subtreesPerChunk ?? 1;
  if (!Number.isSafeInteger(expected.count) || expected.count < 1)
    return {
      valid: false,
      reason: 'malformed',
      detail: `the published count must be a positive integer, got ${String(expected.count)}`,
    };
  if (
    !Array.isArray(file.chunks) ||
    file.chunks.some((chunk) => typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.publicSignals))
  ) {
    return { valid: false, reason: 'malformed', detail: 'chunks must be a list of {index, proof, publicSignals}' };
  }
  const depth = treeDepth(expected.count);
  if (!Number.isInteger(chunkDepth) || chunkDepth < 0 || chunkDepth > depth) {
    return {
      valid: false,
      reason: 'malformed',
      detail: `chunk depth ${String(chunkDepth)} does not fit a tree of depth ${depth}`,
    };
  }
  if (!Number.isInteger(subtrees) || subtrees < 1 || subtrees > MAX_SUBTREES_PER_CHUNK) {
    return {
      valid: false,
      reason: 'malformed',
      detail: `subtrees per chunk ${String(subtrees)} is not an integer from 1 to ${MAX_SUBTREES_PER_CHUNK}`,
    };
  }
  const signalNames = signalNamesOf(subtrees);
  const size = subtrees * 2 ** chunkDepth;
  const chunkCount = Math.ceil(expected.count / size);
  if (!Array.isArray(file.chunks) || file.chunks.length !== chunkCount) {
    return {
      valid: false,
      reason: 'claim-mismatch',
      detail: `${expected.count} records in chunks of ${size} need ${chunkCount} chunk proofs, got ${Array.isArray(file.chunks) ? file.chunks.length : 'none'}`,
    };
  }
  const signals: string[][] = [];
  const chunkRoots: bigint[] = [];
  for (let j = 0; j < chunkCount; j += 1) {
    const chunk = file.chunks[j]!;
    if (chunk.index !== j)
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `chunk proofs are out of order: position ${j} holds chunk ${chunk.index}`,
      };
    const recordsInChunk = Math.min(size, expected.count - j * size);
    const result = await verifyProof(vkey, chunk.proof, chunk.publicSignals, {
      expect: {
        count: recordsInChunk,
        policyHash: policy.hash,
        schemaHash: expected.schemaHash,
        chunkDepth,
        chunkSubtrees: subtrees,
        ...Object.fromEntries(registries.map((r) => [registrySignalName(r.name), r.root])),
        ...(expected.context === undefined ? {} : { [CONTEXT_SIGNAL]: expected.context }),
      },
      signalNames,
    });
    if (!result.valid) {
      const claimed = claimedRecordTotal(file.chunks, signalNames.indexOf('count'));
      // A wrong published count shows first in one chunk: name the total the chunks hold instead.
      const detail =
        claimed !== undefined && claimed !== BigInt(expected.count)
          ? `the chunk proofs hold ${claimed} records in all, but the published count is ${expected.count} (chunk ${j}: ${result.detail ?? result.reason})`
          : `chunk ${j}: ${result.detail ?? result.reason}`;
      return { ...result, valid: false, detail };
    }
    for (let t = 0; t < subtrees; t += 1) chunkRoots.push(BigInt(chunk.publicSignals[t] as string));
    signals.push(chunk.publicSignals);
  }
  const combined = combineChunkRoots(chunkRoots, expected.count, chunkDepth, expected.root);
  if (!combined.valid) return { ...combined, valid: false };
  return { valid: true, signals };
}

/**
 * Why a chunked proof of this format made for `policy` is refused, when it is: a policy with aggregates over records
 * or UNIQUE is proven in private chunks, and this format's chunks published its per-chunk partials.
 */
export function publicPartialsRefusal(policy: Policy): string | undefined {
  if (chunkPartials(policy).length === 0) return undefined;
  return `policy "${policy.spec.name}" has aggregates over records or UNIQUE: chunked proofs of it are private chunks (format zkai-chunked-dataset-proof-v2). This file is of the earlier format, whose chunk proofs publish every chunk's aggregate partials (per-chunk statistics anyone holding the file can read); it is no longer accepted: prove again with this version (zkai data prove --chunk-depth N)`;
}

/** Refuse to prove chunks that would publish a policy's partials (see {@link publicPartialsRefusal}). */
function refusePublicPartials(policy: Policy): void {
  if (chunkPartials(policy).length > 0)
    throw new ZkaiError(
      'BAD_OPTION',
      `policy "${policy.spec.name}" has aggregates over records or UNIQUE: prove its chunks privately (provePrivateChunks in private-chunked.ts), whose chunk proofs publish a salted commitment to their partials`,
    );
}

/**
 * Verify a chunked dataset proof against what the verifier trusts: the chunk circuit's verification key, the published
 * commitment, the policy and the schema: the checks of {@link verifyChunkProofs}. A policy with aggregates over records
 * or UNIQUE has no proofs of this format ({@link publicPartialsRefusal}): the verifier's policy decides, not the file.
 */
export async function verifyChunkedDataset(
  vkey: unknown,
  file: Pick<ChunkedDatasetProof, 'chunkDepth' | 'chunks' | 'subtreesPerChunk'>,
  expected: ChunkedExpectation,
  policy: Policy,
): Promise<VerificationResult> {
  const refusal = publicPartialsRefusal(policy);
  if (refusal) return { valid: false, reason: 'malformed', detail: refusal };
  const checked = await verifyChunkProofs(vkey, file, expected, policy, (shape) => chunkSignalNames(policy, shape));
  return checked.valid ? { valid: true } : checked;
}

/**
 * Whether the subtree roots of a dataset's chunks, in order, combine into the published root of `count` records:
 * subtree roots are the nodes at height `chunkDepth` of the dataset's tree, the rest of that level is zero subtrees,
 * and the last chunk's subtrees past the records (padding, which may reach past the tree's width) must be zero
 * subtrees.
 */
export function combineChunkRoots(
  chunkRoots: readonly bigint[],
  count: number,
  chunkDepth: number,
  root: string,
): VerificationResult {
  const depth = treeDepth(count);
  if (!Number.isInteger(chunkDepth) || chunkDepth < 0 || chunkDepth > depth)
    return {
      valid: false,
      reason: 'malformed',
      detail: `chunk depth ${String(chunkDepth)} does not fit a tree of depth ${depth}`,
    };
  const width = 2 ** (depth - chunkDepth);
  const used = Math.ceil(count / 2 ** chunkDepth);
  if (chunkRoots.length < used)
    return {
      valid: false,
      reason: 'claim-mismatch',
      detail: `${count} records need ${used} subtree roots of 2^${chunkDepth} records, the chunks give ${chunkRoots.length}`,
    };
  const zero = zeroSubtreeRoot(chunkDepth);
  if (chunkRoots.slice(used).some((r) => r !== zero)) {
    return { valid: false, reason: 'claim-mismatch', detail: `a subtree past the last record is not empty` };
  }
  // The subtree roots, padded with empty subtrees to the full width, are the leaves of the tree above them.
  const subtrees = [...chunkRoots.slice(0, used), ...Array<bigint>(width - used).fill(zero)];
  const combined = merkleRoot(sparseTreeLevels(subtrees, depth - chunkDepth));
  if (combined.toString() !== root) {
    return {
      valid: false,
      reason: 'claim-mismatch',
      detail: `the chunk roots combine to ${combined}, not to the published root ${root}`,
    };
  }
  return { valid: true };
}

/** Recompute what the chunk roots of a bundle should be (for diagnostics and tests). */
export function expectedChunkRoots(bundle: DatasetBundle, schema: Schema, chunkDepth: number): bigint[] {
  const { levels } = commitRecords(bundle.records, bundle.salts, schema);
  return (levels[chunkDepth] as bigint[]).slice(0, Math.ceil(bundle.records.length / 2 ** chunkDepth));
}

/**
 * The records the chunk proofs say they hold (the sum of their `count` signals), for a message; `undefined` when a
 * chunk's count is not a plain integer. Nothing is decided by it: each chunk's count is checked against the published
 * total by the verifier.
 */
function claimedRecordTotal(chunks: ReadonlyArray<{ publicSignals: unknown[] }>, countAt: number): bigint | undefined {
  if (countAt < 0) return undefined;
  let total = 0n;
  for (const chunk of chunks) {
    const value = chunk.publicSignals[countAt];
    if (typeof value !== 'string' || !/^\d{1,6}$/.test(value)) return undefined;
    total += BigInt(value);
  }
  return total;
}
