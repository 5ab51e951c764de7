/**
 * Off-chain verifiers refuse a key that comes only from the prover (issue 15): a verification key handed over with a
 * proof proves nothing, since the key of a circuit with the right number of public signals and no constraints verifies
 * any claim. Every CLI verify verb (zkai verify, data verify, data verify-include, model verify for inference and
 * accuracy) is given such a key, with a proof FORGED with it (snarkjs on a constraint-free circuit set up in another
 * cache): without --trust-key it is refused (UNTRUSTED_KEY, exit 1, nothing claimed); with --trust-key the forged
 * proof is accepted (which is exactly what the refusal prevents) and the output says the key is trusted on the
 * verifier's word. The honest proof with a copy of the verifier's own cached key says "own-setup". Also: a key imported
 * with --zkey into a cache is not that cache's own setup, and the trust store refuses a corrupted file with a typed
 * error naming it. The honest proofs use the circuits of test/service.test.ts (shared in the test cache).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import { DATASET_SIGNAL_NAMES } from '../src/data/circuit-gen.ts';
import { proveDataset } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { proveInclusion } from '../src/data/inclusion.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { proveAccuracy } from '../src/model/accuracy.ts';
import { inferenceSignalNames } from '../src/model/circuit-gen.ts';
import { proveInference } from '../src/model/inference.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { keysFromZkey } from '../src/setup/ceremony.ts';
import { readZkeyInfo } from '../src/setup/zkey-file.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import {
  isOwnContribution,
  isVerifiedCeremonyKey,
  readTrustStore,
  recordOwnContribution,
  recordVerifiedCeremonyKey,
  TrustStoreError,
  trustStorePath,
} from '../src/setup/trust-store.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { EXPLICIT_KEY_DETAIL, trustedKeySource } from '../src/verifier/key-source.ts';
import type { Groth16Proof } from '../src/verifier/types.ts';
import { getDemoFixture, ADULTS_POLICY_SPEC, SENIORS_POLICY_SPEC, SERVICE_SCHEMA_SPEC } from './helpers/fixture.ts';
import {
  publishedInference,
  tinyModel,
  tinyTestSet,
  TINY_TEST_SCHEMA,
  TINY_MODEL_SPEC,
  TINY_SCHEMA_SPEC,
} from './helpers/chain-attestation.ts';
import { runCli, type CliRun } from './helpers/run-cli.ts';

/** service.test's dataset: its schema and policies (the data breaks "seniors only"). */
const SCHEMA_SPEC = SERVICE_SCHEMA_SPEC;
const POLICY_SPEC = ADULTS_POLICY_SPEC;
const SENIORS_SPEC = SENIORS_POLICY_SPEC;

/** A circuit with `n` public inputs it does not constrain (one constraint on a private signal, so it can be set up). */
const constraintFree = (n: number) =>
  `pragma circom 2.1.0;\ntemplate Free(n) {\n    signal input pub[n];\n    signal input x;\n    signal y;\n    y <== x * x;\n}\ncomponent main {public [pub]} = Free(${n});\n`;

const LONG = { timeoutMs: 300_000 };
const json = (value: unknown) =>
  `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;

let scratch: string;
/** Another machine's cache: the constraint-free circuits are set up there, so their keys are not the test cache's. */
let otherCache: string;
let ptau: string;
let pool: ProverPool;
const file = (name: string) => join(scratch, name);

/** One verify verb: the honest proof with the verifier's own key (a copy), and a forged proof with a foreign key. */
interface VerbCase {
  name: string;
  honest: string[];
  forged: string[];
  /** The forged key's file. */
  foreignKey: string;
  /** What the first line says when the forged proof is accepted with --trust-key. */
  forgedOk: RegExp;
}
const cases: VerbCase[] = [];

interface ForeignKey {
  vkeyPath: string;
  forge: (signals: string[]) => Promise<Groth16Proof>;
}
const foreignKeys = new Map<number, Promise<ForeignKey>>();

/** A foreign key of a constraint-free circuit with `n` public inputs, set up in the other cache, and a prover with it. */
function foreignKey(n: number): Promise<ForeignKey> {
  let key = foreignKeys.get(n);
  if (!key) {
    key = makeForeignKey(n);
    foreignKeys.set(n, key);
  }
  return key;
}

async function makeForeignKey(n: number): Promise<ForeignKey> {
  const source = file(`free${n}.circom`);
  await writeFile(source, constraintFree(n));
  const circuit = await compileCircuit(source, { cacheDir: otherCache });
  const keys = await setupCircuit(circuit, { cacheDir: otherCache, ptauPath: ptau });
  const vkeyPath = file(`free${n}.vkey.json`);
  await copyFile(keys.vkeyPath, vkeyPath);
  return {
    vkeyPath,
    forge: async (signals) => {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        { pub: signals, x: 1 },
        circuit.wasmPath,
        keys.zkeyPath,
      );
      expect(publicSignals).toEqual(signals);
      return proof as Groth16Proof;
    },
  };
}

/** A copy of a key of the test cache, elsewhere: the verifier's own key is known by its id, not its path. */
async function ownCopy(vkeyPath: string, name: string): Promise<string> {
  await copyFile(vkeyPath, file(name));
  return file(name);
}

function parsed<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-key-trust-'));
  otherCache = file('other-cache');
  const found = await findDevPtau(resolveCacheDir(), 3);
  if (!found) throw new Error("the tests' development ptau is missing (test/global-setup.ts makes it)");
  ptau = found.path;
  pool = new ProverPool();

  // zkai verify: the demo circuit's proof (snarkjs files); the forged proof states the same signals.
  const demo = await getDemoFixture();
  await writeFile(file('demo.proof.json'), json(demo.proof));
  await writeFile(file('demo.public.json'), json(demo.publicSignals));
  const free3 = await foreignKey(demo.publicSignals.length);
  await writeFile(file('forged-demo.proof.json'), json(await free3.forge(demo.publicSignals)));
  cases.push({
    name: 'zkai verify',
    honest: [
      'verify',
      '--vkey',
      await ownCopy(demo.keys.vkeyPath, 'demo.vkey.json'),
      '--proof',
      file('demo.proof.json'),
      '--public',
      file('demo.public.json'),
    ],
    forged: [
      'verify',
      '--vkey',
      free3.vkeyPath,
      '--proof',
      file('forged-demo.proof.json'),
      '--public',
      file('demo.public.json'),
    ],
    foreignKey: free3.vkeyPath,
    forgedOk: /^OK: the proof is valid$/m,
  });

  // data verify: two adults; the forged file claims they satisfy "seniors only", which they break.
  const schema = parseSchema(SCHEMA_SPEC);
  const policy = parsePolicy(POLICY_SPEC, schema);
  const seniors = parsePolicy(SENIORS_SPEC, schema);
  await writeFile(file('schema.json'), JSON.stringify(SCHEMA_SPEC));
  await writeFile(file('adults.json'), JSON.stringify(POLICY_SPEC));
  await writeFile(file('seniors.json'), JSON.stringify(SENIORS_SPEC));
  const bundle = createBundle(
    schema,
    [
      { id: 'p-1', age: 34 },
      { id: 'p-2', age: 51 },
    ].map((cells, i) => encodeRecord(schema, cells, i + 2)),
  );
  await writeFile(file('commitment.json'), json(bundle.commitment));
  const { prepared: dataset, report: _report, ...datasetFile } = await proveDataset(bundle, schema, policy, { pool });
  await writeFile(file('dataset.proof.json'), json(datasetFile));
  const lie = [...datasetFile.publicSignals];
  lie[DATASET_SIGNAL_NAMES.indexOf('policyHash')] = seniors.hash;
  const free5 = await foreignKey(lie.length);
  await writeFile(
    file('forged-dataset.proof.json'),
    json({
      ...datasetFile,
      policy: { name: seniors.spec.name, hash: seniors.hash },
      proof: await free5.forge(lie),
      publicSignals: lie,
    }),
  );
  const dataVerify = (vkey: string, proof: string, policyFile: string) => [
    'data',
    'verify',
    '--vkey',
    vkey,
    '--proof',
    proof,
    '--schema',
    file('schema.json'),
    '--policy',
    policyFile,
    '--commitment',
    file('commitment.json'),
  ];
  cases.push({
    name: 'zkai data verify',
    honest: dataVerify(
      await ownCopy(dataset.keys.vkeyPath, 'dataset.vkey.json'),
      file('dataset.proof.json'),
      file('adults.json'),
    ),
    forged: dataVerify(free5.vkeyPath, file('forged-dataset.proof.json'), file('seniors.json')),
    foreignKey: free5.vkeyPath,
    forgedOk: /^OK: the proof is valid: the 2 records committed as root \d+ satisfy policy "seniors only"/,
  });

  // data verify-include: p-2's record.
  const {
    prepared: inclusion,
    vkeyPath: inclusionKey,
    row: _row,
    ...inclusionFile
  } = await proveInclusion(bundle, schema, { subjectId: 'p-2', pool });
  expect(inclusion.keys.vkeyPath).toBe(inclusionKey);
  await writeFile(file('inclusion.proof.json'), json(inclusionFile));
  const free4 = await foreignKey(inclusionFile.publicSignals.length);
  await writeFile(
    file('forged-inclusion.proof.json'),
    json({ ...inclusionFile, proof: await free4.forge(inclusionFile.publicSignals) }),
  );
  const verifyInclude = (vkey: string, proof: string) => [
    'data',
    'verify-include',
    '--vkey',
    vkey,
    '--proof',
    proof,
    '--schema',
    file('schema.json'),
    '--commitment',
    file('commitment.json'),
    '--subject',
    'p-2',
  ];
  cases.push({
    name: 'zkai data verify-include',
    honest: verifyInclude(await ownCopy(inclusionKey, 'inclusion.vkey.json'), file('inclusion.proof.json')),
    forged: verifyInclude(free4.vkeyPath, file('forged-inclusion.proof.json')),
    foreignKey: free4.vkeyPath,
    forgedOk: /^OK: the proof is valid: a record with id = "p-2" is in the dataset/,
  });

  // model verify (inference): the forged file states the class the model does not predict on this input.
  const { quantized, input } = tinyModel();
  await writeFile(file('tiny.json'), JSON.stringify(TINY_MODEL_SPEC));
  const inference = await proveInference(quantized, input([1, -1]), { pool, visibility: 'hashed' });
  const inferenceFile = publishedInference(inference);
  await writeFile(file('inference.proof.json'), json(inferenceFile));
  const never = 1 - inferenceFile.predicted;
  const claimed = [...inferenceFile.publicSignals];
  claimed[inferenceSignalNames(quantized, 'hashed').indexOf('class')] = String(never);
  const freeInference = await foreignKey(claimed.length);
  const forgedInference = {
    ...inferenceFile,
    predicted: never,
    proof: await freeInference.forge(claimed),
    publicSignals: claimed,
  };
  await writeFile(file('forged-inference.proof.json'), json(forgedInference));
  const modelVerify = (vkey: string, proof: string) => [
    'model',
    'verify',
    '--vkey',
    vkey,
    '--proof',
    proof,
    '--model',
    file('tiny.json'),
    '--frac-bits',
    '4',
  ];
  cases.push({
    name: 'zkai model verify (inference)',
    honest: modelVerify(
      await ownCopy(inference.prepared.keys.vkeyPath, 'inference.vkey.json'),
      file('inference.proof.json'),
    ),
    forged: modelVerify(freeInference.vkeyPath, file('forged-inference.proof.json')),
    foreignKey: freeInference.vkeyPath,
    forgedOk: new RegExp(
      `^OK: the proof is valid: model "registry-tiny" .* predicts class ${never} on the input committed as`,
    ),
  });

  // model verify (accuracy): the tiny model on the tiny test set, two records per chunk proof.
  const testSet = tinyTestSet();
  await writeFile(file('test-set.json'), json(testSet.commitment));
  await writeFile(file('tiny-schema.json'), JSON.stringify(TINY_SCHEMA_SPEC));
  const { prepared: accuracy, ...accuracyFile } = await proveAccuracy(quantized, testSet, TINY_TEST_SCHEMA, {
    label: 'label',
    samplesPerChunk: 2,
    pool,
  });
  await writeFile(file('accuracy.proof.json'), json(accuracyFile));
  const freeChunk = await foreignKey(accuracyFile.chunks[0]!.publicSignals.length);
  const forgedChunks = [];
  for (const chunk of accuracyFile.chunks)
    forgedChunks.push({ ...chunk, proof: await freeChunk.forge(chunk.publicSignals) });
  await writeFile(file('forged-accuracy.proof.json'), json({ ...accuracyFile, chunks: forgedChunks }));
  const accuracyVerify = (vkey: string, proof: string) => [
    'model',
    'verify',
    '--vkey',
    vkey,
    '--proof',
    proof,
    '--commitment',
    file('test-set.json'),
    '--schema',
    file('tiny-schema.json'),
    '--model',
    file('tiny.json'),
    '--frac-bits',
    '4',
    '--label',
    'label',
    '--all-features',
    '--scale',
    '1',
    '--min-accuracy',
    '0.5',
  ];
  cases.push({
    name: 'zkai model verify (accuracy)',
    honest: accuracyVerify(await ownCopy(accuracy.keys.vkeyPath, 'accuracy.vkey.json'), file('accuracy.proof.json')),
    forged: accuracyVerify(freeChunk.vkeyPath, file('forged-accuracy.proof.json')),
    foreignKey: freeChunk.vkeyPath,
    forgedOk: /^OK: the proof is valid: model "registry-tiny" .* predicts the label "label" of 4 of the 5 records/,
  });
}, 900_000);

afterAll(async () => {
  await pool?.close();
  await releaseCurves();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('every CLI verify verb: a key from another setup is refused unless --trust-key, and the output says which key it was', () => {
  const names = [
    'zkai verify',
    'zkai data verify',
    'zkai data verify-include',
    'zkai model verify (inference)',
    'zkai model verify (accuracy)',
  ];
  it.each(names)(
    '%s',
    async (name) => {
      const verb = cases.find((c) => c.name === name);
      if (!verb) throw new Error(`no case ${name}`);

      // The forged proof with the foreign key: refused before anything is claimed.
      const refused = await runCli(['--json', ...verb.forged], LONG);
      expect(refused.code, refused.stderr).toBe(1);
      const { error } = parsed<{ error: { code: string; message: string; hint: string } }>(refused);
      expect(error.code).toBe('UNTRUSTED_KEY');
      expect(error.message).toContain(verb.foreignKey);
      expect(error.message).toContain('was not made by your own setup');
      // The ways out: for a statement verb, a key of the circuit the verifier's own files generate.
      expect(error.hint).toMatch(
        name === 'zkai verify'
          ? /zkai setup .*zkai ceremony verify .*--trust-key/
          : /circuit generated from your own .*prove command .*zkai ceremony verify .*--contribution HASH.*--trust-key/,
      );
      expect(refused.stdout).not.toMatch(/"valid"|OK:/);
      const human = await runCli(verb.forged, LONG);
      expect(human.code).toBe(1);
      expect(human.stdout).toBe(''); // no verdict, no claim
      expect(human.stderr).toMatch(/error: .*nor by a ceremony you verified/);

      // On the verifier's word: the forged proof passes (what the refusal prevents), and the output says so.
      const trusted = await runCli(['--json', ...verb.forged, '--trust-key'], LONG);
      expect(trusted.code, trusted.stderr).toBe(0);
      const verdict = parsed<{ valid: boolean; keySource: { source: string; detail: string; keyId: string } }>(trusted);
      expect(verdict.valid).toBe(true);
      expect(verdict.keySource).toEqual({
        source: 'explicit',
        detail: EXPLICIT_KEY_DETAIL,
        keyId: verificationKeyId(JSON.parse(await readFile(verb.foreignKey, 'utf8')) as Groth16VerificationKey),
      });
      const trustedHuman = await runCli([...verb.forged, '--trust-key'], LONG);
      expect(trustedHuman.code, trustedHuman.stderr).toBe(0);
      expect(trustedHuman.stdout).toMatch(verb.forgedOk);
      expect(trustedHuman.stdout).toContain(
        '  key          trusted on your word (--trust-key): not made by your setup nor by a ceremony you verified\n',
      );

      // The honest proof, with a copy of the key the verifier's own setup made: accepted, and said to be its own.
      const own = await runCli(['--json', ...verb.honest], LONG);
      expect(own.code, own.stderr + own.stdout).toBe(0);
      const ownVerdict = parsed<{ valid: boolean; keySource: { source: string; detail: string } }>(own);
      expect(ownVerdict.valid).toBe(true);
      expect(ownVerdict.keySource.source).toBe('own-setup');
      // Bound to the circuit the verifier's own statement generates (a plain `zkai verify` has no statement: it says so).
      expect(ownVerdict.keySource.detail).toMatch(
        new RegExp(
          `^your own setup${name === 'zkai verify' ? '' : ' of the circuit generated from your .+?'} \\(cache ${resolveCacheDir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/keys/`,
        ),
      );
      if (name === 'zkai verify')
        expect(ownVerdict.keySource.detail).toContain('no statement ties it to a circuit here');
      // --trust-key changes nothing for a key the verifier made: it is still its own setup.
      const ownAnyway = await runCli(['--json', ...verb.honest, '--trust-key'], LONG);
      expect(parsed<{ keySource: { source: string } }>(ownAnyway).keySource.source).toBe('own-setup');

      // On the machine that set up the constraint-free circuit, its key is that machine's own setup, but of a circuit
      // handed over by the prover: a statement verb refuses it (the circuit its own statement generates is another one);
      // a plain zkai verify, which has no statement, takes it and says so.
      const handedOver = await runCli(['--cache-dir', otherCache, '--json', ...verb.forged], LONG);
      if (name === 'zkai verify') {
        expect(handedOver.code, handedOver.stderr).toBe(0);
        expect(parsed<{ keySource: { source: string; detail: string } }>(handedOver).keySource).toMatchObject({
          source: 'own-setup',
          detail: expect.stringContaining('it proves whatever circuit it was made for'),
        });
      } else {
        expect(handedOver.code).toBe(1);
        const refusal = parsed<{ error: { code: string; message: string; hint: string } }>(handedOver).error;
        // The forged proof verifies with that key, so the verdict is withheld: a key of another circuit may only reject.
        expect(refusal).toMatchObject({
          code: 'UNTRUSTED_KEY',
          message: expect.stringMatching(
            /the proof verifies with the verification key 0x[0-9a-f]{64}, but your own setup made it for another circuit \(free\d+, .*no verdict is given/,
          ),
        });
        expect(refusal.hint).toContain('the key of the circuit generated from your own files');
        expect(handedOver.stdout).not.toContain('"valid"');
      }
    },
    600_000,
  );
});

describe('where a key comes from (the library)', () => {
  it("a key imported into a cache with --zkey (a ceremony-* folder) is not that cache's own setup", async () => {
    // A third cache that proves with the other cache's zkey: keysFromZkey checks it against the circuit and keeps it.
    const third = file('third-cache');
    const source = file('free3.circom');
    const circuit = await compileCircuit(source, { cacheDir: third });
    const theirs = await setupCircuit(await compileCircuit(source, { cacheDir: otherCache }), {
      cacheDir: otherCache,
      ptauPath: ptau,
    });
    const imported = await keysFromZkey(circuit, theirs.zkeyPath, { cacheDir: third, ptauPath: ptau });
    expect(imported.dir).toMatch(/\/keys\/ceremony-free3-[0-9a-f]+$/);
    await expect(trustedKeySource(imported.vkey, { cacheDir: third })).rejects.toMatchObject({ code: 'UNTRUSTED_KEY' });
    // In the cache whose setup made it, the same key is its own setup.
    expect(await trustedKeySource(imported.vkey, { cacheDir: otherCache })).toMatchObject({
      source: 'own-setup',
      detail: expect.stringContaining(`your own setup (cache ${theirs.dir})`),
    });
    // Recorded as a verified ceremony with no contribution of the verifier's own or required by it in its chain: a
    // transcript shows the files agree, not who contributed, so that is not enough.
    const keyId = verificationKeyId(imported.vkey as unknown as Groth16VerificationKey);
    expect(await isVerifiedCeremonyKey(third, keyId)).toBe(false);
    await recordVerifiedCeremonyKey(third, { vkeyId: keyId, circuit: 'free3', via: 'verify' });
    expect(await isVerifiedCeremonyKey(third, keyId)).toBe(true);
    await expect(trustedKeySource(imported.vkey, { cacheDir: third })).rejects.toMatchObject({
      code: 'UNTRUSTED_KEY',
      message: expect.stringContaining('no contribution of yours or one you trust'),
    });
    // With a contribution the verifier required, the third cache takes it as a verified ceremony.
    const required = (await readZkeyInfo(theirs.zkeyPath)).contributions[0]!.hash;
    await recordVerifiedCeremonyKey(third, {
      vkeyId: keyId,
      circuit: 'free3',
      via: 'verify',
      contributionsChecked: [required],
    });
    const source3 = await trustedKeySource(imported.vkey, { cacheDir: third });
    expect(source3).toMatchObject({ source: 'verified-ceremony', keyId });
    expect(source3.detail).toMatch(
      /^a ceremony you verified \(circuit free3, zkai ceremony verify on .*; its chain holds the contribution you required [0-9a-f]{16}\.\.\.\); no statement ties it to a circuit here/,
    );
    // A malformed key is refused as a file, never trusted.
    await expect(
      trustedKeySource({ nPublic: 1, IC: [] }, { cacheDir: third, trustKey: true, path: 'bad.json' }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT_FILE', message: expect.stringMatching(/^bad\.json: /) });
  });
});

describe('the trust store', () => {
  it('records contributions and keys in one 0600 file, and refuses a corrupted file with a typed error naming it', async () => {
    const cache = file('store-cache');
    const path = trustStorePath(cache);
    expect(await readTrustStore(cache)).toEqual({
      format: 'zkai-trust-store-v1',
      ceremonyKeys: [],
      ownContributions: [],
    });
    const hash = 'ab'.repeat(64);
    // As snarkjs prints it: upper case in groups over lines.
    const printed = hash
      .toUpperCase()
      .replace(/(.{32})/g, '$1\n\t\t')
      .trim();
    expect(await isOwnContribution(cache, printed)).toBe(false);
    await recordOwnContribution(cache, { contributionHash: printed, circuit: 'c0ffee', name: 'alice' });
    expect(await isOwnContribution(cache, hash)).toBe(true);
    expect(await isOwnContribution(cache, 'cd'.repeat(64))).toBe(false);
    expect(await isOwnContribution(cache, 'not a hash')).toBe(false);
    await expect(
      recordOwnContribution(cache, { contributionHash: 'xyz', circuit: 'c', name: 'n' }),
    ).rejects.toMatchObject({ code: 'BAD_OPTION' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const keyId = `0x${'12'.repeat(32)}`;
    await recordVerifiedCeremonyKey(cache, {
      vkeyId: keyId,
      circuit: 'tiny',
      ownContributions: [hash],
      via: 'finalize',
    });
    await recordVerifiedCeremonyKey(cache, {
      vkeyId: keyId.toUpperCase().replace('0X', '0x'),
      circuit: 'tiny',
      ownContributions: [hash],
      via: 'verify',
    });
    const store = await readTrustStore(cache);
    expect(store.ceremonyKeys).toHaveLength(1); // recorded again: replaced, not repeated
    expect(store.ceremonyKeys[0]).toMatchObject({ vkeyId: keyId, via: 'verify', ownContributions: [hash] });
    expect(store.ownContributions).toEqual([
      { contributionHash: hash, circuit: 'c0ffee', name: 'alice', at: expect.any(String) },
    ]);

    // Corrupted: not JSON, another format, an entry that is not one. Each is a TrustStoreError naming the file (and the
    // field), reading and recording alike; the file is left as it is.
    for (const [content, pattern] of [
      ['{"format": "zkai-trust-store-v1", "ceremonyKeys": [', /is not valid JSON/],
      [
        JSON.stringify({ format: 'something-else', ceremonyKeys: [], ownContributions: [] }),
        /format must be "zkai-trust-store-v1"/,
      ],
      [
        JSON.stringify({ ...store, ceremonyKeys: [{ ...store.ceremonyKeys[0], vkeyId: 'nope' }] }),
        /ceremonyKeys\[0\]\.vkeyId must be a verification key id/,
      ],
      [JSON.stringify({ ...store, ownContributions: 'none' }), /ownContributions must be a list/],
    ] as const) {
      await writeFile(path, content);
      const read = readTrustStore(cache);
      await expect(read).rejects.toBeInstanceOf(TrustStoreError);
      await expect(read).rejects.toMatchObject({
        code: 'TRUST_STORE_CORRUPT',
        path,
        message: expect.stringMatching(pattern),
      });
      await expect(isOwnContribution(cache, hash)).rejects.toMatchObject({ code: 'TRUST_STORE_CORRUPT' });
      await expect(
        recordOwnContribution(cache, { contributionHash: hash, circuit: 'c', name: 'n' }),
      ).rejects.toMatchObject({ code: 'TRUST_STORE_CORRUPT' });
      expect(await readFile(path, 'utf8')).toBe(content);
    }

    // The CLI reports it as an error with the file named and a hint, not as a crash.
    await mkdir(cache, { recursive: true });
    const verb = cases.find((c) => c.name === 'zkai verify')!;
    const run = await runCli(['--cache-dir', cache, '--json', ...verb.forged], LONG);
    expect(run.code).toBe(1);
    expect(parsed<{ error: { code: string; message: string; hint: string } }>(run).error).toMatchObject({
      code: 'TRUST_STORE_CORRUPT',
      message: expect.stringContaining(path),
      hint: expect.stringContaining('will not overwrite it'),
    });

    // A contribution made while the store is corrupted: the new zkey and the hash are still given, the failure to
    // record it is said (exit code 1), and the store is left as it is.
    const free3 = await compileCircuit(file('free3.circom'), { cacheDir: otherCache });
    await snarkjs.zKey.newZKey(free3.r1csPath, ptau, file('free3-0000.zkey'));
    const contribute = await runCli(
      [
        '--cache-dir',
        cache,
        '--json',
        '--quiet',
        'ceremony',
        'contribute',
        file('free3-0000.zkey'),
        file('free3-0001.zkey'),
        '--name',
        'carol',
      ],
      LONG,
    );
    expect(contribute.code).toBe(1);
    const step = parsed<{ contribution: { hash: string }; trustStore: { recorded: boolean; reason: string } }>(
      contribute,
    );
    expect(step.contribution.hash).toMatch(/^[0-9a-f]{128}$/);
    expect(step.trustStore).toMatchObject({ recorded: false, reason: expect.stringContaining(path) });
    expect((await stat(file('free3-0001.zkey'))).size).toBeGreaterThan(0);
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify({ ...store, ownContributions: 'none' }));
  });
});
