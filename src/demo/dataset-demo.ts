import { fileURLToPath } from 'node:url';
import { createBundle } from '../data/bundle.ts';
import { provePrivateChunks, verifyPrivateChunks } from '../data/private-chunked.ts';
import { readDataset } from '../data/ingest.ts';
import { evaluatePolicy, loadPolicy } from '../policy/policy.ts';
import { loadSchema } from '../data/schema.ts';
import type { ProgressListener } from '../setup/progress.ts';

/** The patients example under `examples/patients/`: schema, policy and 64 synthetic records. */
export const PATIENTS_EXAMPLE = {
  schema: fileURLToPath(new URL('../../examples/patients/schema.json', import.meta.url)),
  policy: fileURLToPath(new URL('../../examples/patients/policy.json', import.meta.url)),
  data: fileURLToPath(new URL('../../examples/patients/patients.csv', import.meta.url)),
};

/**
 * Chunks of 4 records: about 2,600 constraints each; the 16 chunks are opened by one root proof (about 5,800
 * constraints, a 2^13 development ptau). Chunks of 2 would need a level of aggregation nodes too: one more circuit to
 * compile and set up on a first run.
 */
export const DEMO_CHUNK_DEPTH = 2;

/** What the dataset part of the demo showed. */
export interface DatasetDemoSummary {
  records: number;
  schema: string;
  root: string;
  policy: { name: string; hash: string; rules: number; aggregates: number };
  preflightOk: boolean;
  /** A copy of the data with one patient made 17 years old: what the pre-flight says about it. */
  violation: { row: number; field: string; rule: string } | undefined;
  proving: {
    chunks: number;
    chunkDepth: number;
    constraintsPerChunk: number;
    /** Aggregation proofs (nodes and root) and the constraints of a node and of the root. */
    aggregationProofs: number;
    constraintsPerNode: number | undefined;
    constraintsOfRoot: number;
    seconds: number;
  };
  verification: { valid: boolean; otherRootRejected: boolean };
}

/**
 * The data holder's path on the patients example: commit the 64 records with fresh salts (the bundle stays in memory),
 * run the policy's pre-flight (and show it catching an under-age patient in a modified copy), prove the policy in
 * private chunks in the prover pool (chunk proofs publish salted commitments to their partials; aggregation proofs judge
 * the policy), and verify the proof against the public commitment only.
 */
export async function runDatasetDemo(
  options: { cacheDir?: string; ptauPath?: string; onProgress?: ProgressListener } = {},
): Promise<DatasetDemoSummary> {
  const say = (message: string) => options.onProgress?.({ stage: 'demo', message });
  const schema = await loadSchema(PATIENTS_EXAMPLE.schema);
  const policy = await loadPolicy(PATIENTS_EXAMPLE.policy, schema);
  const records = await readDataset(PATIENTS_EXAMPLE.data, schema);
  const bundle = createBundle(schema, records);
  say(`dataset: ${records.length} patient records committed, root ${bundle.commitment.root.slice(0, 16)}...`);

  const report = evaluatePolicy(policy, bundle.records);
  const age = schema.columns.find((column) => column.name === 'age');
  const minimumAge = age?.spec.type === 'integer' ? Number(age.spec.min) : 0;
  const underAge = bundle.records.map((record, index) =>
    index === 2 && age
      ? { ...record, values: record.values.map((value, k) => (k === age.index ? BigInt(17 - minimumAge) : value)) }
      : record,
  );
  const caught = evaluatePolicy(policy, underAge).violations[0];

  const started = performance.now();
  const proof = await provePrivateChunks(bundle, schema, policy, {
    chunkDepth: DEMO_CHUNK_DEPTH,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const provingSeconds = (performance.now() - started) / 1000;
  const { prepared } = proof;
  // The demo's own setup made these keys from its own schema and policy: they are the verifier's here.
  const keys = { chunk: prepared.chunk.keys.vkey, node: prepared.node?.keys.vkey, root: prepared.root.keys.vkey };
  const expected = { root: bundle.commitment.root, count: bundle.commitment.count, schemaHash: schema.hash };
  const verdict = await verifyPrivateChunks(keys, proof, expected, policy);
  const otherRoot = await verifyPrivateChunks(
    keys,
    proof,
    { ...expected, root: createBundle(schema, records).commitment.root },
    policy,
  );
  const aggregationProofs = proof.aggregation.reduce((sum, level) => sum + level.length, 0);
  say(
    `dataset: ${proof.chunks.length} chunk proofs and ${aggregationProofs} aggregation proofs verified: ${verdict.valid}`,
  );

  return {
    records: records.length,
    schema: schema.spec.name,
    root: bundle.commitment.root,
    policy: {
      name: policy.spec.name,
      hash: policy.hash,
      rules: policy.rules.length,
      aggregates: policy.aggregates.length,
    },
    preflightOk: report.ok,
    violation: caught && { row: caught.row, field: caught.field, rule: caught.ruleText },
    proving: {
      chunks: proof.chunks.length,
      chunkDepth: DEMO_CHUNK_DEPTH,
      constraintsPerChunk: prepared.chunk.circuit.info.constraints,
      aggregationProofs,
      constraintsPerNode: prepared.node?.circuit.info.constraints,
      constraintsOfRoot: prepared.root.circuit.info.constraints,
      seconds: provingSeconds,
    },
    verification: { valid: verdict.valid, otherRootRejected: !otherRoot.valid },
  };
}
