import { readFile } from 'node:fs/promises';
import { InputFileError, ZkaiError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { commitRecords, randomRecordSalt, type DatasetCommitment } from './commitment.ts';
import type { EncodedRecord, Schema } from './types.ts';

/**
 * The data holder's private dataset bundle: the encoded records, their salts and the commitment. It is what later
 * proofs are made from, and it must stay private (the salts protect the records behind the public root).
 */
export interface DatasetBundle {
  format: 'zkai-dataset-bundle-v1';
  schema: Schema['spec'];
  commitment: DatasetCommitment;
  records: EncodedRecord[];
  salts: bigint[];
}

/** Commit to a dataset with fresh random salts (one per record). */
export function createBundle(schema: Schema, records: EncodedRecord[]): DatasetBundle {
  const salts = records.map(() => randomRecordSalt());
  const { commitment } = commitRecords(records, salts, schema.hash);
  return { format: 'zkai-dataset-bundle-v1', schema: schema.spec, commitment, records, salts };
}

/** Recompute a bundle's commitment from its records and salts, and check it equals the stored one. */
export function recommit(bundle: DatasetBundle, schema: Schema): DatasetCommitment {
  const { commitment } = commitRecords(bundle.records, bundle.salts, schema.hash);
  if (commitment.root !== bundle.commitment.root || commitment.schemaHash !== bundle.commitment.schemaHash) {
    throw new ZkaiError('BUNDLE_MISMATCH', 'the bundle\'s records and salts do not give its stored commitment: the bundle was altered or the schema differs');
  }
  return commitment;
}

const bigintReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value);
const bigintReviver = (_key: string, value: unknown) => (typeof value === 'string' && /^\d+n$/.test(value) ? BigInt(value.slice(0, -1)) : value);

/** Write a bundle atomically, readable by its owner only. */
export async function saveBundle(path: string, bundle: DatasetBundle): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(bundle, bigintReplacer));
  const { chmod } = await import('node:fs/promises');
  await chmod(path, 0o600);
}

/** Read a bundle, with an error naming the file when it is not one. */
export async function loadBundle(path: string): Promise<DatasetBundle> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'), bigintReviver) as unknown;
  } catch (error) {
    throw new InputFileError(path, `not a readable dataset bundle: ${error instanceof Error ? error.message : String(error)}`);
  }
  if ((parsed as { format?: unknown })?.format !== 'zkai-dataset-bundle-v1') throw new InputFileError(path, 'not a zkai dataset bundle (format field missing or unknown)');
  return parsed as DatasetBundle;
}
