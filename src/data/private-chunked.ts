/**
 * Private chunked dataset proofs (issue 18; the statement is in docs/design/private-chunks.md): every chunk proof
 * publishes its subtree roots and one salted commitment to its partials; a tree of aggregation proofs opens the
 * commitments privately and the root proves every aggregate's verdict. Nothing derived from records is public except
 * the commitment (root, count) and the verdict.
 *
 * Not wired into the CLI and the registry yet (they still use chunked.ts); this module is the off-chain core.
 */
import { randomFieldSalt } from '../util/salt.ts';
import { ZkaiError } from '../errors.ts';
import { ProverPool, type BatchResult } from '../prover/pool.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import { chunkPartials, chunkPartialValues } from '../policy/chunks.ts';
import { evaluatePolicy, type Policy } from '../policy/policy.ts';
import {
  aggregationSignalNames,
  childSignalNames,
  childSlots,
  partialsCommitment,
  generateAggregationCircuit,
  MAX_FAN_IN,
  type AggregationLevel,
} from './aggregation-gen.ts';
import { recommit, type DatasetBundle } from './bundle.ts';
import { checkChunkShape, chunkInputs, verifyChunkProofs, type ChunkedExpectation } from './chunked.ts';
import { committedChunkSignalNames, generateDatasetCircuit } from './circuit-gen.ts';
import type { DatasetCommitment } from './commitment.ts';
import { PolicyViolationError, policyRegistries, type RegistryRoot } from './dataset-proof.ts';
import { compileAndSetupGenerated, type PrepareOptions } from './prepare-generated.ts';
import type { Registry } from './registry.ts';
import type { Schema } from './types.ts';
import type { CompiledCircuit } from '../circuit/compile.ts';
import type { CircuitKeys } from '../setup/phase2.ts';

/**
 * Children per aggregation proof by default: a node of the example policy is about 5,800 constraints (a 2^13 ptau),
 * with UNIQUE 12,900 (2^14). The fan-in is the verifier's choice, like its keys: a file never sets it.
 */
export const AGGREGATION_FAN_IN = 16;

/** One proof and its public signals. */
export interface PublishedProof {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** A dataset proven in chunks whose partials stay private. */
export interface PrivateChunkedDatasetProof {
  format: 'zkai-chunked-dataset-proof-v2';
  /** The chunk circuit's compiled id (its keys are found in the cache by it, as for the other proof files). */
  circuitId?: string;
  commitment: DatasetCommitment;
  policy: { name: string; hash: string };
  chunkDepth: number;
  subtreesPerChunk: number;
  registries: RegistryRoot[];
  chunks: Array<PublishedProof & { index: number }>;
  /** The aggregation proofs, level by level from the chunks up; the last level holds the root alone. */
  aggregation: PublishedProof[][];
}

/**
 * Ceremony proving keys for the aggregation circuits (`zkeyPath` of {@link PrepareOptions} is the chunk circuit's);
 * each is checked against its circuit's r1cs like any ceremony key. Without one, that circuit gets zkai's automatic
 * single-party setup.
 */
export interface CeremonyKeysOfTree {
  nodeZkeyPath?: string;
  rootZkeyPath?: string;
}

/** The three circuits of a private chunked proof, compiled and set up. */
export interface PreparedPrivateChunks {
  chunk: { circuit: CompiledCircuit; keys: CircuitKeys };
  /** Absent when the tree has no node level (at most `fanIn` chunks: the root takes them directly). */
  node?: { circuit: CompiledCircuit; keys: CircuitKeys };
  root: { circuit: CompiledCircuit; keys: CircuitKeys };
}

/**
 * The verification keys a verifier trusts for the three circuits (derived from its own schema and policy). The node
 * key is needed only when the tree the verifier derives from the count has a node level.
 */
export interface PrivateChunkKeys {
  chunk: unknown;
  node?: unknown;
  root: unknown;
}

/** The sizes of the aggregation levels over `chunks` chunks: ceil(n / F) per level until one proof is left. */
export function aggregationShape(chunks: number, fanIn = AGGREGATION_FAN_IN): number[] {
  if (!Number.isSafeInteger(chunks) || chunks < 1) throw new ZkaiError('INTERNAL', `no chunks to aggregate`);
  if (!Number.isInteger(fanIn) || fanIn < 2 || fanIn > MAX_FAN_IN)
    throw new ZkaiError('BAD_OPTION', `an aggregation proof takes 2 to ${MAX_FAN_IN} children, got ${fanIn}`);
  const levels: number[] = [];
  let children = chunks;
  do {
    children = Math.ceil(children / fanIn);
    levels.push(children);
  } while (children > 1);
  return levels;
}

/** The partials of several consecutive children combined as a node does: sums summed, outer keys kept. */
function combinePartials(policy: Policy, children: ReadonlyArray<readonly bigint[]>): bigint[] {
  return chunkPartials(policy).map((partial, k) => {
    switch (partial.combine) {
      case 'sum':
        return children.reduce((total, child) => total + (child[k] as bigint), 0n);
      case 'firstKey':
        return children[0]![k] as bigint;
      case 'lastKey':
        return children[children.length - 1]![k] as bigint;
    }
  });
}

/**
 * Generate, compile and set up the committed chunk circuit and the root circuit, and the node circuit unless `withNode`
 * is false (a tree of at most `fanIn` chunks has no node level); all cached.
 */
export async function preparePrivateChunks(
  schema: Schema,
  policy: Policy,
  chunkDepth: number,
  subtrees: number,
  options: PrepareOptions & CeremonyKeysOfTree & { fanIn?: number; withNode?: boolean } = {},
): Promise<PreparedPrivateChunks> {
  const fanIn = options.fanIn ?? AGGREGATION_FAN_IN;
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const generated = await generateDatasetCircuit(schema, policy, chunkDepth, {
    ...cache,
    mode: 'committed-chunk',
    subtrees,
  });
  const aggregation = (level: AggregationLevel) =>
    generateAggregationCircuit(schema, policy, { ...cache, level, fanIn });
  const { zkeyPath, nodeZkeyPath, rootZkeyPath, fanIn: _fanIn, withNode = true, ...own } = options;
  type Prepared = { circuit: CompiledCircuit; keys: CircuitKeys };
  const jobs: Array<{ circuit: 'chunk' | 'node' | 'root'; key: string | undefined; path: () => Promise<string> }> = [
    { circuit: 'chunk', key: zkeyPath, path: () => Promise.resolve(generated.path) },
    // A node key the caller gave is checked and used even when this tree needs no node level.
    ...(withNode || nodeZkeyPath
      ? [{ circuit: 'node' as const, key: nodeZkeyPath, path: async () => (await aggregation('node')).path }]
      : []),
    { circuit: 'root', key: rootZkeyPath, path: async () => (await aggregation('root')).path },
  ];
  // Ceremony keys first: a key of another circuit is refused before minutes go into the other circuits' setups.
  jobs.sort((a, b) => Number(b.key !== undefined) - Number(a.key !== undefined));
  const done = new Map<string, Prepared>();
  for (const job of jobs)
    done.set(
      job.circuit,
      await compileAndSetupGenerated(await job.path(), { ...own, ...(job.key ? { zkeyPath: job.key } : {}) }),
    );
  const chunk = done.get('chunk')!;
  const node = done.get('node');
  const root = done.get('root')!;
  return { chunk, ...(node ? { node } : {}), root };
}

/** The node circuit, which a tree with a node level was prepared with. */
function requireNode<T>(node: T | undefined): T {
  if (node === undefined) throw new ZkaiError('INTERNAL', 'the aggregation tree has a node level but no node circuit');
  return node;
}

/** Collect a batch's proofs in input order, or throw the first failure with `what` naming the input. */
async function proveAll(
  pool: ProverPool,
  prepared: { circuit: CompiledCircuit; keys: CircuitKeys },
  inputs: ReadonlyArray<Record<string, unknown>>,
  what: (index: number) => string,
  onProof?: () => void,
): Promise<PublishedProof[]> {
  const proofs: PublishedProof[] = [];
  for await (const result of pool.proveMany(
    { wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath },
    inputs,
  ) as AsyncGenerator<BatchResult>) {
    if (!result.ok)
      throw new ZkaiError(result.error.code, `${what(result.index)}: ${result.error.message}`, {
        cause: result.error,
      });
    proofs[result.index] = { proof: result.proof, publicSignals: result.publicSignals };
    onProof?.();
  }
  return proofs;
}

/**
 * Prove a committed dataset in chunks whose partials stay private: the chunk proofs (each with a fresh salt), then the
 * aggregation proofs level by level, all in the prover pool. The salts are drawn here and never leave this call. The
 * policy is evaluated first: a violating dataset gets a row-level report and no proof.
 */
export async function provePrivateChunks(
  bundle: DatasetBundle,
  schema: Schema,
  policy: Policy,
  options: PrepareOptions &
    CeremonyKeysOfTree & {
      chunkDepth: number;
      subtreesPerChunk?: number;
      pool?: ProverPool;
      registries?: readonly Registry[];
      context?: bigint;
      /** Children per aggregation proof (default {@link AGGREGATION_FAN_IN}); the verifier must use the same. */
      fanIn?: number;
    },
): Promise<PrivateChunkedDatasetProof & { prepared: PreparedPrivateChunks }> {
  const fanIn = options.fanIn ?? AGGREGATION_FAN_IN;
  const { chunkDepth } = options;
  const subtrees = options.subtreesPerChunk ?? 1;
  const commitment = recommit(bundle, schema);
  checkChunkShape(chunkDepth, subtrees, commitment.depth);
  if (chunkPartials(policy).length === 0)
    throw new ZkaiError(
      'BAD_OPTION',
      `policy "${policy.spec.name}" has no aggregate over records: its chunk proofs need no aggregation`,
    );
  const registries = policyRegistries(schema, policy, options.registries ?? []);
  const report = evaluatePolicy(policy, bundle.records, registries);
  if (!report.ok) throw new PolicyViolationError(report);
  const size = subtrees * 2 ** chunkDepth;
  const chunkCount = Math.ceil(bundle.records.length / size);
  const shape = aggregationShape(chunkCount, fanIn);
  const prepared = await preparePrivateChunks(schema, policy, chunkDepth, subtrees, {
    ...options,
    withNode: shape.length > 1,
  });
  const totalProofs = chunkCount + shape.reduce((sum, width) => sum + width, 0);
  let proven = 0;
  const onProof = (): void => {
    proven += 1;
    options.onProgress?.({
      stage: 'prove',
      message: `proof ${proven}/${totalProofs} (${chunkCount} chunks, ${totalProofs - chunkCount} aggregation)`,
    });
  };
  /** A child of the aggregation tree: its partials, its salt and the commitment its proof publishes. */
  const committed = (partials: bigint[]) => {
    const salt = randomFieldSalt();
    return { partials, salt, commitment: partialsCommitment(partials, salt) };
  };
  let children = Array.from({ length: chunkCount }, (_, j) =>
    committed(chunkPartialValues(policy, bundle.records.slice(j * size, (j + 1) * size))),
  );
  const pool = options.pool ?? new ProverPool();
  try {
    const inputs = chunkInputs(bundle, schema, policy, {
      chunkDepth,
      subtrees,
      registries,
      context: options.context,
    }).map((input, j) => ({ ...input, chunkSalt: children[j]!.salt }));
    const chunks = (
      await proveAll(
        pool,
        prepared.chunk,
        inputs,
        (j) => `chunk ${j} (records ${j * size + 1} to ${Math.min((j + 1) * size, bundle.records.length)})`,
        onProof,
      )
    ).map((proof, index) => ({ index, ...proof }));

    const aggregation: PublishedProof[][] = [];
    for (const [level, width] of shape.entries()) {
      const isRoot = width === 1 && children.length <= fanIn;
      const groups = Array.from({ length: width }, (_, g) => children.slice(g * fanIn, (g + 1) * fanIn));
      const parents = groups.map((group) =>
        committed(
          combinePartials(
            policy,
            group.map((child) => child.partials),
          ),
        ),
      );
      const inputs = groups.map((group, g) => ({
        ...(isRoot ? { count: bundle.records.length } : { nodeSalt: parents[g]!.salt }),
        slots: group.length,
        policyHash: policy.hash,
        child: childSlots(
          group.map((child) => child.commitment),
          fanIn,
        ),
        partials: Array.from({ length: fanIn }, (_, j) => group[j]?.partials ?? chunkPartials(policy).map(() => 0n)),
        salt: Array.from({ length: fanIn }, (_, j) => group[j]?.salt ?? 0n),
      }));
      aggregation.push(
        await proveAll(
          pool,
          isRoot ? prepared.root : requireNode(prepared.node),
          inputs,
          (g) => `aggregation level ${level} proof ${g}`,
          onProof,
        ),
      );
      children = parents;
    }
    return {
      format: 'zkai-chunked-dataset-proof-v2',
      circuitId: prepared.chunk.circuit.id,
      commitment,
      policy: { name: policy.spec.name, hash: policy.hash },
      chunkDepth,
      subtreesPerChunk: subtrees,
      registries: registries.map((r) => ({ name: r.name, root: r.root })),
      chunks,
      aggregation,
      prepared,
    };
  } finally {
    if (!options.pool) await pool.close();
  }
}

/**
 * Verify a private chunked dataset proof against what the verifier trusts: the three verification keys (from its own
 * schema and policy), the published commitment, the policy and the schema. Checks every chunk proof (its count,
 * shape, hashes, registry roots and context), recombines the subtree roots into the published root, and walks the
 * aggregation tree the verifier derives from the chunk count: every proof's public children must be its children's
 * published commitments, and the root proof (with the published count) must verify. The file decides nothing.
 */
export async function verifyPrivateChunks(
  keys: PrivateChunkKeys,
  file: Pick<PrivateChunkedDatasetProof, 'format' | 'chunkDepth' | 'subtreesPerChunk' | 'chunks' | 'aggregation'>,
  expected: ChunkedExpectation,
  policy: Policy,
  options: { fanIn?: number } = {},
): Promise<VerificationResult> {
  const fanIn = options.fanIn ?? AGGREGATION_FAN_IN;
  if (file.format !== 'zkai-chunked-dataset-proof-v2')
    return {
      valid: false,
      reason: 'malformed',
      detail: `this file's chunk proofs are not of the private format (${String(file.format)}): prove again with this version`,
    };
  if (chunkPartials(policy).length === 0)
    return {
      valid: false,
      reason: 'malformed',
      detail: `policy "${policy.spec.name}" has no aggregate over records: it has no private chunked proofs`,
    };
  if (!Array.isArray(file.aggregation) || file.aggregation.some((level) => !Array.isArray(level)))
    return { valid: false, reason: 'malformed', detail: 'aggregation must be a list of levels, each a list of proofs' };
  const checked = await verifyChunkProofs(keys.chunk, file, expected, policy, (subtrees) =>
    committedChunkSignalNames(policy, subtrees),
  );
  if (!checked.valid) return checked;
  const commitmentAt = committedChunkSignalNames(policy, file.subtreesPerChunk).indexOf('commitment');
  let commitments = checked.signals.map((signals) => BigInt(signals[commitmentAt]!));
  const chunkCount = commitments.length;

  const shape = aggregationShape(chunkCount, fanIn);
  if (shape.length > 1 && keys.node === undefined)
    return {
      valid: false,
      reason: 'malformed',
      detail: `${chunkCount} chunks need aggregation nodes (more than ${fanIn} children), and the keys hold no node key`,
    };
  if (!Array.isArray(file.aggregation) || file.aggregation.length !== shape.length)
    return {
      valid: false,
      reason: 'claim-mismatch',
      detail: `${chunkCount} chunks need ${shape.length} aggregation level(s), got ${Array.isArray(file.aggregation) ? file.aggregation.length : 'none'}`,
    };
  for (const [level, width] of shape.entries()) {
    const proofs = file.aggregation[level]!;
    if (
      proofs.length !== width ||
      proofs.some((p) => typeof p !== 'object' || p === null || !Array.isArray(p.publicSignals))
    )
      return { valid: false, reason: 'claim-mismatch', detail: `aggregation level ${level} needs ${width} proofs` };
    const isRoot = level === shape.length - 1;
    const parents: bigint[] = [];
    for (let g = 0; g < width; g += 1) {
      const group = commitments.slice(g * fanIn, (g + 1) * fanIn);
      const what: AggregationLevel = isRoot ? 'root' : 'node';
      const result = await verifyProof(
        isRoot ? keys.root : requireNode(keys.node),
        proofs[g]!.proof,
        proofs[g]!.publicSignals,
        {
          expect: {
            ...Object.fromEntries(childSlots(group, fanIn).map((c, j) => [childSignalNames(fanIn)[j], c])),
            slots: group.length,
            policyHash: policy.hash,
            ...(isRoot ? { count: expected.count } : {}),
          },
          signalNames: aggregationSignalNames(what, fanIn),
        },
      );
      if (!result.valid)
        return { ...result, detail: `aggregation level ${level} proof ${g}: ${result.detail ?? result.reason}` };
      if (!isRoot) parents.push(BigInt(proofs[g]!.publicSignals[0]!));
    }
    commitments = parents;
  }
  return { valid: true };
}

/** What an outsider can read in a private chunked proof file: the public signals, by name (for tests and audits). */
export function publishedSignals(
  file: Pick<PrivateChunkedDatasetProof, 'chunks' | 'aggregation' | 'subtreesPerChunk'>,
  policy: Policy,
  fanIn = AGGREGATION_FAN_IN,
): Array<Record<string, string>> {
  const chunkNames = committedChunkSignalNames(policy, file.subtreesPerChunk);
  const named = (names: string[], signals: readonly string[]) =>
    Object.fromEntries(names.map((name, i) => [name, signals[i] ?? '']));
  return [
    ...file.chunks.map((chunk) => named(chunkNames, chunk.publicSignals)),
    ...file.aggregation.flatMap((level, l) =>
      level.map((proof) =>
        named(aggregationSignalNames(l === file.aggregation.length - 1 ? 'root' : 'node', fanIn), proof.publicSignals),
      ),
    ),
  ];
}
