/**
 * The native Groth16 prover addon (native/src, C++): its JavaScript face. `loadProvingKey` parses a zkey once (kept
 * warm by a worker); `prove` runs on a libuv thread and resolves to snarkjs's `{ proof, publicSignals }`. Errors
 * carry a `code`: ZKEY_UNREADABLE, ZKEY_INVALID, ZKEY_NOT_GROTH16, ZKEY_WRONG_CURVE, WITNESS_INVALID, WITNESS_WRONG_CURVE,
 * WITNESS_MISMATCH, NATIVE_CANCELLED, NATIVE_FAILED. `newZkey` is snarkjs's `zkey new` (src/setup/zkey-new.ts); its
 * errors: R1CS_UNREADABLE, R1CS_INVALID, R1CS_WRONG_CURVE, PTAU_UNREADABLE, PTAU_INVALID, PTAU_WRONG_CURVE,
 * PTAU_NOT_PREPARED, PTAU_TOO_SMALL, SETUP_UNSUPPORTED, SETUP_WRITE_FAILED, NATIVE_FAILED.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Groth16Proof } from '../../verifier/types.ts';

/** A proving key parsed by the addon (an opaque handle and the key's shape). */
export interface NativeProvingKey {
  readonly handle: unknown;
  readonly signals: number;
  readonly publicSignals: number;
  readonly domainSize: number;
}

/** Options of one native proof. */
export interface NativeProveOptions {
  /** `wtns`: the bytes of a `.wtns` file (what circom's witness calculator's `calculateWTNSBin` returns); `values`:
   * the bare 32-byte little-endian values. Default `wtns`. */
  format?: 'wtns' | 'values';
  /** Threads for the multi-scalar multiplications and transforms (default: the machine's cores). */
  threads?: number;
  /** Set its first element to nonzero (Atomics.store) to stop the proof at its next check. */
  cancel?: Int32Array;
}

/** The addon's exports. */
export interface NativeProverAddon {
  /**
   * Parse a zkey: its bytes, or its path (read through a 1 MiB window, so the file is never in memory whole: what a
   * worker uses; ZKEY_UNREADABLE when it cannot be opened or is not a regular file).
   */
  loadProvingKey(zkey: Uint8Array | string): NativeProvingKey;
  prove(
    key: NativeProvingKey,
    witness: Uint8Array,
    options?: NativeProveOptions,
  ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
  /**
   * snarkjs's `zkey new`, byte for byte: writes the initial proving key of an r1cs and a prepared ptau to `zkeyPath`
   * (refused when it exists; removed again on failure) and resolves to the circuit hash (64 bytes). `pastEndHash`: for
   * a domain of 2^15 or more with a ptau of exactly that power, the 64 bytes snarkjs hashes for its last H point (see
   * src/setup/zkey-new.ts); without it that shape is refused with SETUP_UNSUPPORTED.
   */
  newZkey(
    r1csPath: string,
    ptauPath: string,
    zkeyPath: string,
    options?: { threads?: number; pastEndHash?: Uint8Array },
  ): Promise<Uint8Array>;
  /**
   * Every G1 point of `points` (64 bytes each, snarkjs's file layout) times `scalar` (32 bytes, little-endian standard
   * form, below r): a phase-2 contribution's work on a zkey's L and H sections (src/setup/zkey-contribute.ts).
   * Rejects with ZKEY_INVALID for a point not on G1.
   */
  scaleG1Points(points: Uint8Array, scalar: Uint8Array, options?: { threads?: number }): Promise<Uint8Array>;
  /**
   * A Poseidon of circomlib's parameters from poseidon-lite's tables, one per width t = 2 to 17 (index t - 2): round
   * constants (t per round) and MDS matrix (t x t, row major), 32-byte little-endian elements (src/crypto/poseidon-native.ts).
   * Absent from addons built before it.
   */
  createPoseidon?(constants: Uint8Array[], mds: Uint8Array[]): unknown;
  /**
   * The Poseidon sponge (src/crypto/poseidon.ts) of each of `counts.length` consecutive lists of `elements` (32-byte
   * little-endian elements below r); 32 bytes per list. RangeError for an element not below r or counts that do not
   * add up.
   */
  poseidonSponges?(poseidon: unknown, elements: Uint8Array, counts: Uint32Array): Uint8Array;
  /** Whether the field multiplication uses mulx/adcx/adox (x86-64 with BMI2 and ADX). */
  readonly usesAdx: boolean;
  /** The arithmetic, for the differential tests (standard little-endian bytes; points in snarkjs's LEM layout). */
  readonly testing: {
    field(
      op: 'add' | 'sub' | 'mul' | 'mul-portable' | 'square' | 'neg' | 'inverse',
      field: 'q' | 'r',
      a: Uint8Array,
      b?: Uint8Array,
    ): Uint8Array;
    curve(
      group: 'g1' | 'g2',
      op: 'add' | 'madd' | 'double' | 'msm',
      points: Uint8Array,
      scalars?: Uint8Array,
      threads?: number,
    ): Uint8Array;
    ntt(values: Uint8Array, inverse: boolean): Uint8Array;
    blake2b512(bytes: Uint8Array): Uint8Array;
  };
}

/**
 * Load the addon file at `path` (a `.node` built by build.ts); `require` keeps it, so a second call for the same file
 * (another job, another pool) returns the loaded module. Throws what `require` throws.
 */
export function loadAddon(path: string): NativeProverAddon {
  if (!path.endsWith('.node')) throw new Error(`${path} is not a Node addon (a .node file)`);
  // Resolved against the working folder, never looked up in node_modules.
  return createRequire(import.meta.url)(resolve(path)) as NativeProverAddon;
}
