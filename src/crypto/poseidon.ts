/** circomlib-compatible Poseidon of 1 to 16 field elements, from poseidon-lite. */
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
import { createHash } from 'node:crypto';
import { ZkaiError } from '../errors.ts';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { nativePoseidonSponges } from './poseidon-native.ts';

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

/**
 * Poseidon of 1 to 16 field elements (circomlib's `Poseidon(n)`): natively when the addon is built
 * (src/crypto/poseidon-native.ts), else poseidon-lite.
 */
export function poseidon(inputs: bigint[]): bigint {
  const hash = POSEIDON[inputs.length - 1];
  if (!hash) throw new ZkaiError('BAD_INPUT', `Poseidon takes 1 to 16 inputs, got ${inputs.length}`);
  return nativePoseidonSponges([inputs])?.[0] ?? hash(inputs);
}

/** {@link poseidon} in JavaScript only (poseidon-lite): the reference the native hash is tested against. */
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

/** Poseidon sponge over one or more field elements, chunked by {@link spongeChunks}; natively in one call when it can. */
export function poseidonSponge(elements: readonly bigint[]): bigint {
  const chunks = spongeChunks(elements.length);
  const native = nativePoseidonSponges([elements]);
  if (native) return native[0] as bigint;
  return spongeWith(poseidonJs, elements, chunks);
}

/** The sponges of many lists (a dataset's leaves): one native call for all of them when it can. */
export function poseidonSponges(lists: ReadonlyArray<readonly bigint[]>): bigint[] {
  for (const list of lists) spongeChunks(list.length); // an empty list is refused as poseidonSponge refuses it
  return nativePoseidonSponges(lists) ?? lists.map((list) => spongeWith(poseidonJs, list, spongeChunks(list.length)));
}

/** {@link poseidonSponge} in JavaScript only (poseidon-lite): the reference of the tests. */
export function poseidonSpongeJs(elements: readonly bigint[]): bigint {
  return spongeWith(poseidonJs, elements, spongeChunks(elements.length));
}

function spongeWith(hash: (inputs: bigint[]) => bigint, elements: readonly bigint[], chunks: number[][]): bigint {
  let accumulator: bigint | undefined;
  for (const chunk of chunks) {
    const inputs = chunk.map((index) => elements[index] as bigint);
    accumulator = hash(accumulator === undefined ? inputs : [accumulator, ...inputs]);
  }
  return accumulator as bigint;
}

/** Sponge results kept by {@link poseidonSpongeRemembered}: at most this many, the oldest dropped first. */
const REMEMBERED_SPONGES = 64;
const rememberedSponges = new Map<string, bigint>();

/**
 * {@link poseidonSponge} of a long list hashed again and again (a model's weights, hashed at every proof): the result is
 * remembered by the SHA-256 of the elements' decimal list (a few microseconds per thousand elements against about 3 ms
 * of JavaScript Poseidon per 15), for the last {@link REMEMBERED_SPONGES} lists. The same elements give the same hash
 * either way; a list that differs in any element misses.
 */
export function poseidonSpongeRemembered(elements: readonly bigint[]): bigint {
  // Only canonical field elements are remembered: their decimal list is one string per list.
  if (!elements.every((element) => typeof element === 'bigint' && element >= 0n && element < BN254_SCALAR_FIELD))
    return poseidonSponge(elements);
  const key = createHash('sha256').update(elements.join(',')).digest('base64');
  const known = rememberedSponges.get(key);
  if (known !== undefined) {
    rememberedSponges.delete(key);
    rememberedSponges.set(key, known); // most recently used last
    return known;
  }
  const hash = poseidonSponge(elements);
  rememberedSponges.set(key, hash);
  if (rememberedSponges.size > REMEMBERED_SPONGES)
    rememberedSponges.delete(rememberedSponges.keys().next().value as string);
  return hash;
}
