import { fileURLToPath } from 'node:url';
import { poseidon16, poseidon2 } from 'poseidon-lite';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { ZkaiError } from '../errors.ts';
import { randomFieldSalt } from '../util/salt.ts';

/** The built-in demo circuit: 16 private values in a public range, bound to a salted Poseidon commitment. */
export const DEMO_CIRCUIT_PATH = fileURLToPath(new URL('../../circuits/demo/range_commitment.circom', import.meta.url));

/** Number of values the demo circuit takes. */
export const DEMO_LIST_LENGTH = 16;
/** Bit width of the demo's range checks: values, low and high - low are below 2^32. */
export const DEMO_VALUE_BITS = 32;
/** What each public signal of the demo circuit means, in order (outputs first, then public inputs). */
export const DEMO_SIGNAL_NAMES = ['commitment', 'low', 'high'] as const;

/** The input of the demo circuit. */
export interface RangeCommitmentInput {
  values: bigint[];
  salt: bigint;
  low: bigint;
  high: bigint;
}

/** A fresh random salt: 31 random bytes, so it is below the field modulus. */
export { randomFieldSalt as randomSalt } from '../util/salt.ts';

/** The commitment the circuit computes: Poseidon(salt, Poseidon(values)). */
export function rangeCommitment(values: readonly bigint[], salt: bigint): bigint {
  if (values.length !== DEMO_LIST_LENGTH)
    throw new ZkaiError('BAD_INPUT', `the demo takes exactly ${DEMO_LIST_LENGTH} values, got ${values.length}`);
  if (salt < 0n || salt >= BN254_SCALAR_FIELD) throw new ZkaiError('BAD_INPUT', 'salt must be a field element');
  return poseidon2([salt, poseidon16(values as bigint[])]);
}

/**
 * Build a demo input, checking every value on the way so a bad value gets a clear error here rather than a failed
 * constraint in the circuit.
 */
export function rangeCommitmentInput(
  values: readonly (bigint | number)[],
  low: bigint | number,
  high: bigint | number,
  salt = randomFieldSalt(),
): RangeCommitmentInput {
  const limit = 1n << BigInt(DEMO_VALUE_BITS);
  const lo = BigInt(low);
  const hi = BigInt(high);
  if (lo < 0n || lo >= limit) throw new ZkaiError('BAD_INPUT', `low must be in [0, 2^${DEMO_VALUE_BITS}), got ${lo}`);
  if (hi < lo || hi - lo >= limit)
    throw new ZkaiError('BAD_INPUT', `high must be in [low, low + 2^${DEMO_VALUE_BITS}), got low=${lo} high=${hi}`);
  if (values.length !== DEMO_LIST_LENGTH)
    throw new ZkaiError('BAD_INPUT', `the demo takes exactly ${DEMO_LIST_LENGTH} values, got ${values.length}`);
  const list = values.map((value, index) => {
    const v = BigInt(value);
    if (v < lo || v > hi)
      throw new ZkaiError('BAD_INPUT', `value #${index} = ${v} is outside the range [${lo}, ${hi}]`);
    return v;
  });
  return { values: list, salt, low: lo, high: hi };
}

/** A reproducible sample list: 16 patient ages between 18 and 99, varied by `seed`. */
export function sampleAges(seed: number): bigint[] {
  return Array.from({ length: DEMO_LIST_LENGTH }, (_, index) => BigInt(18 + ((seed * 37 + index * 53) % 82)));
}
