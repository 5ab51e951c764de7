import type { CircuitInfo } from '../circuit/r1cs-info.ts';

/** Largest power of tau the BN254 curve supports (2^28 constraints). */
export const MAX_PTAU_POWER = 28;

/** snarkjs's `log2`: the index of the highest set bit of a 32-bit value, 0 for 0. */
function floorLog2(value: number): number {
  return value === 0 ? 0 : 31 - Math.clz32(value);
}

/**
 * The smallest powers-of-tau power that can set up a circuit, by snarkjs's own rule in `zkey_new.js`:
 * `floor(log2(constraints + public inputs + outputs)) + 1`. (Note the `+ 1`: a circuit of exactly 2^k constraints
 * plus public signals needs power k + 1.)
 */
export function requiredPtauPower(info: Pick<CircuitInfo, 'constraints' | 'publicInputs' | 'outputs'>): number {
  return floorLog2(info.constraints + info.publicInputs + info.outputs) + 1;
}
