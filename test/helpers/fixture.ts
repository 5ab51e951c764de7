import * as snarkjs from 'snarkjs';
import { compileCircuit, type CompiledCircuit } from '../../src/circuit/compile.ts';
import { setupCircuit, type CircuitKeys } from '../../src/setup/phase2.ts';
import {
  DEMO_CIRCUIT_PATH,
  rangeCommitmentInput,
  sampleAges,
  type RangeCommitmentInput,
} from '../../src/demo/range-commitment.ts';
import type { Groth16Proof, VerificationKey } from '../../src/verifier/types.ts';

/** The demo circuit compiled and set up (in the test cache), with one proof made by plain snarkjs. */
export interface DemoFixture {
  circuit: CompiledCircuit;
  keys: CircuitKeys;
  zkeyPath: string;
  vkey: VerificationKey;
  input: RangeCommitmentInput;
  proof: Groth16Proof;
  publicSignals: string[];
}

let fixture: Promise<DemoFixture> | undefined;

/**
 * Compile and set up the demo circuit once per test process (caches make later processes fast) and prove one input
 * with snarkjs's own `groth16.fullProve`. Uses snarkjs's curve in this thread: call `releaseCurves()` in `afterAll`.
 */
export function getDemoFixture(): Promise<DemoFixture> {
  fixture ??= (async () => {
    const circuit = await compileCircuit(DEMO_CIRCUIT_PATH);
    const keys = await setupCircuit(circuit);
    const input = rangeCommitmentInput(sampleAges(1), 18, 99, 123456789n);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, circuit.wasmPath, keys.zkeyPath);
    return {
      circuit,
      keys,
      zkeyPath: keys.zkeyPath,
      vkey: keys.vkey as VerificationKey,
      input,
      proof: proof as Groth16Proof,
      publicSignals,
    };
  })();
  return fixture;
}

/** A two-column dataset schema (string id, age) that service, key-trust and attack tests share, so they share circuits. */
export const SERVICE_SCHEMA_SPEC = {
  name: 'service-test',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string', maxBytes: 16 },
    { name: 'age', type: 'integer', min: 0, max: 120 },
  ],
};
/** A policy the shared test data (ages 34 and 51) satisfies. */
export const ADULTS_POLICY_SPEC = { name: 'adults only', rules: [{ field: 'age', op: 'GTE', value: 18 }] };
/** A policy the shared test data breaks: forged proofs claim it. */
export const SENIORS_POLICY_SPEC = { name: 'seniors only', rules: [{ field: 'age', op: 'GTE', value: 60 }] };
