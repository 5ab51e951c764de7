/**
 * The registry on a REAL anvil node with REAL proofs: circuits, datasets and models, attestations (single, chunked,
 * with consent), and every revert path the issue names.
 */
import {
  accuracyStatement,
  datasetChunkStatement,
  datasetStatement,
  inferenceStatement,
  statementSignalNames,
} from '../src/statement/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from 'ethers';
import { createBundle, type DatasetBundle } from '../src/data/bundle.ts';
import { proveDatasetInChunks } from '../src/data/chunked.ts';
import { datasetSignalNames, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { consentRegistry } from '../src/data/consent-tree.ts';
import { PolicyViolationError, proveDataset } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { proveInference } from '../src/model/inference.ts';
import { runQuantized } from '../src/model/quantize.ts';
import { tinyModel, tinyTestSet, TINY_TEST_ROWS, TINY_TEST_SCHEMA } from './helpers/chain-attestation.ts';
import { accuracySignalNames, proveAccuracy } from '../src/model/accuracy.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { connectChain, type ChainConnection } from '../src/chain/anvil.ts';
import { ConsentRegistryClient, deployConsentRegistry, purposeId } from '../src/chain/consent.ts';
import { deployPoseidon } from '../src/chain/poseidon.ts';
import { RegistryClient, randomNonce } from '../src/chain/registry.ts';
import { registryRefusal } from './helpers/rogue.ts';
import { BN254_BASE_FIELD, type Groth16Proof } from '../src/verifier/types.ts';
import { CONSENT_TEST_POLICY, CONSENT_TEST_SCHEMA } from './helpers/consent-fixtures.ts';

const schema = CONSENT_TEST_SCHEMA;
const policy = CONSENT_TEST_POLICY;
/** The data subjects: each one's id in the data is its own account (dev accounts 3, 4, 5), set in beforeAll. */
const AGES = [34, 51, 19];
let people: Array<{ id: string; age: number }>;
let ids: string[];
const PURPOSE = purposeId('zkai-test/research');
const ROOT_WINDOW = 3600;

const { quantized, input: modelInput } = tinyModel();

let chain: ChainConnection;
let pool: ProverPool;
let owner: Signer;
let alice: Signer; // data holder and attester
let bob: Signer; // another sender
let registry: RegistryClient;
let consent: ConsentRegistryClient;
let bundle: DatasetBundle;
let datasetCircuit: string;
let datasetZkey: string;
let chunkCircuit: string;
let modelCircuit: string;
let datasetVersion: string;
let datasetSubject: string;
let modelVersion: string;
/** alice's subjects granted consent; each subject's own account signs its grant. */
const grants: Array<{ index: number; signer: Signer }> = [];

async function treeRegistry() {
  const tree = await consent.readConsentTree(PURPOSE);
  return {
    tree,
    registry: consentRegistry(schema, { name: 'consent', field: 'id', depth: 3, leaves: tree.leaves, ids }),
  };
}

async function datasetProof(attester: Signer, nonce: string) {
  const { registry: consentTree } = await treeRegistry();
  const context = await registry.contextFor(nonce, await attester.getAddress());
  return proveDataset(bundle, schema, policy, { pool, registries: [consentTree], context });
}

beforeAll(async () => {
  chain = await connectChain();
  pool = new ProverPool();
  owner = chain.signer;
  alice = await chain.provider.getSigner(1);
  bob = await chain.provider.getSigner(2);
  const poseidon = await deployPoseidon(owner);
  const deployedConsent = await deployConsentRegistry(
    owner,
    poseidon.address,
    (await deployPoseidon(owner, 3)).address,
  );
  consent = deployedConsent.client;
  registry = (await RegistryClient.deploy(owner, poseidon.address, deployedConsent.address)).client;
  await consent.createPurpose(PURPOSE, { depth: 3, rootWindow: ROOT_WINDOW, description: 'research on adults' });
  // Each data subject grants consent from their own account (accounts 3, 4, 5), which is its id in the data.
  const subjects = await Promise.all(AGES.map((_, i) => chain.provider.getSigner(3 + i)));
  people = await Promise.all(subjects.map(async (subject, i) => ({ id: await subject.getAddress(), age: AGES[i]! })));
  ids = people.map((p) => p.id);
  for (const subject of subjects) {
    const granted = await new ConsentRegistryClient(deployedConsent.address, subject).grant(PURPOSE);
    grants.push({ index: granted.index, signer: subject });
  }
  bundle = createBundle(
    schema,
    people.map((p, i) => encodeRecord(schema, p, i + 2)),
  );

  // Circuits: a first proof of each compiles and sets up its circuit (cached), which gives the zkey to register.
  const first = await datasetProof(alice, randomNonce());
  datasetZkey = first.prepared.keys.zkeyPath;
  datasetCircuit = (
    await registry.registerCircuit({
      zkeyPath: datasetZkey,
      statement: datasetStatement(schema, policy),
      consent: { registryName: 'consent', purpose: PURPOSE },
    })
  ).circuit;
  const { registry: consentTree } = await treeRegistry();
  const chunked = await proveDatasetInChunks(bundle, schema, policy, {
    chunkDepth: 1,
    pool,
    registries: [consentTree],
  });
  chunkCircuit = (
    await registry.registerCircuit({
      zkeyPath: chunked.prepared.keys.zkeyPath,
      statement: datasetChunkStatement(schema, policy, { subtrees: 1 }),
      consent: { registryName: 'consent', purpose: PURPOSE },
    })
  ).circuit;
  const inference = await proveInference(quantized, modelInput([1, -1]), { pool, visibility: 'hashed' });
  modelCircuit = (
    await registry.registerCircuit({
      zkeyPath: inference.prepared.keys.zkeyPath,
      statement: inferenceStatement(quantized, { visibility: 'hashed', weights: 'fixed' }),
    })
  ).circuit;

  const aliceRegistry = registry.connect(alice);
  const dataset = await aliceRegistry.registerDataset('patients-2026', bundle.commitment, 'ipfs://dataset-card');
  datasetSubject = dataset.subjectId;
  datasetVersion = dataset.version;
  modelVersion = (await aliceRegistry.registerModel('tiny-classifier', inference.model.hash!, 'ipfs://model-card'))
    .version;
}, 900_000);

afterAll(async () => {
  await pool?.close();
  await chain?.close();
  await releaseCurves();
});

describe('registry: circuits and subjects', () => {
  it('only the owner registers circuits, once', async () => {
    const stored = (await registry.contract.getFunction('getCircuit').staticCall(datasetCircuit)) as {
      verifier: string;
      kind: bigint;
      publicInputs: bigint;
    };
    expect(stored.kind).toBe(1n);
    expect(Number(stored.publicInputs)).toBe(datasetSignalNames(policy).length);
    const request = {
      zkeyPath: datasetZkey,
      verifier: stored.verifier,
      statement: datasetStatement(schema, policy),
      consent: { registryName: 'consent', purpose: PURPOSE },
    };
    expect((await registryRefusal(registry.connect(bob).registerCircuit(request))).errorName).toBe('NotOwner');
    expect((await registryRefusal(registry.registerCircuit(request))).errorName).toBe('CircuitExists');
  });

  it('only the owner of a dataset publishes a new version, which links to the previous one', async () => {
    const refused = await registryRefusal(
      registry.connect(bob).publishDatasetVersion(datasetSubject, bundle.commitment),
    );
    expect(refused.errorName).toBe('NotSubjectOwner');
    expect(refused.message).toMatch(/does not own/);
    const next = await registry
      .connect(alice)
      .publishDatasetVersion(datasetSubject, { ...bundle.commitment, root: '12345' }, 'ipfs://v2');
    const version = (await registry.contract.getFunction('getVersion').staticCall(next.version)) as {
      previous: string;
      number: bigint;
      root: bigint;
    };
    expect(version.previous).toBe(datasetVersion);
    expect(version.number).toBe(2n);
    expect(version.root).toBe(12345n);
    const duplicate = await registryRefusal(
      registry.connect(alice).registerDataset('patients-2026', bundle.commitment),
    );
    expect(duplicate.errorName).toBe('SubjectExists');
  });
});

describe('registry: attestations with real proofs', () => {
  let proof: Awaited<ReturnType<typeof datasetProof>>;
  let nonce: string;
  let uid: string;

  beforeAll(async () => {
    nonce = randomNonce();
    proof = await datasetProof(alice, nonce);
  }, 300_000);

  it('refuses a bad proof (the verifier reverts ProofInvalid) and stores nothing', async () => {
    // -A is a valid curve point, so only the pairing check can tell.
    const [x, y, z] = proof.proof.pi_a;
    const bad: Groth16Proof = { ...proof.proof, pi_a: [x!, (BN254_BASE_FIELD - BigInt(y!)).toString(), z!] };
    const error = await registryRefusal(
      registry
        .connect(alice)
        .attest({ circuit: datasetCircuit, subject: datasetVersion, nonce }, bad, proof.publicSignals),
    );
    expect(error.errorName).toBe('ProofInvalid');
    expect(await registry.attestations({ attester: await alice.getAddress() })).toEqual([]);
  });

  it("refuses a proof whose signals do not equal the subject's registered fields", async () => {
    const other = await registry
      .connect(alice)
      .registerDataset('another-dataset', { ...bundle.commitment, root: '777' });
    const error = await registryRefusal(
      registry
        .connect(alice)
        .attest({ circuit: datasetCircuit, subject: other.version, nonce }, proof.proof, proof.publicSignals),
    );
    expect(error.errorName).toBe('FieldMismatch');
    expect(error.args[0]).toBe('root');
    expect(error.message).toMatch(/the proof's root is \d+, the registered value is 777/);
    const model = await registryRefusal(
      registry
        .connect(alice)
        .attest({ circuit: datasetCircuit, subject: modelVersion, nonce }, proof.proof, proof.publicSignals),
    );
    expect(model.errorName).toBe('SubjectKindMismatch');
  });

  it('refuses the proof sent by another sender (it is bound to the attester), then accepts it from alice', async () => {
    const stolen = await registryRefusal(
      registry
        .connect(bob)
        .attest({ circuit: datasetCircuit, subject: datasetVersion, nonce }, proof.proof, proof.publicSignals),
    );
    expect(stolen.errorName).toBe('ContextMismatch');
    const otherNonce = await registryRefusal(
      registry
        .connect(alice)
        .attest(
          { circuit: datasetCircuit, subject: datasetVersion, nonce: randomNonce() },
          proof.proof,
          proof.publicSignals,
        ),
    );
    expect(otherNonce.errorName).toBe('ContextMismatch');
    const made = await registry
      .connect(alice)
      .attest({ circuit: datasetCircuit, subject: datasetVersion, nonce }, proof.proof, proof.publicSignals);
    uid = made.uid;
    console.info(`attest (dataset policy, ${proof.publicSignals.length} public signals): ${made.gasUsed} gas`);
    const stored = await registry.getAttestation(uid);
    expect(stored).toMatchObject({
      circuit: datasetCircuit,
      subject: datasetVersion,
      attester: await alice.getAddress(),
      revocable: true,
      valid: true,
      revocationTime: 0,
    });
    expect(BigInt(stored!.policyHash)).toBe(BigInt(policy.hash));
  });

  it('refuses a replay of the same proof', async () => {
    const replay = await registryRefusal(
      registry
        .connect(alice)
        .attest({ circuit: datasetCircuit, subject: datasetVersion, nonce }, proof.proof, proof.publicSignals),
    );
    expect(replay.errorName).toBe('ProofAlreadyUsed');
  });

  it('reads attestations back from events by subject and by attester', async () => {
    const bySubject = await registry.attestations({ subject: datasetVersion });
    expect(bySubject.map((a) => a.uid)).toEqual([uid]);
    expect(bySubject[0]!.publicSignals).toEqual(proof.publicSignals);
    expect((await registry.attestations({ attester: await bob.getAddress() })).length).toBe(0);
  });

  it('lets only the attester revoke, once; a revoked attestation is no longer valid', async () => {
    expect((await registryRefusal(registry.connect(bob).revoke(uid))).errorName).toBe('NotAttester');
    await registry.connect(alice).revoke(uid);
    expect(await registry.getAttestation(uid)).toMatchObject({ valid: false });
    expect((await registry.getAttestation(uid))!.revocationTime).toBeGreaterThan(0);
    expect((await registryRefusal(registry.connect(alice).revoke(uid))).errorName).toBe('AlreadyRevoked');
    const revoked = await registry.revocations({ attester: await alice.getAddress() });
    expect(revoked.map((r) => r.uid)).toEqual([uid]);
  });

  it('refuses to revoke an irrevocable attestation', async () => {
    const fresh = randomNonce();
    const again = await datasetProof(alice, fresh);
    const made = await registry
      .connect(alice)
      .attest(
        { circuit: datasetCircuit, subject: datasetVersion, nonce: fresh, revocable: false },
        again.proof,
        again.publicSignals,
      );
    expect((await registryRefusal(registry.connect(alice).revoke(made.uid))).errorName).toBe('NotRevocable');
  }, 120_000);

  it('attests a model inference proof against the registered model hash', async () => {
    const nonceM = randomNonce();
    const context = await registry.contextFor(nonceM, await alice.getAddress());
    const inference = await proveInference(quantized, modelInput([0.5, 1.5]), { pool, visibility: 'hashed', context });
    const made = await registry
      .connect(alice)
      .attest(
        { circuit: modelCircuit, subject: modelVersion, nonce: nonceM },
        inference.proof,
        inference.publicSignals,
      );
    console.info(`attest (inference, ${inference.publicSignals.length} public signals): ${made.gasUsed} gas`);
    expect((await registry.attestations({ subject: modelVersion }))[0]!.publicSignals).toEqual(inference.publicSignals);
    const wrong = await registryRefusal(
      registry
        .connect(alice)
        .attest(
          { circuit: modelCircuit, subject: datasetVersion, nonce: nonceM },
          inference.proof,
          inference.publicSignals,
        ),
    );
    expect(wrong.errorName).toBe('SubjectKindMismatch');
  }, 120_000);
});

describe('registry: chunked datasets', () => {
  it('combines chunk roots on chain and attests only when they give the registered root', async () => {
    const nonce = randomNonce();
    const { registry: consentTree } = await treeRegistry();
    const context = await registry.contextFor(nonce, await alice.getAddress());
    const chunked = await proveDatasetInChunks(bundle, schema, policy, {
      chunkDepth: 1,
      pool,
      registries: [consentTree],
      context,
    });
    expect(chunked.chunks.length).toBe(2);
    const client = registry.connect(alice);
    // In the wrong order, the second chunk's record count is wrong (1 record expected last, 2 given first).
    const swapped = await registryRefusal(
      client.attestChunks({ circuit: chunkCircuit, subject: datasetVersion, nonce }, [
        chunked.chunks[1]!,
        chunked.chunks[0]!,
      ]),
    );
    expect(swapped.errorName).toBe('FieldMismatch');
    expect(swapped.args[0]).toBe('count');
    // A single proof's circuit cannot be used through attestChunk, nor a chunk circuit through attest.
    expect(
      (
        await registryRefusal(
          client.attest(
            { circuit: chunkCircuit, subject: datasetVersion, nonce },
            chunked.chunks[0]!.proof,
            chunked.chunks[0]!.publicSignals,
          ),
        )
      ).errorName,
    ).toBe('WrongKind');
    const made = await client.attestChunks({ circuit: chunkCircuit, subject: datasetVersion, nonce }, chunked.chunks);
    console.info(`attestChunk gas per chunk: ${made.gas.join(', ')}`);
    expect(await client.getAttestation(made.uid)).toMatchObject({ valid: true, circuit: chunkCircuit });
    // The chunks, replayed, are refused.
    expect(
      (
        await registryRefusal(
          client.attestChunks({ circuit: chunkCircuit, subject: datasetVersion, nonce }, chunked.chunks),
        )
      ).errorName,
    ).toBe('ProofAlreadyUsed');
  }, 300_000);

  it('refuses chunks that combine to another root than the registered one', async () => {
    const nonce = randomNonce();
    const { registry: consentTree } = await treeRegistry();
    const context = await registry.contextFor(nonce, await alice.getAddress());
    // Same count and schema, other salts: every chunk verifies, but the roots combine to another dataset's root.
    const twin = createBundle(
      schema,
      people.map((p, i) => encodeRecord(schema, p, i + 2)),
    );
    const chunked = await proveDatasetInChunks(twin, schema, policy, {
      chunkDepth: 1,
      pool,
      registries: [consentTree],
      context,
    });
    const error = await registryRefusal(
      registry.connect(alice).attestChunks({ circuit: chunkCircuit, subject: datasetVersion, nonce }, chunked.chunks),
    );
    expect(error.errorName).toBe('RootMismatch');
  }, 300_000);
});

describe('registry: chunks that would publish aggregate partials', () => {
  const aggSchema = parseSchema({
    name: 'registry-aggregates',
    subjectId: 'id',
    columns: [
      { name: 'id', type: 'integer', min: 0, max: 1000 },
      { name: 'age', type: 'integer', min: 0, max: 120 },
    ],
  });
  const aggPolicy = parsePolicy(
    {
      name: 'aggregates on chain',
      rules: [{ field: 'age', op: 'GTE', value: 18 }],
      aggregates: [
        { kind: 'COUNT', min: 2 },
        { kind: 'MEAN', field: 'age', min: '30', max: '75' },
        { kind: 'SUM', field: 'age', min: 100 },
        { kind: 'PROPORTION', where: { field: 'age', op: 'GTE', value: 40 }, min: '0.25' },
        {
          kind: 'GROUP-PARITY',
          groupA: { field: 'age', op: 'LT', value: 40 },
          groupB: { field: 'age', op: 'GTE', value: 40 },
          outcome: { field: 'age', op: 'GTE', value: 30 },
          maxDifference: '0.5',
        },
        { kind: 'UNIQUE', field: 'id' },
      ],
    },
    aggSchema,
  );
  const datasetOf = () =>
    createBundle(
      aggSchema,
      [34, 51].map((age, i) => encodeRecord(aggSchema, { id: i + 1, age }, i + 2)),
    );
  it('are refused: the generator makes no such circuit and the registry client registers none (prove as private chunks)', async () => {
    // The chunked format before private chunks published each chunk's partials (per-chunk statistics); a policy with
    // aggregates now has committed chunks only.
    const statement = datasetChunkStatement(aggSchema, aggPolicy, { subtrees: 1 });
    expect(statementSignalNames(statement).filter((n) => n.startsWith('aggregate'))).toHaveLength(11);
    await expect(registry.registerCircuit({ statement, verifier: await alice.getAddress() })).rejects.toThrow(
      /disclose per-chunk statistics: the registry no longer accepts such chunks\. Prove the dataset again as private chunks/,
    );
    await expect(generateDatasetCircuit(aggSchema, aggPolicy, 1, { mode: 'chunk' })).rejects.toThrow(
      /commit to their partials \(committed-chunk mode\), they never publish them/,
    );
    await expect(proveDatasetInChunks(datasetOf(), aggSchema, aggPolicy, { chunkDepth: 1 })).rejects.toThrow(
      /prove its chunks privately/,
    );
  });
});

describe('registry: accuracy attestations', () => {
  const testSchema = TINY_TEST_SCHEMA;
  const rows = TINY_TEST_ROWS;
  const testBundle = tinyTestSet();
  const accuracyProof = async (nonce: string, bundleToProve = testBundle) =>
    proveAccuracy(quantized, bundleToProve, testSchema, {
      label: 'label',
      samplesPerChunk: 2,
      pool,
      context: await registry.contextFor(nonce, await alice.getAddress()),
    });

  it("rebuilds the test set root from the chunks' leaves on chain and records the accuracy; refuses another sender, model or test set, and replays", async () => {
    const nonce = randomNonce();
    const proof = await accuracyProof(nonce);
    expect(proof.chunks).toHaveLength(3); // 2 + 2 + 1 records: the last chunk's second slot is empty
    const expected = rows.filter((r) => runQuantized(quantized, modelInput([r.x0, r.x1])).predicted === r.label).length;
    expect(expected).toBe(4);
    expect(proof.correct).toBe(expected);

    // An accuracy circuit is registered with the task hash it pins; without it the registry refuses it.
    const signalNames = accuracySignalNames(2, 'fixed');
    const zkeyPath = proof.prepared.keys.zkeyPath;
    expect(
      statementSignalNames(accuracyStatement(undefined, undefined, { weights: 'fixed', samplesPerChunk: 2 })),
    ).toEqual(signalNames);
    expect(
      (
        await registryRefusal(
          registry.registerCircuit({
            zkeyPath,
            statement: accuracyStatement(undefined, undefined, { weights: 'fixed', samplesPerChunk: 2 }),
          }),
        )
      ).errorName,
    ).toBe('BadLayout');
    const circuit = (
      await registry.registerCircuit({
        zkeyPath,
        statement: accuracyStatement(undefined, proof.task, { weights: 'fixed', samplesPerChunk: 2 }),
      })
    ).circuit;
    const client = registry.connect(alice);
    const testSet = (await client.registerDataset('accuracy-test-set', testBundle.commitment)).version;
    const options = { circuit, subject: modelVersion, nonce };

    // Another sender cannot use alice's proofs; a proof about another model does not fit this model's hash.
    expect(
      (await registryRefusal(registry.connect(bob).attestAccuracy(options, testSet, proof.chunks, expected))).errorName,
    ).toBe('ContextMismatch');
    const otherModel = (await client.registerModel('other-classifier', '12345')).version;
    const mismatch = await registryRefusal(
      client.attestAccuracy({ ...options, subject: otherModel }, testSet, proof.chunks, expected),
    );
    expect([mismatch.errorName, mismatch.args[0]]).toEqual(['FieldMismatch', 'modelHash']);
    // The model is the subject; a dataset version is not a model, and a model version is not a test set.
    expect(
      (await registryRefusal(client.attestAccuracy({ ...options, subject: testSet }, testSet, proof.chunks, expected)))
        .errorName,
    ).toBe('SubjectKindMismatch');
    expect(
      (await registryRefusal(client.attestAccuracy(options, modelVersion, proof.chunks, expected))).errorName,
    ).toBe('SubjectKindMismatch');
    // Accuracy chunks do not go through attest or attestChunk.
    expect(
      (await registryRefusal(client.attest(options, proof.chunks[0]!.proof, proof.chunks[0]!.publicSignals))).errorName,
    ).toBe('WrongKind');
    expect((await registryRefusal(client.attestChunks(options, proof.chunks))).errorName).toBe('WrongKind');
    // A tampered commitment breaks the proof.
    const inflated = proof.chunks[0]!.publicSignals.map((v, i) =>
      signalNames[i] === 'commitment' ? String(BigInt(v) + 1n) : v,
    );
    expect(
      (
        await registryRefusal(
          client.attestAccuracy(
            options,
            testSet,
            [{ proof: proof.chunks[0]!.proof, publicSignals: inflated }],
            expected,
          ),
        )
      ).errorName,
    ).toBe('ProofInvalid');
    // The chunks form one chain of commitments to running totals: a chunk that does not open the previous one's
    // commitment (here chunk 1 first) is refused.
    const [c0, c1, c2] = proof.chunks as [(typeof proof.chunks)[number], ...typeof proof.chunks];
    const skipped = await registryRefusal(client.attestAccuracy(options, testSet, [c1!], expected));
    expect([skipped.errorName, skipped.args[0]]).toEqual(['FieldMismatch', 'previous']);
    // Chunks 0 and 1 accepted, the session waits for the last; a total other than the one the last chunk commits to
    // (one more, one less) is refused, and the right one is attested.
    await expect(client.attestAccuracy(options, testSet, [c0, c1!], expected)).rejects.toThrow(
      /no attestation was made/,
    );
    for (const claimed of [expected + 1, expected - 1]) {
      const wrongTotal = await registryRefusal(client.attestAccuracy(options, testSet, [c2!], claimed));
      expect([wrongTotal.errorName, wrongTotal.args[0]]).toEqual(['FieldMismatch', 'correct']);
    }
    const made = await client.attestAccuracy(options, testSet, [c2!], expected);
    console.info(`attestAccuracyChunk gas per chunk (2 leaves each): ${made.gas.join(', ')}`);
    expect(made.accuracy).toEqual({ testSet, correct: expected, total: rows.length });
    expect(await client.getAttestation(made.uid)).toMatchObject({
      valid: true,
      circuit,
      subject: modelVersion,
      policyHash: proof.task.taskHash,
    });
    const listed = await registry.attestations({ subject: modelVersion });
    expect(listed.find((a) => a.uid === made.uid)?.accuracy).toEqual({
      testSet,
      correct: expected,
      total: rows.length,
    });
    expect(await client.accuracyProgress(modelVersion, circuit, testSet)).toEqual({ chunks: 0, records: 0 });
    // Replayed, the chunks are refused.
    expect((await registryRefusal(client.attestAccuracy(options, testSet, proof.chunks, expected))).errorName).toBe(
      'ProofAlreadyUsed',
    );

    // Proofs over another test set of the same size verify chunk by chunk, but their leaves do not give the registered root.
    const otherNonce = randomNonce();
    const other = tinyTestSet(); // other salts
    const otherProof = await accuracyProof(otherNonce, other);
    const [o0, o1, o2] = otherProof.chunks as [(typeof proof.chunks)[number], ...typeof proof.chunks];
    const otherOptions = { ...options, nonce: otherNonce };
    // Chunk 2 right after chunk 0 does not open chunk 0's commitment.
    const reordered = await registryRefusal(
      client.attestAccuracy(otherOptions, testSet, [o0, o2!], otherProof.correct),
    );
    expect([reordered.errorName, reordered.args[0]]).toEqual(['FieldMismatch', 'previous']);
    const wrongSet = await registryRefusal(
      client.attestAccuracy(otherOptions, testSet, [o1!, o2!], otherProof.correct),
    );
    expect(wrongSet.errorName).toBe('RootMismatch');
    expect(await client.accuracyProgress(modelVersion, circuit, testSet)).toEqual({ chunks: 2, records: 4 });
    await client.resetAccuracyChunks(modelVersion, circuit, testSet);
    expect(await client.accuracyProgress(modelVersion, circuit, testSet)).toEqual({ chunks: 0, records: 0 });
  }, 300_000);
});

describe('registry: consent roots', () => {
  it('accepts a proof against a recent consent root and refuses one whose root expired; revoking and granting change what can be proven', async () => {
    const nonce = randomNonce();
    const lateNonce = randomNonce();
    const recentProof = await datasetProof(alice, nonce);
    const lateProof = await datasetProof(alice, lateNonce);
    // The third subject revokes consent: the root changes; the old one stays acceptable for the window.
    const third = grants[2]!;
    await new ConsentRegistryClient(consent.address, third.signer).revoke(PURPOSE, third.index);
    expect(
      (
        await registry
          .connect(alice)
          .attest(
            { circuit: datasetCircuit, subject: datasetVersion, nonce },
            recentProof.proof,
            recentProof.publicSignals,
          )
      ).uid,
    ).toMatch(/^0x[0-9a-f]{64}$/);

    // Against the new root the dataset cannot be proven: it still holds the subject who revoked.
    const refused = await datasetProof(alice, randomNonce()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolicyViolationError);

    // Once the window has passed, a proof against the old root is refused.
    await chain.provider.send('evm_increaseTime', [ROOT_WINDOW + 1]);
    await chain.provider.send('evm_mine', []);
    const stale = await registryRefusal(
      registry
        .connect(alice)
        .attest(
          { circuit: datasetCircuit, subject: datasetVersion, nonce: lateNonce },
          lateProof.proof,
          lateProof.publicSignals,
        ),
    );
    expect(stale.errorName).toBe('StaleConsentRoot');

    // The subject grants again (a new leaf): the dataset can be proven and attested against the new root.
    await new ConsentRegistryClient(consent.address, third.signer).grant(PURPOSE);
    const renewedNonce = randomNonce();
    const renewed = await datasetProof(alice, renewedNonce);
    const made = await registry
      .connect(alice)
      .attest(
        { circuit: datasetCircuit, subject: datasetVersion, nonce: renewedNonce },
        renewed.proof,
        renewed.publicSignals,
      );
    expect(await registry.getAttestation(made.uid)).toMatchObject({ valid: true });
  }, 300_000);
});
