/**
 * circomlib's Poseidon and zkai's sponge in JavaScript (poseidon-lite): the fallback of src/crypto/poseidon.ts and the
 * reference the native hash is checked against (src/crypto/poseidon-native.ts).
 */
import {
  poseidon2,
  poseidon1,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
} from 'poseidon-lite';
import { ZkaiError } from '../errors.ts';

const POSEIDON: ReadonlyArray<(inputs: bigint[]) => bigint> = [
  poseidon1,
  poseidon2,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
];

/** circomlib's `Poseidon(n)` of 1 to 16 field elements, in JavaScript (poseidon-lite). */
export function poseidonJs(inputs: bigint[]): bigint {
  const hash = POSEIDON[inputs.length - 1];
  if (!hash) throw new ZkaiError('BAD_INPUT', `Poseidon takes 1 to 16 inputs, got ${inputs.length}`);
  return hash(inputs);
}

/**
 * How a Poseidon sponge splits `elementCount` elements into calls (indices of the elements): the first call takes up to
 * 16, each later call takes the previous output and up to 15 more. Record leaves, model hashes and commitments, task
 * hashes and the circuits that recompute them all chunk this way.
 */
export function spongeChunks(elementCount: number): number[][] {
  if (!Number.isInteger(elementCount) || elementCount < 1)
    throw new ZkaiError('BAD_INPUT', `a Poseidon sponge hashes at least one element, got ${elementCount}`);
  const chunks: number[][] = [Array.from({ length: Math.min(16, elementCount) }, (_, i) => i)];
  for (let start = 16; start < elementCount; start += 15)
    chunks.push(Array.from({ length: Math.min(15, elementCount - start) }, (_, i) => start + i));
  return chunks;
}

/** The sponge of {@link spongeChunks} in JavaScript (poseidon-lite). */
export function poseidonSpongeJs(elements: readonly bigint[]): bigint {
  let accumulator: bigint | undefined;
  for (const chunk of spongeChunks(elements.length)) {
    const inputs = chunk.map((index) => elements[index] as bigint);
    accumulator = poseidonJs(accumulator === undefined ? inputs : [accumulator, ...inputs]);
  }
  return accumulator as bigint;
}
