import { BN254_SCALAR_FIELD } from '../verifier/types.ts';

/** The BN254 scalar-field element of a signed integer (a negative value v is p - |v|). */
export function fieldOf(value: bigint): bigint {
  return ((value % BN254_SCALAR_FIELD) + BN254_SCALAR_FIELD) % BN254_SCALAR_FIELD;
}
