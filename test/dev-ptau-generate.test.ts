/**
 * The direct development-ptau writer (src/setup/dev-ptau-generate.ts) against snarkjs itself: snarkjs's own
 * `prepare phase2`, run over the monomial sections we wrote, must reproduce our whole file byte for byte (so the
 * Lagrange sections `zkey new` reads are exactly what snarkjs would compute), and the monomial sections must hold
 * powers of one tau with alpha and beta (pairing checks). No compiled circuit: part of the fast tier.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDevPtauSecrets, writeDevPtau } from '../src/setup/dev-ptau-generate.ts';
import { createFixedBaseMultiplier } from '../src/setup/fixed-base.ts';
import { readPtauHeader } from '../src/setup/ptau-file.ts';
import { releaseCurves } from '../src/util/curves.ts';

const BN254_ORDER = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-dev-ptau-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await releaseCurves();
});

/** The sections of a ptau file by id: [offset of the data, size]. */
function sections(file: Buffer): Map<number, [number, number]> {
  const found = new Map<number, [number, number]>();
  let position = 12;
  for (let index = 0; index < file.readUInt32LE(8); index += 1) {
    const id = file.readUInt32LE(position);
    const size = Number(file.readBigUInt64LE(position + 4));
    found.set(id, [position + 12, size]);
    position += 12 + size;
  }
  expect(position).toBe(file.length);
  return found;
}

describe('development ptau written from known secrets', () => {
  it.each([1, 3, 5])(
    'power %i: snarkjs prepare phase2 over our monomial sections gives our file byte for byte',
    async (power) => {
      const ours = join(scratch, `ours-${power}.ptau`);
      const progress: number[] = [];
      await writeDevPtau(ours, power, { onProgress: (_section, fraction) => progress.push(fraction) });
      expect(progress.at(-1)).toBe(1);
      expect(progress.every((value, index) => index === 0 || value >= (progress[index - 1] ?? 0))).toBe(true);

      const theirs = join(scratch, `theirs-${power}.ptau`);
      await snarkjs.powersOfTau.preparePhase2(ours, theirs);
      const [a, b] = await Promise.all([readFile(ours), readFile(theirs)]);
      expect(a.length).toBe(b.length);
      expect(a.equals(b)).toBe(true);
      expect(await readPtauHeader(ours)).toMatchObject({ power, ceremonyPower: power, preparedForPhase2: true });
    },
  );

  it('holds powers of one tau, and alpha and beta times them (pairing checks on the monomial sections)', async () => {
    const power = 3;
    const secrets = freshDevPtauSecrets(BN254_ORDER);
    const path = join(scratch, 'pairing.ptau');
    await writeDevPtau(path, power, { secrets });
    const file = await readFile(path);
    const at = sections(file);
    type Group = {
      fromRprLEM(buffer: Uint8Array, offset: number): unknown;
      neg(point: unknown): unknown;
      g: unknown;
      timesScalar(point: unknown, scalar: bigint): unknown;
      eq(a: unknown, b: unknown): boolean;
    };
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as {
      G1: Group;
      G2: Group;
      pairingEq(...points: unknown[]): Promise<boolean>;
    };
    const g1 = (id: number, index: number) => curve.G1.fromRprLEM(file, (at.get(id)?.[0] ?? NaN) + index * 64);
    const g2 = (id: number, index: number) => curve.G2.fromRprLEM(file, (at.get(id)?.[0] ?? NaN) + index * 128);
    // The secrets went where they belong (a direct check, possible only because this test chose them).
    expect(curve.G1.eq(g1(2, 1), curve.G1.timesScalar(curve.G1.g, secrets.tau))).toBe(true);
    expect(curve.G1.eq(g1(4, 0), curve.G1.timesScalar(curve.G1.g, secrets.alpha))).toBe(true);
    expect(curve.G2.eq(g2(6, 0), curve.G2.timesScalar(curve.G2.g, secrets.beta))).toBe(true);
    const tauG2 = g2(3, 1);
    for (let index = 0; index < 2 * 2 ** power - 2; index += 1) {
      // e(tau^(i+1) G1, G2) = e(tau^i G1, tau G2)
      expect(await curve.pairingEq(g1(2, index + 1), curve.G2.g, curve.G1.neg(g1(2, index)), tauG2)).toBe(true);
    }
    for (let index = 0; index < 2 ** power; index += 1) {
      expect(await curve.pairingEq(g1(2, index), g2(3, 1), curve.G1.neg(g1(2, 1)), g2(3, index))).toBe(true);
      // alpha tau^i G1 and beta tau^i G1: e(x tau^i G1, G2) = e(x G1, tau^i G2)
      expect(await curve.pairingEq(g1(4, index), curve.G2.g, curve.G1.neg(g1(4, 0)), g2(3, index))).toBe(true);
      expect(await curve.pairingEq(g1(5, index), curve.G2.g, curve.G1.neg(g1(5, 0)), g2(3, index))).toBe(true);
    }
    // A different tau in one point is caught by the same check.
    expect(await curve.pairingEq(g1(2, 2), curve.G2.g, curve.G1.neg(g1(2, 0)), tauG2)).toBe(false);
  });
});

describe('fixed-base multiplication (the arithmetic of the development ptau writer)', () => {
  it('matches the library double-and-add on G1 and G2, for edge scalars and random ones', async () => {
    type Group = {
      g: Uint8Array;
      timesScalar(point: Uint8Array, scalar: bigint): Uint8Array;
      toAffine(point: Uint8Array): Uint8Array;
      eq(a: Uint8Array, b: Uint8Array): boolean;
      zeroAffine: Uint8Array;
    };
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as {
      G1: Group;
      G2: Group;
      Fr: { e(value: bigint): Uint8Array; n8: number };
    };
    const scalars = [
      0n,
      1n,
      2n,
      255n,
      256n,
      BN254_ORDER - 1n,
      (1n << 248n) - 1n, // every byte 0xff but the top one
      0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00n,
      ...Array.from({ length: 40 }, () => freshDevPtauSecrets(BN254_ORDER).tau),
    ];
    const packed = new Uint8Array(scalars.length * 32);
    scalars.forEach((scalar, index) => packed.set(curve.Fr.e(scalar), index * 32));
    const multiplier = await createFixedBaseMultiplier();
    for (const [name, pointBytes] of [
      ['G1', 64],
      ['G2', 128],
    ] as const) {
      const group = curve[name];
      const points = multiplier.multiplyGenerator(name, packed);
      expect(points.length).toBe(scalars.length * pointBytes);
      scalars.forEach((scalar, index) => {
        const ours = points.subarray(index * pointBytes, (index + 1) * pointBytes);
        const expected = scalar === 0n ? group.zeroAffine : group.toAffine(group.timesScalar(group.g, scalar));
        expect(Buffer.from(ours).equals(Buffer.from(expected)), `${name} times ${scalar}`).toBe(true);
      });
    }
    // A scalar that is not a whole number of field elements is refused.
    expect(() => multiplier.multiplyGenerator('G1', new Uint8Array(31))).toThrow(/32-byte/);
  });
});
