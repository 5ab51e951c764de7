/**
 * JSON-schema formats for BN254 field elements, registered with fastify's ajv so that a value outside the field is
 * refused with a 400 naming the field, before any verification work.
 */
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD } from '../verifier/types.ts';

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** Format of a public signal or a claim: a decimal string below the scalar field order r. */
export const SCALAR_FORMAT = 'bn254-scalar';
/** Format of a proof or key coordinate: a decimal string below the base field order q. */
export const BASE_FORMAT = 'bn254-base';

function below(bound: bigint): (value: string) => boolean {
  return (value) => DECIMAL.test(value) && BigInt(value) < bound;
}

/** The formats, as ajv's `formats` option takes them. */
export const FIELD_FORMATS = {
  [SCALAR_FORMAT]: { type: 'string', validate: below(BN254_SCALAR_FIELD) },
  [BASE_FORMAT]: { type: 'string', validate: below(BN254_BASE_FIELD) },
} as const;

/** What a value of each format must be, for error messages. */
export const FORMAT_MESSAGES: Record<string, string> = {
  [SCALAR_FORMAT]: `must be a decimal string (no sign, no leading zeros) below the BN254 scalar field order r = ${BN254_SCALAR_FIELD}`,
  [BASE_FORMAT]: `must be a decimal string (no sign, no leading zeros) below the BN254 base field order q = ${BN254_BASE_FIELD}`,
};
