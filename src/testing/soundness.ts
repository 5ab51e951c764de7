import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constraintHolds, readR1cs, violatedConstraints, type R1cs } from '../circuit/r1cs-constraints.ts';
import { WitnessError, ZkaiError } from '../errors.ts';
import { withoutWitnessErrorEcho } from '../util/quiet-witness.ts';

const require = createRequire(import.meta.url);
const { WitnessCalculatorBuilder } = require('circom_runtime') as {
  WitnessCalculatorBuilder: (
    code: Uint8Array,
    options: unknown,
  ) => Promise<{ calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }>;
};

/** A compiled circuit, as far as the soundness check needs it. */
export interface SoundnessCircuit {
  r1csPath: string;
  wasmPath: string;
  /** Symbol file, to name the signals in reports. */
  symPath?: string;
}

/** Options of {@link checkSoundness}. */
export interface SoundnessOptions {
  /**
   * Check at most this many signals (default: all). Outputs are always checked; intermediate signals are sampled
   * evenly across the witness, deterministically, so a report can be reproduced.
   */
  maxSignals?: number;
  /** Tampered values to try per signal, as functions of the honest value (default: +1, and a fixed large offset). */
  tamperings?: ReadonlyArray<(value: bigint, prime: bigint) => bigint>;
  /**
   * Which free signals are known to be harmless hints, reported in `benignHints` instead of `unpinned`. Default:
   * circomlib `IsZero`'s inverse (`*.inv`) when it is 0, i.e. when the tested value is zero: `out = 1 - in * inv` is
   * then 1 whatever `inv` is, so no other signal can change with it. Pass `() => false` to report everything.
   */
  benign?: (name: string, honest: bigint) => boolean;
}

/** The default {@link SoundnessOptions.benign}: circomlib IsZero's free inverse hint when its input is zero. */
export const isZeroInverseHint = (name: string, honest: bigint): boolean => /\.inv$/.test(name) && honest === 0n;

/** A signal whose tampered value still satisfied every constraint: the circuit does not pin it. */
export interface UnpinnedSignal {
  wire: number;
  name: string;
  honest: string;
  tampered: string;
}

/** What {@link checkSoundness} found. */
export interface SoundnessReport {
  /** Wires tampered with. */
  checkedSignals: number;
  /** Intermediate and output wires in the circuit. */
  candidateSignals: number;
  /** Each tampering tried (signals x tamperings). */
  tamperingsTried: number;
  /** Signals the constraints failed to pin: empty for a sound circuit. */
  unpinned: UnpinnedSignal[];
  /** Free signals classified as harmless hints by `options.benign` (listed, not hidden). */
  benignHints: UnpinnedSignal[];
}

const DEFAULT_TAMPERINGS: ReadonlyArray<(value: bigint, prime: bigint) => bigint> = [
  (value, prime) => (value + 1n) % prime,
  (value, prime) => (value + 0x1234567890abcdefn * 0x10000000000000000n + 7n) % prime,
];

async function readSymbols(symPath: string | undefined): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  if (!symPath) return names;
  const text = await readFile(symPath, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [, wire, , name] = line.split(',');
    const index = Number(wire);
    if (name && index >= 0 && !names.has(index)) names.set(index, name);
  }
  return names;
}

/** Compute a full witness (as bigints) for an input with the circuit's own witness generator. */
export async function computeWitness(wasmPath: string, input: Record<string, unknown>): Promise<bigint[]> {
  const calculator = await WitnessCalculatorBuilder(await readFile(wasmPath), { memorySize: 1 });
  try {
    return await withoutWitnessErrorEcho(() => calculator.calculateWitness(input, true));
  } catch (error) {
    throw new WitnessError(`witness computation failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/**
 * The soundness check every circuit in this project gets: compute an honest witness for `input`, then change each
 * intermediate and output signal on its own (to several other values) and check that some constraint breaks. A
 * signal whose change breaks nothing is not pinned by the constraints: a prover could set it freely (the classic
 * `<--` without a matching constraint). Input signals are not tampered with: another input is another statement.
 *
 * Only the constraints that mention a signal are re-checked for it (the rest still hold), so this is fast enough
 * to run on every signal of a few-thousand-constraint circuit. Throws if the honest witness itself fails.
 *
 * One false alarm to know about: with `--O2`, circom substitutes linear constraints away, and a private input that
 * only appears linearly can vanish from the witness; an output that was a linear function of it (say
 * `out <== 2 * secret`) is then reported as free, which it is: any `out` has a `secret`. Read such a report with the
 * source at hand, or check that circuit compiled with `optimization: 1`.
 */
export async function checkSoundness(
  circuit: SoundnessCircuit,
  input: Record<string, unknown>,
  options: SoundnessOptions = {},
): Promise<SoundnessReport> {
  const [r1cs, witness, names] = await Promise.all([
    readR1cs(circuit.r1csPath),
    computeWitness(circuit.wasmPath, input),
    readSymbols(circuit.symPath),
  ]);
  if (witness.length !== r1cs.wires) {
    throw new ZkaiError(
      'SOUNDNESS_SETUP',
      `witness has ${witness.length} wires but the r1cs has ${r1cs.wires}: wasm and r1cs are from different builds`,
    );
  }
  const broken = violatedConstraints(r1cs, witness);
  if (broken.length > 0)
    throw new ZkaiError(
      'SOUNDNESS_SETUP',
      `the honest witness already violates ${broken.length} constraint(s), first #${broken[0]}`,
    );

  const candidates = candidateWires(r1cs);
  const chosen = sampleWires(candidates, r1cs.outputs, options.maxSignals);
  const touching = constraintsByWire(r1cs);
  const tamperings = options.tamperings ?? DEFAULT_TAMPERINGS;
  const unpinned: UnpinnedSignal[] = [];
  const benignHints: UnpinnedSignal[] = [];
  const benign = options.benign ?? isZeroInverseHint;
  let tried = 0;
  for (const wire of chosen) {
    const honest = witness[wire] as bigint;
    for (const tamper of tamperings) {
      const tampered = tamper(honest, r1cs.prime);
      if (tampered === honest) continue;
      tried += 1;
      witness[wire] = tampered;
      const stillHolds = (touching.get(wire) ?? []).every((index) =>
        constraintHolds(r1cs.constraints[index]!, witness, r1cs.prime),
      );
      witness[wire] = honest;
      if (stillHolds) {
        const name = names.get(wire) ?? `wire ${wire}`;
        const found = { wire, name, honest: honest.toString(), tampered: tampered.toString() };
        (benign(name, honest) ? benignHints : unpinned).push(found);
        break;
      }
    }
  }
  return {
    checkedSignals: chosen.length,
    candidateSignals: candidates.length,
    tamperingsTried: tried,
    unpinned,
    benignHints,
  };
}

/** Output wires (1..outputs) and intermediate wires (after all inputs). */
function candidateWires(r1cs: R1cs): number[] {
  const wires: number[] = [];
  for (let wire = 1; wire <= r1cs.outputs; wire += 1) wires.push(wire);
  for (let wire = 1 + r1cs.outputs + r1cs.publicInputs + r1cs.privateInputs; wire < r1cs.wires; wire += 1)
    wires.push(wire);
  return wires;
}

function sampleWires(candidates: number[], outputs: number, maxSignals: number | undefined): number[] {
  if (maxSignals === undefined || candidates.length <= maxSignals) return candidates;
  const outputWires = candidates.slice(0, outputs);
  const rest = candidates.slice(outputs);
  const room = Math.max(0, maxSignals - outputWires.length);
  const step = rest.length / Math.max(1, room);
  const picked = Array.from({ length: room }, (_, index) => rest[Math.floor(index * step)] as number);
  return [...outputWires, ...picked];
}

function constraintsByWire(r1cs: R1cs): Map<number, number[]> {
  const index = new Map<number, number[]>();
  r1cs.constraints.forEach((constraint, position) => {
    const wires = new Set<number>([...constraint.a.keys(), ...constraint.b.keys(), ...constraint.c.keys()]);
    for (const wire of wires) {
      const list = index.get(wire);
      if (list) list.push(position);
      else index.set(wire, [position]);
    }
  });
  return index;
}

/** {@link checkSoundness}, throwing a readable error that names every unpinned signal. */
export async function assertSound(
  circuit: SoundnessCircuit,
  input: Record<string, unknown>,
  options: SoundnessOptions = {},
): Promise<SoundnessReport> {
  const report = await checkSoundness(circuit, input, options);
  if (report.unpinned.length > 0) {
    const list = report.unpinned
      .slice(0, 20)
      .map((signal) => `  ${signal.name} (wire ${signal.wire}): ${signal.honest} -> ${signal.tampered}`)
      .join('\n');
    throw new ZkaiError(
      'UNSOUND_CIRCUIT',
      `${report.unpinned.length} signal(s) can be changed without breaking any constraint:\n${list}`,
    );
  }
  return report;
}
