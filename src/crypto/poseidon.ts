/** circomlib-compatible Poseidon of 1 to 16 field elements, from poseidon-lite. */
import { poseidon2, poseidon1, poseidon3, poseidon4, poseidon5, poseidon6, poseidon7, poseidon8, poseidon9, poseidon10, poseidon11, poseidon12, poseidon13, poseidon14, poseidon15, poseidon16 } from 'poseidon-lite';
import { ZkaiError } from '../errors.ts';

const POSEIDON: ReadonlyArray<(inputs: bigint[]) => bigint> = [
  poseidon1, poseidon2, poseidon3, poseidon4, poseidon5, poseidon6, poseidon7, poseidon8,
  poseidon9, poseidon10, poseidon11, poseidon12, poseidon13, poseidon14, poseidon15, poseidon16,
];

/** Poseidon of 1 to 16 field elements (circomlib's `Poseidon(n)`). */
export function poseidon(inputs: bigint[]): bigint {
  const hash = POSEIDON[inputs.length - 1];
  if (!hash) throw new ZkaiError('BAD_INPUT', `Poseidon takes 1 to 16 inputs, got ${inputs.length}`);
  return hash(inputs);
}

