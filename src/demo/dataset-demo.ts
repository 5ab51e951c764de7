import { fileURLToPath } from 'node:url';
import { createBundle } from '../data/bundle.ts';
import { proveDatasetInChunks, verifyChunkedDataset } from '../data/chunked.ts';
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

/** Chunks of 2 records: about 1,100 constraints each, so the development ptau of the spine demo (2^12) serves both parts. */
export const DEMO_CHUNK_DEPTH = 1;

/** What the dataset part of the demo showed. */
export interface DatasetDemoSummary {
  records: number;
  schema: string;
  root: string;
  policy: { name: string; hash: string; rules: number; aggregates: number };
  preflightOk: boolean;
  /** A copy of the data with one patient made 17 years old: what the pre-flight says about it. */
  violation: { row: number; field: string; rule: string } | undefined;
  proving: { chunks: number; chunkDepth: number; constraintsPerChunk: number; seconds: number };
  verification: { valid: boolean; otherRootRejected: boolean };
}

/**
 * The data holder's path on the patients example: commit the 64 records with fresh salts (the bundle stays in memory),
 * run the policy's pre-flight (and show it catching an under-age patient in a modified copy), prove the policy in
 * chunks in the prover pool, and verify the chunked proof against the public commitment only.
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
  const proof = await proveDatasetInChunks(bundle, schema, policy, {
    chunkDepth: DEMO_CHUNK_DEPTH,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const provingSeconds = (performance.now() - started) / 1000;
  const expected = { root: bundle.commitment.root, count: bundle.commitment.count, schemaHash: schema.hash };
  const verdict = await verifyChunkedDataset(proof.prepared.keys.vkey, proof, expected, policy);
  const otherRoot = await verifyChunkedDataset(
    proof.prepared.keys.vkey,
    proof,
    { ...expected, root: createBundle(schema, records).commitment.root },
    policy,
  );
  say(`dataset: ${proof.chunks.length} chunk proofs verified: ${verdict.valid}`);

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
      constraintsPerChunk: proof.prepared.circuit.info.constraints,
      seconds: provingSeconds,
    },
    verification: { valid: verdict.valid, otherRootRejected: !otherRoot.valid },
  };
}
