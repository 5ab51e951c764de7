/**
 * The dataset of the private chunked proof tests (off chain: data-private-chunks.test.ts, on chain:
 * chain-private-chunks.test.ts), shared so that both use the same three circuits and keys: a schema with an integer
 * subject id, a policy with MEAN, PROPORTION, GROUP-PARITY and UNIQUE, chunks of 4 records (2 subtrees of 2) and a
 * fan-in of 4, which gives 20 records a tree of one node level (2 nodes) under the root.
 */
import { createBundle, type DatasetBundle } from '../../src/data/bundle.ts';
import { encodeRecord } from '../../src/data/encode.ts';
import { parseSchema } from '../../src/data/schema.ts';
import { parsePolicy } from '../../src/policy/policy.ts';

export const PRIVATE_CHUNKS_SCHEMA = parseSchema({
  name: 'private-chunks-test',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'integer', min: 0, max: 1000000 },
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'group', type: 'category', values: ['a', 'b'] },
  ],
});

export const PRIVATE_CHUNKS_POLICY = parsePolicy(
  {
    name: 'adults, balanced groups, distinct ids',
    rules: [{ field: 'age', op: 'GTE', value: 18 }],
    aggregates: [
      { kind: 'MEAN', field: 'age', min: '18', max: '90' },
      { kind: 'PROPORTION', where: { field: 'group', op: 'EQ', value: 'a' }, min: '0.2', max: '0.8' },
      {
        kind: 'GROUP-PARITY',
        groupA: { field: 'group', op: 'EQ', value: 'a' },
        groupB: { field: 'group', op: 'EQ', value: 'b' },
        outcome: { field: 'age', op: 'GTE', value: 50 },
        maxDifference: '0.9',
      },
      { kind: 'UNIQUE', field: 'id' },
    ],
  },
  PRIVATE_CHUNKS_SCHEMA,
);

/** A small fan-in keeps the node and root circuits in the suite's 2^13 ptau and gives a tree of two levels. */
export const PRIVATE_CHUNKS_FAN_IN = 4;
/** The chunk shape: 2 subtrees of 2^1 records per chunk. */
export const PRIVATE_CHUNKS_SHAPE = { chunkDepth: 1, subtreesPerChunk: 2 } as const;

/** `count` compliant records with ids from 1000 + offset (a third in group a, ages 18 to 77). */
export const privateChunksBundle = (count: number, offset = 0): DatasetBundle =>
  createBundle(
    PRIVATE_CHUNKS_SCHEMA,
    Array.from({ length: count }, (_, i) =>
      encodeRecord(
        PRIVATE_CHUNKS_SCHEMA,
        { id: 1000 + i + offset, age: 18 + ((i * 7) % 60), group: i % 3 === 0 ? 'a' : 'b' },
        i + 2,
      ),
    ),
  );
