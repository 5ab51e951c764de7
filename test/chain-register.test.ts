/**
 * A circuit is registered only from its source (issue 15), and every public signal of a registered circuit is bound.
 * On a REAL anvil with REAL keys: the registrant regenerates the inclusion circuit in its own cache and refuses a
 * handed-over key of a constraint-free circuit, and the genuine circuit's key made by the prover alone on the prover's
 * ptau; it accepts a ceremony key that holds its own contribution and ends with a beacon, or whose transcript it
 * verifies, and records how on chain (provenance, source descriptor). The contract refuses a registration that
 * leaves a signal bound to nothing, and curated lists take roots only from their curator, with a window.
 *
 * "A ptau this machine generated" is simulated by copying the tests' development ptau into a registrant's cache (its
 * generation takes minutes); the registrant that must refuse the prover's ptau has none.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import { connectChain, type ChainConnection } from '../src/chain/anvil.ts';
import { deployZkai, type ConnectedDeployment } from '../src/chain/deployment.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { listId } from '../src/chain/lists.ts';
import {
  checkRegistrationKey,
  recheckRegistration,
  registerCircuitFromSource,
  sourceCircuit,
  type CircuitSource,
} from '../src/chain/register-source.ts';
import { decodeRegistryError } from '../src/chain/registry-errors.ts';
import { deployVerifier } from '../src/chain/solidity-verifier.ts';
import { loadSchema } from '../src/data/schema.ts';
import type { Schema } from '../src/data/types.ts';
import { ceremonyBeacon, ceremonyContribute, ceremonyInit, finalizeCeremony } from '../src/setup/ceremony.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { recordOwnContribution } from '../src/setup/trust-store.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { runCli } from './helpers/run-cli.ts';
import { registryRefusal, ROGUE_INCLUSION_CIRCUIT } from './helpers/rogue.ts';

const SCHEMA = fileURLToPath(new URL('../examples/patients/schema.json', import.meta.url));

let scratch: string;
let schema: Schema;
let source: CircuitSource;
let testPtau: string;
/** Registrant caches: `bare` has no ptau of its own; `own` and `viaTranscript` hold a ptau "they generated". */
let bare: string;
let own: string;
let viaTranscript: string;
let chain: ChainConnection;
let zkai: ConnectedDeployment;
/** The ceremony: its final key (with the own registrant's contribution), the key before the beacon, the transcript. */
const ceremony = { final: '', beforeBeacon: '', transcript: '', otherContribution: '' };

async function refusedWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a refusal').toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(pattern);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-chain-register-'));
  schema = await loadSchema(SCHEMA);
  source = { kind: 'inclusion', schema, depth: 1 };
  const found = await findDevPtau(resolveCacheDir(), 3);
  if (!found) throw new Error("the tests' development ptau is missing (test/global-setup.ts makes it)");
  testPtau = found.path;
  bare = join(scratch, 'bare-cache');
  own = join(scratch, 'own-cache');
  viaTranscript = join(scratch, 'transcript-cache');
  for (const dir of [own, viaTranscript]) {
    await mkdir(join(dir, 'ptau'), { recursive: true });
    await copyFile(testPtau, join(dir, 'ptau', basename(testPtau)));
  }
  await mkdir(bare, { recursive: true });

  // The ceremony of the inclusion circuit, on the own registrant's ptau: its contribution, another, then a beacon.
  const { compiled } = await sourceCircuit(source, { cacheDir: own });
  const circuit = { name: compiled.name, r1csPath: compiled.r1csPath, info: compiled.info };
  const ptau = join(own, 'ptau', basename(testPtau));
  const folder = join(scratch, 'ceremony');
  await mkdir(folder, { recursive: true });
  await ceremonyInit(circuit, ptau, join(folder, '0000.zkey'));
  const mine = await ceremonyContribute(join(folder, '0000.zkey'), join(folder, '0001.zkey'), { name: 'registrant' });
  // What `zkai ceremony contribute --cache-dir OWN` records (the CLI's own test covers the recording itself).
  await recordOwnContribution(own, {
    contributionHash: mine.contribution.hash,
    circuit: compiled.name,
    name: 'registrant',
  });
  const theirs = await ceremonyContribute(join(folder, '0001.zkey'), join(folder, '0002.zkey'), {
    name: 'another party',
  });
  ceremony.otherContribution = theirs.contribution.hash;
  await ceremonyBeacon(join(folder, '0002.zkey'), join(folder, 'final.zkey'), {
    hashHex: 'cd'.repeat(32),
    iterationsExp: 10,
  });
  const done = await finalizeCeremony(join(folder, 'final.zkey'), circuit, ptau);
  Object.assign(ceremony, {
    final: join(folder, 'final.zkey'),
    beforeBeacon: join(folder, '0002.zkey'),
    transcript: done.transcriptPath,
  });

  chain = await connectChain();
  zkai = await deployZkai(chain.signer);
}, 900_000);

afterAll(async () => {
  await chain?.close();
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('registration from source: the key is checked against the circuit regenerated here', () => {
  it('refuses a handed-over key of a constraint-free circuit with the same public signals', async () => {
    const roguePath = join(scratch, 'rogue.circom');
    await writeFile(roguePath, ROGUE_INCLUSION_CIRCUIT);
    const rogue = await setupCircuit(await compileCircuit(roguePath));
    expect(rogue.vkey.nPublic).toBe(4);
    const { compiled } = await sourceCircuit(source, { cacheDir: own });
    await refusedWith(
      checkRegistrationKey(
        compiled,
        { kind: 'ceremony', zkeyPath: rogue.zkeyPath, ptauPath: testPtau },
        { cacheDir: own },
      ),
      /the proving key cannot be registered: it is not a key of the circuit regenerated here \(inclusion_[0-9a-f]+, \d+ constraints\) with a valid chain: the zkey is of another circuit/,
    );
    // The old way in, `chain attest --register-only --zkey KEY`, is gone.
    const old = await runCli([
      'chain',
      'attest',
      join(scratch, 'any.json'),
      '--register-only',
      '--zkey',
      rogue.zkeyPath,
    ]);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain("unknown option '--register-only'");
  }, 300_000);

  it("refuses the genuine circuit's key made by the prover alone, on a ptau that is neither published nor the registrant's", async () => {
    const proverCircuit = await sourceCircuit(source); // the prover's machine: the tests' cache
    const proverKeys = await setupCircuit(proverCircuit.compiled);
    const { compiled } = await sourceCircuit(source, { cacheDir: bare });
    await refusedWith(
      checkRegistrationKey(
        compiled,
        { kind: 'ceremony', zkeyPath: proverKeys.zkeyPath, ptauPath: proverKeys.ptau.path },
        { cacheDir: bare },
      ),
      /the ptau .* is neither a published ceremony file \(pinned hash\) nor one this machine generated/,
    );
    // The registrant's own single-party setup needs --development, said explicitly.
    await refusedWith(
      checkRegistrationKey(compiled, { kind: 'own-setup' }, { cacheDir: own }),
      /your own automatic setup is single-party .* needs --development/,
    );
  }, 300_000);

  it("refuses a chain without a final beacon, and a chain with no contribution of the registrant's without a transcript", async () => {
    const { compiled } = await sourceCircuit(source, { cacheDir: own });
    const ptau = join(own, 'ptau', basename(testPtau));
    await refusedWith(
      checkRegistrationKey(
        compiled,
        { kind: 'ceremony', zkeyPath: ceremony.beforeBeacon, ptauPath: ptau },
        { cacheDir: own },
      ),
      /does not end with a public random beacon/,
    );
    const other = await sourceCircuit(source, { cacheDir: viaTranscript });
    await refusedWith(
      checkRegistrationKey(
        other.compiled,
        { kind: 'ceremony', zkeyPath: ceremony.final, ptauPath: join(viaTranscript, 'ptau', basename(testPtau)) },
        { cacheDir: viaTranscript },
      ),
      /holds no contribution of yours .* and no --transcript with a --contribution you trust was given/,
    );
  }, 300_000);

  it("accepts the ceremony key for the registrant's own contribution, or for a transcript it verifies now", async () => {
    const { compiled } = await sourceCircuit(source, { cacheDir: own });
    const ownCheck = await checkRegistrationKey(
      compiled,
      { kind: 'ceremony', zkeyPath: ceremony.final, ptauPath: join(own, 'ptau', basename(testPtau)) },
      { cacheDir: own },
    );
    expect(ownCheck.keyTrust).toBe('own-contribution');
    expect(ownCheck.ptau.trust).toBe('own');
    expect(ownCheck.contributions.filter((step) => step.own)).toHaveLength(1);
    const other = await sourceCircuit(source, { cacheDir: viaTranscript });
    const viaPtau = join(viaTranscript, 'ptau', basename(testPtau));
    // A transcript alone says the files agree, not who contributed: one contribution the registrant trusts is named.
    await refusedWith(
      checkRegistrationKey(
        other.compiled,
        { kind: 'ceremony', zkeyPath: ceremony.final, ptauPath: viaPtau, transcriptPath: ceremony.transcript },
        { cacheDir: viaTranscript },
      ),
      /a transcript only shows that the files agree, not who contributed/,
    );
    await refusedWith(
      checkRegistrationKey(
        other.compiled,
        {
          kind: 'ceremony',
          zkeyPath: ceremony.final,
          ptauPath: viaPtau,
          transcriptPath: ceremony.transcript,
          trustedContributions: ['ab'.repeat(64)],
        },
        { cacheDir: viaTranscript },
      ),
      /the contribution you trust abababab.* is not in the key's chain/,
    );
    const transcriptCheck = await checkRegistrationKey(
      other.compiled,
      {
        kind: 'ceremony',
        zkeyPath: ceremony.final,
        ptauPath: viaPtau,
        transcriptPath: ceremony.transcript,
        trustedContributions: [ceremony.otherContribution],
      },
      { cacheDir: viaTranscript },
    );
    expect(transcriptCheck.trustedContributions).toEqual([ceremony.otherContribution]);
    expect(transcriptCheck.keyTrust).toBe('verified-transcript');
    expect(transcriptCheck.transcriptSha256).toMatch(/^0x[0-9a-f]{64}$/);
  }, 300_000);

  it('registers on chain with its provenance: source descriptor, schema hash, how the key was trusted', async () => {
    const made = await registerCircuitFromSource(
      zkai.registry,
      source,
      { kind: 'ceremony', zkeyPath: ceremony.final, ptauPath: join(own, 'ptau', basename(testPtau)) },
      { cacheDir: own },
    );
    expect(made.registered).toBe(true);
    const stored = await zkai.registry.registeredCircuit(made.circuit);
    expect(stored).toMatchObject({ kind: 'inclusion', publicInputs: 4, claims: [2], lists: [] });
    expect(stored!.provenance).toMatchObject({ keyTrust: 'own-contribution', schemaHash: schema.hash, modelHash: '0' });
    const descriptor = await zkai.registry.circuitSource(made.circuit);
    expect(descriptor).toMatchObject({
      format: 'zkai-circuit-source-v1',
      kind: 'inclusion',
      schemaHash: schema.hash,
      depth: 1,
      key: { trust: 'own-contribution', ptau: { trust: 'own' } },
    });
    // Anyone re-checks it: the circuit regenerated from their own source, the published zkey and its ptau.
    const ptau = join(own, 'ptau', basename(testPtau));
    const recheck = await recheckRegistration(zkai.registry, made.circuit, source, {
      cacheDir: viaTranscript,
      zkeyPath: ceremony.final,
      ptauPath: ptau,
    });
    expect(recheck).toMatchObject({ matches: true, problems: [], keyTrust: 'own-contribution' });
    expect(recheck.checked.join('\n')).toMatch(/the zkey is the registered key/);
    const otherDepth = await recheckRegistration(
      zkai.registry,
      made.circuit,
      { ...source, depth: 2 } as CircuitSource,
      { cacheDir: viaTranscript },
    );
    expect(otherDepth.matches).toBe(false);
    expect(otherDepth.problems.join('\n')).toMatch(
      /depth: the registration says 1, the circuit regenerated from your source has 2/,
    );
    const earlierKey = await recheckRegistration(zkai.registry, made.circuit, source, {
      cacheDir: viaTranscript,
      zkeyPath: ceremony.beforeBeacon,
      ptauPath: ptau,
    });
    expect(earlierKey.matches).toBe(false);
    expect(earlierKey.problems.join('\n')).toMatch(/not the registered circuit/);
    // The same key again: nothing is sent.
    const again = await registerCircuitFromSource(
      zkai.registry,
      source,
      { kind: 'ceremony', zkeyPath: ceremony.final, ptauPath: join(own, 'ptau', basename(testPtau)) },
      { cacheDir: own },
    );
    expect(again).toMatchObject({ registered: false, circuit: made.circuit });
  }, 300_000);
});

describe('every public signal of a registered circuit is bound', () => {
  it('the contract refuses a registration that leaves a signal bound to nothing (UnboundSignal)', async () => {
    const keys = await setupCircuit((await sourceCircuit(source)).compiled);
    const verifier = await deployVerifier(chain.signer, keys.zkeyPath);
    const layout = {
      root: 1,
      count: 0,
      policyHash: 0,
      schemaHash: 3,
      modelHash: 0,
      consentRoot: 0,
      chunkDepth: 0,
      chunkSubtrees: 0,
      context: 4,
    };
    const registration = (claims: number[]) => ({
      id: verificationKeyId(keys.vkey as unknown as Groth16VerificationKey),
      verifier: verifier.address,
      kind: 5, // Inclusion
      layout,
      policyHash: 0n,
      consentPurpose: `0x${'0'.repeat(64)}`,
      lists: [],
      claims,
      provenance: {
        source: keccak256(toUtf8Bytes('')),
        schemaHash: 0n,
        modelHash: 0n,
        transcript: `0x${'0'.repeat(64)}`,
        keyTrust: 1,
      },
      sourceDescriptor: '',
      uri: '',
    });
    // subjectHash (signal 1) declared neither checked nor a claim.
    const attempt = zkai.registry.contract.getFunction('registerCircuit').staticCall(registration([]));
    const error = await registryRefusal(
      attempt.catch((e: unknown) => {
        throw decodeRegistryError(zkai.registry.abi as object[], 'registering', e);
      }),
    );
    expect(error.errorName).toBe('UnboundSignal');
    expect(error.args.map(String)).toEqual(['1']);
    expect(error.message).toContain('public signal 1 is bound to nothing');
  }, 300_000);

  it('curated lists: created by the owner only, roots published by the curator only, a replaced root kept for the window', async () => {
    const alice = await chain.provider.getSigner(1);
    const bob = await chain.provider.getSigner(2);
    expect(
      (await registryRefusal(zkai.lists.connect(alice).createList('optout', await alice.getAddress(), 100))).errorName,
    ).toBe('NotOwner');
    const { id } = await zkai.lists.createList('optout', await alice.getAddress(), 100);
    expect(id).toBe(listId('optout'));
    expect((await registryRefusal(zkai.lists.createList('optout', await bob.getAddress(), 5))).errorName).toBe(
      'ListExists',
    );
    // The data holder (bob) is not the curator: it cannot publish the root of a list of its own.
    const notCurator = await registryRefusal(zkai.lists.connect(bob).publishRoot('optout', 1234n));
    expect(notCurator.errorName).toBe('NotCurator');
    await zkai.lists.connect(alice).publishRoot('optout', 1111n);
    await zkai.lists.connect(alice).publishRoot('optout', 2222n);
    expect(await zkai.lists.isKnownRoot('optout', 2222n)).toBe(true);
    expect(await zkai.lists.isKnownRoot('optout', 1111n)).toBe(true); // replaced, within the window
    expect(await zkai.lists.isKnownRoot('optout', 3333n)).toBe(false); // never published
    await chain.provider.send('evm_increaseTime', [101]);
    await chain.provider.send('evm_mine', []);
    expect(await zkai.lists.isKnownRoot('optout', 1111n)).toBe(false); // expired
    expect(await zkai.lists.isKnownRoot('optout', 2222n)).toBe(true);
    expect(await zkai.lists.getList('optout')).toMatchObject({
      name: 'optout',
      curator: await alice.getAddress(),
      window: 100,
      root: '2222',
    });
  }, 300_000);
});
