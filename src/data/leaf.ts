import { poseidonSponge, spongeChunks } from '../crypto/poseidon.ts';
import { ZkaiError } from '../errors.ts';
import type { Column, EncodedRecord } from './types.ts';

/**
 * The one definition of a record's Merkle leaf, shared by the TypeScript commitment and by every circuit generator.
 *
 * Elements: [salt, packed_0, ..., packed_m, string_0, ..., string_s], where the packed elements hold, little-end
 * first, the record's null flags (one bit per column) and then every non-string column's encoded value at its bit
 * width, in column order, starting a new element whenever the next part would pass {@link PACK_BITS} bits; each
 * string column's value (a Poseidon hash) is an element of its own. The leaf is a Poseidon sponge over the elements:
 * the first call hashes up to 16 elements, each further call [previous hash, up to 15 more].
 *
 * Packing is injective only because every packed value is below 2^bits and every null flag is 0 or 1: circuits must
 * range-check them, and {@link emitRecordLeaf} does so itself, also enforcing each column's schema maximum. Packing cuts the leaf of a 7-column record from
 * Poseidon(9) (417 constraints) to Poseidon(4) (297).
 */
export const PACK_BITS = 250;

/** One part of a packed element: the null flags, or a column's value; `shift` is its bit offset. */
export type PackedPart =
  { kind: 'nulls'; width: number; shift: number } | { kind: 'value'; column: number; bits: number; shift: number };

/** One leaf element. */
export type LeafElement =
  { kind: 'salt' } | { kind: 'packed'; parts: PackedPart[] } | { kind: 'string'; column: number } | { kind: 'tag' };

/**
 * A constant element added when a record would otherwise hash as Poseidon(2)(salt, packed): the function of a tree
 * node. With it, no leaf can be mistaken for an internal node (domain separation).
 */
export const LEAF_TAG = 1n;

/** The leaf layout of a schema's columns. */
export function leafLayout(columns: readonly Column[]): LeafElement[] {
  if (columns.length > PACK_BITS)
    throw new ZkaiError('BAD_SCHEMA', `a record may have at most ${PACK_BITS} columns, got ${columns.length}`);
  const elements: LeafElement[] = [{ kind: 'salt' }];
  let current: PackedPart[] = [{ kind: 'nulls', width: columns.length, shift: 0 }];
  let used = columns.length;
  for (const column of columns) {
    if (column.spec.type === 'string') continue;
    if (used + column.bits > PACK_BITS) {
      elements.push({ kind: 'packed', parts: current });
      current = [];
      used = 0;
    }
    current.push({ kind: 'value', column: column.index, bits: column.bits, shift: used });
    used += column.bits;
  }
  elements.push({ kind: 'packed', parts: current });
  for (const column of columns)
    if (column.spec.type === 'string') elements.push({ kind: 'string', column: column.index });
  if (elements.length === 2) elements.push({ kind: 'tag' });
  return elements;
}

/** How a record's leaf elements are split into Poseidon calls (the sponge's chunks, {@link spongeChunks}). */
export const leafChunks = spongeChunks;

/** The Merkle leaf of a record: a salted Poseidon sponge over its packed null flags and values, and its strings. */
export function recordLeaf(
  columns: readonly Column[],
  record: Pick<EncodedRecord, 'values' | 'nulls'>,
  salt: bigint,
): bigint {
  const elements = leafLayout(columns).map((element): bigint => {
    if (element.kind === 'salt') return salt;
    if (element.kind === 'tag') return LEAF_TAG;
    if (element.kind === 'string') return record.values[element.column] as bigint;
    return element.parts.reduce((packed, part) => {
      if (part.kind === 'nulls')
        return (
          packed + record.nulls.reduce((bits, isNull, index) => (isNull ? bits | (1n << BigInt(index)) : bits), 0n)
        );
      const value = record.values[part.column] as bigint;
      const max = columns[part.column]?.maxEncoded ?? (1n << BigInt(part.bits)) - 1n;
      if (value < 0n || value > max)
        throw new ZkaiError(
          'BAD_DATA',
          `encoded value ${value} of column ${columns[part.column]?.name ?? part.column} is outside [0, ${max}]`,
        );
      return packed + (value << BigInt(part.shift));
    }, 0n);
  });
  return poseidonSponge(elements);
}

/** How generated code names a record's signals. */
export interface LeafSignals {
  salt: string;
  value: (column: number) => string;
  isNull: (column: number) => string;
}

/**
 * Emit circom code computing a record's leaf exactly like {@link recordLeaf}: range checks of every packed value
 * (which packing and every comparator of the caller rely on), the packed elements as linear expressions, and the
 * Poseidon calls. The caller constrains each null flag to be boolean (FieldValue). Returns the leaf's expression.
 */
export function emitRecordLeaf(
  line: (text: string) => void,
  prefix: string,
  columns: readonly Column[],
  signals: LeafSignals,
): string {
  const layout = leafLayout(columns);
  const expressions = layout.map((element): string => {
    if (element.kind === 'salt') return signals.salt;
    if (element.kind === 'tag') return LEAF_TAG.toString();
    if (element.kind === 'string') return signals.value(element.column);
    return element.parts
      .map((part) => {
        if (part.kind === 'nulls')
          return columns.map((c) => `${signals.isNull(c.index)} * ${1n << BigInt(c.index)}`).join(' + ');
        return `${signals.value(part.column)} * ${1n << BigInt(part.shift)}`;
      })
      .join(' + ');
  });
  for (const element of layout) {
    if (element.kind !== 'packed') continue;
    for (const part of element.parts) {
      if (part.kind !== 'value') continue;
      line(`component ${prefix}Range${part.column} = Num2Bits(${part.bits});`);
      line(`${prefix}Range${part.column}.in <== ${signals.value(part.column)};`);
      // The schema's maximum, when it is below 2^bits - 1: a value the schema forbids (a fourth category of three,
      // an age of 127 in [0, 120]) must not be committable.
      const max = columns[part.column]?.maxEncoded;
      if (max !== undefined && max < (1n << BigInt(part.bits)) - 1n) {
        line(`component ${prefix}Max${part.column} = Num2Bits(${part.bits});`);
        line(`${prefix}Max${part.column}.in <== ${max} - ${signals.value(part.column)};`);
      }
    }
  }
  const chunks = leafChunks(expressions.length);
  line(`component ${prefix}Hash[${chunks.length}];`);
  chunks.forEach((chunk, position) => {
    line(`${prefix}Hash[${position}] = Poseidon(${chunk.length + (position === 0 ? 0 : 1)});`);
    let slot = 0;
    if (position > 0) {
      line(`${prefix}Hash[${position}].inputs[0] <== ${prefix}Hash[${position - 1}].out;`);
      slot = 1;
    }
    for (const element of chunk) {
      line(`${prefix}Hash[${position}].inputs[${slot}] <== ${expressions[element]};`);
      slot += 1;
    }
  });
  return `${prefix}Hash[${chunks.length - 1}].out`;
}
