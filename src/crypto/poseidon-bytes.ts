import { poseidon } from './poseidon.ts';

/** Bytes per field element: 31 bytes (248 bits) always fit below the BN254 scalar field modulus. */
export const BYTES_PER_ELEMENT = 31;
/** Elements absorbed per Poseidon call: 16 inputs, one of which carries the running hash. */
export const ELEMENTS_PER_CALL = 15;

/**
 * Poseidon hash of a byte string. This is a fixed, versionless definition that other code (and circuits) must
 * reproduce bit for bit:
 *
 * 1. Split `bytes` into chunks of 31 bytes; the last chunk may be shorter (there is no chunk for empty input).
 *    Each chunk is read **big-endian** as an integer: chunk `[0x01, 0x02]` is `0x0102 = 258`.
 * 2. `elements = [BigInt(bytes.length), chunk_0, chunk_1, ...]`. The length comes first, so inputs that differ only
 *    by leading zero bytes in the last chunk (`""` vs `"\0"`, `"\x01"` vs `"\0\x01"`) hash differently.
 * 3. Sponge: `acc = 0n`; for each consecutive group of up to 15 elements,
 *    `acc = poseidon16([acc, ...group, ...zeros])` with the group padded with `0n` to exactly 15 elements.
 *    There is always at least one call (the length element), and `poseidon16` is circomlib's `Poseidon(16)` on BN254.
 * 4. The result is the final `acc`.
 *
 * Examples of call counts: 0..434 bytes (1..15 elements) take one call; 435..899 bytes take two.
 */
export function poseidonBytes(bytes: Uint8Array): bigint {
  const elements: bigint[] = [BigInt(bytes.length)];
  for (let start = 0; start < bytes.length; start += BYTES_PER_ELEMENT) {
    const end = Math.min(start + BYTES_PER_ELEMENT, bytes.length);
    let element = 0n;
    for (let i = start; i < end; i++) element = (element << 8n) | BigInt(bytes[i]!);
    elements.push(element);
  }
  let acc = 0n;
  for (let start = 0; start < elements.length; start += ELEMENTS_PER_CALL) {
    const group = elements.slice(start, start + ELEMENTS_PER_CALL);
    while (group.length < ELEMENTS_PER_CALL) group.push(0n);
    acc = poseidon([acc, ...group]); // 16 inputs: circomlib's Poseidon(16)
  }
  return acc;
}

/** {@link poseidonBytes} of the UTF-8 encoding of `text` (no normalization: NFC and NFD forms hash differently). */
export function poseidonText(text: string): bigint {
  return poseidonBytes(new TextEncoder().encode(text));
}
