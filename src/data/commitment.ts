import { randomBytes } from 'node:crypto';
import { poseidon2, poseidon1, poseidon3, poseidon4, poseidon5, poseidon6, poseidon7, poseidon8, poseidon9, poseidon10, poseidon11, poseidon12, poseidon13, poseidon14, poseidon15, poseidon16 } from 'poseidon-lite';
import { ZkaiError } from '../errors.ts';
import type { EncodedRecord } from './types.ts';

const POSEIDON: ReadonlyArray<(inputs: bigint[]) => bigint> = [
  poseidon1, poseidon2, poseidon3, poseidon4, poseidon5, poseidon6, poseidon7, poseidon8,
  poseidon9, poseidon10, poseidon11, poseidon12, poseidon13, poseidon14, poseidon15, poseidon16,
];

/** Poseidon of 1 to 16 field elements (circomlib's `Poseidon(n)`). */
export function poseidon(inputs: bigint[]): bigint {
  const hash = POSEIDON[inputs.length - 1];
  if (!hash) throw new ZkaiError('BAD_INPUT', `Poseidon takes 1 to 16 inputs, got ${inputs.length}`);
  return hash(inputs);
}

/** A fresh record salt: 31 random bytes (below the field modulus), so a leaf cannot be guessed from its values. */
export function randomRecordSalt(): bigint {
  return BigInt(`0x${randomBytes(31).toString('hex')}`);
}

/** The null flags of a record packed into one integer: bit i is set when column i is null. */
export function nullBits(nulls: readonly boolean[]): bigint {
  return nulls.reduce((bits, isNull, index) => (isNull ? bits | (1n << BigInt(index)) : bits), 0n);
}

/**
 * How a record's elements are split into Poseidon calls, shared by {@link recordLeaf} and the circuit generator:
 * elements = [salt, nullBits, value_0, ..., value_{k-1}]; the first call hashes up to 16 elements; each further call
 * hashes [previous hash, up to 15 more elements].
 */
export function leafChunks(elementCount: number): number[][] {
  const chunks: number[][] = [];
  const first = Math.min(16, elementCount);
  chunks.push(Array.from({ length: first }, (_, i) => i));
  for (let start = first; start < elementCount; start += 15) {
    chunks.push(Array.from({ length: Math.min(15, elementCount - start) }, (_, i) => start + i));
  }
  return chunks;
}

/** The Merkle leaf of a record: a salted Poseidon sponge over its null flags and encoded values. */
export function recordLeaf(record: Pick<EncodedRecord, 'values' | 'nulls'>, salt: bigint): bigint {
  const elements = [salt, nullBits(record.nulls), ...record.values];
  let accumulator: bigint | undefined;
  for (const chunk of leafChunks(elements.length)) {
    const inputs = chunk.map((index) => elements[index] as bigint);
    accumulator = poseidon(accumulator === undefined ? inputs : [accumulator, ...inputs]);
  }
  return accumulator as bigint;
}

/** Depth of the tree for a dataset of `count` records: at least 1, and 2^depth >= count. */
export function treeDepth(count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new ZkaiError('BAD_INPUT', `a dataset needs at least one record, got ${count}`);
  let depth = 1;
  while (2 ** depth < count) depth += 1;
  return depth;
}

/**
 * All levels of the binary Poseidon(2) Merkle tree over `leaves`, padded with zero leaves to 2^depth. Level 0 is the
 * leaves, the last level is [root].
 */
export function merkleLevels(leaves: readonly bigint[], depth = treeDepth(leaves.length)): bigint[][] {
  const size = 2 ** depth;
  if (leaves.length > size) throw new ZkaiError('BAD_INPUT', `${leaves.length} leaves do not fit a tree of depth ${depth}`);
  const levels: bigint[][] = [[...leaves, ...Array<bigint>(size - leaves.length).fill(0n)]];
  while ((levels.at(-1) as bigint[]).length > 1) {
    const below = levels.at(-1) as bigint[];
    const above: bigint[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(poseidon2([below[i] as bigint, below[i + 1] as bigint]));
    levels.push(above);
  }
  return levels;
}

/** The sibling path of leaf `index`: one sibling per level, from the leaves up. */
export function merklePath(levels: readonly bigint[][], index: number): bigint[] {
  return levels.slice(0, -1).map((level, height) => level[(index >> height) ^ 1] as bigint);
}

/** The public part of a dataset commitment. */
export interface DatasetCommitment {
  /** Merkle root, decimal string. */
  root: string;
  /** Number of records (the tree's leaves after them are zero). */
  count: number;
  /** Tree depth: the tree has 2^depth leaves. */
  depth: number;
  /** Hash of the schema the records were encoded with, decimal string. */
  schemaHash: string;
}

/** Commit to encoded records with the given salts (one per record). */
export function commitRecords(records: readonly EncodedRecord[], salts: readonly bigint[], schemaHash: string): { commitment: DatasetCommitment; leaves: bigint[]; levels: bigint[][] } {
  if (salts.length !== records.length) throw new ZkaiError('BAD_INPUT', `${records.length} records but ${salts.length} salts`);
  const leaves = records.map((record, index) => recordLeaf(record, salts[index] as bigint));
  const depth = treeDepth(records.length);
  const levels = merkleLevels(leaves, depth);
  return { commitment: { root: (levels.at(-1) as bigint[])[0]!.toString(), count: records.length, depth, schemaHash }, leaves, levels };
}
