/** Field elements as snarkjs lays them out: 32 little-endian bytes (for the native prover's tests). */

/** The 32 little-endian bytes of `value` (below 2^256). */
export function bytesOf(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** The number little-endian `bytes` hold. */
export function valueOf(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}
