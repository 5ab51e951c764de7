import { merkleDepth, merkleLevels, merkleRoot } from '../crypto/merkle.ts';
import { ZkaiError } from '../errors.ts';
import { recordLeaf } from './leaf.ts';
import type { EncodedRecord, Schema } from './types.ts';

export { leafChunks, leafLayout, recordLeaf } from './leaf.ts';

/** A fresh record salt: 31 random bytes, so a leaf cannot be guessed from its values. */
export { randomFieldSalt as randomRecordSalt } from '../util/salt.ts';

/** Depth of the tree for a dataset of `count` records: at least 1, and 2^depth >= count. */
export function treeDepth(count: number): number {
  if (!Number.isInteger(count) || count < 1)
    throw new ZkaiError('BAD_INPUT', `a dataset needs at least one record, got ${count}`);
  return merkleDepth(count);
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
export function commitRecords(
  records: readonly EncodedRecord[],
  salts: readonly bigint[],
  schema: Pick<Schema, 'columns' | 'hash'>,
): { commitment: DatasetCommitment; leaves: bigint[]; levels: bigint[][] } {
  if (salts.length !== records.length)
    throw new ZkaiError('BAD_INPUT', `${records.length} records but ${salts.length} salts`);
  const schemaHash = schema.hash;
  const leaves = records.map((record, index) => recordLeaf(schema.columns, record, salts[index] as bigint));
  const depth = treeDepth(records.length);
  const levels = merkleLevels(leaves, depth);
  return {
    commitment: { root: merkleRoot(levels).toString(), count: records.length, depth, schemaHash },
    leaves,
    levels,
  };
}
