/**
 * The HTTP verification service (`zkai serve`), with real parts only: the demo circuit's real proof (one, reused), a
 * real dataset proof file and real inference proof files as the CLI writes them, a real anvil with a real registry
 * and attestations, the real verifier worker pool. Every route's success and error paths.
 */
import { spawn } from 'node:child_process';
import { copyFile, readdir, readFile, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { createBundle } from '../src/data/bundle.ts';
import { proveDatasetInChunks, type ChunkedDatasetProof } from '../src/data/chunked.ts';
import { proveDataset, type DatasetProof } from '../src/data/dataset-proof.ts';
import { proveInclusion, type InclusionProof } from '../src/data/inclusion.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { proveAccuracy, runningTotalCommitment, type AccuracyProof } from '../src/model/accuracy.ts';
import { ProverPool } from '../src/prover/pool.ts';
import Fastify from 'fastify';
import { buildOpenApiDocument, CircuitCatalog, createVerificationServer } from '../src/service/index.ts';
import { FIELD_FORMATS } from '../src/service/field-formats.ts';
import {
  attestationListSchema,
  circuitDetailSchema,
  circuitListSchema,
  errorSchema,
  healthSchema,
  verifyResponseSchema,
} from '../src/service/schemas.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import {
  attestedChain,
  publishedInference,
  tinyModel,
  tinyTestSet,
  TINY_TEST_SCHEMA,
  type AttestedChain,
} from './helpers/chain-attestation.ts';
import { prepareModelCircuit, proveInference, type InferenceProof } from '../src/model/inference.ts';
import { inferenceInput, modelCommitment } from '../src/model/circuit-gen.ts';
import { parseNativeModel } from '../src/model/native.ts';
import { quantizeModel } from '../src/model/quantize.ts';
import { devPtauFileName, listDevPtaus } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import {
  getDemoFixture,
  type DemoFixture,
  ADULTS_POLICY_SPEC,
  SENIORS_POLICY_SPEC,
  SERVICE_SCHEMA_SPEC,
} from './helpers/fixture.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let demo: DemoFixture;
let demoId: string;
let dir: string;
let vkeyPath: string;
/** Knows the demo key from a file only (no signal names). */
let fileApp: FastifyInstance;
/** Knows the test cache's keys (names from the compiled circuits) and the chain's registry. */
let app: FastifyInstance;
let pool: ProverPool;
let chain: AttestedChain;
let datasetFile: DatasetProof;
let chunkedFile: ChunkedDatasetProof;
let inclusionFile: InclusionProof;
let accuracyFile: AccuracyProof;

const SCHEMA_SPEC = SERVICE_SCHEMA_SPEC;
const POLICY_SPEC = ADULTS_POLICY_SPEC;
/** A policy the test data breaks (ages 34 and 51): forged proofs claim it. */
const SENIORS_SPEC = SENIORS_POLICY_SPEC;
const schema = parseSchema(SCHEMA_SPEC);
const policy = parsePolicy(POLICY_SPEC, schema);
const seniors = parsePolicy(SENIORS_SPEC, schema);

/**
 * Proofs a dishonest prover can make: `context` is a public input the circuit leaves free, so it can hold any value,
 * here one that a relabelled layout would read as a count, a policy hash or a class.
 */
let forged: { count: DatasetProof; policy: DatasetProof; class: InferenceProof };
let datasetVkeyPath: string;

/** Every answer the tests saw, with the documented schema it must match (checked by the last test). */
const answers: Array<{ schema: keyof typeof DOCUMENTED; url: string; body: unknown }> = [];
const DOCUMENTED = {
  verify: verifyResponseSchema,
  circuits: circuitListSchema,
  circuit: circuitDetailSchema,
  attestations: attestationListSchema,
  health: healthSchema,
  error: errorSchema,
};

function record(url: string, status: number, body: unknown): void {
  const path = url.split('?')[0] as string;
  const schema: keyof typeof DOCUMENTED | undefined =
    status >= 400
      ? 'error'
      : path === '/v1/verify'
        ? 'verify'
        : path === '/v1/circuits'
          ? 'circuits'
          : path.startsWith('/v1/circuits/')
            ? 'circuit'
            : path === '/v1/attestations'
              ? 'attestations'
              : path === '/health'
                ? 'health'
                : undefined;
  if (schema) answers.push({ schema, url, body });
}

async function post(server: FastifyInstance, payload: unknown) {
  const response = await server.inject({
    method: 'POST',
    url: '/v1/verify',
    payload: payload as Record<string, unknown>,
  });
  record('/v1/verify', response.statusCode, response.json());
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

async function get(server: FastifyInstance, url: string) {
  const response = await server.inject({ method: 'GET', url });
  record(url, response.statusCode, response.json());
  return { status: response.statusCode, body: response.json() as Record<string, any> };
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The proving key in a cached key folder, beside its verification key. */
async function zkeyBeside(vkeyPath: string): Promise<string> {
  const folder = dirname(vkeyPath);
  const zkey = (await readdir(folder)).find((name) => name.endsWith('.zkey'));
  if (!zkey) throw new Error(`no zkey in ${folder}`);
  return join(folder, zkey);
}

beforeAll(async () => {
  demo = await getDemoFixture();
  demoId = verificationKeyId(demo.vkey as unknown as Groth16VerificationKey);
  dir = await mkdtemp(join(tmpdir(), 'zkai-service-'));
  vkeyPath = join(dir, 'demo.vkey.json');
  await writeFile(vkeyPath, JSON.stringify(demo.vkey));
  pool = new ProverPool();
  // A dataset proof file exactly as `zkai data prove` writes it (its circuit's key lands in the test cache).
  const bundle = createBundle(
    schema,
    [
      { id: 'p-1', age: 34 },
      { id: 'p-2', age: 51 },
    ].map((cells, i) => encodeRecord(schema, cells, i + 2)),
  );
  const { prepared, report: _report, ...published } = await proveDataset(bundle, schema, policy, { pool });
  datasetFile = clone(published);
  datasetVkeyPath = prepared.keys.vkeyPath;
  const withContext = async (context: bigint) => {
    const { prepared: _p, report: _r, ...file } = await proveDataset(bundle, schema, policy, { pool, context });
    return clone(file);
  };
  const forgedCount = await withContext(999n);
  const forgedPolicy = await withContext(BigInt(seniors.hash));
  const { prepared: _chunkCircuit, ...chunked } = await proveDatasetInChunks(bundle, schema, policy, {
    chunkDepth: 0,
    pool,
  });
  chunkedFile = clone(chunked);
  const {
    prepared: _inclusionCircuit,
    vkeyPath: _inclusionKey,
    row: _row,
    ...inclusion
  } = await proveInclusion(bundle, schema, { subjectId: 'p-2', pool });
  inclusionFile = clone(inclusion);
  // An accuracy proof file as `zkai model accuracy` writes it: the tiny model on five labelled records, two per proof.
  const testSet = tinyTestSet();
  const { prepared: _accuracyCircuit, ...accuracy } = await proveAccuracy(
    tinyModel().quantized,
    testSet,
    TINY_TEST_SCHEMA,
    { label: 'label', samplesPerChunk: 2, pool },
  );
  accuracyFile = clone(accuracy);
  chain = await attestedChain(pool);
  // The class the model never predicts on this input, as the context of a genuine proof.
  const { quantized, input } = tinyModel();
  const neverPredicted = 1 - chain.kept.proof.predicted;
  const forgedClass = publishedInference(
    await proveInference(quantized, input([1, -1]), { pool, visibility: 'hashed', context: BigInt(neverPredicted) }),
  );
  forged = { count: forgedCount, policy: forgedPolicy, class: forgedClass };
  fileApp = await createVerificationServer({ keys: [vkeyPath], bodyLimit: 64 * 1024, verifier: { workers: 1 } });
  app = await createVerificationServer({
    cacheDir: resolveCacheDir(),
    chain: { rpcUrl: chain.chain.rpcUrl, deploymentPath: chain.deploymentPath },
    verifier: { workers: 1 },
  });
}, 900_000);

afterAll(async () => {
  await fileApp?.close();
  await app?.close();
  await pool?.close();
  await chain?.close();
  await releaseCurves();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('GET /health and /openapi.json', () => {
  it('answers health with the known circuits and whether a chain is configured', async () => {
    const { status, body } = await get(fileApp, '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      circuits: 1,
      verifier: { workers: 1 },
      chain: { configured: false, rpc: null },
    });
    expect((await get(app, '/health')).body.chain).toMatchObject({
      configured: true,
      rpc: chain.chain.rpcUrl,
      registry: chain.deployment.registry,
    });
  });

  it('serves the OpenAPI document that is committed in docs/openapi.json', async () => {
    const { status, body } = await get(fileApp, '/openapi.json');
    expect(status).toBe(200);
    const committed = JSON.parse(await readFile(join(ROOT, 'docs', 'openapi.json'), 'utf8')) as unknown;
    expect(body).toEqual(committed);
    expect(body).toEqual(buildOpenApiDocument());
    expect(Object.keys(body.paths)).toEqual([
      '/v1/verify',
      '/v1/circuits',
      '/v1/circuits/{id}',
      '/v1/attestations',
      '/health',
      '/openapi.json',
    ]);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const { status, body } = await get(fileApp, '/v2/nothing');
    expect(status).toBe(404);
    expect(body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});

describe('GET /v1/circuits', () => {
  it('lists a key given as a file by its registry id, with placeholder names', async () => {
    const { status, body } = await get(fileApp, '/v1/circuits');
    expect(status).toBe(200);
    expect(body.circuits).toHaveLength(1);
    expect(body.circuits[0]).toMatchObject({
      id: demoId,
      name: 'demo.vkey',
      kind: 'generic',
      nPublic: 3,
      namesKnown: false,
      source: 'file',
      compiledId: null,
    });
    expect(body.circuits[0].signals.map((s: { name: string }) => s.name)).toEqual(['signal0', 'signal1', 'signal2']);
  });

  it("lists the cache's keys with their kind and the meaning of each signal", async () => {
    const { body } = await get(app, '/v1/circuits');
    const byId = new Map<string, any>(body.circuits.map((c: { id: string }) => [c.id, c]));
    const demoEntry = byId.get(demoId);
    expect(demoEntry).toMatchObject({
      kind: 'demo-range',
      namesKnown: true,
      source: 'cache',
      compiledId: demo.circuit.id,
    });
    expect(demoEntry.signals.map((s: { name: string }) => s.name)).toEqual(['commitment', 'low', 'high']);
    const inference = byId.get(chain.circuit);
    expect(inference).toMatchObject({ kind: 'inference', namesKnown: true });
    expect(inference.signals.map((s: { name: string }) => s.name)).toEqual([
      'inputHash',
      'class',
      'modelHash',
      'context',
    ]);
    expect(inference.signals[1].meaning).toMatch(/class the model predicts/);
    const dataset = body.circuits.find((c: { compiledId: string }) => c.compiledId === datasetFile.circuitId);
    expect(dataset).toMatchObject({ kind: 'dataset-policy' });
    expect(dataset.signals.map((s: { name: string }) => s.name)).toEqual([
      'root',
      'count',
      'policyHash',
      'schemaHash',
      'context',
    ]);
  });

  it('gives one circuit with its key; an unknown id is a 404 and a malformed one a 400', async () => {
    const one = await get(fileApp, `/v1/circuits/${demoId}`);
    expect(one.status).toBe(200);
    expect(one.body.verificationKey).toEqual(demo.vkey);
    expect((await get(fileApp, `/v1/circuits/${demoId.toUpperCase().replace('0X', '0x')}`)).status).toBe(200);
    const unknown = await get(fileApp, `/v1/circuits/0x${'ab'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('UNKNOWN_CIRCUIT');
    const malformed = await get(fileApp, '/v1/circuits/0x1234');
    expect(malformed.status).toBe(400);
    expect(malformed.body.fields[0]).toMatchObject({ path: '/id', in: 'params' });
  });
});

describe('POST /v1/verify', () => {
  it('verifies a valid proof by circuit id and decodes its claims', async () => {
    const { status, body } = await post(app, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      valid: true,
      reason: null,
      detail: null,
      circuit: { id: demoId, kind: 'demo-range', known: true },
    });
    expect(body.claims.values).toEqual({ commitment: demo.publicSignals[0], low: '18', high: '99' });
    expect(body.claims.signals[1]).toMatchObject({ index: 1, name: 'low', value: '18' });
  });

  it('verifies against a verification key sent in the request when it knows the key; refuses an unknown one unless --allow-unknown-keys', async () => {
    const known = await post(fileApp, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      verificationKey: demo.vkey,
    });
    expect(known.body).toMatchObject({ valid: true, circuit: { id: demoId, known: true, kind: 'generic' } });
    // A key the service does not know proves nothing on its own: refused by default, before any check.
    const strict = await createVerificationServer({ verifier: { workers: 1 }, publicDir: false });
    try {
      const refused = await post(strict, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
      });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        code: 'UNTRUSTED_KEY',
        message: expect.stringContaining(`does not know the verification key ${demoId}`),
        hint: expect.stringContaining('--allow-unknown-keys'),
        fields: [{ path: '/verificationKey' }],
      });
      expect(refused.body).not.toHaveProperty('valid');
      // Even a tampered proof gets no verdict: the key decides first.
      const tampered = await post(strict, {
        proof: demo.proof,
        publicSignals: [demo.publicSignals[0], '17', '99'],
        verificationKey: demo.vkey,
      });
      expect(tampered.status).toBe(403);
    } finally {
      await strict.close();
    }
    const empty = await createVerificationServer({
      verifier: { workers: 1 },
      publicDir: false,
      allowUnknownKeys: true,
    });
    try {
      // With --allow-unknown-keys: a pairing verdict, no claim decoded, and it says so.
      const unknown = await post(empty, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
      });
      expect(unknown.body).toMatchObject({
        valid: true,
        claims: null,
        claimsChecked: false,
        circuit: { id: demoId, known: false, name: null, kind: 'generic', namesFrom: null },
      });
      expect(unknown.body.note).toMatch(
        /only by its verification key: "valid" means only that the pairing check passed/,
      );
      // The request cannot say what the signals mean: names and kinds it gives are refused, never used.
      const named = await post(empty, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
        signalNames: ['commitment', 'low', 'high'],
      });
      expect(named.status).toBe(400);
      expect(named.body.fields[0]).toMatchObject({
        path: '/signalNames',
        message: expect.stringMatching(/never takes a signal layout from a request/),
      });
      const kinded = await post(empty, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
        kind: 'demo-range',
      });
      expect(kinded.status).toBe(400);
      expect(kinded.body.fields[0].path).toBe('/kind');
      const byName = await post(empty, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
        expect: { high: '99' },
      });
      expect(byName.status).toBe(400);
      expect(byName.body.fields[0]).toMatchObject({ path: '/expect/high', message: expect.stringMatching(/by index/) });
      expect(
        (
          await post(empty, {
            proof: demo.proof,
            publicSignals: demo.publicSignals,
            verificationKey: demo.vkey,
            expect: { 2: '99' },
          })
        ).body.valid,
      ).toBe(true);
      expect(
        (
          await post(empty, {
            proof: demo.proof,
            publicSignals: demo.publicSignals,
            verificationKey: demo.vkey,
            expect: { 2: '98' },
          })
        ).body,
      ).toMatchObject({ valid: false, reason: 'claim-mismatch' });
      const wrongId = await post(empty, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
        circuit: `0x${'00'.repeat(32)}`,
      });
      expect(wrongId.status).toBe(400);
      expect(wrongId.body.fields[0].path).toBe('/circuit');
    } finally {
      await empty.close();
    }
  });

  it('rejects a tampered signal with a reason, and still says what the proof claims', async () => {
    const tampered = [...demo.publicSignals];
    tampered[1] = '19';
    const { status, body } = await post(fileApp, { proof: demo.proof, publicSignals: tampered, circuit: demoId });
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: false, reason: 'invalid-proof' });
    expect(body.detail).toMatch(/pairing check failed/);
    // fileApp knows the demo key by its file alone: nothing is decoded.
    expect(body).toMatchObject({ claims: null, claimsChecked: false });
    const decoded = await post(app, { proof: demo.proof, publicSignals: tampered, circuit: demoId });
    expect(decoded.body).toMatchObject({ valid: false, reason: 'invalid-proof', claimsChecked: true });
    expect(decoded.body.claims.values.low).toBe('19');
  });

  it('rejects a proof whose claims differ from the expected ones, naming them', async () => {
    const { body } = await post(app, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      circuit: demoId,
      expect: { high: '100', low: '18' },
    });
    expect(body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ index: 2, name: 'high', expected: '100', actual: '99' }],
    });
    expect(
      (await post(app, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId, expect: { 2: '99' } }))
        .body.valid,
    ).toBe(true);
    const unknownName = await post(app, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      circuit: demoId,
      expect: { root: '1' },
    });
    expect(unknownName.status).toBe(400);
    expect(unknownName.body.fields[0]).toMatchObject({ path: '/expect/root' });
  });

  it('rejects a wrong number of signals and points that are not on the curve, as verdicts (never a 500)', async () => {
    const short = await post(fileApp, {
      proof: demo.proof,
      publicSignals: demo.publicSignals.slice(0, 2),
      circuit: demoId,
    });
    expect(short.body).toMatchObject({ valid: false, reason: 'wrong-signal-count', claims: null });
    const offCurve = clone(demo.proof);
    offCurve.pi_a = ['1', '1', '1'];
    const bad = await post(fileApp, { proof: offCurve, publicSignals: demo.publicSignals, circuit: demoId });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(['malformed', 'invalid-proof']).toContain(bad.body.reason);
    // The pool survived: the honest proof still verifies.
    expect(
      (await post(fileApp, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId })).body.valid,
    ).toBe(true);
  });

  it('answers an unknown circuit with a 404', async () => {
    const { status, body } = await post(fileApp, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      circuit: `0x${'cd'.repeat(32)}`,
    });
    expect(status).toBe(404);
    expect(body).toMatchObject({ statusCode: 404, code: 'UNKNOWN_CIRCUIT' });
  });

  it('refuses malformed JSON, wrong types, missing fields and values outside the field with a 4xx naming the field', async () => {
    const malformed = await fileApp.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: '{"proof": {',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/not valid JSON/) });

    for (const payload of ['null', '[]', '"proof"', '']) {
      const odd = await fileApp.inject({
        method: 'POST',
        url: '/v1/verify',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(odd.statusCode, payload).toBe(400);
      expect(odd.json()).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' });
    }

    const numbers = await post(fileApp, {
      proof: demo.proof,
      publicSignals: [Number(demo.publicSignals[0]), 18, 99],
      circuit: demoId,
    });
    expect(numbers.status).toBe(400);
    expect(numbers.body.fields.map((f: { path: string }) => f.path)).toEqual([
      '/publicSignals/0',
      '/publicSignals/1',
      '/publicSignals/2',
    ]);
    expect(numbers.body.fields[1].message).toBe('must be string');

    const notArray = await post(fileApp, { proof: demo.proof, publicSignals: 'x', circuit: demoId });
    expect(notArray.body.fields[0]).toMatchObject({ path: '/publicSignals', message: 'must be array', in: 'body' });

    const outOfField = await post(fileApp, {
      proof: demo.proof,
      publicSignals: [demo.publicSignals[0], BN254_SCALAR_FIELD.toString(), '99'],
      circuit: demoId,
    });
    expect(outOfField.status).toBe(400);
    expect(outOfField.body.fields).toEqual([
      {
        path: '/publicSignals/1',
        in: 'body',
        message: expect.stringMatching(
          /below the BN254 scalar field order r = 2188824287183927522224640574525727508854836440041603434369820418657580849561/,
        ),
      },
    ]);
    expect(outOfField.body.message).toMatch(/body\/publicSignals\/1/);

    const coordinate = clone(demo.proof);
    coordinate.pi_a[0] = BN254_BASE_FIELD.toString();
    const badPoint = await post(fileApp, { proof: coordinate, publicSignals: demo.publicSignals, circuit: demoId });
    expect(badPoint.status).toBe(400);
    expect(badPoint.body.fields[0]).toMatchObject({
      path: '/proof/pi_a/0',
      message: expect.stringMatching(/base field/),
    });

    const negative = await post(fileApp, { proof: demo.proof, publicSignals: ['-1', '18', '99'], circuit: demoId });
    expect(negative.body.fields[0].path).toBe('/publicSignals/0');

    const noCircuit = await post(fileApp, { proof: demo.proof, publicSignals: demo.publicSignals });
    expect(noCircuit.status).toBe(400);
    expect(noCircuit.body.fields[0]).toMatchObject({ path: '/circuit', message: expect.stringMatching(/is required/) });

    const noProof = await post(fileApp, { publicSignals: demo.publicSignals, circuit: demoId });
    expect(noProof.body.fields[0].path).toBe('/proof');

    const both = await post(fileApp, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      chunks: [{ proof: demo.proof, publicSignals: demo.publicSignals }],
      circuit: demoId,
    });
    expect(both.body.fields[0].path).toBe('/chunks');

    const badId = await post(fileApp, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: 'demo' });
    expect(badId.body.fields[0]).toMatchObject({ path: '/circuit', message: expect.stringMatching(/pattern/) });

    const badFormat = await post(fileApp, {
      proof: demo.proof,
      publicSignals: demo.publicSignals,
      format: 'zkai-proof-v9',
      circuit: demoId,
    });
    expect(
      badFormat.body.fields.some(
        (f: { path: string; message: string }) =>
          f.path === '/format' && /one of "zkai-dataset-proof-v1"/.test(f.message),
      ),
    ).toBe(true);

    // A private chunked dataset proof is checked with the three circuits the service derives from its own statement
    // (test/service-private-chunks.test.ts): a circuit or key the request names is refused by name, never used.
    const privateChunks = await post(fileApp, {
      format: 'zkai-chunked-dataset-proof-v2',
      commitment: { root: '1', count: 1, depth: 0, schemaHash: '1' },
      policy: { hash: '1' },
      chunkDepth: 0,
      chunks: [{ proof: demo.proof, publicSignals: demo.publicSignals }],
      aggregation: [[{ proof: demo.proof, publicSignals: demo.publicSignals }]],
      circuit: demoId,
    });
    expect(privateChunks.status).toBe(400);
    expect(privateChunks.body.fields[0]).toMatchObject({
      path: '/circuit',
      message: expect.stringContaining('derives from its own trusted statement'),
    });

    const text = await fileApp.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ statusCode: 415 });
  });

  it('refuses a body over the limit with a 413', async () => {
    const response = await fileApp.inject({
      method: 'POST',
      url: '/v1/verify',
      payload: {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        circuit: demoId,
        padding: 'x'.repeat(70 * 1024),
      },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ statusCode: 413, code: 'BODY_TOO_LARGE' });
  });

  it('verifies a dataset proof file as `zkai data prove` writes it, and checks what the file states', async () => {
    const { status, body } = await post(app, datasetFile);
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: true, circuit: { kind: 'dataset-policy', known: true } });
    expect(body.claims.values).toEqual({
      root: datasetFile.commitment.root,
      count: '2',
      policyHash: policy.hash,
      schemaHash: schema.hash,
      context: '0',
    });
    const lying = clone(datasetFile);
    lying.commitment.count = 3;
    const mismatch = await post(app, lying);
    expect(mismatch.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'count', expected: '3', actual: '2' }],
    });
    // A file whose circuit no known key was made for.
    const unknown = await post(fileApp, datasetFile);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(datasetFile.circuitId);
    // The verifier's own expectations, against the file's statements.
    const conflict = await post(app, { ...datasetFile, expect: { count: '5' } });
    expect(conflict.status).toBe(400);
    expect(conflict.body.fields[0]).toMatchObject({ path: '/expect/count' });
  });

  it('verifies a chunked dataset proof file chunk by chunk, and says what it leaves to the verifier', async () => {
    const { body } = await post(app, chunkedFile);
    expect(body).toMatchObject({
      valid: true,
      claims: null,
      circuit: { kind: 'dataset-chunk', known: true },
      note: expect.stringMatching(/compare that root and count with the commitment you trust/),
    });
    expect(body.chunks).toHaveLength(2);
    expect(body.chunks[1].claims.values).toMatchObject({
      count: '1',
      chunkDepth: '0',
      chunkSubtrees: '1',
      policyHash: policy.hash,
      schemaHash: schema.hash,
    });
    const lying = clone(chunkedFile);
    lying.chunkDepth = 1;
    const refused = await post(app, lying);
    expect(refused.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/^chunk 0: chunkDepth: expected 1, proof says 0/),
    });
  });

  it('verifies an inclusion proof file as `zkai data include` writes it', async () => {
    const { body } = await post(app, inclusionFile);
    expect(body).toMatchObject({ valid: true, circuit: { kind: 'inclusion' } });
    expect(body.claims.values).toEqual({
      root: datasetFile.commitment.root,
      subjectHash: inclusionFile.subjectHash,
      schemaHash: schema.hash,
      context: '0',
    });
    const other = await post(app, { ...inclusionFile, root: '1' });
    expect(other.body).toMatchObject({ valid: false, reason: 'claim-mismatch', mismatches: [{ name: 'root' }] });
  });

  it('verifies an accuracy proof file chunk by chunk, each chunk opening the commitment of the one before it', async () => {
    const { body } = await post(app, accuracyFile);
    expect(body).toMatchObject({
      valid: true,
      circuit: { kind: 'accuracy', known: true },
      note: expect.stringMatching(/zkai model verify/),
    });
    expect(body.chunks).toHaveLength(3);
    // No chunk's count of correct predictions is public; the last commitment opens to the stated total.
    const commitments = body.chunks.map(
      (chunk: { claims: { values: { commitment: string } } }) => chunk.claims.values.commitment,
    );
    expect(commitments.at(-1)).toBe(String(runningTotalCommitment(BigInt(accuracyFile.correct), 0n)));
    // A test set depth other than its count's is refused before any tree is built (a file raising it made the service
    // hash 2^depth leaves: 11 s at depth 16, found by an attack), and one past any dataset's is a 400.
    for (const depth of [accuracyFile.testSet.depth + 1, 16]) {
      const deeper = await post(app, { ...accuracyFile, testSet: { ...accuracyFile.testSet, depth } });
      expect(deeper.body, `depth ${depth}`).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        detail: expect.stringContaining(`the test set's depth ${depth} is not the depth of a tree of`),
      });
    }
    expect((await post(app, { ...accuracyFile, testSet: { ...accuracyFile.testSet, depth: 40 } })).status).toBe(400);
    const otherTotal = await post(app, { ...accuracyFile, correct: accuracyFile.correct + 1 });
    expect(otherTotal.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringContaining('its last chunk commits to another total'),
    });
    const reordered = clone(accuracyFile);
    reordered.chunks = [reordered.chunks[0]!, reordered.chunks[2]!, reordered.chunks[1]!].map((c, index) => ({
      ...c,
      index,
    }));
    expect((await post(app, reordered)).body).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(body.chunks[0].claims.values).toMatchObject({
      modelHash: accuracyFile.model.hash,
      taskHash: accuracyFile.task.taskHash,
      context: '0',
    });
    expect(Object.keys(body.chunks[0].claims.values)).toEqual([
      'leaf0',
      'leaf1',
      'commitment',
      'modelHash',
      'taskHash',
      'previous',
      'context',
    ]);
    const otherTask = await post(app, { ...accuracyFile, task: { ...accuracyFile.task, taskHash: '7' } });
    expect(otherTask.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/^chunk 0: taskHash: expected 7/),
    });
  });

  it('verifies an inference proof file and decodes the predicted class and model hash', async () => {
    const file = chain.kept.proof;
    const { body } = await post(app, file);
    expect(body).toMatchObject({ valid: true, circuit: { id: chain.circuit, kind: 'inference' } });
    expect(body.claims.values).toMatchObject({
      class: String(file.predicted),
      modelHash: file.model.hash,
      inputHash: file.inputHash,
    });
    expect(body.claims.values.context).not.toBe('0');
    const lying = await post(app, { ...file, predicted: 1 - file.predicted });
    expect(lying.body).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(lying.body.mismatches[0].name).toBe('class');
  });

  it('verifies a chunked body chunk by chunk', async () => {
    const tampered = [...demo.publicSignals];
    tampered[2] = '98';
    const { body } = await post(app, {
      chunks: [
        { proof: demo.proof, publicSignals: demo.publicSignals },
        { proof: demo.proof, publicSignals: tampered },
      ],
      circuit: demoId,
    });
    expect(body).toMatchObject({ valid: false, reason: 'invalid-proof', detail: expect.stringMatching(/^chunk 1:/) });
    expect(body.chunks.map((c: { valid: boolean }) => c.valid)).toEqual([true, false]);
    expect(body.note).toMatch(/not checked here/);
  });

  it('keeps answering /health while the worker pool verifies a burst of proofs', async () => {
    const burst = 48;
    let done = 0;
    const verifications = Array.from({ length: burst }, () =>
      post(fileApp, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId }).then((result) => {
        done += 1;
        return result;
      }),
    );
    const started = performance.now();
    const health = await get(fileApp, '/health');
    const healthMs = performance.now() - started;
    const doneAtHealth = done;
    const results = await Promise.all(verifications);
    expect(health.status).toBe(200);
    // One worker checks the burst one proof at a time (about 15 ms each); /health does not wait for it.
    expect(doneAtHealth).toBeLessThan(burst / 2);
    expect(healthMs).toBeLessThan(5_000);
    expect(results.every((r) => r.status === 200 && r.body.valid === true)).toBe(true);
  });

  it('answers a 503 when a pairing check times out, and recovers', async () => {
    const strict = await createVerificationServer({
      keys: [vkeyPath],
      verifier: { workers: 1, timeoutMs: 1 },
      publicDir: false,
    });
    try {
      const { status, body } = await post(strict, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        circuit: demoId,
      });
      expect(status).toBe(503);
      expect(body).toMatchObject({ code: 'VERIFY_TIMEOUT' });
      expect((await get(strict, '/health')).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('forged layouts: the service decides what each signal means (issue 14)', () => {
  it('refuses a dataset proof file whose names swap count and context (a count of 999), with or without expect', async () => {
    const file = forged.count;
    expect(file.publicSignals[1]).toBe('2');
    expect(file.publicSignals[4]).toBe('999');
    const relabelled = {
      ...clone(file),
      commitment: { ...file.commitment, count: 999 },
      signalNames: ['root', 'context', 'policyHash', 'schemaHash', 'count'],
    };
    const named = await post(app, relabelled);
    expect(named.status).toBe(400);
    expect(named.body.fields[0]).toMatchObject({
      path: '/signalNames',
      message: expect.stringMatching(
        /disagree with circuit 0x[0-9a-f]+'s signals as this service knows them \(root, count, policyHash, schemaHash, context\)/,
      ),
    });
    const withExpect = await post(app, { ...relabelled, expect: { count: '999' } });
    expect(withExpect.status).toBe(400);
    // Without the names, the file's statement is checked on the service's layout: the proof shows 2 records.
    const { signalNames: _names, ...unnamed } = relabelled;
    const stated = await post(app, unnamed);
    expect(stated.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'count', expected: '999', actual: '2' }],
    });
    const kinded = await post(app, { ...unnamed, kind: 'generic' });
    expect(kinded.status).toBe(400);
    expect(kinded.body.fields[0]).toMatchObject({
      path: '/kind',
      message: expect.stringMatching(/proves dataset-policy/),
    });
    // The honest reading of the same proof: 2 records, context 999.
    const honest = await post(app, file);
    expect(honest.body).toMatchObject({ valid: true, claimsChecked: true, circuit: { namesFrom: 'compiled-circuit' } });
    expect(honest.body.claims.values).toMatchObject({ count: '2', context: '999' });
  });

  it('refuses a dataset proof file relabelled to claim a policy the data breaks', async () => {
    const file = forged.policy;
    const relabelled = {
      ...clone(file),
      policy: { name: seniors.spec.name, hash: seniors.hash },
      signalNames: ['root', 'count', 'context', 'schemaHash', 'policyHash'],
    };
    expect((await post(app, relabelled)).status).toBe(400);
    expect((await post(app, { ...relabelled, expect: { policyHash: seniors.hash } })).status).toBe(400);
    const { signalNames: _names, ...unnamed } = relabelled;
    const stated = await post(app, unnamed);
    expect(stated.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'policyHash', expected: seniors.hash, actual: policy.hash }],
    });
  });

  it('refuses an inference proof file relabelled to state a class the model never predicted', async () => {
    const file = forged.class;
    const never = 1 - chain.kept.proof.predicted;
    expect(file.predicted).toBe(chain.kept.proof.predicted);
    const relabelled = {
      ...clone(file),
      predicted: never,
      signalNames: ['inputHash', 'context', 'modelHash', 'class'],
    };
    const named = await post(app, relabelled);
    expect(named.status).toBe(400);
    expect(named.body.fields[0].path).toBe('/signalNames');
    expect((await post(app, { ...relabelled, expect: { class: String(never) } })).status).toBe(400);
    const { signalNames: _names, ...unnamed } = relabelled;
    expect((await post(app, unnamed)).body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'class', expected: String(never) }],
    });
    // A file of another statement for this circuit: refused, not read as one.
    const asDataset = await post(app, {
      format: 'zkai-dataset-proof-v1',
      commitment: { root: file.publicSignals[0], count: never, depth: 1, schemaHash: '1' },
      policy: { hash: '1' },
      proof: file.proof,
      publicSignals: file.publicSignals,
      circuit: chain.circuit,
    });
    expect(asDataset.status).toBe(400);
    expect(
      asDataset.body.fields.some((f: { message: string }) =>
        /the file is a dataset policy proof .*, but circuit 0x[0-9a-f]+ proves inference/.test(f.message),
      ),
    ).toBe(true);
  });

  it('answers a proof file for a circuit it knows only by its key with a pairing verdict that checks no claim, and says so', async () => {
    const lying = { ...clone(forged.count), commitment: { ...forged.count.commitment, count: 999 } };
    const datasetKey = JSON.parse(await readFile(datasetVkeyPath, 'utf8')) as unknown;
    // fileApp knows the demo key only: the dataset key sent with the file is refused.
    const refused = await post(fileApp, { ...lying, verificationKey: datasetKey });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('UNTRUSTED_KEY');
    // Known by its key alone (a --vkey file): a pairing verdict; unknown with --allow-unknown-keys: the same.
    for (const options of [{ keys: [datasetVkeyPath] }, { allowUnknownKeys: true }]) {
      const server = await createVerificationServer({ ...options, verifier: { workers: 1 }, publicDir: false });
      try {
        const { body } = await post(server, { ...lying, verificationKey: datasetKey });
        expect(body).toMatchObject({
          valid: true,
          claims: null,
          claimsChecked: false,
          circuit: { known: 'keys' in options, namesFrom: null, kind: 'generic' },
        });
        expect(body.note).toMatch(/what the proof file states: root = .*count = 999.* was not checked/);
      } finally {
        await server.close();
      }
    }
  });

  it('checks a chunked file as a whole: chunks in order and once, roots and counts, leaves and the stated total', async () => {
    // Honest files pass, and the answer says what was checked.
    const dataset = await post(app, chunkedFile);
    expect(dataset.body).toMatchObject({
      valid: true,
      note: expect.stringMatching(/chunk roots combine into the root the file states/),
    });
    const accuracy = await post(app, accuracyFile);
    expect(accuracy.body).toMatchObject({
      valid: true,
      note: expect.stringMatching(/leaves rebuild the test set root/),
    });
    // One genuine chunk repeated, with totals edited to match: refused.
    const first = accuracyFile.chunks[0]!;
    const repeated = await post(app, {
      ...accuracyFile,
      count: 6,
      testSet: { ...accuracyFile.testSet, count: 6, root: '1' },
      chunks: [0, 1, 2].map((index) => ({ ...first, index })),
    });
    expect(repeated.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/give the root .*, not the test set's 1/),
    });
    const sameIndex = await post(app, { ...accuracyFile, chunks: [first, first, first] });
    expect(sameIndex.body).toMatchObject({
      valid: false,
      detail: 'chunk proofs must come in order, each once: position 1 holds chunk 0',
    });
    const datasetRepeated = await post(app, {
      ...chunkedFile,
      commitment: { ...chunkedFile.commitment, count: 40 },
      chunks: Array.from({ length: 40 }, (_, index) => ({ ...chunkedFile.chunks[0]!, index })),
    });
    expect(datasetRepeated.body).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(datasetRepeated.body.detail).toMatch(/chunk 1 proves 1 records|combine to/);
    const swapped = await post(app, {
      ...chunkedFile,
      chunks: [
        { ...chunkedFile.chunks[1]!, index: 0 },
        { ...chunkedFile.chunks[0]!, index: 1 },
      ],
    });
    expect(swapped.body).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    // Genuine chunks, a stated total edited (5 records -> 4, so 4 of 4 would read as 100%): refused.
    const fewer = await post(app, { ...accuracyFile, count: 4 });
    expect(fewer.body).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      detail: expect.stringMatching(/states 4 records, but its test set has 5/),
    });
    const moreCorrect = await post(app, { ...accuracyFile, correct: accuracyFile.correct + 1 });
    expect(moreCorrect.body).toMatchObject({
      valid: false,
      detail: `the file states ${accuracyFile.correct + 1} correct predictions, but its last chunk commits to another total`,
    });
    const otherRoot = await post(app, { ...chunkedFile, commitment: { ...chunkedFile.commitment, root: '5' } });
    expect(otherRoot.body).toMatchObject({
      valid: false,
      detail: expect.stringMatching(/not to the published root 5/),
    });
  });

  it('refuses a proof file that states one registry twice', async () => {
    const twice = await post(app, {
      ...datasetFile,
      registries: [
        { name: 'consent', root: '1' },
        { name: 'consent', root: '2' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.fields[0]).toMatchObject({
      path: '/registries/1/name',
      message: expect.stringMatching(/"consent" is stated twice/),
    });
  });

  it('gives no zkai kind to a circuit zkai did not make, however its signals are named', async () => {
    // Anyone can write a circuit whose public inputs are named like an inference circuit's and constrain nothing.
    const cacheDir = join(dir, 'rogue-cache');
    await mkdir(join(cacheDir, 'ptau'), { recursive: true });
    const [power, ptau] = [...(await listDevPtaus(resolveCacheDir())).entries()].at(-1)!;
    await copyFile(ptau, join(cacheDir, 'ptau', devPtauFileName(power)));
    const source = join(dir, 'rogue.circom');
    await writeFile(
      source,
      [
        'pragma circom 2.1.0;',
        'template Rogue() {',
        '  signal input inputHash;',
        '  signal input class;',
        '  signal input modelHash;',
        '  signal input context;',
        '  signal dummy;',
        '  dummy <== inputHash * class;',
        '}',
        'component main {public [inputHash, class, modelHash, context]} = Rogue();',
        '',
      ].join('\n'),
    );
    const circuit = await compileCircuit(source, { cacheDir });
    const keys = await setupCircuit(circuit, { cacheDir });
    const made = await pool.prove(
      { wasmPath: circuit.wasmPath, zkeyPath: keys.zkeyPath },
      { inputHash: '5', class: '7', modelHash: chain.kept.proof.model.hash, context: '0' },
    );
    const server = await createVerificationServer({ cacheDir, verifier: { workers: 1 }, publicDir: false });
    try {
      const bare = await post(server, { proof: made.proof, publicSignals: made.publicSignals, circuitId: circuit.id });
      expect(bare.body).toMatchObject({ valid: true, circuit: { kind: 'generic', namesFrom: 'compiled-circuit' } });
      const asInference = await post(server, {
        format: 'zkai-inference-proof-v1',
        circuitId: circuit.id,
        model: { hash: chain.kept.proof.model.hash },
        visibility: 'hashed',
        weights: 'fixed',
        predicted: 7,
        inputHash: '5',
        proof: made.proof,
        publicSignals: made.publicSignals,
      });
      expect(asInference.status).toBe(400);
      expect(asInference.body.fields[0].message).toMatch(
        /the file is an inference proof .*, but circuit 0x[0-9a-f]+ proves generic/,
      );
    } finally {
      await server.close();
    }
  });

  it('refuses expect names that are not signals, such as constructor, with a 400 (never a 500)', async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const onFile = await post(app, { ...datasetFile, expect: { [name]: '1' } });
      expect(onFile.status, name).toBe(400);
      expect(onFile.body.fields[0]).toMatchObject({ path: `/expect/${name}` });
      const onKey = await post(fileApp, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        circuit: demoId,
        expect: { [name]: '1' },
      });
      expect(onKey.status, name).toBe(400);
    }
  });

  it('caps the chunk proofs of one request and gives a request a deadline', async () => {
    const capped = await createVerificationServer({
      keys: [vkeyPath],
      verifier: { workers: 1 },
      publicDir: false,
      limits: { maxChunks: 2 },
    });
    try {
      const chunk = { proof: demo.proof, publicSignals: demo.publicSignals };
      expect((await post(capped, { chunks: [chunk, chunk], circuit: demoId })).body.valid).toBe(true);
      const over = await post(capped, { chunks: [chunk, chunk, chunk], circuit: demoId });
      expect(over.status).toBe(400);
      expect(over.body.fields[0]).toMatchObject({
        path: '/chunks',
        message: 'holds 3 chunk proofs; this service verifies at most 2 in one request',
      });
    } finally {
      await capped.close();
    }
    // 600 copies of one proof hold one worker for seconds; a 500 ms deadline stops the request.
    const hurried = await createVerificationServer({
      keys: [vkeyPath],
      verifier: { workers: 1 },
      publicDir: false,
      limits: { deadlineMs: 500 },
    });
    try {
      const started = performance.now();
      const late = await post(hurried, {
        chunks: Array.from({ length: 600 }, () => ({ proof: demo.proof, publicSignals: demo.publicSignals })),
        circuit: demoId,
      });
      expect(late.status).toBe(503);
      expect(late.body).toMatchObject({
        code: 'VERIFY_DEADLINE',
        message: expect.stringMatching(/longer than the service allows \(500 ms\): \d+ of 600 proof\(s\) checked/),
      });
      expect(performance.now() - started).toBeLessThan(5_000);
      // The checks already in flight finish (on a loaded machine that can take seconds); the service then answers the
      // next request within its deadline.
      let next: Awaited<ReturnType<typeof post>> | undefined;
      for (let attempt = 0; attempt < 30; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        next = await post(hurried, { proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId });
        if (next.status !== 503) break;
      }
      expect(next?.status).toBe(200);
      expect(next?.body.valid).toBe(true);
    } finally {
      await hurried.close();
    }
  });
});

describe('the chain registry as a trusted source (zkai serve --rpc --deployment)', () => {
  it('decodes a registered circuit the service has no file for, from its registration, and refuses a relabelled file', async () => {
    const cached = await CircuitCatalog.load({ cacheDir: resolveCacheDir() });
    const vkey = cached.get(chain.circuit)!.vkey;
    const onChain = await createVerificationServer({
      chain: { rpcUrl: chain.chain.rpcUrl, deploymentPath: chain.deploymentPath },
      verifier: { workers: 1 },
      publicDir: false,
    });
    try {
      const file = chain.kept.proof;
      const { body } = await post(onChain, { ...file, verificationKey: vkey });
      expect(body).toMatchObject({
        valid: true,
        claimsChecked: true,
        circuit: { id: chain.circuit, kind: 'inference', namesFrom: 'chain-registry' },
      });
      expect(body.claims.values).toMatchObject({
        inputHash: file.inputHash,
        class: String(file.predicted),
        modelHash: file.model.hash,
      });
      // The registration says how its key was trusted: this one (the library's default) is DEVELOPMENT, and the verdict says so.
      expect(body.note).toContain("The chain registry records this circuit's key as DEVELOPMENT");
      const relabelled = await post(onChain, {
        ...file,
        verificationKey: vkey,
        predicted: 1 - file.predicted,
        signalNames: ['inputHash', 'context', 'modelHash', 'class'],
      });
      expect(relabelled.status).toBe(400);
      const lying = await post(onChain, { ...file, verificationKey: vkey, predicted: 1 - file.predicted });
      expect(lying.body).toMatchObject({ valid: false, reason: 'claim-mismatch', mismatches: [{ name: 'class' }] });
      // Learned once, the circuit is listed with where its meaning comes from.
      const listed = (await get(onChain, `/v1/circuits/${chain.circuit}`)).body;
      expect(listed).toMatchObject({ kind: 'inference', namesFrom: 'chain-registry', source: 'chain' });
      // A key the registry does not know (nor the service) is refused.
      const demoAnswer = await post(onChain, {
        proof: demo.proof,
        publicSignals: demo.publicSignals,
        verificationKey: demo.vkey,
      });
      expect(demoAnswer.status).toBe(403);
      expect(demoAnswer.body.code).toBe('UNTRUSTED_KEY');
    } finally {
      await onChain.close();
    }
  });
});

describe('trusted statements (zkai serve --statement)', () => {
  async function statementFile(name: string, fields: Record<string, unknown>): Promise<string> {
    const folder = join(dir, 'statements');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'schema.json'), JSON.stringify(SCHEMA_SPEC));
    await writeFile(join(folder, 'policy.json'), JSON.stringify(POLICY_SPEC));
    await writeFile(join(folder, 'seniors.json'), JSON.stringify(SENIORS_SPEC));
    const path = join(folder, `${name}.json`);
    await writeFile(path, JSON.stringify({ format: 'zkai-statement-v1', ...fields }));
    return path;
  }

  it('decodes a dataset circuit known only from a statement file, and pins its policy and schema', async () => {
    const path = await statementFile('adults', {
      kind: 'dataset-policy',
      verificationKey: datasetVkeyPath,
      schema: 'schema.json',
      policy: 'policy.json',
    });
    const trusted = await createVerificationServer({ statements: [path], verifier: { workers: 1 }, publicDir: false });
    try {
      const listed = (await get(trusted, '/v1/circuits')).body.circuits[0];
      expect(listed).toMatchObject({
        kind: 'dataset-policy',
        namesKnown: true,
        namesFrom: 'statement',
        pins: { policyHash: policy.hash, schemaHash: schema.hash },
      });
      const id = listed.id as string;
      const ok = await post(trusted, { ...datasetFile, circuit: id });
      expect(ok.body).toMatchObject({
        valid: true,
        claimsChecked: true,
        circuit: { id, namesFrom: 'statement', kind: 'dataset-policy' },
      });
      expect(ok.body.claims.values).toMatchObject({ count: '2', policyHash: policy.hash });
      const otherPolicy = await post(trusted, { ...datasetFile, circuit: id, policy: { hash: seniors.hash } });
      expect(otherPolicy.body).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        detail: expect.stringMatching(/pins/),
      });
      const relabelled = await post(trusted, {
        ...forged.policy,
        circuit: id,
        policy: { hash: seniors.hash },
        signalNames: ['root', 'count', 'context', 'schemaHash', 'policyHash'],
      });
      expect(relabelled.status).toBe(400);
    } finally {
      await trusted.close();
    }
    // A statement that says this key proves another policy: a bare proof of it is refused on the pinned hash.
    const wrong = await statementFile('seniors-statement', {
      kind: 'dataset-policy',
      verificationKey: datasetVkeyPath,
      schema: 'schema.json',
      policy: 'seniors.json',
    });
    const strict = await createVerificationServer({ statements: [wrong], verifier: { workers: 1 }, publicDir: false });
    try {
      const id = (await get(strict, '/v1/circuits')).body.circuits[0].id as string;
      const bare = await post(strict, {
        proof: datasetFile.proof,
        publicSignals: datasetFile.publicSignals,
        circuit: id,
      });
      expect(bare.body).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        mismatches: [{ name: 'policyHash', expected: seniors.hash, actual: policy.hash }],
      });
    } finally {
      await strict.close();
    }
  });

  it('applies the pins of the key a proof verifies with, when one compiled circuit has several setups', async () => {
    // A cache of its own with the test ptau: two setups (beacons) of the tiny model's private-weights circuit.
    const cacheDir = join(dir, 'two-setups');
    await mkdir(join(cacheDir, 'ptau'), { recursive: true });
    const [power, ptau] = [...(await listDevPtaus(resolveCacheDir())).entries()].at(-1)!;
    await copyFile(ptau, join(cacheDir, 'ptau', devPtauFileName(power)));
    const { quantized, input } = tinyModel();
    const prepared = await prepareModelCircuit(quantized, 'private', { cacheDir, weights: 'hashed' });
    await setupCircuit(prepared.circuit, { cacheDir, beacon: { hashHex: 'ab'.repeat(32), iterationsExp: 10 } });
    const setups = (await CircuitCatalog.load({ cacheDir })).byCompiledId(prepared.circuit.id);
    expect(setups).toHaveLength(2);
    const second = setups[1]!;
    // The verifier trusts the commitment of the real model on the key that comes second.
    const path = join(cacheDir, 'statement.json');
    await writeFile(
      path,
      JSON.stringify({
        format: 'zkai-statement-v1',
        kind: 'inference',
        verificationKey: second.source.path,
        visibility: 'private',
        weights: 'hashed',
        modelCommitment: modelCommitment(quantized, 7n),
      }),
    );
    // A dishonest prover proves with other weights (same architecture) and its own salt, on that key.
    const evil = quantizeModel(
      parseNativeModel({
        format: 'zkai-model-v1',
        name: 'registry-tiny',
        input: { size: 2, min: -2, max: 2 },
        layers: [
          {
            type: 'dense',
            weights: [
              [-1, 0.5],
              [0.25, -0.75],
            ],
            bias: [0.125, 0],
          },
          { type: 'argmax' },
        ],
      }),
      4,
    );
    const made = await pool.prove(
      { wasmPath: prepared.circuit.wasmPath, zkeyPath: await zkeyBeside(second.source.path) },
      inferenceInput(evil, input([1, -1]), 'private', 0n, { visibility: 'hashed', salt: 99n }),
    );
    const file = {
      format: 'zkai-inference-proof-v1',
      model: { name: 'registry-tiny', commitment: made.publicSignals[0] },
      visibility: 'private',
      weights: 'hashed',
      predicted: Number(made.publicSignals[1]),
      circuitId: prepared.circuit.id,
      proof: made.proof,
      publicSignals: made.publicSignals,
    };
    const server = await createVerificationServer({
      cacheDir,
      statements: [path],
      verifier: { workers: 1 },
      publicDir: false,
    });
    try {
      const byCircuitId = await post(server, file);
      expect(byCircuitId.body).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        circuit: { id: second.id, namesFrom: 'statement' },
      });
      expect(byCircuitId.body.detail).toMatch(/pins/);
      expect((await post(server, { ...file, circuit: second.id })).body).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
      });
    } finally {
      await server.close();
    }
  });

  it('refuses a statement file whose key has another layout, or that is malformed, naming the file', async () => {
    const demoKey = await statementFile('demo-as-dataset', {
      kind: 'dataset-policy',
      verificationKey: vkeyPath,
      schema: 'schema.json',
      policy: 'policy.json',
    });
    await expect(CircuitCatalog.load({ statements: [demoKey] })).rejects.toThrow(
      /demo-as-dataset\.json: the statement describes a dataset policy proof .* with 5 public signals .* but the key .* has 3: it is not this statement's key/,
    );
    const noKind = await statementFile('no-kind', { verificationKey: vkeyPath });
    await expect(CircuitCatalog.load({ statements: [noKind] })).rejects.toThrow(/no-kind\.json: "kind" must be one of/);
    const noFrac = await statementFile('no-frac', {
      kind: 'inference',
      verificationKey: vkeyPath,
      model: 'model.json',
    });
    await expect(CircuitCatalog.load({ statements: [noFrac] })).rejects.toThrow(
      /"fracBits" must be an integer from 1 to 24/,
    );
  });
});

describe('GET /v1/attestations', () => {
  it('answers a clear 503 when no chain is configured', async () => {
    const { status, body } = await get(fileApp, '/v1/attestations');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      code: 'CHAIN_NOT_CONFIGURED',
      hint: expect.stringMatching(/--rpc URL --deployment FILE/),
    });
  });

  it('lists attestations from the registry with their revocation state and claims', async () => {
    const { status, body } = await get(app, `/v1/attestations?subject=${chain.modelVersion}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ chainId: chain.deployment.chainId, registry: chain.deployment.registry });
    expect(body.attestations).toHaveLength(2);
    const [kept, revoked] = body.attestations;
    expect(kept).toMatchObject({
      uid: chain.kept.uid,
      kind: 'inference',
      circuit: chain.circuit,
      subject: chain.modelVersion,
      status: 'valid',
      revoked: false,
      valid: true,
      revocationTxHash: null,
    });
    expect(kept.attester.toLowerCase()).toBe(chain.attester.toLowerCase());
    expect(kept.publicSignals).toEqual(chain.kept.proof.publicSignals);
    expect(kept.claims.values.class).toBe(String(chain.kept.proof.predicted));
    expect(Date.parse(kept.time)).toBeGreaterThan(0);
    expect(revoked).toMatchObject({ uid: chain.revoked.uid, status: 'revoked', revoked: true, valid: false });
    expect(revoked.revocationTxHash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('filters by attester and subject', async () => {
    expect(
      (await get(app, `/v1/attestations?attester=${chain.attester.toLowerCase()}`)).body.attestations,
    ).toHaveLength(2);
    expect((await get(app, `/v1/attestations?attester=${chain.deployment.owner}`)).body.attestations).toHaveLength(0);
    expect((await get(app, `/v1/attestations?subject=0x${'11'.repeat(32)}`)).body.attestations).toHaveLength(0);
  });

  it('refuses malformed query values with a 400 naming them', async () => {
    const subject = await get(app, '/v1/attestations?subject=dataset');
    expect(subject.status).toBe(400);
    expect(subject.body.fields[0]).toMatchObject({ path: '/subject', in: 'querystring' });
    const extra = await get(app, '/v1/attestations?owner=me');
    expect(extra.status).toBe(400);
    expect(extra.body.fields[0]).toMatchObject({ path: '/owner', message: 'is not a known field' });
  });

  it('answers a 503 when the node does not answer', async () => {
    const down = await createVerificationServer({
      chain: { rpcUrl: 'http://127.0.0.1:9', deploymentPath: chain.deploymentPath },
      verifier: { workers: 1 },
      publicDir: false,
    });
    try {
      const { status, body } = await get(down, '/v1/attestations');
      expect(status).toBe(503);
      expect(body.code).toBe('CHAIN_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});

describe('serving', () => {
  it('serves a static page from its public folder, and answers real HTTP on 127.0.0.1', async () => {
    const publicDir = join(dir, 'public');
    await mkdir(publicDir, { recursive: true });
    await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>zkai explorer</title>');
    const server = await createVerificationServer({
      catalog: await CircuitCatalog.load({ keys: [vkeyPath] }),
      verifier: { workers: 1 },
      publicDir,
    });
    try {
      const address = await server.listen({ host: '127.0.0.1', port: 0 });
      const page = await fetch(`${address}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/zkai explorer/);
      const verdict = await fetch(`${address}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ proof: demo.proof, publicSignals: demo.publicSignals, circuit: demoId }),
      });
      expect(((await verdict.json()) as { valid: boolean }).valid).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('`zkai serve` starts on the given port with the given keys and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--vkey',
        vkeyPath,
        '--no-cache-keys',
        '--allow-unknown-keys',
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Listened for from the start, so an early exit is seen (and reported) rather than awaited forever.
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1] as string);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`zkai serve exited with ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`zkai serve did not start: ${out}`)), 60_000);
      });
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string; circuits: number };
      expect(health).toMatchObject({ status: 'ok', circuits: 1 });
      const circuits = (await (await fetch(`${url}/v1/circuits`)).json()) as { circuits: Array<{ id: string }> };
      expect(circuits.circuits[0]!.id).toBe(demoId);
      // --allow-unknown-keys: a key the service does not know (the dataset's) gets a pairing verdict, not a 403.
      const unknown = await fetch(`${url}/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...datasetFile, verificationKey: JSON.parse(await readFile(datasetVkeyPath, 'utf8')) }),
      });
      expect(unknown.status).toBe(200);
      expect(await unknown.json()).toMatchObject({ valid: true, claimsChecked: false, circuit: { known: false } });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});

describe('the OpenAPI document', () => {
  it('describes every answer the tests saw (each matches its documented response schema)', async () => {
    // fastify's own ajv, with the service's formats, checks each answer as if it were a request body.
    const checker = Fastify({
      ajv: { customOptions: { coerceTypes: false, allErrors: true, formats: FIELD_FORMATS } },
    });
    for (const [name, schema] of Object.entries(DOCUMENTED))
      checker.post(`/${name}`, { schema: { body: schema } }, async () => ({ ok: true }));
    try {
      expect(new Set(answers.map((a) => a.schema))).toEqual(new Set(Object.keys(DOCUMENTED)));
      const failures: string[] = [];
      for (const answer of answers) {
        const response = await checker.inject({
          method: 'POST',
          url: `/${answer.schema}`,
          payload: answer.body as Record<string, unknown>,
        });
        if (response.statusCode !== 200)
          failures.push(`${answer.url} (${answer.schema}): ${(response.json() as { message: string }).message}`);
      }
      expect(failures).toEqual([]);
      expect(answers.length).toBeGreaterThan(50);
      // And the check does refuse what the document does not allow.
      expect(
        (
          await checker.inject({
            method: 'POST',
            url: '/verify',
            payload: {
              valid: 'yes',
              reason: null,
              detail: null,
              claims: null,
              circuit: { id: demoId, kind: 'generic', known: true },
            },
          })
        ).statusCode,
      ).toBe(400);
    } finally {
      await checker.close();
    }
  });
});
