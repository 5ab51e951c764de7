/**
 * snarkjs (through ffjavascript) builds one multithreaded BN254 curve per JavaScript realm and caches it on
 * `globalThis.curve_bn128`. Its worker threads keep the process alive until the curve is terminated
 * (snarkjs #152, "by design"). Every command and test that uses snarkjs in the current thread calls
 * {@link releaseCurves} when it is done.
 */
export async function releaseCurves(): Promise<void> {
  const holder = globalThis as {
    curve_bn128?: { terminate(): Promise<void> } | null;
    curve_bls12381?: { terminate(): Promise<void> } | null;
  };
  const curves = [holder.curve_bn128, holder.curve_bls12381];
  holder.curve_bn128 = null;
  holder.curve_bls12381 = null;
  for (const curve of curves) if (curve) await curve.terminate();
}
