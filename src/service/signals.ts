/**
 * What a circuit's public signals mean: its kind, guessed from the signal names zkai's generators give (the same names
 * `layoutFromSignalNames` reads for the chain registry), a sentence per signal, and the claims a proof makes.
 */
import { CIRCUIT_KINDS, type CircuitKind } from '../chain/registry.ts';
import { CONTEXT_SIGNAL } from '../circuit/context.ts';
import { DEMO_SIGNAL_NAMES } from '../demo/range-commitment.ts';

/** The kinds the service knows: the registry's five, the built-in demo circuit, and any other circuit. */
export const SERVICE_CIRCUIT_KINDS = [...CIRCUIT_KINDS, 'demo-range', 'generic'] as const;
export type ServiceCircuitKind = CircuitKind | 'demo-range' | 'generic';

/** One public signal: its position, its name and what it means. */
export interface SignalDescription {
  index: number;
  name: string;
  meaning: string;
}

/** What a proof claims: its public signals by name, and each with its meaning. */
export interface Claims {
  kind: ServiceCircuitKind;
  /** Every public signal by name (decimal strings). */
  values: Record<string, string>;
  signals: Array<SignalDescription & { value: string }>;
}

/**
 * The kind of circuit whose public signals have these names (zkai's generators name them; see
 * src/data/circuit-gen.ts, src/data/inclusion.ts, src/model/circuit-gen.ts, src/model/accuracy.ts).
 */
export function kindFromSignalNames(names: readonly string[]): ServiceCircuitKind {
  const has = (name: string) => names.includes(name);
  if (has('subjectHash')) return 'inclusion';
  if (has('chunkDepth')) return 'dataset-chunk';
  // A dataset root with the policy: an aggregation circuit of private chunks also has a policyHash, but no root.
  if (has('policyHash') && has('root')) return 'dataset-policy';
  if (has('taskHash')) return 'accuracy';
  if (has('class')) return 'inference';
  if (names.length === DEMO_SIGNAL_NAMES.length && DEMO_SIGNAL_NAMES.every((name, i) => names[i] === name))
    return 'demo-range';
  return 'generic';
}

const FIXED: Record<string, string> = {
  root: 'Merkle root of the committed dataset (binary Poseidon tree of salted record leaves)',
  count: 'number of records in the dataset (or in this chunk)',
  policyHash: 'hash of the policy the dataset satisfies (Poseidon of its canonical JSON)',
  schemaHash: 'hash of the dataset schema',
  chunkDepth: 'chunk shape: each chunk holds subtrees of 2^chunkDepth records',
  chunkSubtrees: 'chunk shape: subtrees per chunk',
  subjectHash: "the included record's subject id, encoded as in the data (a string id is its Poseidon hash)",
  inputHash: 'commitment to the model input (salted; salt 0 for a public input)',
  class: 'the class the model predicts',
  modelHash: 'hash of the model: architecture, fixed-point format and every quantized weight',
  modelCommitment: "salted commitment to the model's private weights",
  previous:
    "accuracy chunk: the previous chunk's commitment to its running total of correct predictions (Poseidon(0, 0) for the first)",
  taskHash: 'hash of the accuracy task: schema, label column, feature columns and their scaling',
  [CONTEXT_SIGNAL]:
    'context the proof is bound to: keccak(chain id, registry, attester, nonce) mod r for an on-chain attestation, 0 off chain',
  commitment:
    "a salted commitment: an accuracy chunk's to the running total of correct predictions up to it (the last chunk's salt is 0: Poseidon(total, 0)), a private dataset chunk's to its aggregate partials, or the demo circuit's Poseidon(salt, Poseidon(values)) to its private list",
  low: 'demo circuit: lowest value allowed in the list',
  high: 'demo circuit: highest value allowed in the list',
};

/** A sentence saying what the public signal `name` means. */
export function signalMeaning(name: string): string {
  const fixed = FIXED[name];
  if (fixed) return fixed;
  let match = /^root(\d+)$/.exec(name);
  if (match) return `root of subtree ${match[1]} of this chunk (a node of the committed dataset's tree)`;
  match = /^registry\.(.+)$/.exec(name);
  if (match)
    return `root of the registry "${match[1]}" the policy checks ids against (a consent set or an opt-out list)`;
  match = /^aggregate(\d+)\.(.+)$/.exec(name);
  if (match)
    return `partial "${match[2]}" of aggregate ${match[1]} over this chunk's records (the verifier sums the chunks)`;
  match = /^input(\d+)$/.exec(name);
  if (match) return `public model input ${match[1]} (fixed point)`;
  match = /^leaf(\d+)$/.exec(name);
  if (match)
    return `leaf of test record ${match[1]} of this chunk (0 for an unused slot); the leaves rebuild the test set's root`;
  match = /^signal(\d+)$/.exec(name);
  if (match) return `public signal ${match[1]}; its meaning is not known to this service (give signalNames)`;
  return `public signal "${name}"`;
}

/** Names for a circuit whose signal names are unknown: signal0, signal1... */
export function genericSignalNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `signal${i}`);
}

/** Describe each signal of a layout. */
export function describeSignals(names: readonly string[]): SignalDescription[] {
  return names.map((name, index) => ({ index, name, meaning: signalMeaning(name) }));
}

/** The claims of a proof's public signals under a layout (one name per signal). */
export function decodeClaims(
  kind: ServiceCircuitKind,
  names: readonly string[],
  publicSignals: readonly string[],
): Claims {
  const signals = describeSignals(names).map((signal) => ({ ...signal, value: publicSignals[signal.index] ?? '' }));
  return { kind, values: Object.fromEntries(signals.map((s) => [s.name, s.value])), signals };
}
