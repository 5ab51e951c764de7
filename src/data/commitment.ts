import { poseidon2 } from 'poseidon-lite';
import { ZkaiError } from '../errors.ts';
import { recordLeaf } from './leaf.ts';
import type { EncodedRecord, Schema } from './types.ts';

export { poseidon } from './poseidon-n.ts';
export { leafChunks, leafLayout, recordLeaf } from './leaf.ts';

/** A fresh record salt: 31 random bytes, so a leaf cannot be guessed from its values. */
export { randomFieldSalt as randomRecordSalt } from '../util/salt.ts';

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

/** Commit to encoded records with the given salts (one per record), under their schema. */
export function commitRecords(records: readonly EncodedRecord[], salts: readonly bigint[], schema: Pick<Schema, 'columns' | 'hash'>): { commitment: DatasetCommitment; leaves: bigint[]; levels: bigint[][] } {
  if (salts.length !== records.length) throw new ZkaiError('BAD_INPUT', `${records.length} records but ${salts.length} salts`);
  const schemaHash = schema.hash;
  const leaves = records.map((record, index) => recordLeaf(schema.columns, record, salts[index] as bigint));
  const depth = treeDepth(records.length);
  const levels = merkleLevels(leaves, depth);
  return { commitment: { root: (levels.at(-1) as bigint[])[0]!.toString(), count: records.length, depth, schemaHash }, leaves, levels };
}
