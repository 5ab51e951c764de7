import type { CompiledCircuit } from '../circuit/compile.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import { ProverPool } from '../prover/pool.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { ZkaiError } from '../errors.ts';
import { compileAndSetupGenerated, type PrepareOptions } from './prepare-generated.ts';
import {
  DATASET_SIGNAL_NAMES,
  datasetCircuitInput,
  registrySignalName,
  generateDatasetCircuit,
  type GeneratedDatasetCircuit,
} from './circuit-gen.ts';
import { recommit, type DatasetBundle } from './bundle.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT } from '../circuit/context.ts';
import type { DatasetCommitment } from './commitment.ts';
import { evaluatePolicy, registriesForPolicy, type Policy, type PolicyReport } from '../policy/policy.ts';
import { RegistryError, type Registry } from './registry.ts';
import type { Schema } from './types.ts';

/** The dataset violates the policy: no proof is made. `report` lists every violation by row. */
export class PolicyViolationError extends ZkaiError {
  readonly report: PolicyReport;
  constructor(report: PolicyReport) {
    const lines = report.violations
      .slice(0, 20)
      .map(
        (v) =>
          `  row ${v.row}: ${v.field} = ${v.encodedValue ?? 'null'} (encoded) breaks ${v.registry ? 'registry requirement' : `rule ${v.rule}`}: ${v.ruleText}`,
      );
    const more = report.violations.length > 20 ? [`  ... and ${report.violations.length - 20} more`] : [];
    const aggregates = report.aggregates
      .filter((a) => !a.ok)
      .map((a) => `  aggregate ${a.text} fails: actual ${a.actual}`);
    super(
      'POLICY_VIOLATED',
      `the dataset does not satisfy the policy (${report.violations.length} record violation(s), ${aggregates.length} aggregate failure(s)):\n${[...lines, ...more, ...aggregates].join('\n')}`,
      {
        hint: 'fix or remove the listed records; no proof is made for a violating dataset',
      },
    );
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
  const generated = await generateDatasetCircuit(
    schema,
    policy,
    depth,
    options.cacheDir ? { cacheDir: options.cacheDir } : {},
  );
  return { generated, ...(await compileAndSetupGenerated(generated.path, options)) };
}

/** A dataset proof as written to disk and published: snarkjs proof + public signals + what they mean. */
export interface DatasetProof {
  format: 'zkai-dataset-proof-v1';
  commitment: DatasetCommitment;
  policy: { name: string; hash: string };
  circuitId: string;
  /** The registries the policy checked against, in public-signal order (their roots are public signals). */
  registries: RegistryRoot[];
  proof: Groth16Proof;
  publicSignals: string[];
}

/** A registry's name and root, as a proof claims it and a verifier trusts it. */
export interface RegistryRoot {
  name: string;
  root: string;
}

/**
 * The policy's registries, in its order, from those given; each must have been made for this schema. Throws a
 * RegistryError naming what is missing or does not fit.
 */
export function policyRegistries(schema: Schema, policy: Policy, registries: readonly Registry[]): Registry[] {
  const ordered = registriesForPolicy(policy, registries);
  for (const registry of ordered) {
    if (registry.schemaHash !== schema.hash)
      throw new RegistryError(
        `registry "${registry.name}" was made for schema hash ${registry.schemaHash}, not for schema "${schema.spec.name}" (hash ${schema.hash})`,
      );
  }
  return ordered;
}

/**
 * The registry roots a verifier trusts, in the policy's order, from roots given by name. Throws a RegistryError
 * naming every registry the policy needs that was not given (a verifier must say which roots it trusts).
 */
export function trustedRegistryRoots(policy: Policy, given: ReadonlyMap<string, string>): RegistryRoot[] {
  const missing = policy.registries.filter((r) => !given.has(r.name)).map((r) => r.name);
  if (missing.length > 0) {
    throw new RegistryError(
      `policy "${policy.spec.name}" checks registr${missing.length > 1 ? 'ies' : 'y'} ${missing.map((m) => `"${m}"`).join(', ')}: say which root${missing.length > 1 ? 's' : ''} you trust`,
      'pass --registry NAME=ROOT (or the registry file) for each',
    );
  }
  const unused = [...given.keys()].filter((name) => !policy.registries.some((r) => r.name === name));
  if (unused.length > 0)
    throw new RegistryError(
      `policy "${policy.spec.name}" does not use registr${unused.length > 1 ? 'ies' : 'y'} ${unused.map((m) => `"${m}"`).join(', ')}`,
    );
  return policy.registries.map((r) => ({ name: r.name, root: given.get(r.name) as string }));
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
  options: PrepareOptions & {
    pool?: ProverPool;
    force?: boolean;
    registries?: readonly Registry[];
    context?: bigint;
  } = {},
): Promise<DatasetProof & { prepared: PreparedDatasetCircuit; report: PolicyReport }> {
  const commitment = recommit(bundle, schema);
  const registries = policyRegistries(schema, policy, options.registries ?? []);
  const report = evaluatePolicy(policy, bundle.records, registries);
  if (!report.ok && !options.force) throw new PolicyViolationError(report);
  const prepared = await prepareDatasetCircuit(schema, policy, commitment.depth, options);
  const input = {
    ...datasetCircuitInput(bundle.records, bundle.salts, schema, policy, commitment.depth, registries),
    context: options.context ?? NO_CONTEXT,
  };
  const pool = options.pool ?? new ProverPool({ workers: 1 });
  try {
    const result = await pool.prove({ wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath }, input);
    if (result.publicSignals[0] !== commitment.root)
      throw new ZkaiError('INTERNAL', 'the circuit computed another dataset root than the TypeScript commitment');
    return {
      format: 'zkai-dataset-proof-v1',
      commitment,
      policy: { name: policy.spec.name, hash: policy.hash },
      circuitId: prepared.circuit.id,
      registries: registries.map((r) => ({ name: r.name, root: r.root })),
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
 * commitment (root, count, schema hash), the policy (its hash) and, when the policy checks registries, their roots in
 * the policy's order (see {@link trustedRegistryRoots}). Every claim is checked before the pairing check.
 */
export async function verifyDatasetProof(
  vkey: unknown,
  proof: unknown,
  publicSignals: unknown,
  expected: {
    root: string;
    count: number;
    policyHash: string;
    schemaHash: string;
    registries?: readonly RegistryRoot[];
    context?: bigint;
  },
): Promise<VerificationResult> {
  const registries = expected.registries ?? [];
  return verifyProof(vkey, proof, publicSignals, {
    expect: {
      root: expected.root,
      count: expected.count,
      policyHash: expected.policyHash,
      schemaHash: expected.schemaHash,
      ...Object.fromEntries(registries.map((r) => [registrySignalName(r.name), r.root])),
      ...(expected.context === undefined ? {} : { [CONTEXT_SIGNAL]: expected.context }),
    },
    signalNames: [...DATASET_SIGNAL_NAMES, ...registries.map((r) => registrySignalName(r.name)), CONTEXT_SIGNAL],
  });
}
