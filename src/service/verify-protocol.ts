/** Messages between the verifier pool and its workers (structured-clone safe: plain data only). */
import type { Groth16Proof, VerificationKey } from '../verifier/types.ts';

/** One pairing check: the key, the public signals and the proof, already checked for shape and field ranges. */
export interface PairingTask {
  vkey: VerificationKey;
  publicSignals: string[];
  proof: Groth16Proof;
}

/** The outcome: the pairing verdict, or the message snarkjs threw (e.g. a point that is not on the curve). */
export type PairingReply = { ok: true; valid: boolean } | { ok: false; message: string };
