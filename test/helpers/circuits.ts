import { compileCircuit, type CompiledCircuit } from '../../src/circuit/compile.ts';
import { DATA_TEMPLATES_DIR, generateDatasetCircuit } from '../../src/data/circuit-gen.ts';
import { parsePolicy, type Policy, type PolicySpec } from '../../src/policy/policy.ts';
import type { Schema } from '../../src/data/types.ts';
import { WitnessError } from '../../src/errors.ts';
import { computeWitness } from '../../src/testing/soundness.ts';

/** Does witness generation (every constraint checked) accept the input? Only a WitnessError counts as a refusal. */
export async function witnessAccepts(circuit: CompiledCircuit, input: Record<string, unknown>): Promise<boolean> {
  try {
    await computeWitness(circuit.wasmPath, input);
    return true;
  } catch (error) {
    if (error instanceof WitnessError) return false;
    throw error;
  }
}

/** A per-test-file cache of compiled (not set up) whole-dataset policy circuits of one schema, by policy and depth. */
export function datasetCircuits(
  schema: Schema,
): (spec: PolicySpec, depth?: number) => Promise<{ circuit: CompiledCircuit; policy: Policy }> {
  const circuits = new Map<string, Promise<{ circuit: CompiledCircuit; policy: Policy }>>();
  return (spec, depth = 1) => {
    const key = `${depth}:${JSON.stringify(spec)}`;
    let entry = circuits.get(key);
    if (!entry) {
      entry = (async () => {
        const policy = parsePolicy(spec, schema);
        const generated = await generateDatasetCircuit(schema, policy, depth);
        return { circuit: await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] }), policy };
      })();
      circuits.set(key, entry);
    }
    return entry;
  };
}
