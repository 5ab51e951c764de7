/**
 * Adversarial pass on issue 15 ("keys nobody can forge with"): registration from source and off-chain key trust,
 * attacked as a dishonest prover. REAL anvil, REAL keys, small circuits (the inclusion circuit of
 * examples/patients/schema.json at depth 1; a constraint-free circuit with the same four public signals).
 *
 * Holes found by this pass, now closed (each test asserts the refusal, and failed before the fix):
 * - a ceremony whose every contribution the prover made, registered with `--transcript`: the transcript only says the
 *   files agree with each other, its names are the prover's own words; the prover knows delta and forges anything;
 * - an off-chain verifier's "own setup" or "verified ceremony" key is accepted for any statement: the verify verbs do
 *   not check that the key belongs to the circuit they regenerate from the verifier's schema and policy, so a circuit
 *   the prover handed over (and the verifier set up, as the UNTRUSTED_KEY hint tells it to) verifies forged claims.
 *
 * Attacks that hold, pinned: a contribution after the beacon; a transcript of another ceremony given with the
 * prover's zkey.
 */
import nodeCrypto from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import { connectChain, type ChainConnection } from '../src/chain/anvil.ts';
import { deployZkai, type ConnectedDeployment } from '../src/chain/deployment.ts';
import {
  checkRegistrationKey,
  registerCircuitFromSource,
  sourceCircuit,
  type CircuitSource,
} from '../src/chain/register-source.ts';
import { toZkaiVerifierArgs } from '../src/chain/solidity-verifier.ts';
import { createBundle } from '../src/data/bundle.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { proveInclusion } from '../src/data/inclusion.ts';
import { loadSchema, parseSchema } from '../src/data/schema.ts';
import type { Schema } from '../src/data/types.ts';
import {
  ceremonyBeacon,
  ceremonyContribute,
  ceremonyInit,
  finalizeCeremony,
  type CeremonyCircuit,
} from '../src/setup/ceremony.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { readZkeyInfo } from '../src/setup/zkey-file.ts';
import { releaseCurves } from '../src/util/curves.ts';
import type { Groth16Proof } from '../src/verifier/types.ts';
import { runCli } from './helpers/run-cli.ts';
import { ROGUE_INCLUSION_CIRCUIT } from './helpers/rogue.ts';

const SCHEMA = fileURLToPath(new URL('../examples/patients/schema.json', import.meta.url));
/** snarkjs's own helpers (not exported by the package): the beacon's key is derived from its public value. */
const SNARKJS_MISC = new URL('../node_modules/snarkjs/src/misc.js', import.meta.url).href;
const LONG = { timeoutMs: 300_000 };

let scratch: string;
let schema: Schema;
let source: CircuitSource;
let testPtau: string;
/** The registry owner's cache, holding a ptau "it generated" (a copy of the tests' development ptau). */
let owner: string;
let ownerPtau: string;
let circuit: CeremonyCircuit;
let chain: ChainConnection;
let zkai: ConnectedDeployment;
/** The prover's ceremony: every contribution made by the prover, under two invented names, with known entropy. */
const prover = {
  final: '',
  transcript: '',
  afterBeacon: '',
  secrets: [] as Uint8Array[],
  beacon: { hash: 'ab'.repeat(32), iterationsExp: 10 },
};
/** An honest ceremony of the same circuit (another chain): its transcript. */
const honest = { transcript: '' };

/** The parts of ffjavascript's BN254 curve used here (field elements and points as its byte arrays). */
interface Curve {
  Fr: {
    fromRng(rng: unknown): Uint8Array;
    mul(a: Uint8Array, b: Uint8Array): Uint8Array;
    inv(a: Uint8Array): Uint8Array;
  };
  G1: {
    fromObject(p: bigint[]): Uint8Array;
    add(a: Uint8Array, b: Uint8Array): Uint8Array;
    timesScalar(p: Uint8Array, s: bigint): Uint8Array;
    timesFr(p: Uint8Array, f: Uint8Array): Uint8Array;
    neg(p: Uint8Array): Uint8Array;
    toAffine(p: Uint8Array): Uint8Array;
    toObject(p: Uint8Array): bigint[];
  };
}
let curve: Curve;
/** ffjavascript's ChaCha (snarkjs's rng), through snarkjs's own copy of ffjavascript. */
const { ChaCha } = createRequire(createRequire(import.meta.url).resolve('snarkjs'))('ffjavascript') as {
  ChaCha: new (seed: number[]) => unknown;
};

/**
 * snarkjs zkey contribute with the process's randomness pinned to zeros, so the "prover" knows its secret: the
 * contribution's private key is the first field element drawn from ChaCha(blake2b-512(64 zero bytes || entropy)).
 */
async function knownContribution(inPath: string, outPath: string, name: string, entropy: string): Promise<Uint8Array> {
  const original = nodeCrypto.randomFillSync;
  (nodeCrypto as { randomFillSync: unknown }).randomFillSync = (array: Uint8Array) => array.fill(0);
  try {
    await snarkjs.zKey.contribute(inPath, outPath, name, entropy);
  } finally {
    (nodeCrypto as { randomFillSync: unknown }).randomFillSync = original;
  }
  const hash = nodeCrypto
    .createHash('blake2b512')
    .update(Buffer.alloc(64))
    .update(Buffer.from(entropy, 'utf8'))
    .digest();
  const seed = Array.from({ length: 8 }, (_, i) => hash.readUInt32BE(i * 4));
  return curve.Fr.fromRng(new ChaCha(seed));
}

/** Groth16 with a known delta (gamma is G2's generator in snarkjs keys): A = alpha, B = beta, C = -cpub / delta. */
function forge(vkey: Record<string, unknown>, delta: Uint8Array, signals: readonly string[]): Groth16Proof {
  const ic = (vkey.IC as string[][]).map((p) => curve.G1.fromObject(p.map(BigInt)));
  let cpub = ic[0]!;
  signals.forEach((s, i) => {
    cpub = curve.G1.add(cpub, curve.G1.timesScalar(ic[i + 1]!, BigInt(s)));
  });
  const c = curve.G1.toObject(curve.G1.toAffine(curve.G1.neg(curve.G1.timesFr(cpub, curve.Fr.inv(delta)))));
  return {
    pi_a: (vkey.vk_alpha_1 as string[]).map(String),
    pi_b: vkey.vk_beta_2 as string[][],
    pi_c: c.map(String),
    protocol: 'groth16',
    curve: 'bn128',
  } as unknown as Groth16Proof;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-attack-registration-'));
  curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
  schema = await loadSchema(SCHEMA);
  source = { kind: 'inclusion', schema, depth: 1 };
  const found = await findDevPtau(resolveCacheDir(), 3);
  if (!found) throw new Error("the tests' development ptau is missing (test/global-setup.ts makes it)");
  testPtau = found.path;
  owner = join(scratch, 'owner-cache');
  await mkdir(join(owner, 'ptau'), { recursive: true });
  ownerPtau = join(owner, 'ptau', basename(testPtau));
  await copyFile(testPtau, ownerPtau);
  const { compiled } = await sourceCircuit(source, { cacheDir: owner });
  circuit = { name: compiled.name, r1csPath: compiled.r1csPath, info: compiled.info };

  // The prover's ceremony on the owner's (public) ptau: "alice" and "bob" are both the prover; then a beacon.
  const p = join(scratch, 'prover-ceremony');
  await mkdir(p, { recursive: true });
  await ceremonyInit(circuit, ownerPtau, join(p, '0000.zkey'));
  prover.secrets.push(await knownContribution(join(p, '0000.zkey'), join(p, '0001.zkey'), 'alice', 'prover entropy 1'));
  prover.secrets.push(await knownContribution(join(p, '0001.zkey'), join(p, '0002.zkey'), 'bob', 'prover entropy 2'));
  await ceremonyBeacon(join(p, '0002.zkey'), join(p, 'final.zkey'), {
    hashHex: prover.beacon.hash,
    iterationsExp: prover.beacon.iterationsExp,
  });
  const done = await finalizeCeremony(join(p, 'final.zkey'), circuit, ownerPtau);
  Object.assign(prover, { final: join(p, 'final.zkey'), transcript: done.transcriptPath });
  // A contribution after the beacon (the chain no longer ends with one).
  await ceremonyContribute(join(p, 'final.zkey'), join(p, 'after-beacon.zkey'), { name: 'late' });
  prover.afterBeacon = join(p, 'after-beacon.zkey');

  // An honest ceremony of the same circuit, for its transcript.
  const h = join(scratch, 'honest-ceremony');
  await mkdir(h, { recursive: true });
  await ceremonyInit(circuit, ownerPtau, join(h, '0000.zkey'));
  await ceremonyContribute(join(h, '0000.zkey'), join(h, '0001.zkey'), { name: 'carol' });
  await ceremonyBeacon(join(h, '0001.zkey'), join(h, 'final.zkey'), { hashHex: 'cd'.repeat(32), iterationsExp: 10 });
  honest.transcript = (await finalizeCeremony(join(h, 'final.zkey'), circuit, ownerPtau)).transcriptPath;

  chain = await connectChain();
  zkai = await deployZkai(chain.signer);
}, 900_000);

afterAll(async () => {
  await chain?.close();
  await releaseCurves();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('registration: keys the registrant should not trust', () => {
  it("closed hole: refuses a ceremony whose every contribution is the prover's, even with its (self-consistent) transcript", async () => {
    const attempt = await registerCircuitFromSource(
      zkai.registry,
      source,
      { kind: 'ceremony', zkeyPath: prover.final, ptauPath: ownerPtau, transcriptPath: prover.transcript },
      { cacheDir: owner },
    ).then(
      (made) => ({ made, error: undefined }),
      (error: unknown) => ({ made: undefined, error: error as { code?: string; message: string } }),
    );
    if (attempt.made) {
      // Today: registered on chain as "verified-transcript". What it is worth: the prover knows delta (its two secrets
      // and the public beacon's key), so it forges a proof of ANY public signals, which the chain's verifier accepts.
      const misc = (await import(SNARKJS_MISC)) as {
        rngFromBeaconParams(hash: Uint8Array, exp: number): Promise<unknown>;
        hex2ByteArray(hex: string): Uint8Array;
      };
      const beaconKey = curve.Fr.fromRng(
        await misc.rngFromBeaconParams(misc.hex2ByteArray(prover.beacon.hash), prover.beacon.iterationsExp),
      );
      const delta = [...prover.secrets, beaconKey].reduce((acc, k) => curve.Fr.mul(acc, k));
      const info = await readZkeyInfo(prover.final);
      expect(info.contributions.map((s) => s.type)).toEqual(['contribution', 'contribution', 'beacon']);
      const vkey = attempt.made.key.vkey as unknown as Record<string, unknown>;
      const lie = ['123456789', '987654321', '42', '7'];
      const forged = forge(vkey, delta, lie);
      expect(await snarkjs.groth16.verify(vkey, lie, forged)).toBe(true);
      const stored = await zkai.registry.registeredCircuit(attempt.made.circuit);
      expect(stored?.provenance?.keyTrust).toBe('verified-transcript');
      const [proofArgs, signalArgs] = toZkaiVerifierArgs(forged, lie, 4);
      const { Contract } = await import('ethers');
      const onChain = new Contract(
        attempt.made.verifier!,
        ['function verifyProof(uint256[8] proof, uint256[] publicSignals) view'],
        chain.signer,
      );
      await onChain.getFunction('verifyProof').staticCall(proofArgs, signalArgs); // does not revert: the forged proof verifies on chain
    }
    expect(
      attempt.error?.code,
      'a prover-only ceremony key was registered (verified-transcript), and its prover forges proofs that the registered verifier accepts',
    ).toBe('KEY_NOT_TRUSTED');
  }, 600_000);

  it('held: a chain with a contribution after the beacon is refused', async () => {
    const error = await checkRegistrationKey(
      (await sourceCircuit(source, { cacheDir: owner })).compiled,
      { kind: 'ceremony', zkeyPath: prover.afterBeacon, ptauPath: ownerPtau, transcriptPath: prover.transcript },
      { cacheDir: owner },
    ).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error?.code).toBe('KEY_NOT_TRUSTED');
    // The transcript lists fewer steps than the zkey holds: refused before the beacon rule is even reached.
    expect(error?.message).toMatch(/step\(s\) the transcript does not list|does not end with a public random beacon/);
    const noTranscript = await checkRegistrationKey(
      (await sourceCircuit(source, { cacheDir: owner })).compiled,
      { kind: 'ceremony', zkeyPath: prover.afterBeacon, ptauPath: ownerPtau },
      { cacheDir: owner },
    ).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(noTranscript?.message).toMatch(/does not end with a public random beacon/);
  }, 300_000);

  it("held: the transcript of another ceremony of the same circuit does not vouch for the prover's zkey", async () => {
    const error = await checkRegistrationKey(
      (await sourceCircuit(source, { cacheDir: owner })).compiled,
      { kind: 'ceremony', zkeyPath: prover.final, ptauPath: ownerPtau, transcriptPath: honest.transcript },
      { cacheDir: owner },
    ).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error?.code).toBe('KEY_NOT_TRUSTED');
    expect(error?.message).toMatch(/step #1: the transcript lists #1 contribution "carol"/);
  }, 300_000);
});

describe("off-chain verifiers: a trusted key is not bound to the verifier's statement", () => {
  it("closed hole: data verify-include refuses a proof made with the verifier's own setup of a circuit the prover handed over", async () => {
    // The verifier's machine. The prover hands over "its circuit"; the verifier follows the UNTRUSTED_KEY hint ("run the
    // setup yourself from the circuit (zkai setup CIRCUIT.circom)"), so the key is its own setup.
    const verifier = join(scratch, 'verifier-cache');
    await mkdir(join(verifier, 'ptau'), { recursive: true });
    await copyFile(testPtau, join(verifier, 'ptau', basename(testPtau)));
    const roguePath = join(scratch, 'prover-circuit.circom');
    await writeFile(roguePath, ROGUE_INCLUSION_CIRCUIT);
    const setup = await runCli(['--cache-dir', verifier, '--json', 'setup', roguePath], LONG);
    expect(setup.code, setup.stderr).toBe(0);
    const rogueCircuit = await compileCircuit(roguePath, { cacheDir: verifier });
    const rogue = await setupCircuit(rogueCircuit, { cacheDir: verifier }); // the same cached key
    await writeFile(join(scratch, 'rogue.vkey.json'), JSON.stringify(rogue.vkey));

    // A dataset of two patients-like records (service-test schema); the prover claims "p-9" is in it. It is not.
    const spec = {
      name: 'attack-test',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'string', maxBytes: 16 },
        { name: 'age', type: 'integer', min: 0, max: 120 },
      ],
    };
    const small = parseSchema(spec);
    await writeFile(join(scratch, 'schema.json'), JSON.stringify(spec));
    const bundle = createBundle(
      small,
      [
        { id: 'p-1', age: 34 },
        { id: 'p-2', age: 51 },
      ].map((cells, i) => encodeRecord(small, cells, i + 2)),
    );
    await writeFile(join(scratch, 'commitment.json'), JSON.stringify(bundle.commitment));
    const {
      prepared: _prepared,
      vkeyPath: _vkeyPath,
      row: _row,
      ...honestFile
    } = await proveInclusion(bundle, small, { subjectId: 'p-2' });
    const outsider = encodeRecord(small, { id: 'p-9', age: 1 }, 2).values[0]!.toString();
    const signals = [...honestFile.publicSignals];
    signals[1] = outsider;
    // Forged with the circuit's proving key (not a secret: for a circuit that leaves its public inputs free, the
    // verification key and the public ptau's Lagrange points suffice).
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      { root: signals[0], subjectHash: signals[1], schemaHash: signals[2], context: signals[3], x: 3 },
      rogueCircuit.wasmPath,
      rogue.zkeyPath,
    );
    expect(publicSignals).toEqual(signals);
    await writeFile(
      join(scratch, 'forged-inclusion.json'),
      JSON.stringify({ ...honestFile, subjectHash: outsider, publicSignals: signals, proof }),
    );

    const run = await runCli(
      [
        '--cache-dir',
        verifier,
        '--json',
        'data',
        'verify-include',
        '--vkey',
        join(scratch, 'rogue.vkey.json'),
        '--proof',
        join(scratch, 'forged-inclusion.json'),
        '--schema',
        join(scratch, 'schema.json'),
        '--commitment',
        join(scratch, 'commitment.json'),
        '--subject',
        'p-9',
      ],
      LONG,
    );
    // Today: exit 0, {"valid": true, keySource: own-setup}: "a record with id p-9 is in the dataset", which is false.
    expect(run.stdout).not.toMatch(/"valid":\s*true/);
    expect(run.code).toBe(1);
  }, 600_000);
});
