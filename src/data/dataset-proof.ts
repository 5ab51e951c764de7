import type { CompiledCircuit } from '../circuit/compile.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { ProverPool } from '../prover/pool.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { ZkaiError } from '../errors.ts';
import { compileAndSetupGenerated, type PrepareOptions } from './prepare-generated.ts';
import { DATASET_SIGNAL_NAMES, datasetCircuitInput, generateDatasetCircuit, type GeneratedDatasetCircuit } from './circuit-gen.ts';
import { recommit, type DatasetBundle } from './bundle.ts';
import type { DatasetCommitment } from './commitment.ts';
import { evaluatePolicy, type Policy, type PolicyReport } from './policy.ts';
import type { Schema } from './types.ts';

/** The dataset violates the policy: no proof is made. `report` lists every violation by row. */
export class PolicyViolationError extends ZkaiError {
  readonly report: PolicyReport;
  constructor(report: PolicyReport) {
    const lines = report.violations.slice(0, 20).map((v) => `  row ${v.row}: ${v.field} = ${v.encodedValue ?? 'null'} (encoded) breaks rule ${v.rule}: ${v.ruleText}`);
    const more = report.violations.length > 20 ? [`  ... and ${report.violations.length - 20} more`] : [];
    const aggregates = report.aggregates.filter((a) => !a.ok).map((a) => `  aggregate ${a.text} fails: actual ${a.actual}`);
    super('POLICY_VIOLATED', `the dataset does not satisfy the policy (${report.violations.length} record violation(s), ${aggregates.length} aggregate failure(s)):\n${[...lines, ...more, ...aggregates].join('\n')}`, {
      hint: 'fix or remove the listed records; no proof is made for a violating dataset',
    });
    this.report = report;
  }
}

/** A dataset policy circuit, generated, compiled and set up. */
export interface PreparedDatasetCircuit {
  generated: GeneratedDatasetCircuit;
  circuit: CompiledCircuit;
  keys: CircuitKeys;
}

/** Generate, compile and set up the circuit of (schema, policy, depth); every step is cached. */
export async function prepareDatasetCircuit(
  schema: Schema,
  policy: Policy,
  depth: number,
  options: PrepareOptions = {},
): Promise<PreparedDatasetCircuit> {
  const generated = await generateDatasetCircuit(schema, policy, depth, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  return { generated, ...(await compileAndSetupGenerated(generated.path, options)) };
}

/** A dataset proof as written to disk and published: snarkjs proof + public signals + what they mean. */
export interface DatasetProof {
  format: 'zkai-dataset-proof-v1';
  commitment: DatasetCommitment;
  policy: { name: string; hash: string };
  circuitId: string;
  proof: Groth16Proof;
  publicSignals: string[];
}

/**
 * Prove that a committed dataset satisfies a policy. The policy is first evaluated in TypeScript; a violating dataset
 * gets a {@link PolicyViolationError} listing every violation and no proof (unless `force`, which exists to show that
 * the circuit refuses such a dataset on its own).
 */
export async function proveDataset(
  bundle: DatasetBundle,
  schema: Schema,
  policy: Policy,
  options: { cacheDir?: string; ptauPath?: string; onProgress?: ProgressListener; pool?: ProverPool; force?: boolean } = {},
): Promise<DatasetProof & { prepared: PreparedDatasetCircuit; report: PolicyReport }> {
  const commitment = recommit(bundle, schema);
  const report = evaluatePolicy(policy, bundle.records);
  if (!report.ok && !options.force) throw new PolicyViolationError(report);
  const prepared = await prepareDatasetCircuit(schema, policy, commitment.depth, options);
  const input = datasetCircuitInput(bundle.records, bundle.salts, schema, policy, commitment.depth);
  const pool = options.pool ?? new ProverPool({ workers: 1 });
  try {
    const result = await pool.prove({ wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath }, input);
    if (result.publicSignals[0] !== commitment.root) throw new ZkaiError('INTERNAL', 'the circuit computed another dataset root than the TypeScript commitment');
    return {
      format: 'zkai-dataset-proof-v1',
      commitment,
      policy: { name: policy.spec.name, hash: policy.hash },
      circuitId: prepared.circuit.id,
      proof: result.proof,
      publicSignals: result.publicSignals,
      prepared,
      report,
    };
  } finally {
    if (!options.pool) await pool.close();
  }
}

/**
 * Verify a dataset proof against what the verifier trusts: the verification key of the policy circuit, the published
 * commitment (root, count, schema hash) and the policy (its hash). Every claim is checked before the pairing check.
 */
export async function verifyDatasetProof(
  vkey: unknown,
  proof: unknown,
  publicSignals: unknown,
  expected: { root: string; count: number; policyHash: string; schemaHash: string },
): Promise<VerificationResult> {
  return verifyProof(vkey, proof, publicSignals, {
    expect: { root: expected.root, count: expected.count, policyHash: expected.policyHash, schemaHash: expected.schemaHash },
    signalNames: DATASET_SIGNAL_NAMES,
  });
}
