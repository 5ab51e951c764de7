/**
 * The native Poseidon (native/src/poseidon.hpp, src/crypto/poseidon-native.ts) against poseidon-lite (fast tier: no
 * circuit): every width on random inputs and at the edges, sponges of many lengths, batches, the fallback for values
 * that are not field elements, and the addon's refusals of bad arguments.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { poseidonSpongeJs, poseidonJs, poseidon, poseidonSponge, poseidonSponges } from '../src/crypto/poseidon.ts';
import {
  hashesAsPoseidonLite,
  nativePoseidonSponges,
  poseidonIsNative,
  poseidonLiteTables,
} from '../src/crypto/poseidon-native.ts';
import { merkleLevels } from '../src/crypto/merkle.ts';
import type { NativeProverAddon } from '../src/prover/native/addon.ts';
import { nativeProver } from '../src/prover/native/index.ts';
import { bytesOf, valueOf } from './helpers/field-bytes.ts';
import { runNode } from './helpers/run-cli.ts';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const randomField = (): bigint => valueOf(randomBytes(40)) % R;

let addon: NativeProverAddon;

beforeAll(async () => {
  const { status, addon: loaded } = await nativeProver();
  if (!status.available || !loaded)
    throw new Error(`the native prover is not available: ${status.available ? '' : status.reason}`);
  addon = loaded;
}, 300_000); // builds the addon when npm install did not

describe('native Poseidon', () => {
  it('is the one poseidon() and poseidonSponge() use when the addon is built', () => {
    expect(poseidonIsNative()).toBe(true);
  });

  it('is trusted only after it hashed a list at every width and a long sponge as poseidon-lite does', () => {
    const { constants, mds } = poseidonLiteTables();
    const sponges = addon.poseidonSponges!.bind(addon);
    const real = { handle: addon.createPoseidon!(constants, mds), sponges };
    expect(hashesAsPoseidonLite(real)).toBe(true);
    // the same addon with the MDS matrices of two widths swapped in their rows: another hash, refused
    const wrongMds = mds.map((table) => table.slice());
    wrongMds[15]!.set(mds[15]!.subarray(32, 64), 0);
    expect(hashesAsPoseidonLite({ handle: addon.createPoseidon!(constants, wrongMds), sponges })).toBe(false);
    // an addon that answers zeros, or one answer short
    expect(
      hashesAsPoseidonLite({ handle: real.handle, sponges: (_h, _e, counts) => new Uint8Array(32 * counts.length) }),
    ).toBe(false);
    expect(
      hashesAsPoseidonLite({ handle: real.handle, sponges: (h, e, counts) => sponges(h, e, counts).subarray(32) }),
    ).toBe(false);
  });

  it('matches poseidon-lite at every width (1 to 16 inputs) on random inputs and at the edges', () => {
    const edges = [0n, 1n, 2n, R - 1n, R - 2n, (R - 1n) / 2n, (1n << 253n) - 1n];
    for (let inputs = 1; inputs <= 16; inputs += 1) {
      const cases = [
        Array.from({ length: inputs }, (_, i) => edges[i % edges.length] as bigint),
        Array.from({ length: inputs }, () => 0n),
        ...Array.from({ length: 6 }, () => Array.from({ length: inputs }, randomField)),
      ];
      const native = nativePoseidonSponges(cases);
      expect(native).toBeDefined();
      cases.forEach((values, index) => {
        const expected = poseidonJs(values);
        expect(native?.[index], `${inputs} inputs, case ${index}`).toBe(expected);
        expect(poseidon(values)).toBe(expected);
      });
    }
  });

  it('sponges of 1 to 70 elements, one by one and in one batch, match the JavaScript sponge', () => {
    const lists = Array.from({ length: 70 }, (_, i) => Array.from({ length: i + 1 }, randomField));
    const batch = poseidonSponges(lists);
    lists.forEach((list, index) => {
      const expected = poseidonSpongeJs(list);
      expect(batch[index], `${list.length} elements`).toBe(expected);
      expect(poseidonSponge(list)).toBe(expected);
    });
  });

  it('a Merkle tree built natively level by level is the tree of poseidon-lite', () => {
    const leaves = Array.from({ length: 13 }, randomField);
    const levels = merkleLevels(leaves, 4);
    for (let h = 0; h < 4; h += 1)
      levels[h + 1]!.forEach((node, i) => {
        const left = levels[h]![2 * i]!;
        const right = levels[h]![2 * i + 1]!;
        expect(node).toBe(poseidonJs([left, right]));
      });
  });

  it('leaves a value that is not a field element to poseidon-lite (the same result as before, digit for digit)', () => {
    for (const odd of [R, R + 5n, (1n << 256n) - 1n, -1n]) {
      expect(nativePoseidonSponges([[odd, 1n]])).toBeUndefined();
      expect(poseidon([odd, 1n])).toBe(poseidonJs([odd, 1n]));
      expect(poseidonSponge([3n, odd])).toBe(poseidonSpongeJs([3n, odd]));
    }
  });

  it('falls back to poseidon-lite, with the same hashes, when the addon is turned off (ZKAI_NATIVE_ADDON=none)', async () => {
    const module = (name: string) => new URL(`../src/crypto/${name}`, import.meta.url).href;
    const code = [
      `const { poseidonSponge, poseidon } = await import(${JSON.stringify(module('poseidon.ts'))});`,
      `const { poseidonIsNative } = await import(${JSON.stringify(module('poseidon-native.ts'))});`,
      'console.log(JSON.stringify({ native: poseidonIsNative(), sponge: String(poseidonSponge([1n, 2n, 3n])), pair: String(poseidon([4n, 5n])) }));',
    ].join('\n');
    const run = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, ZKAI_NATIVE_ADDON: 'none' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      native: false,
      sponge: String(poseidonSponge([1n, 2n, 3n])),
      pair: String(poseidonJs([4n, 5n])),
    });
  }, 60_000);

  it('the addon refuses bad arguments with an error, never a crash', () => {
    const sponges = addon.poseidonSponges!.bind(addon);
    const create = addon.createPoseidon!.bind(addon);
    const key = addon.loadProvingKey; // a function, not a handle
    const one = bytesOf(1n);
    const handleOf = (): unknown => {
      // a real handle, made from tables of the right sizes (any values below r make a valid, if different, hash)
      const widths = Array.from({ length: 16 }, (_, i) => i + 2);
      const partial = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];
      return create(
        widths.map((t, i) => new Uint8Array(32 * t * (8 + partial[i]!))),
        widths.map((t) => new Uint8Array(32 * t * t)),
      );
    };
    const handle = handleOf();
    expect(() => sponges({}, one, new Uint32Array([1]))).toThrow(/not a handle from createPoseidon/);
    expect(() => sponges(key, one, new Uint32Array([1]))).toThrow(/not a handle from createPoseidon/);
    expect(() => sponges(handle, one.subarray(0, 31), new Uint32Array([1]))).toThrow(/32 bytes per element/);
    expect(() => sponges(handle, bytesOf(R), new Uint32Array([1]))).toThrow(/not below the field's modulus/);
    expect(() => sponges(handle, one, new Uint32Array([2]))).toThrow(/add up to 2 elements, but 1 were given/);
    expect(() => sponges(handle, one, new Uint32Array([0, 1]))).toThrow(/list 0 is empty/);
    expect(() => sponges(handle, one, new Int32Array([1]) as unknown as Uint32Array)).toThrow(/Uint32Array/);
    expect(() => create([], [])).toThrow(/one table per width/);
    expect(() =>
      create(
        Array.from({ length: 16 }, () => new Uint8Array(32)),
        Array.from({ length: 16 }, () => new Uint8Array(32)),
      ),
    ).toThrow(/width 2 needs 4096 bytes of constants/);
    expect(sponges(handle, new Uint8Array(0), new Uint32Array(0))).toHaveLength(0);
  });
});
