/**
 * Dataset part of the benchmark: constraints per record of the example policy circuit (commitment included) at several
 * capacities, single-circuit proofs (the first in a new pool, which loads the key, then warm repetitions), and a
 * private chunked proof of a synthetic dataset (commit, prove the chunks and their aggregation tree, verify), timed
 * per proof.
 *
 * Single-circuit proofs are timed for sizes up to `proveUpTo` records (64 records need a 2^16 ptau, 256 a 2^18 and
 * 1,024 a 2^20 one: pass a Perpetual Powers of Tau file as `ptauPath`, or wait for a development one to be generated).
 *
 * The default chunk shape, 36 single-record subtrees per proof (15,686 constraints), is the fullest that fits a 2^14
 * ptau for the example policy; `chunkDepth 4, subtrees 1` is the shape of 16-record subtrees.
 *
 * Called by bench/main.ts; returns the `dataset` section of the results file.
 */
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import {
  aggregationShape,
  preparePrivateChunks,
  provePrivateChunks,
  verifyPrivateChunks,
} from '../src/data/private-chunked.ts';
import { prepareDatasetCircuit, proveDataset, verifyDatasetProof } from '../src/data/dataset-proof.ts';
import { DATA_TEMPLATES_DIR, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { readDataset } from '../src/data/ingest.ts';
import { loadPolicy } from '../src/policy/policy.ts';
import { loadSchema } from '../src/data/schema.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { progress, proverName, stats } from './common.ts';
import { runTsChild } from './dataset-child.ts';
import type { DatasetSection, DatasetSizeRow } from './results.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/patients/', import.meta.url));

export interface DatasetProfile {
  /** Records in one circuit (powers of two). */
  sizes: number[];
  /** Prove single circuits up to this many records. */
  proveUpTo: number;
  /** Warm proofs after the first, per proven size. */
  proveRepetitions: number;
  /** Rows of the chunked proof (0: skip it). */
  rows: number;
  chunkDepth: number;
  subtrees: number;
  /**
   * Prove the chunked dataset a second time with the snarkjs prover, in the same run: the "before" of the native prover
   * (issue 19's "everything that proves gets faster"). Doubles the chunked part's time, and more.
   */
  snarkjsAnchor: boolean;
}

/** Rough seconds on 2 cores (compile + proofs; setup cached). */
export function estimateDataset(profile: DatasetProfile): number {
  const compile = profile.sizes.reduce((sum, size) => sum + 3 + size * 0.4, 0);
  const single = profile.sizes
    .filter((size) => size <= profile.proveUpTo)
    .reduce((sum, size) => sum + (1 + profile.proveRepetitions) * (0.5 + size * 0.08), 0);
  const chunked = profile.rows > 0 ? 20 + profile.rows / 40 + (profile.snarkjsAnchor ? profile.rows / 14 : 0) : 0;
  return compile + single + chunked;
}

export async function runDatasetBench(
  profile: DatasetProfile,
  options: { cacheDir?: string; ptauPath?: string } = {},
): Promise<DatasetSection> {
  const { rows, chunkDepth, subtrees } = profile;
  const perChunk = subtrees * 2 ** chunkDepth;
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const ptau = options.ptauPath ? { ptauPath: options.ptauPath } : {};
  const proveUpTo = profile.proveUpTo;
  const depths = profile.sizes.map((size) => {
    const depth = Math.log2(size);
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`dataset sizes: ${size} is not a power of two >= 2`);
    return depth;
  });
  const schema = await loadSchema(join(EXAMPLE, 'schema.json'));
  const policy = await loadPolicy(join(EXAMPLE, 'policy.json'), schema);

  const sizes: DatasetSizeRow[] = [];
  const scratchSingle = await mkdtemp(join(os.tmpdir(), 'zkai-bench-single-'));
  const largest = 2 ** Math.max(...depths);
  await runTsChild(join(EXAMPLE, 'generate.ts'), [String(largest), join(scratchSingle, 'data.csv')]);
  const singleRecords = await readDataset(join(scratchSingle, 'data.csv'), schema);
  await rm(scratchSingle, { recursive: true, force: true });
  for (const depth of depths) {
    progress(`dataset: compiling the policy circuit for ${2 ** depth} records`);
    const generated = await generateDatasetCircuit(schema, policy, depth, cache);
    const started = performance.now();
    const circuit = await compileCircuit(generated.path, { ...cache, includePaths: [DATA_TEMPLATES_DIR] });
    const size: DatasetSizeRow = {
      records: 2 ** depth,
      constraints: circuit.info.constraints,
      perRecord: circuit.info.constraints / 2 ** depth,
      compileSeconds: circuit.cached ? 0 : (performance.now() - started) / 1000,
    };
    sizes.push(size);
    if (2 ** depth > proveUpTo) continue;
    progress(
      `dataset: proving ${2 ** depth} records in one circuit, 1 + ${profile.proveRepetitions} times (setup cached after the first run)`,
    );
    const bundle = createBundle(schema, singleRecords.slice(0, 2 ** depth));
    const setupStarted = performance.now();
    const prepared = await prepareDatasetCircuit(schema, policy, depth, { ...cache, ...ptau });
    size.setupSeconds = prepared.keys.cached ? 0 : (performance.now() - setupStarted) / 1000;
    size.ptauPower = prepared.keys.ptau.power;
    const pool = new ProverPool();
    try {
      const warm: number[] = [];
      for (let rep = 0; rep <= profile.proveRepetitions; rep += 1) {
        const proveStarted = performance.now();
        const proof = await proveDataset(bundle, schema, policy, { ...cache, ...ptau, pool });
        const seconds = (performance.now() - proveStarted) / 1000;
        if (rep === 0) size.coldProveS = seconds;
        else warm.push(seconds);
        const valid = (
          await verifyDatasetProof(prepared.keys.vkey, proof.proof, proof.publicSignals, {
            root: bundle.commitment.root,
            count: bundle.commitment.count,
            policyHash: policy.hash,
            schemaHash: schema.hash,
          })
        ).valid;
        size.verified = (size.verified ?? true) && valid;
      }
      size.proveS = stats(warm);
    } finally {
      await pool.close();
    }
  }

  let chunked: DatasetSection['chunked'] = null;
  if (rows > 0) {
    const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-data-'));
    try {
      await runTsChild(join(EXAMPLE, 'generate.ts'), [String(rows), join(scratch, 'data.csv')]);
      let started = performance.now();
      const bundle = createBundle(schema, await readDataset(join(scratch, 'data.csv'), schema));
      const commitSeconds = (performance.now() - started) / 1000;
      /** Proves every chunk and the aggregation tree in `pool`, then verifies the whole proof. */
      const proveAndVerifyChunks = async (pool: ProverPool, label: string) => {
        progress(
          `${label}: proving ${rows} rows in chunks of ${perChunk} (${subtrees} subtree(s) of ${2 ** chunkDepth}) and their aggregation tree`,
        );
        const proveStarted = performance.now();
        const proofTimes: number[] = [];
        let last = proveStarted;
        const proof = await provePrivateChunks(bundle, schema, policy, {
          ...cache,
          chunkDepth,
          subtreesPerChunk: subtrees,
          pool,
          onProgress: (event) => {
            if (event.stage !== 'prove') return; // one event per proof (not the cached setup's)
            const now = performance.now();
            proofTimes.push((now - last) / 1000);
            last = now;
            if (proofTimes.length % 8 === 0) progress(`${label}: ${event.message}`);
          },
        });
        const proveSeconds = (performance.now() - proveStarted) / 1000;
        const verifyStarted = performance.now();
        const { prepared: keysOf } = proof;
        const verdict = await verifyPrivateChunks(
          { chunk: keysOf.chunk.keys.vkey, node: keysOf.node?.keys.vkey, root: keysOf.root.keys.vkey },
          proof,
          { root: bundle.commitment.root, count: rows, schemaHash: schema.hash },
          policy,
        );
        return {
          proveSeconds,
          perChunkS: stats(proofTimes),
          verifySeconds: (performance.now() - verifyStarted) / 1000,
          verified: verdict.valid,
          chunks: proof.chunks.length,
          aggregationProofs: proof.aggregation.flat().length,
          constraintsPerChunk: keysOf.chunk.circuit.info.constraints,
        };
      };
      const pool = new ProverPool();
      try {
        // The example policy has aggregates: its chunks are private (salted commitments) and aggregation proofs judge.
        progress(
          'dataset: preparing the chunk, node and root circuits (compile and setup, cached after the first run)',
        );
        started = performance.now();
        const chunkCount = Math.ceil(rows / perChunk);
        const prepared = await preparePrivateChunks(schema, policy, chunkDepth, subtrees, {
          ...cache,
          withNode: aggregationShape(chunkCount).length > 1,
        });
        const setupSeconds = (performance.now() - started) / 1000;
        const measured = await proveAndVerifyChunks(pool, `dataset (${await proverName(pool)})`);
        let snarkjs: NonNullable<DatasetSection['chunked']>['snarkjs'] = null;
        if (profile.snarkjsAnchor) {
          const anchorPool = new ProverPool({ prover: 'snarkjs' });
          try {
            const anchor = await proveAndVerifyChunks(anchorPool, 'dataset (snarkjs anchor)');
            snarkjs = {
              proveSeconds: anchor.proveSeconds,
              perChunkS: anchor.perChunkS,
              rowsPerSecond: rows / anchor.proveSeconds,
              verified: anchor.verified,
            };
          } finally {
            await anchorPool.close();
          }
        }
        const rowsPerSecond = rows / measured.proveSeconds;
        chunked = {
          rows,
          chunkDepth,
          subtrees,
          recordsPerChunk: perChunk,
          chunks: measured.chunks,
          aggregationProofs: measured.aggregationProofs,
          constraintsPerChunk: measured.constraintsPerChunk,
          commitSeconds,
          setupSeconds,
          setupFromCache: prepared.chunk.keys.cached && prepared.root.keys.cached,
          prover: await proverName(pool),
          proveSeconds: measured.proveSeconds,
          perChunkS: measured.perChunkS,
          rowsPerSecond,
          verifySeconds: measured.verifySeconds,
          verified: measured.verified,
          minutesFor10k: 10_000 / rowsPerSecond / 60,
          snarkjs,
        };
      } finally {
        await pool.close();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  await releaseCurves();
  return {
    example: 'examples/patients',
    rules: policy.rules.length,
    aggregates: policy.aggregates.length,
    sizes,
    proveUpTo,
    chunked,
  };
}
