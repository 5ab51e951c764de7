/**
 * Private chunked dataset proofs end to end (issue 18, src/data/private-chunked.ts): REAL chunk, node and root proofs
 * in the prover pool, verified against keys and a commitment the verifier holds. What an outsider reads in the file
 * is checked against everything derived from the records; every way of cutting or mixing the proofs is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, type DatasetBundle } from '../src/data/bundle.ts';
import { encodeRecord } from '../src/data/encode.ts';
import {
  aggregationShape,
  provePrivateChunks,
  publishedSignals,
  verifyPrivateChunks,
  type PrivateChunkedDatasetProof,
  type PrivateChunkKeys,
} from '../src/data/private-chunked.ts';
import { uniqueKey } from '../src/data/unique.ts';
import { chunkPartialValues } from '../src/policy/chunks.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import {
  PRIVATE_CHUNKS_FAN_IN,
  PRIVATE_CHUNKS_POLICY,
  PRIVATE_CHUNKS_SCHEMA,
  privateChunksBundle,
} from './helpers/private-chunks-fixture.ts';

const schema = PRIVATE_CHUNKS_SCHEMA;
const policy = PRIVATE_CHUNKS_POLICY;
const FAN_IN = PRIVATE_CHUNKS_FAN_IN;
const RECORDS = 20;
const bundleOf = privateChunksBundle;

let pool: ProverPool;
let bundle: DatasetBundle;
let file: PrivateChunkedDatasetProof;
let keys: PrivateChunkKeys;
const expected = () => ({
  root: bundle.commitment.root,
  count: bundle.commitment.count,
  schemaHash: schema.hash,
});
const verify = (
  proof: Pick<PrivateChunkedDatasetProof, 'format' | 'chunkDepth' | 'subtreesPerChunk' | 'chunks' | 'aggregation'>,
) => verifyPrivateChunks(keys, proof, expected(), policy, { fanIn: FAN_IN });

beforeAll(async () => {
  pool = new ProverPool({ workers: 1 });
  bundle = bundleOf(RECORDS);
  const { prepared, ...published } = await provePrivateChunks(bundle, schema, policy, {
    chunkDepth: 1,
    subtreesPerChunk: 2,
    pool,
    fanIn: FAN_IN,
  });
  file = JSON.parse(JSON.stringify(published)) as PrivateChunkedDatasetProof;
  keys = { chunk: prepared.chunk.keys.vkey, node: prepared.node?.keys.vkey, root: prepared.root.keys.vkey };
}, 900_000);

afterAll(async () => {
  await pool?.close();
  await releaseCurves();
});

describe('private chunked dataset proof', () => {
  it('proves 20 records in 5 chunks of 4 (two subtrees of 2) under a tree of 2 and 1 aggregation proofs, and verifies', async () => {
    expect(aggregationShape(5, FAN_IN)).toEqual([2, 1]);
    expect(aggregationShape(20, FAN_IN)).toEqual([5, 2, 1]);
    expect(file.chunks).toHaveLength(5);
    expect(file.aggregation.map((level) => level.length)).toEqual([2, 1]);
    expect(await verify(file)).toEqual({ valid: true });
  });

  it('publishes nothing derived from records but the commitment: no partial, no key, no per-chunk statistic', () => {
    // Everything an outsider could hope to read: every chunk's partials (counts, sums, keys), each record's id key
    // and every cell, over every run of consecutive chunks (a node's sums).
    const forbidden = new Set<string>();
    const size = 4;
    for (let from = 0; from < RECORDS; from += size)
      for (let to = from + size; to <= RECORDS; to += size)
        for (const value of chunkPartialValues(policy, bundle.records.slice(from, to))) forbidden.add(String(value));
    for (const record of bundle.records) {
      forbidden.add(String(uniqueKey(schema.columns[0]!, record.values[0]!)));
      for (const value of record.values) forbidden.add(String(value));
    }
    // Small numbers are public anyway (record counts per chunk, slots, the chunk shape): what must not appear is a
    // value that only the records give.
    const publicValues = new Set(['0', '1', '2', '3', '4', String(RECORDS), policy.hash, schema.hash]);
    const signals = publishedSignals(file, policy, FAN_IN);
    const names = new Set(signals.flatMap((s) => Object.keys(s)));
    expect([...names].sort()).toEqual(
      [
        'chunkDepth',
        'chunkSubtrees',
        'commitment',
        'context',
        'count',
        'child0',
        'child1',
        'child2',
        'child3',
        'policyHash',
        'root0',
        'root1',
        'schemaHash',
        'slots',
      ].sort(),
    );
    for (const named of signals)
      for (const [name, value] of Object.entries(named)) {
        if (publicValues.has(value)) continue;
        expect(forbidden.has(value), `${name} = ${value} is derived from the records`).toBe(false);
      }
    // The file holds no salt and no partial under any other key.
    const text = JSON.stringify(file);
    for (const value of forbidden) if (value.length > 12) expect(text.includes(value)).toBe(false);
  });

  it('refuses a dropped, duplicated, reordered or foreign chunk, and a cut or mixed aggregation tree', async () => {
    const chunks = file.chunks;
    const refused = async (changed: Partial<PrivateChunkedDatasetProof>, why: RegExp) => {
      const result = await verify({ ...file, ...changed });
      expect(result.valid).toBe(false);
      expect(`${result.reason} ${result.detail ?? ''}`).toMatch(why);
    };
    await refused({ chunks: chunks.slice(0, -1) }, /need 5 chunk proofs/);
    // A duplicated chunk proof: valid on its own, but the subtree roots no longer give the published root.
    await refused({ chunks: [chunks[0]!, ...chunks.slice(0, -1)].map((c, index) => ({ ...c, index })) }, /combine/);
    const swapped = [chunks[1]!, chunks[0]!, ...chunks.slice(2)].map((c, index) => ({ ...c, index }));
    await refused({ chunks: swapped }, /chunk 0|combine/);
    // The same records proven again: other salts, so its chunk proofs do not open under this tree.
    const { prepared: _again, ...again } = await provePrivateChunks(bundle, schema, policy, {
      chunkDepth: 1,
      subtreesPerChunk: 2,
      pool,
      fanIn: FAN_IN,
    });
    await refused({ chunks: [again.chunks[0]!, ...chunks.slice(1)] }, /aggregation level 0 proof 0/);
    await refused({ aggregation: [again.aggregation[0]!, ...file.aggregation.slice(1)] }, /aggregation level 0/);
    await refused({ aggregation: file.aggregation.slice(1) }, /need 2 aggregation level/);
    await refused({ aggregation: [file.aggregation[0]!, again.aggregation[1]!] }, /level 1/);
    // Another dataset's root (same policy): refused by its children and count.
    expect(await verify({ ...again })).toEqual({ valid: true });
    await refused({ format: 'zkai-chunked-dataset-proof-v1' as never }, /prove again/);
    // Damaged files get a verdict, not an exception.
    await refused({ aggregation: [[null as never, file.aggregation[0]![1]!], file.aggregation[1]!] }, /level 0/);
    await refused({ aggregation: [null as never, file.aggregation[1]!] }, /aggregation must be a list/);
    // A shape far out of bounds is refused before anything is built from it (10^9 subtrees once ran out of memory).
    await refused({ subtreesPerChunk: 1e9 }, /subtrees per chunk 1000000000 is not an integer from 1 to 4096/);
    await refused({ chunkDepth: 1e308 }, /chunk depth 1e\+308 does not fit/);
    const rulesOnly = parsePolicy({ name: 'rules only', rules: [{ field: 'age', op: 'GTE', value: 18 }] }, schema);
    expect(await verifyPrivateChunks(keys, file, expected(), rulesOnly, { fanIn: FAN_IN })).toMatchObject({
      valid: false,
      reason: 'malformed',
    });
  }, 600_000);

  it('a dataset whose aggregate fails gets no proof: the pre-flight names it', async () => {
    const skewed = createBundle(
      schema,
      Array.from({ length: 8 }, (_, i) => encodeRecord(schema, { id: 5000 + i, age: 30, group: 'b' }, i + 2)),
    );
    await expect(provePrivateChunks(skewed, schema, policy, { chunkDepth: 1, pool, fanIn: FAN_IN })).rejects.toThrow(
      /PROPORTION/,
    );
  });
});
