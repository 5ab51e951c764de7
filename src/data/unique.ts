import type { Column, EncodedRecord, Schema } from './types.ts';

/**
 * Uniqueness of subject ids is proven by sorting: at commit, records are ordered by a key of their subject id, and
 * the circuit checks that consecutive real records have strictly increasing keys (distinct keys mean distinct ids).
 * The key of an integer or address id is its encoded value (an address: 160 bits, so the circuit's LessThan(160) and
 * the registries' LessThan(161) stay within circomlib's 252-bit limit, on values the leaf range-checks to 160 bits);
 * the key of a string id (a 254-bit Poseidon hash) is the hash's low 128 bits, read from a strict (alias-checked)
 * decomposition in the circuit. Two distinct ids whose hashes share their low 128 bits cannot be proven unique
 * (probability about 2^-128 per pair): the pre-flight says so.
 */
export const STRING_KEY_BITS = 128;

/** The sort key of an encoded subject id. */
export function uniqueKey(column: Column, value: bigint): bigint {
  return column.spec.type === 'string' ? value & ((1n << BigInt(STRING_KEY_BITS)) - 1n) : value;
}

/** Bits of a column's key: what the circuit's comparator works on. */
export function uniqueKeyBits(column: Column): number {
  return column.spec.type === 'string' ? STRING_KEY_BITS : column.bits;
}

/** The schema's subject id column, if it has one. */
export function subjectIdColumn(schema: Schema): Column | undefined {
  return schema.spec.subjectId === undefined
    ? undefined
    : schema.columns.find((column) => column.name === schema.spec.subjectId);
}

/** Records ordered by their subject id key (stable); unchanged when the schema has no subject id. */
export function sortBySubject(schema: Schema, records: readonly EncodedRecord[]): EncodedRecord[] {
  const column = subjectIdColumn(schema);
  if (!column) return [...records];
  const key = (record: EncodedRecord) =>
    record.nulls[column.index] ? -1n : uniqueKey(column, record.values[column.index] as bigint);
  return [...records].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
