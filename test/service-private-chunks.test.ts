/**
 * The verification service and private chunked dataset proofs (`zkai-chunked-dataset-proof-v2`), with real parts only:
 * a real file proven by the library (the shared fixture of test/helpers/private-chunks-fixture.ts, so its three
 * circuits and keys are the ones the other private chunks tests set up in the test cache), a real service with a real
 * statement file and its real verifier pool. The service decides what the file means: its statement's policy, schema,
 * registry roots and fan-in, and the keys its cache holds for the three circuits those generate. Every way of cutting,
 * mixing or relabelling the file is refused, and the library's own verifier (verifyPrivateChunks) agrees on each.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { cacheLayout } from '../src/cache/layout.ts';
import { datasetCircuitName } from '../src/data/circuit-gen.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import {
  provePrivateChunks,
  verifyPrivateChunks,
  type PrivateChunkedDatasetProof,
  type PrivateChunkKeys,
} from '../src/data/private-chunked.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { CircuitCatalog, createVerificationServer } from '../src/service/index.ts';
import { FIELD_FORMATS } from '../src/service/field-formats.ts';
import { errorSchema, verifyResponseSchema } from '../src/service/schemas.ts';
import { releaseCurves } from '../src/util/curves.ts';
import {
  PRIVATE_CHUNKS_FAN_IN,
  PRIVATE_CHUNKS_POLICY,
  PRIVATE_CHUNKS_SCHEMA,
  PRIVATE_CHUNKS_SHAPE,
  privateChunksBundle,
} from './helpers/private-chunks-fixture.ts';

const schema = PRIVATE_CHUNKS_SCHEMA;
const policy = PRIVATE_CHUNKS_POLICY;
const FAN_IN = PRIVATE_CHUNKS_FAN_IN;
const RECORDS = 20;

let dir: string;
let pool: ProverPool;
let app: FastifyInstance;
/** The file as `zkai data prove --chunk-depth` writes it: 20 records, 5 chunks, 2 nodes and the root. */
let file: PrivateChunkedDatasetProof;
/** Another dataset's file (8 records: 2 chunks under a root alone), proven with the same circuits: valid proofs to mix in. */
let foreign: PrivateChunkedDatasetProof;
let keys: PrivateChunkKeys;
let keyIds: { chunk: string; node: string; root: string };
let statementPath: string;

const answers: Array<{ status: number; body: unknown }> = [];
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const idOf = (vkey: unknown) => verificationKeyId(vkey as Groth16VerificationKey);

async function post(server: FastifyInstance, payload: unknown) {
  const response = await server.inject({
    method: 'POST',
    url: '/v1/verify',
    payload: payload as Record<string, unknown>,
  });
  answers.push({ status: response.statusCode, body: response.json() });
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

/** A statement file in the test's folder, with the fixture's schema and policy beside it. */
async function statementFile(name: string, fields: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({ format: 'zkai-statement-v1', schema: 'schema.json', policy: 'policy.json', ...fields }),
  );
  return path;
}

/** What the library's own verifier says of a file, with the keys and the commitment the verifier holds. */
const library = (changed: Partial<PrivateChunkedDatasetProof>, commitment = file.commitment) =>
  verifyPrivateChunks(
    keys,
    { ...file, ...changed },
    { root: commitment.root, count: commitment.count, schemaHash: schema.hash },
    policy,
    { fanIn: FAN_IN },
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkai-service-private-chunks-'));
  await writeFile(join(dir, 'schema.json'), JSON.stringify(schema.spec));
  await writeFile(join(dir, 'policy.json'), JSON.stringify(policy.spec));
  pool = new ProverPool({ workers: 1 });
  const { prepared, ...published } = await provePrivateChunks(privateChunksBundle(RECORDS), schema, policy, {
    ...PRIVATE_CHUNKS_SHAPE,
    pool,
    fanIn: FAN_IN,
  });
  file = clone(published);
  const { prepared: _again, ...other } = await provePrivateChunks(privateChunksBundle(8, 500), schema, policy, {
    ...PRIVATE_CHUNKS_SHAPE,
    pool,
    fanIn: FAN_IN,
  });
  foreign = clone(other);
  keys = { chunk: prepared.chunk.keys.vkey, node: prepared.node?.keys.vkey, root: prepared.root.keys.vkey };
  keyIds = { chunk: idOf(keys.chunk), node: idOf(keys.node), root: idOf(keys.root) };
  statementPath = await statementFile('private-chunks', {
    kind: 'dataset-private-chunks',
    name: 'adults in chunks',
    fanIn: FAN_IN,
  });
  app = await createVerificationServer({
    cacheDir: resolveCacheDir(),
    statements: [statementPath],
    verifier: { workers: 1 },
    publicDir: false,
  });
}, 900_000);

afterAll(async () => {
  await app?.close();
  await pool?.close();
  await releaseCurves();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/verify with a private chunked dataset proof file', () => {
  it('verifies the file as zkai data prove writes it, with its own statement, fan-in and cached keys, and returns nothing derived from records', async () => {
    expect(file.format).toBe('zkai-chunked-dataset-proof-v2');
    expect(file.aggregation.map((level) => level.length)).toEqual([2, 1]);
    const { status, body } = await post(app, file);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      valid: true,
      reason: null,
      detail: null,
      claims: null,
      claimsChecked: true,
      circuit: { id: keyIds.root, kind: 'dataset-aggregation', known: true, namesFrom: 'statement' },
      privateChunks: {
        statement: 'adults in chunks',
        policy: { name: policy.spec.name, hash: policy.hash },
        schemaHash: schema.hash,
        fanIn: FAN_IN,
        chunkDepth: 1,
        subtreesPerChunk: 2,
        aggregationLevels: [2, 1],
        aggregationChecked: 3,
        keys: {
          chunk: { id: keyIds.chunk, source: 'own-setup', circuit: expect.stringMatching(/^dataset_committed_/) },
          node: { id: keyIds.node, source: 'own-setup', circuit: expect.stringMatching(/^dataset_node_/) },
          root: { id: keyIds.root, source: 'own-setup', circuit: expect.stringMatching(/^dataset_root_/) },
        },
      },
    });
    expect(body.chunks).toEqual(
      [0, 1, 2, 3, 4].map((index) => ({ index, valid: true, reason: null, detail: null, claims: null })),
    );
    expect(body.note).toMatch(/fan-in of 4 \(2, 1 proof\(s\) per level/);
    // No public signal that records determine (commitments, subtree roots, node commitments) comes back.
    const text = JSON.stringify(body);
    const recordDerived = [
      ...file.chunks.flatMap((chunk) => [chunk.publicSignals[0]!, chunk.publicSignals[1]!, chunk.publicSignals[2]!]),
      ...file.aggregation[0]!.map((node) => node.publicSignals[0]!),
    ];
    expect(recordDerived.filter((value) => value.length > 12)).toHaveLength(recordDerived.length);
    for (const value of recordDerived) expect(text.includes(value), `${value} is in the answer`).toBe(false);
    // The caller may require the commitment it trusts.
    const required = await post(app, { ...file, expect: { root: file.commitment.root, count: String(RECORDS) } });
    expect(required.body.valid).toBe(true);
    // And the library's own verifier agrees.
    expect(await library({})).toEqual({ valid: true });
  });

  it('refuses a dropped, duplicated or reordered chunk, and a chunk of another dataset', async () => {
    const chunks = file.chunks;
    const relabel = (list: typeof chunks) => list.map((chunk, index) => ({ ...chunk, index }));
    const cases: Array<[string, Partial<PrivateChunkedDatasetProof>, RegExp]> = [
      ['dropped', { chunks: chunks.slice(0, -1) }, /20 records in chunks of 4 need 5 chunk proofs, got 4/],
      ['duplicated', { chunks: relabel([chunks[0]!, ...chunks.slice(0, -1)]) }, /do not combine/],
      ['duplicated, index kept', { chunks: [chunks[0]!, ...chunks.slice(0, -1)] }, /out of order/],
      ['reordered', { chunks: relabel([chunks[1]!, chunks[0]!, ...chunks.slice(2)]) }, /combine/],
      ['reordered, index kept', { chunks: [chunks[1]!, chunks[0]!, ...chunks.slice(2)] }, /out of order/],
      ['foreign', { chunks: relabel([...chunks.slice(0, 1), foreign.chunks[1]!, ...chunks.slice(2)]) }, /combine/],
    ];
    for (const [what, changed, why] of cases) {
      const { status, body } = await post(app, { ...file, ...changed });
      expect(status, what).toBe(200);
      expect(body.valid, what).toBe(false);
      expect(`${body.reason} ${body.detail}`, what).toMatch(why);
      expect((await library(changed)).valid, `the library on ${what}`).toBe(false);
    }
  });

  it('refuses an aggregation proof replaced, swapped, tampered with, or a tree of other levels than the count and its fan-in give', async () => {
    const [nodes, [root]] = file.aggregation as [
      PrivateChunkedDatasetProof['aggregation'][0],
      [PrivateChunkedDatasetProof['aggregation'][0][0]],
    ];
    const foreignRoot = foreign.aggregation.at(-1)![0]!;
    const cases: Array<[string, Partial<PrivateChunkedDatasetProof>, RegExp]> = [
      // A valid root proof of another dataset (same circuits): its children are not this tree's nodes.
      [
        'foreign root',
        { aggregation: [nodes, [foreignRoot]] },
        /aggregation level 1 proof 0: child0 is not the commitment of the proof below it/,
      ],
      ['swapped nodes', { aggregation: [[nodes[1]!, nodes[0]!], [root]] }, /aggregation level 0 proof 0: child0/],
      ['node twice', { aggregation: [[nodes[0]!, nodes[0]!], [root]] }, /aggregation level 0 proof 1/],
      ['a node as the root', { aggregation: [nodes, [nodes[0]!]] }, /aggregation level 1 proof 0/],
      [
        'a tampered root proof',
        { aggregation: [nodes, [{ ...root, proof: { ...root.proof, pi_a: nodes[0]!.proof.pi_a } }]] },
        /invalid-proof .*aggregation level 1 proof 0: the pairing check failed/,
      ],
      [
        'no node level',
        { aggregation: [[root]] },
        /5 chunks need 2 aggregation level\(s\) at this service's fan-in of 4, got 1/,
      ],
      ['an extra level', { aggregation: [nodes, [root], [root]] }, /need 2 aggregation level\(s\).*got 3/],
      ['a node missing', { aggregation: [[nodes[0]!], [root]] }, /aggregation level 0 needs 2 proofs, got 1/],
    ];
    for (const [what, changed, why] of cases) {
      const { status, body } = await post(app, { ...file, ...changed });
      expect(status, what).toBe(200);
      expect(body.valid, what).toBe(false);
      expect(`${body.reason} ${body.detail}`, what).toMatch(why);
      expect((await library(changed)).valid, `the library on ${what}`).toBe(false);
    }
  });

  it('refuses another count or root than the one proven, whether the file or the caller claims it', async () => {
    for (const [what, commitment, why] of [
      ['count 19', { ...file.commitment, count: 19 }, /chunk 4: count: expected 3, the proof states another value/],
      ['count 24', { ...file.commitment, count: 24 }, /24 records in chunks of 4 need 6 chunk proofs/],
      ['count 21', { ...file.commitment, count: 21 }, /need 6 chunk proofs/],
      [
        'another root',
        { ...file.commitment, root: foreign.commitment.root },
        /the chunk roots do not combine to the published root/,
      ],
    ] as const) {
      const { body } = await post(app, { ...file, commitment });
      expect(body.valid, what).toBe(false);
      expect(body.detail, what).toMatch(why);
      expect((await library({}, commitment)).valid, `the library on ${what}`).toBe(false);
    }
    // A caller who requires another count or root than the file states is told so (the file is not judged on it).
    const conflicting = await post(app, { ...file, expect: { count: '21', root: foreign.commitment.root } });
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      '/expect/count',
      '/expect/root',
    ]);
    const layout = await post(app, { ...file, expect: { '0': '1', commitment: '1' } });
    expect(layout.status).toBe(400);
    expect(layout.body.message).toMatch(/names no claim of a private chunked proof/);
    // A context the caller requires is checked on every chunk proof (these were made off chain, context 0).
    const context = await post(app, { ...file, expect: { context: '7' } });
    expect(context.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/^chunk 0: context: expected 7, the proof states another value/),
    });
  });

  it("ignores a fan-in or circuit ids the file states, refuses a circuit, key or layout the request names, and verifies only the service's policy", async () => {
    // Another fan-in and another compiled circuit id in the file: the verdict and the keys used are the same.
    const relabelled = await post(app, { ...file, fanIn: 16, circuitId: 'f'.repeat(24) });
    expect(relabelled.body).toMatchObject({
      valid: true,
      privateChunks: {
        fanIn: FAN_IN,
        aggregationLevels: [2, 1],
        keys: { chunk: { id: keyIds.chunk }, node: { id: keyIds.node }, root: { id: keyIds.root } },
      },
    });
    // A tree proven at another fan-in would not match the service's: the file with its root proof alone, as a
    // prover with a fan-in of 16 would lay it out, is refused (see above); the service never reads a fan-in.
    for (const [field, value] of [
      ['circuit', keyIds.root],
      ['verificationKey', keys.root],
      ['signalNames', ['count', 'slots', 'policyHash', 'child0', 'child1', 'child2', 'child3']],
      ['kind', 'dataset-policy'],
    ] as const) {
      const { status, body } = await post(app, { ...file, [field]: value });
      expect(status, field).toBe(400);
      expect(body.fields[0].path, field).toBe(`/${field}`);
    }
    // Another policy hash in the file: not one this service trusts, so nothing is verified.
    const looser = parsePolicy({ ...policy.spec, name: 'anything goes', rules: [] }, schema);
    const other = await post(app, { ...file, policy: { name: 'anything goes', hash: looser.hash } });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'UNKNOWN_CIRCUIT' });
    expect(other.body.message).toContain(`only of "${policy.spec.name}" (policy hash ${policy.hash}`);
    expect(other.body.message).toContain(`not of policy hash ${looser.hash}`);
    // Another schema hash in the commitment: a verdict, the schema is the statement's.
    const schemaHash = await post(app, { ...file, commitment: { ...file.commitment, schemaHash: '12345' } });
    expect(schemaHash.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/schema hash 12345/),
    });
  });

  it('answers a clear 422 when the service lacks the statement, its cache or a key, saying how to configure it', async () => {
    const cacheless = await mkdtemp(join(tmpdir(), 'zkai-service-empty-cache-'));
    const pinned = await statementFile('pinned-shape', {
      kind: 'dataset-private-chunks',
      fanIn: FAN_IN,
      chunkDepth: 0,
    });
    const servers: FastifyInstance[] = [];
    const start = async (options: Parameters<typeof createVerificationServer>[0]) => {
      const server = await createVerificationServer({ verifier: { workers: 1 }, publicDir: false, ...options });
      servers.push(server);
      return server;
    };
    try {
      // No statement of private chunked proofs at all (the test cache holds the keys: they are not enough).
      const none = await post(await start({ cacheDir: resolveCacheDir() }), file);
      expect(none.status).toBe(422);
      expect(none.body).toMatchObject({ code: 'UNKNOWN_CIRCUIT' });
      expect(none.body.message).toMatch(
        /verifies no private chunked proofs .* no statement of kind "dataset-private-chunks"/,
      );
      expect(none.body.hint).toMatch(/zkai serve --statement FILE.*"kind": "dataset-private-chunks".*--cache-dir/);
      // The statement, but no cache to find the keys in.
      const noCache = await post(await start({ statements: [statementPath] }), file);
      expect(noCache.status).toBe(422);
      expect(noCache.body).toMatchObject({ code: 'KEY_NOT_FOUND', hint: expect.stringMatching(/--cache-dir/) });
      // The statement and a cache that holds none of the keys.
      const empty = await post(await start({ cacheDir: cacheless, statements: [statementPath] }), file);
      expect(empty.status).toBe(422);
      expect(empty.body.code).toBe('KEY_NOT_FOUND');
      expect(empty.body.message).toMatch(
        /no key it trusts for the aggregation root circuit dataset_root_[0-9a-f]+ \(fan-in 4\)/,
      );
      expect(empty.body.hint).toMatch(/zkai ceremony verify/);
      // A chunk shape that fits the count but that no key in the cache is of (4 subtrees of 1 record: 5 chunks of 4, as
      // the file's 2 subtrees of 2) is refused without writing its circuit into the cache: a request cannot make the
      // service fill its trusted cache with generated sources.
      const { name } = datasetCircuitName(schema, policy, 0, { mode: 'committed-chunk', subtrees: 4 });
      const source = cacheLayout(resolveCacheDir()).generatedSourcePath(name);
      await rm(source, { force: true });
      const unknownShape = await post(app, { ...file, chunkDepth: 0, subtreesPerChunk: 4 });
      expect(unknownShape.status).toBe(422);
      expect(unknownShape.body.code).toBe('KEY_NOT_FOUND');
      expect(existsSync(source)).toBe(false);
      // A statement that takes another chunk shape than the file's.
      const shaped = await post(await start({ cacheDir: resolveCacheDir(), statements: [pinned] }), file);
      expect(shaped.status).toBe(422);
      expect(shaped.body.fields[0]).toMatchObject({ path: '/chunkDepth', message: 'is 1; this service takes 0' });
    } finally {
      for (const server of servers) await server.close();
      await rm(cacheless, { recursive: true, force: true });
    }
  });

  it('refuses statement files that would let a file or a key decide, naming the file', async () => {
    const withKey = await statementFile('with-key', { kind: 'dataset-private-chunks', verificationKey: 'vk.json' });
    await expect(CircuitCatalog.load({ statements: [withKey] })).rejects.toThrow(
      /with-key\.json: "verificationKey" is not taken/,
    );
    const oneCircuit = await statementFile('one-circuit', { kind: 'dataset-aggregation', verificationKey: 'vk.json' });
    await expect(CircuitCatalog.load({ statements: [oneCircuit] })).rejects.toThrow(
      /trusts them together, with kind "dataset-private-chunks"/,
    );
    const badFanIn = await statementFile('bad-fan-in', { kind: 'dataset-private-chunks', fanIn: 1 });
    await expect(CircuitCatalog.load({ statements: [badFanIn] })).rejects.toThrow(
      /"fanIn" must be an integer from 2 to 64/,
    );
    const rulesOnly = join(dir, 'rules-only.json');
    await writeFile(rulesOnly, JSON.stringify({ ...policy.spec, aggregates: [] }));
    const noAggregates = await statementFile('no-aggregates', {
      kind: 'dataset-private-chunks',
      policy: 'rules-only.json',
    });
    await expect(CircuitCatalog.load({ statements: [noAggregates] })).rejects.toThrow(/has no aggregate over records/);
    const second = await statementFile('second', { kind: 'dataset-private-chunks', fanIn: 16 });
    await expect(CircuitCatalog.load({ statements: [statementPath, second] })).rejects.toThrow(/already trusted/);
  });

  it('answers as the OpenAPI document says (every answer of this file against its documented schema)', async () => {
    const checker = Fastify({
      ajv: { customOptions: { coerceTypes: false, allErrors: true, formats: FIELD_FORMATS } },
    });
    checker.post('/verify', { schema: { body: verifyResponseSchema } }, async () => ({ ok: true }));
    checker.post('/error', { schema: { body: errorSchema } }, async () => ({ ok: true }));
    try {
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(20);
      expect(answers.some((a) => a.status === 422)).toBe(true);
      const failures: string[] = [];
      for (const answer of answers) {
        const response = await checker.inject({
          method: 'POST',
          url: answer.status >= 400 ? '/error' : '/verify',
          payload: answer.body as Record<string, unknown>,
        });
        if (response.statusCode !== 200) failures.push((response.json() as { message: string }).message);
      }
      expect(failures).toEqual([]);
      // No answer, valid or not, quotes a value the records determine: subtree roots and commitments of either file.
      const recordDerived = [file, foreign].flatMap((f) => [
        ...f.chunks.flatMap((chunk) => chunk.publicSignals.slice(0, 3)),
        ...f.aggregation.slice(0, -1).flatMap((level) => level.map((node) => node.publicSignals[0]!)),
      ]);
      expect(recordDerived.every((value) => value.length > 12)).toBe(true);
      for (const answer of answers) {
        const text = JSON.stringify(answer.body);
        for (const value of recordDerived)
          expect(text.includes(value), `${value} in ${text.slice(0, 200)}`).toBe(false);
      }
      // The check refuses what the document does not allow: a key source the service never takes.
      const valid = answers.find((a) => a.status === 200 && (a.body as { valid: boolean }).valid)!.body as Record<
        string,
        any
      >;
      const bad = clone(valid);
      bad.privateChunks.keys.root.source = 'explicit';
      expect((await checker.inject({ method: 'POST', url: '/verify', payload: bad })).statusCode).toBe(400);
    } finally {
      await checker.close();
    }
  });
});
