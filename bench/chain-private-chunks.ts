/**
 * Gas of attesting a private chunked dataset proof (issue 18) on the embedded anvil, for synthetic patients under the
 * example schema and policy: the whole proof in one transaction (`ZkaiPrivateChunks.attestPrivateChunks`), in total and
 * per record. (The chunked format before it, whose chunks published their partials and were judged on chain, cost
 * 4,884,112 gas for the same 344 records in run 20261207T105614Z; it was removed.) Called by bench/chain.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePatientsCsv } from '../examples/patients/generate.ts';
import type { RegistryClient } from '../src/chain/registry.ts';
import { randomNonce } from '../src/chain/registry.ts';
import { createBundle } from '../src/data/bundle.ts';
import { readDataset } from '../src/data/ingest.ts';
import { AGGREGATION_FAN_IN, provePrivateChunks } from '../src/data/private-chunked.ts';
import { loadSchema } from '../src/data/schema.ts';
import { loadPolicy } from '../src/policy/policy.ts';
import type { ProverPool } from '../src/prover/pool.ts';
import { committedChunkStatement, datasetAggregationStatement } from '../src/statement/index.ts';
import { progress } from './common.ts';
import type { OperationGasRow } from './results.ts';

/** The private chunks rows of the chain bench. */
export interface PrivateChunksProfile {
  /** Synthetic patients (examples/patients/generate.ts, fixed seed). */
  rows: number;
  /** Records per chunk: 2^chunkDepth (one aligned subtree per chunk, one Poseidon fold per chunk on chain). */
  chunkDepth: number;
}

const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));

/** Prove, register and attest; returns the gas rows. */
export async function privateChunksGas(
  profile: PrivateChunksProfile,
  context: { registry: RegistryClient; pool: ProverPool; owner: string; cacheDir: string },
): Promise<OperationGasRow[]> {
  const { registry, pool, owner, cacheDir } = context;
  const schema = await loadSchema(example('schema.json'));
  const policy = await loadPolicy(example('policy.json'), schema);
  const scratch = await mkdtemp(join(tmpdir(), 'zkai-bench-private-'));
  const rows: OperationGasRow[] = [];
  try {
    await writeFile(join(scratch, 'patients.csv'), generatePatientsCsv(profile.rows));
    const bundle = createBundle(schema, await readDataset(join(scratch, 'patients.csv'), schema));
    const size = 2 ** profile.chunkDepth;
    const chunks = Math.ceil(profile.rows / size);
    const aggregates = policy.aggregates.length;
    const dataset = await registry.registerDataset(`bench-private-${profile.rows}`, bundle.commitment);

    progress(`chain: private chunked proof of ${profile.rows} patients in ${chunks} chunks of ${size}`);
    const nonce = randomNonce();
    const proof = await provePrivateChunks(bundle, schema, policy, {
      cacheDir,
      pool,
      chunkDepth: profile.chunkDepth,
      context: await registry.contextFor(nonce, owner),
    });
    const { prepared } = proof;
    const register = async (
      zkeyPath: string,
      statement: Parameters<RegistryClient['registerCircuit']>[0]['statement'],
    ) => (await registry.registerCircuit({ zkeyPath, statement })).circuit;
    const chunk = await register(
      prepared.chunk.keys.zkeyPath,
      committedChunkStatement(schema, policy, { subtrees: 1 }),
    );
    const root = await register(
      prepared.root.keys.zkeyPath,
      datasetAggregationStatement(policy, 'root', AGGREGATION_FAN_IN),
    );
    const node = prepared.node
      ? await register(prepared.node.keys.zkeyPath, datasetAggregationStatement(policy, 'node', AGGREGATION_FAN_IN))
      : undefined;
    await registry.setAggregation(chunk, { ...(node ? { node } : {}), root, fanIn: AGGREGATION_FAN_IN });
    const made = await registry.attestPrivateChunks(
      { circuit: chunk, subject: dataset.version, nonce },
      proof.chunks,
      proof.aggregation,
    );
    const aggregationProofs = proof.aggregation.reduce((sum, level) => sum + level.length, 0);
    rows.push({
      operation: `attest a private chunked dataset (${profile.rows} records, ${chunks} chunks of ${size}, ${aggregationProofs} aggregation proof(s), ${aggregates} aggregates)`,
      gas: Number(made.gasUsed),
      note: 'one transaction: chunk proofs batch-verified, subtree roots folded, the root proof judges',
    });
    rows.push({
      operation: 'private chunked dataset, per record',
      gas: Math.round(Number(made.gasUsed) / profile.rows),
      note: `${made.gasUsed} gas / ${profile.rows} records`,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return rows;
}
