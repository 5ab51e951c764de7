/**
 * circomlib-compatible Poseidon of 1 to 16 field elements and zkai's sponge: natively when the addon is built
 * (src/crypto/poseidon-native.ts), else in JavaScript (src/crypto/poseidon-js.ts, poseidon-lite), with the same hashes.
 */
import { createHash } from 'node:crypto';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { poseidonJs, poseidonSpongeJs } from './poseidon-js.ts';
import { nativePoseidonSponges } from './poseidon-native.ts';

export { poseidonJs, poseidonSpongeJs, spongeChunks } from './poseidon-js.ts';

/** Poseidon of 1 to 16 field elements (circomlib's `Poseidon(n)`); a list of another length is refused. */
export function poseidon(inputs: bigint[]): bigint {
  const native = inputs.length >= 1 && inputs.length <= 16 ? nativePoseidonSponges([inputs]) : undefined;
  return native?.[0] ?? poseidonJs(inputs);
}

/** Poseidon sponge over one or more field elements, chunked by `spongeChunks`; natively in one call when it can. */
export function poseidonSponge(elements: readonly bigint[]): bigint {
  return nativePoseidonSponges([elements])?.[0] ?? poseidonSpongeJs(elements);
}

/** The sponges of many lists (a dataset's leaves, a Merkle level): one native call for all of them when it can. */
export function poseidonSponges(lists: ReadonlyArray<readonly bigint[]>): bigint[] {
  return nativePoseidonSponges(lists) ?? lists.map(poseidonSpongeJs);
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
