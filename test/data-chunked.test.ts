import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, type DatasetBundle } from '../src/data/bundle.ts';
import {
  chunkCircuitInput,
  expectedChunkRoots,
  prepareChunkCircuit,
  proveDatasetInChunks,
  verifyChunkedDataset,
  zeroSubtreeRoot,
  type ChunkedDatasetProof,
} from '../src/data/chunked.ts';
import { PolicyViolationError, verifyDatasetProof } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parsePolicy, type Policy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { parseProofFile } from '../src/statement/index.ts';
import { checkSoundness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { poseidon2 } from 'poseidon-lite';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CHUNK_DEPTH, PATIENTS_EXAMPLE } from '../src/demo/dataset-demo.ts';
import { runCli } from './helpers/run-cli.ts';

const schema = parseSchema({
  name: 'chunks',
  columns: [
    { name: 'x', type: 'integer', min: 0, max: 100 },
    { name: 'c', type: 'category', values: ['a', 'b'] },
  ],
});
/**
 * Chunked proofs of this format are for policies with no aggregate over records (the chunks publish their roots and
 * counts only); the CLI part below proves {@link aggregatePolicy} as private chunks.
 */
const policy: Policy = parsePolicy(
  {
    name: 'chunked rules',
    rules: [
      { field: 'x', op: 'GTE', value: 10 },
      { field: 'c', op: 'IN', values: ['a', 'b'] },
    ],
  },
  schema,
);
const aggregatePolicy: Policy = parsePolicy(
  {
    name: 'chunked policy',
    rules: [{ field: 'x', op: 'GTE', value: 10 }],
    aggregates: [
      { kind: 'COUNT', min: 5, max: 5 },
      { kind: 'MEAN', field: 'x', min: '45', max: '55' },
      { kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'a' }, min: '0.2', max: '0.8' },
    ],
  },
  schema,
);
const bundleOf = (xs: number[]): DatasetBundle =>
  createBundle(
    schema,
    xs.map((x, i) => encodeRecord(schema, { x, c: i % 2 === 0 ? 'a' : 'b' }, i + 2)),
  );

let pool: ProverPool;
let good: DatasetBundle;
let proof: ChunkedDatasetProof & { prepared: Awaited<ReturnType<typeof prepareChunkCircuit>> };
beforeAll(async () => {
  pool = new ProverPool();
  // Per chunk of 2: means 15, 85, 50 - only the whole dataset (mean 50) is within aggregatePolicy's [45, 55].
  good = bundleOf([10, 20, 90, 80, 50]);
  const progress: number[] = [];
  proof = await proveDatasetInChunks(good, schema, policy, {
    chunkDepth: 1,
    pool,
    onChunk: (done) => progress.push(done),
  });
  expect(progress).toEqual([1, 2, 3]);
});
afterAll(async () => {
  await pool?.close();
  await releaseCurves();
});

const expected = () => ({ root: good.commitment.root, count: 5, schemaHash: schema.hash });

describe('chunked dataset proofs', () => {
  it('proves 5 records as 3 chunks whose roots are subtrees of the committed tree, and verifies', async () => {
    expect(good.commitment.depth).toBe(3);
    expect(proof.chunks.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(proof.chunks.map((c) => BigInt(c.publicSignals[0]!))).toEqual(expectedChunkRoots(good, schema, 1));
    expect(proof.signalNames).toEqual([
      'root',
      'count',
      'policyHash',
      'schemaHash',
      'chunkDepth',
      'chunkSubtrees',
      'context',
    ]);
    expect(await verifyChunkedDataset(proof.prepared.keys.vkey, proof, expected(), policy)).toEqual({ valid: true });
    // A chunk proof is not a whole-dataset proof: its first signals look alike, but the layout has more of them.
    const asWhole = await verifyDatasetProof(
      proof.prepared.keys.vkey,
      proof.chunks[0]!.proof,
      proof.chunks[0]!.publicSignals,
      { root: proof.chunks[0]!.publicSignals[0]!, count: 2, policyHash: policy.hash, schemaHash: schema.hash },
    );
    expect(asWhole).toMatchObject({ valid: false, reason: 'wrong-signal-count' });
    // Malformed files are rejected, not thrown on.
    expect(
      await verifyChunkedDataset(proof.prepared.keys.vkey, { ...proof, chunks: [null as never] }, expected(), policy),
    ).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('rejects reordered, missing or foreign chunks, and another root or count', async () => {
    const vkey = proof.prepared.keys.vkey;
    const swapped = { ...proof, chunks: [proof.chunks[1]!, proof.chunks[0]!, proof.chunks[2]!] };
    expect((await verifyChunkedDataset(vkey, swapped, expected(), policy)).detail).toMatch(/out of order/);
    const relabelled = {
      ...proof,
      chunks: [{ ...proof.chunks[1]!, index: 0 }, { ...proof.chunks[0]!, index: 1 }, proof.chunks[2]!],
    };
    expect((await verifyChunkedDataset(vkey, relabelled, expected(), policy)).detail).toMatch(
      /do not|not to the published root|combine/,
    );
    const missing = { ...proof, chunks: proof.chunks.slice(0, 2) };
    expect((await verifyChunkedDataset(vkey, missing, expected(), policy)).detail).toMatch(
      /need 3 chunk proofs, got 2/,
    );
    const other = await proveDatasetInChunks(bundleOf([10, 20, 90, 80, 50]), schema, policy, { chunkDepth: 1, pool });
    const foreign = { ...proof, chunks: [other.chunks[0]!, proof.chunks[1]!, proof.chunks[2]!] };
    expect((await verifyChunkedDataset(vkey, foreign, expected(), policy)).detail).toMatch(/not to the published root/);
    expect((await verifyChunkedDataset(vkey, proof, { ...expected(), count: 6 }, policy)).valid).toBe(false);
    // The chunk size is pinned by the circuit: a file claiming another one is refused.
    const otherSize = await verifyChunkedDataset(vkey, { ...proof, chunkDepth: 2 }, expected(), policy);
    expect(otherSize.valid).toBe(false);
    const tampered = {
      ...proof,
      chunks: [
        { ...proof.chunks[0]!, publicSignals: ['1', ...proof.chunks[0]!.publicSignals.slice(1)] },
        proof.chunks[1]!,
        proof.chunks[2]!,
      ],
    };
    expect(await verifyChunkedDataset(vkey, tampered, expected(), policy)).toMatchObject({
      valid: false,
      reason: 'invalid-proof',
    });
  });

  it('a policy with aggregates has no chunks of this format: proving is refused, and a file of the earlier format (published partials) is refused with "prove again"', async () => {
    await expect(proveDatasetInChunks(good, schema, aggregatePolicy, { chunkDepth: 1, pool })).rejects.toThrow(
      /has aggregates over records or UNIQUE: prove its chunks privately/,
    );
    // The verifier's policy decides: a file of this format checked against a policy with aggregates is refused
    // whatever it holds (here valid chunk proofs of another policy).
    const refused = await verifyChunkedDataset(proof.prepared.keys.vkey, proof, expected(), aggregatePolicy);
    expect(refused).toMatchObject({ valid: false, reason: 'malformed' });
    expect(refused.detail).toMatch(/no longer accepted: prove again with this version/);
    // Every reader refuses a file whose signal names show published partials.
    const old = {
      ...proof,
      prepared: undefined,
      signalNames: ['root', 'aggregate1.encodedSum', ...proof.signalNames.slice(1)],
    };
    expect(() => parseProofFile(JSON.parse(JSON.stringify(old)), 'old.json')).toThrow(
      /old\.json.*publish every chunk's aggregate partials.*prove again with this version/,
    );
  });

  it('a chunk with a violating record cannot be proven, and the chunk circuit pins every signal', async () => {
    const bad = bundleOf([10, 5, 90, 80, 50]);
    // The pre-flight refuses it with a row-level report before any proof; forced, the circuit refuses it.
    await expect(proveDatasetInChunks(bad, schema, policy, { chunkDepth: 1, pool })).rejects.toBeInstanceOf(
      PolicyViolationError,
    );
    await expect(proveDatasetInChunks(bad, schema, policy, { chunkDepth: 1, pool, force: true })).rejects.toThrow(
      /chunk 0 \(records 1 to 2\).*does not satisfy the circuit/,
    );
    const report = await checkSoundness(
      proof.prepared.circuit,
      chunkCircuitInput(good.records.slice(0, 2), good.salts.slice(0, 2), schema, policy, 1),
    );
    expect(report.unpinned).toEqual([]);
  });

  it('a chunk may prove several subtrees (one record each, or pairs): fuller proofs, same root; their order and count are checked', async () => {
    const vkeyOf = (p: { prepared: { keys: { vkey: unknown } } }) => p.prepared.keys.vkey;
    // 5 records as 2 chunks of 3 single-record subtrees: the last chunk's third subtree is padding past the records.
    const singles = await proveDatasetInChunks(good, schema, policy, { chunkDepth: 0, subtreesPerChunk: 3, pool });
    expect(singles.chunks).toHaveLength(2);
    expect(singles.signalNames.slice(0, 3)).toEqual(['root0', 'root1', 'root2']);
    expect(singles.chunks[0]!.publicSignals.slice(0, 3).map(BigInt)).toEqual(
      expectedChunkRoots(good, schema, 0).slice(0, 3),
    );
    expect(await verifyChunkedDataset(vkeyOf(singles), singles, expected(), policy)).toEqual({ valid: true });
    // 5 records as 2 chunks of 2 pairs
    const pairs = await proveDatasetInChunks(good, schema, policy, { chunkDepth: 1, subtreesPerChunk: 2, pool });
    expect(pairs.chunks).toHaveLength(2);
    expect(await verifyChunkedDataset(vkeyOf(pairs), pairs, expected(), policy)).toEqual({ valid: true });
    // The subtree count is pinned by the circuit: a file claiming another one is refused.
    expect(
      (await verifyChunkedDataset(vkeyOf(pairs), { ...pairs, subtreesPerChunk: 1 }, expected(), policy)).valid,
    ).toBe(false);
    expect(
      (
        await verifyChunkedDataset(
          vkeyOf(singles),
          { ...singles, subtreesPerChunk: 5, chunks: singles.chunks.slice(0, 1) },
          expected(),
          policy,
        )
      ).valid,
    ).toBe(false);
    // Swapping two subtree roots inside a chunk breaks the proof.
    const first = singles.chunks[0]!;
    const swapped = [first.publicSignals[1]!, first.publicSignals[0]!, ...first.publicSignals.slice(2)];
    const reordered = { ...singles, chunks: [{ ...first, publicSignals: swapped }, singles.chunks[1]!] };
    expect(await verifyChunkedDataset(vkeyOf(singles), reordered, expected(), policy)).toMatchObject({ valid: false });
    // Soundness of a multi-subtree chunk circuit.
    const report = await checkSoundness(
      singles.prepared.circuit,
      chunkCircuitInput(good.records.slice(3), good.salts.slice(3), schema, policy, 0, [], 3),
    );
    expect(report.unpinned).toEqual([]);
  });

  it('computes zero subtrees the way the tree pads', () => {
    expect(zeroSubtreeRoot(0)).toBe(0n);
    expect(zeroSubtreeRoot(2)).toBe(poseidon2([poseidon2([0n, 0n]), poseidon2([0n, 0n])]));
  });
});

describe('zkai data prove --chunk-depth', () => {
  it('proves a committed CSV in chunks and `data verify` checks the chunked proof; a wrong count fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkai-chunk-cli-'));
    try {
      // The patients example at the demo's chunk shape (4 records per chunk), so its committed chunk circuit and root
      // circuit are the demo's (test/demo.test.ts): five patients, two chunks.
      await copyFile(PATIENTS_EXAMPLE.schema, join(dir, 'schema.json'));
      await copyFile(PATIENTS_EXAMPLE.policy, join(dir, 'policy.json'));
      const lines = (await readFile(PATIENTS_EXAMPLE.data, 'utf8')).trimEnd().split('\n');
      await writeFile(join(dir, 'data.csv'), `${lines.slice(0, 6).join('\n')}\n`);
      const files = (name: string) => join(dir, name);
      const commit = await runCli([
        'data',
        'commit',
        '--schema',
        files('schema.json'),
        '--data',
        files('data.csv'),
        '--bundle',
        files('b.json'),
        '--public',
        files('c.json'),
      ]);
      expect(commit.code, commit.stderr).toBe(0);
      const prove = await runCli([
        '--json',
        'data',
        'prove',
        '--schema',
        files('schema.json'),
        '--policy',
        files('policy.json'),
        '--bundle',
        files('b.json'),
        '--out',
        files('p.json'),
        '--vkey-out',
        files('vk.json'),
        '--chunk-depth',
        String(DEMO_CHUNK_DEPTH),
      ]);
      expect(prove.code, prove.stderr).toBe(0);
      // A policy with aggregates: private chunks (the chunk proofs publish a salted commitment, a root proof judges).
      expect(JSON.parse(prove.stdout)).toMatchObject({
        format: 'zkai-chunked-dataset-proof-v2',
        chunks: 2,
        chunkDepth: DEMO_CHUNK_DEPTH,
        aggregationProofs: 1,
        vkey: files('vk.json'),
      });
      const written = JSON.parse(await readFile(files('p.json'), 'utf8')) as { format: string };
      expect(written.format).toBe('zkai-chunked-dataset-proof-v2');
      const keySet = JSON.parse(await readFile(files('vk.json'), 'utf8')) as Record<string, unknown>;
      expect(keySet).toMatchObject({ format: 'zkai-private-chunk-keys-v1', chunk: expect.any(Object) });
      expect(keySet.node).toBeUndefined(); // 2 chunks: the root takes them directly, no node level
      const verifyArgs = (vkey: string, proof: string) => [
        'data',
        'verify',
        '--vkey',
        vkey,
        '--proof',
        proof,
        '--schema',
        files('schema.json'),
        '--policy',
        files('policy.json'),
      ];
      const ok = await runCli([...verifyArgs(files('vk.json'), files('p.json')), '--commitment', files('c.json')]);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(/^OK: .*2 chunk proofs and 1 aggregation proof checked/);
      expect(ok.stdout).toMatch(
        /^ {2}chunk key {4}your own setup of the circuit generated from your schema and policy/m,
      );
      expect(ok.stdout).toMatch(
        /^ {2}root key {5}your own setup of the circuit generated from your schema and policy/m,
      );
      const { root } = JSON.parse(await readFile(files('c.json'), 'utf8')) as { root: string };
      const wrong = await runCli([...verifyArgs(files('vk.json'), files('p.json')), '--root', root, '--count', '4']);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout + wrong.stderr).toMatch(/4 records in chunks of 4 need 1 chunk proofs, got 2/);
      // A count that needs as many chunks shows in the last chunk first: the message names the total (issue 20).
      const wrongTotal = await runCli([
        ...verifyArgs(files('vk.json'), files('p.json')),
        '--root',
        root,
        '--count',
        '6',
      ]);
      expect(wrongTotal.code).toBe(1);
      expect(wrongTotal.stdout + wrongTotal.stderr).toMatch(
        /the chunk proofs hold 5 records in all, but the published count is 6 \(chunk 1: /,
      );

      // A key set whose root key is another circuit's (here the chunk key): that key is not bound to the root circuit
      // the verifier's schema and policy generate, and the proof does not verify with it either.
      await writeFile(files('swapped.json'), JSON.stringify({ ...keySet, root: keySet.chunk }));
      const swapped = await runCli([
        ...verifyArgs(files('swapped.json'), files('p.json')),
        '--commitment',
        files('c.json'),
      ]);
      expect(swapped.code).toBe(1);
      expect(swapped.stdout).toMatch(/root key {5}your own setup made it for another circuit/);
      // One key where three are needed, and a key set for a file of the earlier format, are refused by name.
      await writeFile(files('chunk-key.json'), JSON.stringify(keySet.chunk));
      const single = await runCli([
        ...verifyArgs(files('chunk-key.json'), files('p.json')),
        '--commitment',
        files('c.json'),
      ]);
      expect(single.code).toBe(1);
      expect(single.stderr).toContain('a single verification key, but');

      // A file of the chunked format before private chunks (its chunk proofs published the partials) is refused by
      // name, with what to do.
      const oldFormat = {
        ...JSON.parse(JSON.stringify({ ...proof, prepared: undefined })),
        signalNames: ['root', 'aggregate1.encodedSum', 'count'],
      } as Record<string, unknown>;
      await writeFile(files('p1.json'), JSON.stringify(oldFormat));
      const old = await runCli([...verifyArgs(files('vk.json'), files('p1.json')), '--commitment', files('c.json')]);
      expect(old.code).toBe(1);
      expect(old.stderr).toMatch(/p1\.json.*no longer accepted: prove again with this version/);
      expect(ok.stdout).not.toContain('publish each chunk');
      const badDepth = await runCli([
        'data',
        'prove',
        '--schema',
        files('schema.json'),
        '--policy',
        files('policy.json'),
        '--bundle',
        files('b.json'),
        '--out',
        files('q.json'),
        '--chunk-depth',
        'x',
      ]);
      expect(badDepth.code).toBe(1);
      expect(badDepth.stderr).toContain('--chunk-depth must be an integer');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000); // cold: compiles and sets up the chunk circuit and the root, as another file may be doing at the same time
});
