/**
 * Small structural types for the JSON that snarkjs produces and the chain module consumes. They are structural on
 * purpose: a proof read from `proof.json` or returned by `groth16.fullProve` fits them without conversion.
 */

/**
 * A Groth16 proof as snarkjs writes it: projective coordinates as decimal strings, with the `z` coordinate (`"1"`
 * for G1, `["1", "0"]` for G2) normally present.
 */
export interface Groth16ProofJson {
  /** G1 point `[x, y, z]` (or `[x, y]`). */
  readonly pi_a: readonly string[];
  /** G2 point `[[x0, x1], [y0, y1], [z0, z1]]` (or without the `z` row). Each pair is `c0 + c1·u` in Fq2. */
  readonly pi_b: readonly (readonly string[])[];
  /** G1 point `[x, y, z]` (or `[x, y]`). */
  readonly pi_c: readonly string[];
  /** `"groth16"` when present. */
  readonly protocol?: string;
  /** `"bn128"` when present (snarkjs's name for BN254). */
  readonly curve?: string;
}

/** Public signals as snarkjs returns them: decimal strings. `bigint`s and `0x` hex strings are accepted too. */
export type PublicSignalsInput = readonly (string | bigint)[];

/**
 * The arguments of the snarkjs Groth16 verifier's
 * `verifyProof(uint[2] _pA, uint[2][2] _pB, uint[2] _pC, uint[N] _pubSignals)`, in order.
 * Note the G2 point's coordinate pairs are swapped relative to snarkjs JSON (the EVM precompile wants `c1, c0`).
 */
export type VerifierCallArgs = readonly [
  pA: readonly [bigint, bigint],
  pB: readonly [readonly [bigint, bigint], readonly [bigint, bigint]],
  pC: readonly [bigint, bigint],
  pubSignals: readonly bigint[],
];

/** A compiled contract, ready to deploy. */
export interface CompiledContract {
  /** The contract's ABI as emitted by solc (JSON fragments). */
  readonly abi: readonly object[];
  /** Creation bytecode, `0x`-prefixed hex. */
  readonly bytecode: string;
}
