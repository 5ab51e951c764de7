/**
 * A verification worker (run by piscina in a worker thread): snarkjs's Groth16 pairing check on one BN254 curve that
 * the worker builds once and keeps. snarkjs's `groth16.verify` takes no curve option and would build a multithreaded
 * curve, which cannot start in a worker thread (see docs/architecture.md), so, as the prover's worker does, the
 * web-worker shim is installed before snarkjs loads and ffjavascript's `buildBn128` answers with this worker's own
 * single-threaded curve (a pairing check is about 15 ms; parallelism comes from the number of workers).
 */
import { installWebWorkerShim } from '../prover/web-worker-shim.ts';
import type { Groth16Proof, VerificationKey } from '../verifier/types.ts';
import type { PairingReply, PairingTask } from './verify-protocol.ts';

interface Curve {
  terminate(): Promise<void>;
}
interface Ffjavascript {
  buildBn128: (singleThread?: boolean, plugins?: unknown) => Promise<Curve>;
}
interface SnarkjsCjs {
  groth16: { verify(vkey: VerificationKey, publicSignals: string[], proof: Groth16Proof): Promise<boolean> };
}

const requireSnarkjs = installWebWorkerShim();
const ffjavascript = requireSnarkjs('ffjavascript') as Ffjavascript;
const snarkjs = requireSnarkjs('snarkjs') as SnarkjsCjs;

const buildBn128 = ffjavascript.buildBn128;
let curve: Promise<Curve> | undefined;
ffjavascript.buildBn128 = () => {
  curve ??= buildBn128(true);
  return curve;
};

/** Run one pairing check. A throw from snarkjs (a malformed point) comes back as `{ ok: false }`. */
export default async function pairing(task: PairingTask): Promise<PairingReply> {
  try {
    return { ok: true, valid: await snarkjs.groth16.verify(task.vkey, task.publicSignals, task.proof) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
