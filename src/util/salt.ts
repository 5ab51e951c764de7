import { randomBytes } from 'node:crypto';

/** A fresh random salt for a commitment: 31 random bytes, so it is always below the BN254 field modulus. */
export function randomFieldSalt(): bigint {
  return BigInt(`0x${randomBytes(31).toString('hex')}`);
}
