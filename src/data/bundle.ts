import { readFile } from 'node:fs/promises';
import { InputFileError, ZkaiError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { commitRecords, randomRecordSalt, type DatasetCommitment } from './commitment.ts';
import type { EncodedRecord, Schema } from './types.ts';
import { sortBySubject } from './unique.ts';

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

/**
 * Commit to a dataset with fresh random salts (one per record). When the schema names a subject id column, records
 * are committed in the order of their subject id key (see unique.ts), which lets a policy prove the ids unique.
 */
export function createBundle(schema: Schema, input: EncodedRecord[]): DatasetBundle {
  const records = sortBySubject(schema, input);
  const salts = records.map(() => randomRecordSalt());
  const { commitment } = commitRecords(records, salts, schema);
  return { format: 'zkai-dataset-bundle-v1', schema: schema.spec, commitment, records, salts };
}

/** Recompute a bundle's commitment from its records and salts, and check it equals the stored one. */
export function recommit(bundle: DatasetBundle, schema: Schema): DatasetCommitment {
  const { commitment } = commitRecords(bundle.records, bundle.salts, schema);
  if (commitment.root !== bundle.commitment.root || commitment.schemaHash !== bundle.commitment.schemaHash) {
    throw new ZkaiError(
      'BUNDLE_MISMATCH',
      "the bundle's records and salts do not give its stored commitment: the bundle was altered or the schema differs",
    );
  }
  return commitment;
}

/** The bundle as JSON: the only bigints (salts, encoded values) become decimal strings, and nothing else changes. */
function serialize(bundle: DatasetBundle): string {
  return JSON.stringify({
    ...bundle,
    salts: bundle.salts.map(String),
    records: bundle.records.map((record) => ({ ...record, values: record.values.map(String) })),
  });
}

const DECIMAL = /^(0|[1-9]\d*)$/;

function toBigints(values: unknown, what: string, path: string): bigint[] {
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string' && DECIMAL.test(value))) {
    throw new InputFileError(path, `${what} must be a list of decimal strings`);
  }
  return values.map((value) => BigInt(value as string));
}

/** Write a bundle atomically, readable by its owner only (mode 0600 from the moment the file exists). */
export async function saveBundle(path: string, bundle: DatasetBundle): Promise<void> {
  await writeFileAtomic(path, serialize(bundle), { mode: 0o600 });
}

/** Read a bundle, with an error naming the file when it is not one. */
export async function loadBundle(path: string): Promise<DatasetBundle> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new InputFileError(
      path,
      `not a readable dataset bundle: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const raw = parsed as { format?: unknown; salts?: unknown; records?: unknown };
  if (raw?.format !== 'zkai-dataset-bundle-v1')
    throw new InputFileError(path, 'not a zkai dataset bundle (format field missing or unknown)');
  if (!Array.isArray(raw.records)) throw new InputFileError(path, 'the bundle has no records list');
  const records = raw.records.map((record: { values?: unknown }, index: number) => ({
    ...(record as object),
    values: toBigints(record?.values, `records[${index}].values`, path),
  })) as DatasetBundle['records'];
  return { ...(parsed as DatasetBundle), salts: toBigints(raw.salts, 'salts', path), records };
}
