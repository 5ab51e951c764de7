/**
 * Fixed-base scalar multiplication on BN254: `scalar * G` for many scalars and one generator G of G1 or G2, the whole
 * work of writing a development ptau (every point of the file is a known scalar times a generator).
 *
 * How: the generator's multiples `d * 2^(8j) * G` (32 windows of 8 bits, 255 non-zero digits each) are computed once
 * and stored affine; a scalar's product is then the sum of one table point per non-zero byte of the scalar, at most
 * 32 mixed additions instead of the 254 doublings and about 127 additions of a double-and-add, and the results are
 * made affine together with one batched inversion per chunk. The arithmetic is snarkjs's own WebAssembly (the
 * ffjavascript curve), in a private single-threaded instance whose memory this module grows to hold its tables, so
 * the shared curve snarkjs uses elsewhere is never touched.
 *
 * Points go in and out in the library's affine Montgomery little-endian form, the form ptau files store; scalars go in
 * as scalar-field elements in Montgomery form (what `Fr.ifft` and `Fr.mul` return).
 */
import * as snarkjs from 'snarkjs';

/** The exported WebAssembly functions this module calls (pointers into the instance's memory). */
interface CurveExports {
  readonly frm_fromMontgomery: (input: number, output: number) => void;
  readonly [name: string]: (...args: number[]) => unknown;
}

/** ffjavascript's thread manager: the WebAssembly instance, its memory and views, and a bump allocator. */
interface ThreadManager {
  readonly instance: { readonly exports: CurveExports };
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  u8: Uint8Array;
  u32: Uint32Array;
  alloc(length: number): number;
}

/** The private single-threaded curve (ffjavascript) this module computes on. */
interface PrivateCurve {
  readonly tm: ThreadManager;
  readonly G1: { readonly oneAffine: Uint8Array };
  readonly G2: { readonly oneAffine: Uint8Array };
}

/** A group of BN254 this module multiplies in. */
export type FixedBaseGroup = 'G1' | 'G2';

const SCALAR_BYTES = 32;
const WINDOWS = SCALAR_BYTES; // one window per byte of the scalar
const DIGITS = 256;
/** Scalars multiplied between two batched conversions to affine. */
const CHUNK = 1024;

/** Sizes and WebAssembly names of one group. */
interface GroupLayout {
  readonly prefix: 'g1m' | 'g2m';
  readonly coordinateBytes: number;
  readonly affineBytes: number;
  readonly jacobianBytes: number;
}

const LAYOUTS: { readonly [G in FixedBaseGroup]: GroupLayout } = {
  G1: { prefix: 'g1m', coordinateBytes: 32, affineBytes: 64, jacobianBytes: 96 },
  G2: { prefix: 'g2m', coordinateBytes: 64, affineBytes: 128, jacobianBytes: 192 },
};

/** Bytes of instance memory this module needs beyond what the library allocated: both tables and one chunk. */
function workingBytes(): number {
  const g2 = LAYOUTS.G2;
  const tables = WINDOWS * DIGITS * (LAYOUTS.G1.affineBytes + g2.affineBytes);
  const tableBuild = DIGITS * g2.jacobianBytes;
  const chunk = CHUNK * (SCALAR_BYTES + g2.jacobianBytes + g2.affineBytes + g2.coordinateBytes);
  return tables + tableBuild + chunk + 64 * 1024;
}

/** Multiplies the generators of G1 and G2 by many scalars. Create with {@link createFixedBaseMultiplier}. */
export interface FixedBaseMultiplier {
  /** `scalars[i] * generator` for each Montgomery-form scalar of `scalars`; affine points, one after another. */
  multiplyGenerator(group: FixedBaseGroup, scalars: Uint8Array): Uint8Array;
}

/** A multiplier on a private single-threaded curve instance (its tables are built on first use, per group). */
export async function createFixedBaseMultiplier(): Promise<FixedBaseMultiplier> {
  const curve = (await snarkjs.curves.getCurveFromName('bn128', { singleThread: true })) as unknown as PrivateCurve;
  const tm = curve.tm;
  const missing = tm.u32[0]! + workingBytes() - tm.memory.buffer.byteLength;
  if (missing > 0) {
    tm.memory.grow(Math.ceil(missing / 65536));
    // Growing detaches the old views: the library's own helpers read through these two.
    tm.u8 = new Uint8Array(tm.memory.buffer);
    tm.u32 = new Uint32Array(tm.memory.buffer);
  }
  const exports = tm.instance.exports;
  const call = (name: string, ...args: number[]): unknown => {
    const fn = exports[name];
    if (fn === undefined) throw new Error(`the curve library has no ${name}`);
    return fn(...args);
  };

  const scalarsAt = tm.alloc(CHUNK * SCALAR_BYTES);
  const jacobianAt = tm.alloc(CHUNK * LAYOUTS.G2.jacobianBytes);
  const affineAt = tm.alloc(CHUNK * LAYOUTS.G2.affineBytes);
  const tableBuildAt = tm.alloc(DIGITS * LAYOUTS.G2.jacobianBytes);
  const tables = new Map<FixedBaseGroup, number>();

  /** The affine table `d * 2^(8j) * G` at `table + (j * 256 + d) * affineBytes` (d = 0 left as zero, never read). */
  function table(group: FixedBaseGroup): number {
    const known = tables.get(group);
    if (known !== undefined) return known;
    const { prefix, affineBytes, jacobianBytes } = LAYOUTS[group];
    const at = tm.alloc(WINDOWS * DIGITS * affineBytes);
    const base = tm.alloc(jacobianBytes);
    tm.u8.set(curve[group].oneAffine, affineAt);
    call(`${prefix}_toJacobian`, affineAt, base);
    for (let window = 0; window < WINDOWS; window += 1) {
      // Row of this window, jacobian: entry d - 1 holds d * base.
      call(`${prefix}_copy`, base, tableBuildAt);
      for (let digit = 2; digit < DIGITS; digit += 1)
        call(
          `${prefix}_add`,
          tableBuildAt + (digit - 2) * jacobianBytes,
          base,
          tableBuildAt + (digit - 1) * jacobianBytes,
        );
      call(`${prefix}_batchToAffine`, tableBuildAt, DIGITS - 1, at + (window * DIGITS + 1) * affineBytes);
      for (let doubling = 0; doubling < 8; doubling += 1) call(`${prefix}_double`, base, base);
    }
    tables.set(group, at);
    return at;
  }

  return {
    multiplyGenerator(group, scalars) {
      if (scalars.length % SCALAR_BYTES !== 0) throw new Error('scalars must be 32-byte field elements');
      const { prefix, affineBytes, jacobianBytes } = LAYOUTS[group];
      const tableAt = table(group);
      const count = scalars.length / SCALAR_BYTES;
      const out = new Uint8Array(count * affineBytes);
      const addMixed = exports[`${prefix}_addMixed`]!;
      const zero = exports[`${prefix}_zero`]!;
      for (let start = 0; start < count; start += CHUNK) {
        const size = Math.min(CHUNK, count - start);
        tm.u8.set(scalars.subarray(start * SCALAR_BYTES, (start + size) * SCALAR_BYTES), scalarsAt);
        for (let index = 0; index < size; index += 1) {
          const scalar = scalarsAt + index * SCALAR_BYTES;
          exports.frm_fromMontgomery(scalar, scalar);
          const accumulator = jacobianAt + index * jacobianBytes;
          zero(accumulator);
          for (let window = 0; window < WINDOWS; window += 1) {
            const digit = tm.u8[scalar + window]!;
            if (digit !== 0) addMixed(accumulator, tableAt + (window * DIGITS + digit) * affineBytes, accumulator);
          }
        }
        call(`${prefix}_batchToAffine`, jacobianAt, size, affineAt);
        out.set(tm.u8.subarray(affineAt, affineAt + size * affineBytes), start * affineBytes);
      }
      return out;
    },
  };
}
