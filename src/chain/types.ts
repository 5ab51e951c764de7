/**
 * Types of the on-chain verification module. Proofs, verification keys and the BN254 moduli are shared with the
 * off-chain verifier: see `src/verifier/types.ts`.
 */

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
