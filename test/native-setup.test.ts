/**
 * zkai's native `zkey new` (native/src/setup.cpp) against snarkjs's own: the same bytes on real circuits (the circuit
 * hash included), BLAKE2b against Node's, the keys setupCircuit makes with either engine, snarkjs's chain check on a
 * key whose initial key was made natively, native contributions snarkjs verifies, and a typed refusal, with no file
 * left behind, for every bad input.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { SetupError } from '../src/errors.ts';
import { nativeProver } from '../src/prover/native/index.ts';
import type { NativeProverAddon } from '../src/prover/native/addon.ts';
import { ensureDevPtau } from '../src/setup/dev-ptau.ts';
import { requiredPtauPower } from '../src/setup/power.ts';
import { snarkjsLogger } from '../src/setup/progress.ts';
import { newZkey, verifyZkeyFromR1cs } from '../src/setup/zkey-new.ts';
import { contributeZkey } from '../src/setup/zkey-contribute.ts';
import { readZkeyInfo } from '../src/setup/zkey-file.ts';
import { DEMO_CIRCUIT_PATH, rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { testCircuit } from './helpers/run-cli.ts';

let scratch: string;
let addon: NativeProverAddon;
let multiplier: CompiledCircuit;
let demo: CompiledCircuit;
let ptauPath: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-native-setup-'));
  const native = await nativeProver();
  if (!native.addon) throw new Error(`the native addon is needed here: ${JSON.stringify(native.status)}`);
  addon = native.addon;
  multiplier = await compileCircuit(testCircuit('multiplier.circom'));
  demo = await compileCircuit(DEMO_CIRCUIT_PATH);
  ptauPath = (await ensureDevPtau(resolveCacheDir(), requiredPtauPower(demo.info))).path;
}, 600_000);

afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

/** snarkjs's own `zkey new` into a new file of the scratch folder; returns its path and hash. */
async function snarkjsZkey(circuit: CompiledCircuit, ptau: string, name: string): Promise<[string, Uint8Array]> {
  const path = join(scratch, `${name}.snarkjs.zkey`);
  const hash = await snarkjs.zKey.newZKey(circuit.r1csPath, ptau, path);
  return [path, hash as Uint8Array];
}

/** Expects the promise to fail with the addon error `code` and no file at `path` afterwards. */
async function expectRefusal(promise: Promise<unknown>, code: string, message: RegExp, path?: string): Promise<void> {
  const error = (await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )) as (Error & { code?: string }) | undefined;
  expect(error, `expected ${code}`).toBeInstanceOf(Error);
  expect(error?.code).toBe(code);
  expect(error?.message).toMatch(message);
  if (path !== undefined) expect(existsSync(path), 'a half-written zkey was left').toBe(false);
}

describe('BLAKE2b-512 (the circuit hash)', () => {
  it('matches Node for lengths around the 128-byte block', () => {
    for (const length of [0, 1, 63, 127, 128, 129, 255, 256, 257, 1000, 4096 + 7]) {
      const bytes = randomBytes(length);
      const expected = createHash('blake2b512').update(bytes).digest('hex');
      expect(Buffer.from(addon.testing.blake2b512(bytes)).toString('hex'), `length ${length}`).toBe(expected);
    }
  });
});

describe('native zkey new', () => {
  it('writes the very bytes snarkjs writes, and returns the same circuit hash', async () => {
    // The multiplier: one constraint, a public output; the demo: Poseidon (full-size coefficients), public inputs.
    for (const [name, circuit] of [
      ['multiplier', multiplier],
      ['demo', demo],
    ] as const) {
      const [expectedPath, expectedHash] = await snarkjsZkey(circuit, ptauPath, name);
      const path = join(scratch, `${name}.native.zkey`);
      const hash = await addon.newZkey(circuit.r1csPath, ptauPath, path, { threads: 2 });
      const [ours, theirs] = [readFileSync(path), readFileSync(expectedPath)];
      expect(ours.length, name).toBe(theirs.length);
      expect(ours.equals(theirs), `${name}: the zkeys differ`).toBe(true);
      expect(Buffer.from(hash).toString('hex')).toBe(Buffer.from(expectedHash).toString('hex'));
    }
  }, 300_000);

  it('is what newZkey uses, unless the prover chosen is snarkjs: both write the same key', async () => {
    const nativePath = join(scratch, 'chosen-native.zkey');
    const snarkjsPath = join(scratch, 'chosen-snarkjs.zkey');
    const options = { stage: 'zkey:new', describe: 'test setup' };
    expect((await newZkey(multiplier.r1csPath, ptauPath, nativePath, options)).engine).toBe('native');
    const saved = process.env.ZKAI_PROVER;
    process.env.ZKAI_PROVER = 'snarkjs';
    try {
      expect((await newZkey(multiplier.r1csPath, ptauPath, snarkjsPath, options)).engine).toBe('snarkjs');
    } finally {
      if (saved === undefined) delete process.env.ZKAI_PROVER;
      else process.env.ZKAI_PROVER = saved;
    }
    expect(readFileSync(nativePath).equals(readFileSync(snarkjsPath))).toBe(true);
  }, 120_000);

  it('checks a contributed key against its r1cs like snarkjs, and refuses a key of another circuit', async () => {
    const initial = join(scratch, 'chain-0.zkey');
    const contributed = join(scratch, 'chain-1.zkey');
    await addon.newZkey(demo.r1csPath, ptauPath, initial);
    await snarkjs.zKey.contribute(initial, contributed, 'test', randomBytes(32).toString('hex'));
    const options = { stage: 'zkey:verify', describe: 'test verify' };
    const errors: string[] = [];
    const logger = snarkjsLogger('zkey:verify', undefined, errors);
    expect(await verifyZkeyFromR1cs(demo.r1csPath, ptauPath, contributed, logger, options)).toBe(true);
    expect(await snarkjs.zKey.verifyFromR1cs(demo.r1csPath, ptauPath, contributed)).toBe(true);
    // The multiplier's r1cs against the demo's key: snarkjs's check fails, so ours does.
    const original = console.log;
    console.log = () => {};
    try {
      expect(await verifyZkeyFromR1cs(multiplier.r1csPath, ptauPath, contributed, logger, options)).toBe(false);
    } finally {
      console.log = original;
    }
  }, 300_000);

  it("matches snarkjs on a domain of 2^15 with a ptau of exactly that power, where snarkjs's hash reads past a section", async () => {
    // 2^14 + 1 rows (one real constraint, the rest empty, one public output) need a domain of 2^15: snarkjs's H check
    // then hashes one point made from the 64 bytes after the ptau's tau section, which newZkey takes from snarkjs.
    const ptau15 = (await ensureDevPtau(resolveCacheDir(), 15)).path;
    const r1cs = join(scratch, 'wide.r1cs');
    await writeFile(r1cs, syntheticR1cs(2 ** 14));
    const wide = { r1csPath: r1cs } as CompiledCircuit;
    const [expectedPath, expectedHash] = await snarkjsZkey(wide, ptau15, 'wide');
    const path = join(scratch, 'wide.native.zkey');
    await expectRefusal(addon.newZkey(r1cs, ptau15, path), 'SETUP_UNSUPPORTED', /exactly that power/, path);
    const made = await newZkey(r1cs, ptau15, path, { stage: 'zkey:new', describe: 'wide' });
    expect(made.engine).toBe('native');
    expect(readFileSync(path).equals(readFileSync(expectedPath)), 'the zkeys differ').toBe(true);
    expect(Buffer.from(made.circuitHash).toString('hex')).toBe(Buffer.from(expectedHash).toString('hex'));
  }, 600_000);

  it("contributes in snarkjs's format: snarkjs contributes after it and verifies the chain, and the key proves", async () => {
    const stage = { stage: 'zkey:contribute' };
    const initial = join(scratch, 'contribute-0.zkey');
    await addon.newZkey(demo.r1csPath, ptauPath, initial);
    const once = join(scratch, 'contribute-1.zkey');
    const twice = join(scratch, 'contribute-2.zkey');
    const thrice = join(scratch, 'contribute-3.zkey');
    const first = await contributeZkey(initial, once, 'first', 'entropy one', stage);
    const second = await contributeZkey(once, twice, 'second', 'entropy two', stage);
    expect([first.engine, second.engine]).toEqual(['native', 'native']);
    const third = (await snarkjs.zKey.contribute(twice, thrice, 'third', 'entropy three')) as Uint8Array;
    expect(await snarkjs.zKey.verifyFromR1cs(demo.r1csPath, ptauPath, thrice)).toBe(true);
    const info = await readZkeyInfo(thrice);
    expect(info.contributions.map((step) => [step.name, step.hash])).toEqual([
      ['first', Buffer.from(first.contributionHash).toString('hex')],
      ['second', Buffer.from(second.contributionHash).toString('hex')],
      ['third', Buffer.from(third).toString('hex')],
    ]);
    // A proof with the natively contributed key verifies with its verification key, and not with the initial one.
    const vkey = await snarkjs.zKey.exportVerificationKey(twice);
    const witness = { type: 'mem' } as { type: 'mem'; data?: Uint8Array };
    const input = rangeCommitmentInput(sampleAges(1), 18, 99, 123456789n);
    await snarkjs.wtns.calculate(input as never, demo.wasmPath, witness as never);
    const key = addon.loadProvingKey(new Uint8Array(await readFile(twice)));
    const { proof, publicSignals } = await addon.prove(key, witness.data!);
    expect(await snarkjs.groth16.verify(vkey as never, publicSignals, proof as never)).toBe(true);
    const initialVkey = await snarkjs.zKey.exportVerificationKey(initial);
    expect(await snarkjs.groth16.verify(initialVkey as never, publicSignals, proof as never)).toBe(false);
    // A damaged L point is refused, and no key is written.
    const bytes = await readFile(once);
    const l = sectionOffset(bytes, 8);
    bytes.writeUInt8(bytes.readUInt8(l + 7) ^ 1, l + 7);
    const damaged = join(scratch, 'contribute-damaged.zkey');
    await writeFile(damaged, bytes);
    const out = join(scratch, 'contribute-refused.zkey');
    await expect(contributeZkey(damaged, out, 'x', 'y', stage)).rejects.toThrow(/not on G1/);
    expect(existsSync(out)).toBe(false);
    // A key whose delta is not its chain's (here the initial key's delta 1 after a contribution) is refused: a
    // contribution publishes delta times those points.
    const swapped = await readFile(once);
    const header = sectionOffset(swapped, 2);
    (await readFile(initial)).copy(
      swapped,
      header + 468,
      sectionOffset(await readFile(initial), 2) + 468,
      sectionOffset(await readFile(initial), 2) + 660,
    );
    const forged = join(scratch, 'contribute-forged.zkey');
    await writeFile(forged, swapped);
    await expect(contributeZkey(forged, out, 'x', 'y', stage)).rejects.toThrow(/not those of its contribution chain/);
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it('refuses a small, unprepared, damaged, missing or special file with a typed error and leaves no zkey', async () => {
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const raw = join(scratch, 'pot1_raw.ptau');
    const small = join(scratch, 'pot1.ptau');
    await snarkjs.powersOfTau.newAccumulator(curve, 1, raw);
    await snarkjs.powersOfTau.preparePhase2(raw, small);
    const out = join(scratch, 'refused.zkey');

    // The multiplier needs power 2; snarkjs says the same ("circuit too big").
    await expectRefusal(addon.newZkey(multiplier.r1csPath, small, out), 'PTAU_TOO_SMALL', /power 2.*has power 1/, out);
    const rawBig = join(scratch, 'pot3_raw.ptau');
    await snarkjs.powersOfTau.newAccumulator(curve, 3, rawBig);
    await expectRefusal(addon.newZkey(multiplier.r1csPath, rawBig, out), 'PTAU_NOT_PREPARED', /not prepared/, out);

    // A truncated r1cs, a truncated ptau, an r1cs that is a ptau.
    const r1cs = await readFile(demo.r1csPath);
    const cut = join(scratch, 'cut.r1cs');
    await writeFile(cut, r1cs.subarray(0, r1cs.length - 100));
    await expectRefusal(addon.newZkey(cut, ptauPath, out), 'R1CS_INVALID', /invalid r1cs/, out);
    const ptau = await readFile(small);
    const cutPtau = join(scratch, 'cut.ptau');
    await writeFile(cutPtau, ptau.subarray(0, ptau.length - 64));
    await expectRefusal(addon.newZkey(multiplier.r1csPath, cutPtau, out), 'PTAU_INVALID', /invalid ptau/, out);
    await expectRefusal(addon.newZkey(small, ptauPath, out), 'R1CS_INVALID', /does not start with "r1cs"/, out);

    // A point of the Lagrange section moved off the curve: refused, not turned into a key.
    const damaged = join(scratch, 'damaged.ptau');
    await copyFile(ptauPath, damaged);
    const bytes = await readFile(damaged);
    const section12 = sectionOffset(bytes, 12);
    bytes.writeUInt8(bytes.readUInt8(section12 + 3 * 64 + 5) ^ 1, section12 + 3 * 64 + 5); // the multiplier's domain (4 points) starts at point 3
    await writeFile(damaged, bytes);
    await expectRefusal(addon.newZkey(multiplier.r1csPath, damaged, out), 'PTAU_INVALID', /not on G1/, out);

    // Missing files, a FIFO (never waited on), and a zkey that is there already (kept as it was).
    await expectRefusal(addon.newZkey(join(scratch, 'none.r1cs'), ptauPath, out), 'R1CS_UNREADABLE', /none\.r1cs/, out);
    await expectRefusal(addon.newZkey(multiplier.r1csPath, join(scratch, 'none.ptau'), out), 'PTAU_UNREADABLE', /none/);
    const fifo = join(scratch, 'fifo.ptau');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await expectRefusal(addon.newZkey(multiplier.r1csPath, fifo, out), 'PTAU_UNREADABLE', /not a regular file/, out);
    const existing = join(scratch, 'existing.zkey');
    await writeFile(existing, 'keep me');
    await expectRefusal(addon.newZkey(multiplier.r1csPath, ptauPath, existing), 'SETUP_WRITE_FAILED', /exists/);
    expect(await readFile(existing, 'utf8')).toBe('keep me');

    // Through newZkey, the same refusals are SetupErrors naming the step.
    await expect(
      newZkey(multiplier.r1csPath, small, out, { stage: 'zkey:new', describe: 'groth16 setup of multiplier' }),
    ).rejects.toThrow(SetupError);
    await expect(
      newZkey(multiplier.r1csPath, small, out, { stage: 'zkey:new', describe: 'groth16 setup of multiplier' }),
    ).rejects.toThrow(/groth16 setup of multiplier failed: the circuit needs a ptau of power 2/);
  }, 300_000);
});

/** Where section `type`'s bytes start in a binfile. */
function sectionOffset(bytes: Buffer, type: number): number {
  let position = 12;
  for (let i = 0; i < bytes.readUInt32LE(8); i += 1) {
    const id = bytes.readUInt32LE(position);
    const size = Number(bytes.readBigUInt64LE(position + 4));
    if (id === type) return position + 12;
    position += 12 + size;
  }
  throw new Error(`no section ${type}`);
}

/**
 * An r1cs of `rows` constraints over three wires (the constant, one public output, one private input): the first is
 * 5 x * -x = out, the others are empty. Built by hand in circom's format (sections 1 and 2 are all \`zkey new\` reads).
 */
function syntheticR1cs(rows: number): Buffer {
  const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
  const element = (value: bigint) => {
    const out = Buffer.alloc(32);
    for (let i = 0; i < 32; i += 1) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const u32 = (value: number) => {
    const out = Buffer.alloc(4);
    out.writeUInt32LE(value);
    return out;
  };
  const header = Buffer.concat([u32(32), element(R), u32(3), u32(1), u32(0), u32(1), Buffer.alloc(8), u32(rows)]);
  const first = Buffer.concat([
    u32(1),
    u32(2),
    element(5n), // A: 5 x
    u32(1),
    u32(2),
    element(R - 1n), // B: -x
    u32(1),
    u32(1),
    element(1n), // C: out
  ]);
  const constraints = Buffer.concat([first, Buffer.alloc(12 * (rows - 1))]);
  const section = (type: number, body: Buffer) => {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(type, 0);
    head.writeBigUInt64LE(BigInt(body.length), 4);
    return Buffer.concat([head, body]);
  };
  const magic = Buffer.concat([Buffer.from('r1cs', 'latin1'), u32(1), u32(2)]);
  return Buffer.concat([magic, section(1, header), section(2, constraints)]);
}
