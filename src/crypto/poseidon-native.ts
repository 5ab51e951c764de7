/**
 * Poseidon sponges in the native addon (native/src/poseidon.hpp): the same hashes as poseidon-lite, from its own round
 * constants and MDS matrices, about 40 times faster than its JavaScript. src/crypto/poseidon.ts uses it whenever the
 * addon is already built (a hash never waits for a compiler; `npm install` builds it) and falls back to poseidon-lite
 * otherwise. `ZKAI_NATIVE_ADDON=none` turns it off, as it turns off the native prover.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { builtNativeAddon } from '../prover/native/index.ts';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { poseidonSpongeJs } from './poseidon-js.ts';

/** Widths of circomlib's Poseidon: t = inputs + 1, 2 to 17. */
const WIDTHS = Array.from({ length: 16 }, (_, index) => index + 2);

/** poseidon-lite's tables of every width t = 2 to 17 (its `constants/<t - 1>.js`), as the addon takes them (index t - 2). */
export function poseidonLiteTables(): { constants: Uint8Array[]; mds: Uint8Array[] } {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('poseidon-lite'));
  const unstringifyModule = require(join(root, 'poseidon', 'unstringify.js')) as {
    default: (raw: unknown) => { C: bigint[]; M: bigint[][] };
  };
  const constants: Uint8Array[] = [];
  const mds: Uint8Array[] = [];
  for (const t of WIDTHS) {
    const raw = (require(join(root, 'constants', `${t - 1}.js`)) as { default: unknown }).default;
    const { C, M } = unstringifyModule.default(raw);
    constants.push(elementBytes(C));
    mds.push(elementBytes(M.flat()));
  }
  return { constants, mds };
}

/** 32 little-endian bytes per element (each in [0, 2^256)). */
function elementBytes(elements: readonly bigint[]): Uint8Array {
  const bytes = new Uint8Array(32 * elements.length);
  const view = new DataView(bytes.buffer);
  elements.forEach((element, index) => writeElement(view, 32 * index, element));
  return bytes;
}

const MASK_64 = (1n << 64n) - 1n;

function writeElement(view: DataView, offset: number, element: bigint): void {
  view.setBigUint64(offset, element & MASK_64, true);
  view.setBigUint64(offset + 8, (element >> 64n) & MASK_64, true);
  view.setBigUint64(offset + 16, (element >> 128n) & MASK_64, true);
  view.setBigUint64(offset + 24, element >> 192n, true);
}

function readElement(view: DataView, offset: number): bigint {
  return (
    view.getBigUint64(offset, true) |
    (view.getBigUint64(offset + 8, true) << 64n) |
    (view.getBigUint64(offset + 16, true) << 128n) |
    (view.getBigUint64(offset + 24, true) << 192n)
  );
}

/** A Poseidon handle of the addon and its sponge function. */
export interface NativeSponge {
  handle: unknown;
  sponges: (handle: unknown, elements: Uint8Array, counts: Uint32Array) => Uint8Array;
}

/** The addon's Poseidon, looked up once per thread: `null` when there is none (an addon built before it counts as none). */
let nativeSponge: NativeSponge | null | undefined;

function loadNativeSponge(): NativeSponge | null {
  const addon = builtNativeAddon();
  if (!addon?.createPoseidon || !addon.poseidonSponges) return null;
  try {
    const { constants, mds } = poseidonLiteTables();
    const loaded = { handle: addon.createPoseidon(constants, mds), sponges: addon.poseidonSponges.bind(addon) };
    return hashesAsPoseidonLite(loaded) ? loaded : null;
  } catch {
    return null;
  }
}

/**
 * Whether the addon hashes as poseidon-lite does: one list at every width and a sponge of several calls, before it is
 * trusted (a miscompiled or mismatched addon falls back to JavaScript, never changes a root a verifier recomputes).
 * About 40 ms of poseidon-lite, once per thread. It catches mistakes, not malice: whoever can replace the addon file
 * runs code in this process anyway.
 */
export function hashesAsPoseidonLite(native: NativeSponge): boolean {
  const lists = WIDTHS.map((t) =>
    Array.from({ length: t - 1 }, (_, i) => BigInt(t * 1_000_003 + i) ** 5n % BN254_SCALAR_FIELD),
  );
  const long = Array.from({ length: 40 }, (_, i) => BigInt(i) * 0x1234567890abcdefn);
  const expected = [...lists, long].map(poseidonSpongeJs);
  let got: bigint[];
  try {
    got = spongesWith(native, [...lists, long]);
  } catch {
    return false;
  }
  return got.length === lists.length + 1 && got.every((hash, i) => hash === expected[i]);
}

/**
 * The sponge (src/crypto/poseidon.ts's `spongeChunks`) of each list, computed natively in one call; `undefined` when
 * the addon is not built, or when an element is not a field element in [0, r) (the caller then hashes with
 * poseidon-lite, whose result for such inputs this would not reproduce digit for digit).
 */
export function nativePoseidonSponges(lists: ReadonlyArray<readonly bigint[]>): bigint[] | undefined {
  if (nativeSponge === undefined) nativeSponge = loadNativeSponge();
  if (nativeSponge === null) return undefined;
  for (const list of lists) {
    if (list.length === 0) return undefined;
    for (const element of list)
      if (typeof element !== 'bigint' || element < 0n || element >= BN254_SCALAR_FIELD) return undefined;
  }
  try {
    return spongesWith(nativeSponge, lists);
  } catch {
    return undefined; // out of memory in the addon, say: poseidon-lite hashes instead
  }
}

/** The addon's sponges of lists of field elements (checked by the caller). */
function spongesWith(native: NativeSponge, lists: ReadonlyArray<readonly bigint[]>): bigint[] {
  const total = lists.reduce((sum, list) => sum + list.length, 0);
  const bytes = new Uint8Array(32 * total);
  const view = new DataView(bytes.buffer);
  const counts = new Uint32Array(lists.length);
  let offset = 0;
  for (const [index, list] of lists.entries()) {
    counts[index] = list.length;
    for (const element of list) {
      writeElement(view, offset, element);
      offset += 32;
    }
  }
  const out = native.sponges(native.handle, bytes, counts);
  if (out.byteLength !== 32 * lists.length)
    throw new Error(`the addon answered ${out.byteLength} bytes for ${lists.length} sponges`);
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  return Array.from({ length: lists.length }, (_, index) => readElement(outView, 32 * index));
}

/** Whether Poseidon hashes run natively in this thread (for `zkai doctor` and the tests). */
export function poseidonIsNative(): boolean {
  if (nativeSponge === undefined) nativeSponge = loadNativeSponge();
  return nativeSponge !== null;
}
