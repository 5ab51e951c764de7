import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { requiredPtauPower } from '../src/setup/power.ts';
import { ensureDevPtau, findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { readPtauHeader } from '../src/setup/ptau-file.ts';
import { HERMEZ_PTAU } from '../src/setup/hermez-ptau.ts';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { SetupError } from '../src/errors.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { testCircuit } from './helpers/run-cli.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-setup-'));
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('ptau power rule (snarkjs zkey_new: floor(log2(constraints + public inputs + outputs)) + 1)', () => {
  const power = (constraints: number, publicInputs = 0, outputs = 0) =>
    requiredPtauPower({ constraints, publicInputs, outputs });
  it('is exact at the boundaries', () => {
    expect(power(0)).toBe(1);
    expect(power(1)).toBe(1);
    expect(power(2)).toBe(2);
    expect(power(3)).toBe(2);
    expect(power(4)).toBe(3);
    expect(power(2047)).toBe(11);
    expect(power(2048)).toBe(12); // exactly 2^11 needs 2^12: ceil(log2(n)) would say 11
    expect(power(2045, 1, 1)).toBe(11);
    expect(power(2046, 1, 1)).toBe(12); // public signals count
    expect(power(2 ** 16 - 1)).toBe(16);
    expect(power(2 ** 16)).toBe(17);
  });
  it('matches snarkjs: a ptau one power too small is refused by snarkjs itself, the required one is accepted', async () => {
    const cacheDir = resolveCacheDir();
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const needed = requiredPtauPower(circuit.info); // 1 constraint + 1 public + 1 output = 3 -> 2
    expect(needed).toBe(2);
    const small = join(scratch, 'pot1.ptau');
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, needed - 1, join(scratch, 'pot1_0.ptau'));
    await snarkjs.powersOfTau.preparePhase2(join(scratch, 'pot1_0.ptau'), small);
    // snarkjs does not throw here: it logs "circuit too big" and returns -1.
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    await expect(snarkjs.zKey.newZKey(circuit.r1csPath, small, join(scratch, 'x.zkey'), logger)).resolves.toBe(-1);
    expect(errors.join()).toMatch(/too big/i);
    const fits = await ensureDevPtau(cacheDir, needed);
    await expect(snarkjs.zKey.newZKey(circuit.r1csPath, fits.path, join(scratch, 'y.zkey'))).resolves.not.toBe(-1);
    // And zkai refuses the small one before calling snarkjs, saying what is needed.
    await expect(setupCircuit(circuit, { ptauPath: small })).rejects.toThrow(/has power 1 but this circuit needs 2/);
  });
});

describe('trusted setup', () => {
  it('sets up the demo with a development ptau, verifies the zkey, and reuses keys on the second run', async () => {
    const circuit = await compileCircuit(testCircuit('../../circuits/demo/range_commitment.circom'));
    const keys = await setupCircuit(circuit, { verify: true });
    expect(keys.requiredPower).toBe(11);
    expect(keys.ptau.developmentOnly).toBe(true);
    expect(keys.ptau.power).toBeGreaterThanOrEqual(11);
    expect(keys.verified).toBe(true);
    expect(keys.vkey.nPublic).toBe(3);
    const again = await setupCircuit(circuit);
    expect(again.cached).toBe(true);
    expect(again.zkeyPath).toBe(keys.zkeyPath);
    expect(again.vkey).toEqual(keys.vkey);
  });

  it('sets up keys once when two setups of one circuit run at the same time: the second waits and reuses them', async () => {
    const cacheDir = join(scratch, 'concurrent');
    const circuit = await compileCircuit(testCircuit('multiplier.circom'), { cacheDir });
    const waits: string[] = [];
    const both = await Promise.all(
      [0, 1].map(() =>
        setupCircuit(circuit, {
          cacheDir,
          onProgress: (event) => {
            if (event.message?.includes('waiting for process')) waits.push(event.message);
          },
        }),
      ),
    );
    expect(both.map((keys) => keys.cached).sort()).toEqual([false, true]);
    expect(both[0]!.zkeyPath).toBe(both[1]!.zkeyPath);
    // The second call waited for the first (on the ptau's lock, the keys' lock, or both, as the timing falls), and said
    // for whom; it never made keys of its own.
    for (const wait of waits) expect(wait).toMatch(/waiting for process \d+/);
    expect((await readdir(join(cacheDir, 'keys'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('reuses a larger cached development ptau instead of generating a smaller one', async () => {
    const cacheDir = resolveCacheDir();
    await ensureDevPtau(cacheDir, 11);
    const reused = await ensureDevPtau(cacheDir, 9);
    expect(reused.generated).toBe(false);
    expect(reused.power).toBeGreaterThanOrEqual(9);
    expect((await findDevPtau(cacheDir, 9))?.path).toBe(reused.path);
  });

  it('applies a beacon when asked and the result still verifies', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const keys = await setupCircuit(circuit, {
      beacon: { hashHex: '0102030405060708090a0b0c0d0e0f10', iterationsExp: 10 },
      verify: true,
      force: true,
    });
    expect(keys.verified).toBe(true);
    await expect(setupCircuit(circuit, { beacon: { hashHex: 'xyz', iterationsExp: 10 }, force: true })).rejects.toThrow(
      /beacon hash must be/,
    );
  });

  it('labels a file posing as a Hermez ptau DEVELOPMENT (its blake2b-512 is not the published one), and refuses it when production is required', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const dev = await findDevPtau(resolveCacheDir(), 2);
    const fake = join(scratch, HERMEZ_PTAU.get(8)!.fileName);
    await copyFile(dev!.path, fake);
    const keys = await setupCircuit(circuit, { ptauPath: fake });
    expect(keys.ptau).toMatchObject({ trust: 'development', developmentOnly: true, hermezVerified: false });
    expect(keys.ptau.trustReason).toMatch(
      /named the published powersOfTau28_hez_final_08\.ptau, but its blake2b-512 [0-9a-f]{16}\.\.\. is not the published d6a8fb3a04feb600\.\.\./,
    );
    const error = await setupCircuit(circuit, { ptauPath: fake, requireProductionPtau: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as Error).message).toMatch(
      /a production ptau is required, and this one is DEVELOPMENT-ONLY: it is named the published powersOfTau28_hez_final_08\.ptau/,
    );
  });

  it('rejects a ptau that is not prepared for phase 2, and a file that is not a ptau', async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    const raw = join(scratch, 'raw.ptau');
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, 4, raw);
    expect((await readPtauHeader(raw)).preparedForPhase2).toBe(false);
    await expect(setupCircuit(circuit, { ptauPath: raw })).rejects.toThrow(/not prepared for phase 2/);
    await expect(setupCircuit(circuit, { ptauPath: circuit.r1csPath })).rejects.toThrow(/not a ptau file/);
    await expect(setupCircuit(circuit, { ptauPath: join(scratch, 'absent.ptau') })).rejects.toThrow(
      /ptau file not found/,
    );
  });

  it('publishes the table it checks against, with a hash for every power from 8 to 28', () => {
    expect([...HERMEZ_PTAU.keys()]).toEqual(Array.from({ length: 21 }, (_, i) => i + 8));
    for (const entry of HERMEZ_PTAU.values()) expect(entry.blake2b512).toMatch(/^[0-9a-f]{128}$/);
  });
});
