/**
 * The native prover's arithmetic (native/src) against ffjavascript and snarkjs (fast tier: no circuit): field
 * operations with their edges, G1 and G2 addition and doubling with the special cases, multi-scalar multiplications
 * of 1 to 2^12 points with zero, one and repeated scalars, the NTT and its inverse on snarkjs's domains, and the
 * scaling of many points by one scalar (a phase-2 contribution's work).
 */
import { randomBytes } from 'node:crypto';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeProverAddon } from '../src/prover/native/addon.ts';
import { nativeProver } from '../src/prover/native/index.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { bytesOf, valueOf } from './helpers/field-bytes.ts';

const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

interface G {
  g: Uint8Array;
  zero: Uint8Array;
  timesScalar(p: Uint8Array, k: Uint8Array): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  double(a: Uint8Array): Uint8Array;
  neg(a: Uint8Array): Uint8Array;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  toRprLEM(buff: Uint8Array, offset: number, p: Uint8Array): void;
  fromRprLEM(buff: Uint8Array, offset: number): Uint8Array;
  multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  F: { n8: number };
}
interface Curve {
  G1: G;
  G2: G;
  Fr: {
    fft(b: Uint8Array): Promise<Uint8Array>;
    ifft(b: Uint8Array): Promise<Uint8Array>;
    batchToMontgomery(b: Uint8Array): Promise<Uint8Array>;
    batchFromMontgomery(b: Uint8Array): Promise<Uint8Array>;
  };
  terminate(): Promise<void>;
}

let addon: NativeProverAddon;
let curve: Curve;

const randomBelow = (modulus: bigint): bigint => valueOf(randomBytes(40)) % modulus;
const modPow = (base: bigint, exponent: bigint, modulus: bigint): bigint => {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
};

/** A point's snarkjs LEM bytes (affine, little-endian Montgomery; zeros for infinity). */
const lem = (group: G, point: Uint8Array): Uint8Array => {
  const out = new Uint8Array(group.F.n8 * 2);
  group.toRprLEM(out, 0, point);
  return out;
};
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const randomPoint = (group: G): Uint8Array => group.timesScalar(group.g, bytesOf(randomBelow(R)));

beforeAll(async () => {
  const { status, addon: loaded } = await nativeProver();
  if (!status.available || !loaded)
    throw new Error(`the native prover is not available: ${status.available ? '' : status.reason}`);
  addon = loaded;
  curve = await (
    snarkjs as unknown as { curves: { getCurveFromName(name: string): Promise<Curve> } }
  ).curves.getCurveFromName('bn128');
}, 300_000); // builds the addon when npm install did not

afterAll(async () => {
  await releaseCurves();
});

describe('native field arithmetic', () => {
  const edges = (p: bigint) => [0n, 1n, 2n, p - 1n, p - 2n, (p - 1n) / 2n, (p + 1n) / 2n, 1n << 253n, (1n << 64n) - 1n];
  for (const [name, p] of [
    ['q', Q],
    ['r', R],
  ] as const) {
    it(`Fp(${name}): add, sub, mul (both products), square, neg and inverse match BigInt arithmetic at the edges and on random values`, () => {
      const values = [...edges(p), ...Array.from({ length: 400 }, () => randomBelow(p))];
      for (let i = 0; i < values.length; i++) {
        const a = values[i]!;
        const b = values[(i * 7 + 3) % values.length]!;
        const field = (op: Parameters<NativeProverAddon['testing']['field']>[0], second?: bigint) =>
          valueOf(addon.testing.field(op, name, bytesOf(a), second === undefined ? undefined : bytesOf(second)));
        expect(field('add', b)).toBe((a + b) % p);
        expect(field('sub', b)).toBe((((a - b) % p) + p) % p);
        expect(field('mul', b)).toBe((a * b) % p);
        expect(field('mul-portable', b)).toBe((a * b) % p);
        expect(field('square')).toBe((a * a) % p);
        expect(field('neg')).toBe((p - a) % p);
        expect(field('inverse')).toBe(a === 0n ? 0n : modPow(a, p - 2n, p));
      }
    });
  }

  it('refuses an element that is not reduced', () => {
    expect(() => addon.testing.field('add', 'r', bytesOf(R), bytesOf(1n))).toThrow(/not reduced/);
  });
});

describe('native curve arithmetic', () => {
  for (const name of ['G1', 'G2'] as const) {
    it(`${name}: addition, mixed addition and doubling match ffjavascript, with infinity, P + P and P + (-P)`, () => {
      const group = curve[name];
      const op = name.toLowerCase() as 'g1' | 'g2';
      const check = (native: Uint8Array, expected: Uint8Array) =>
        expect(group.eq(group.fromRprLEM(native, 0), expected)).toBe(true);
      for (let i = 0; i < 20; i++) {
        const p = randomPoint(group);
        const q = randomPoint(group);
        check(addon.testing.curve(op, 'add', concat([lem(group, p), lem(group, q)])), group.add(p, q));
        check(addon.testing.curve(op, 'madd', concat([lem(group, p), lem(group, q)])), group.add(p, q));
        check(addon.testing.curve(op, 'double', lem(group, p)), group.double(p));
      }
      const p = randomPoint(group);
      const infinity = lem(group, group.zero);
      expect([...infinity].every((byte) => byte === 0)).toBe(true);
      for (const kind of ['add', 'madd'] as const) {
        check(addon.testing.curve(op, kind, concat([lem(group, p), lem(group, p)])), group.double(p));
        check(addon.testing.curve(op, kind, concat([lem(group, p), lem(group, group.neg(p))])), group.zero);
        check(addon.testing.curve(op, kind, concat([infinity, lem(group, p)])), p);
        check(addon.testing.curve(op, kind, concat([lem(group, p), infinity])), p);
        check(addon.testing.curve(op, kind, concat([infinity, infinity])), group.zero);
      }
      check(addon.testing.curve(op, 'double', infinity), group.zero);
    });

    it(`${name}: multi-scalar multiplication of 1 to 4096 points matches snarkjs, with zero, one and repeated scalars`, async () => {
      const group = curve[name];
      const op = name.toLowerCase() as 'g1' | 'g2';
      const sizes = name === 'G1' ? [1, 2, 3, 31, 32, 100, 1000, 4096] : [1, 2, 33, 300, 1024];
      const pool = Array.from({ length: 64 }, () => lem(group, randomPoint(group)));
      for (const size of sizes) {
        const bases = concat(
          Array.from({ length: size }, (_, i) => (i % 17 === 5 ? lem(group, group.zero) : pool[i % pool.length]!)),
        );
        const repeated = randomBelow(R);
        const scalars = concat(
          Array.from({ length: size }, (_, i) =>
            bytesOf([0n, 1n, R - 1n, repeated, 2n ** 253n][i % 7] ?? randomBelow(R)),
          ),
        );
        for (const threads of [1, 2]) {
          const native = addon.testing.curve(op, 'msm', bases, scalars, threads);
          const expected = await group.multiExpAffine(bases, scalars);
          expect(group.eq(group.fromRprLEM(native, 0), expected), `${size} points, ${threads} threads`).toBe(true);
        }
      }
    }, 120_000);
  }
});

describe('native multi-scalar multiplication, crowded buckets', () => {
  it('20,000 points with one and the same scalar (every point in one bucket per window) match snarkjs', async () => {
    // Regression: points for a busy bucket once waited in a list retried at every batch, quadratic in the points of
    // one bucket (28 s here for 20,000 equal scalars, and proving time that told whether private values repeat).
    const group = curve.G1;
    const pool = Array.from({ length: 16 }, () => lem(group, randomPoint(group)));
    const size = 20_000;
    const bases = concat(Array.from({ length: size }, (_, i) => pool[i % pool.length]!));
    for (const scalar of [R - 1n, randomBelow(R)]) {
      const scalars = concat(Array.from({ length: size }, () => bytesOf(scalar)));
      const native = addon.testing.curve('g1', 'msm', bases, scalars, 2);
      expect(group.eq(group.fromRprLEM(native, 0), await group.multiExpAffine(bases, scalars))).toBe(true);
    }
  }, 60_000);
});

describe('native scaling of G1 points by one scalar (a contribution)', () => {
  it('matches ffjavascript for scalars at the edges, infinity among the points, across blocks of 256', async () => {
    const group = curve.G1;
    const points = Array.from({ length: 300 }, (_, i) => (i % 97 === 13 ? group.zero : randomPoint(group)));
    const bytes = concat(points.map((point) => lem(group, point)));
    for (const k of [1n, 2n, 15n, 16n, R - 1n, R - 2n, R - 30n, randomBelow(R), randomBelow(R)]) {
      const scaled = await addon.scaleG1Points(bytes, bytesOf(k), { threads: 2 });
      points.forEach((point, i) => {
        const expected = lem(group, group.timesScalar(point, bytesOf(k)));
        expect(
          Buffer.from(scaled.subarray(64 * i, 64 * i + 64)).equals(Buffer.from(expected)),
          `k ${k}, point ${i}`,
        ).toBe(true);
      });
    }
    expect(await addon.scaleG1Points(new Uint8Array(0), bytesOf(5n))).toHaveLength(0);
    const offCurve = Uint8Array.from(bytes);
    offCurve[64 * 7 + 3] = offCurve[64 * 7 + 3]! ^ 1;
    await expect(addon.scaleG1Points(offCurve, bytesOf(5n))).rejects.toMatchObject({ code: 'ZKEY_INVALID' });
    expect(() => addon.scaleG1Points(bytes, bytesOf(R))).toThrow(/not below/);
    expect(() => addon.scaleG1Points(bytes.subarray(1), bytesOf(5n))).toThrow(/64 bytes/);
  });
});

describe('native NTT', () => {
  it("transforms and inverts on snarkjs's domains of 2 to 2^12 points, like ffjavascript's fft and ifft", async () => {
    for (const power of [1, 2, 3, 5, 8, 12]) {
      const values = concat(Array.from({ length: 2 ** power }, (_, i) => bytesOf(i < 3 ? BigInt(i) : randomBelow(R))));
      const montgomery = await curve.Fr.batchToMontgomery(values);
      const forward = await curve.Fr.batchFromMontgomery(await curve.Fr.fft(montgomery));
      const inverse = await curve.Fr.batchFromMontgomery(await curve.Fr.ifft(montgomery));
      expect(Buffer.from(addon.testing.ntt(values, false)).equals(Buffer.from(forward)), `fft 2^${power}`).toBe(true);
      expect(Buffer.from(addon.testing.ntt(values, true)).equals(Buffer.from(inverse)), `ifft 2^${power}`).toBe(true);
      expect(Buffer.from(addon.testing.ntt(addon.testing.ntt(values, false), true)).equals(Buffer.from(values))).toBe(
        true,
      );
    }
  });
});
