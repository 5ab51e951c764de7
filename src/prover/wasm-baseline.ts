/**
 * Compiling a circuit's witness calculator without V8's optimizing WebAssembly tier (TurboFan), for workers that
 * prove natively.
 *
 * circom's witness code is a few huge straight-line functions. V8 first compiles them with its baseline compiler
 * (Liftoff), then recompiles the hot ones with TurboFan in the background: measured on a 65,472-constraint circuit
 * (a 2 MB wasm), that recompilation took the process's peak from 84 MB to 155 MB, and the witness it then computes is
 * no faster (about 100 ms either way; 10% slower with Liftoff alone at 16,320 constraints, 26 against 23 ms, under
 * 1% of a native proof). A native worker has no other WebAssembly to speed up, so its witness calculators are
 * compiled with Liftoff alone: the flag is process-wide, so it is set only around the compilation (the module keeps
 * the tiers it was compiled with) and restored after. snarkjs workers keep the default: their curve's arithmetic is
 * WebAssembly too, and needs TurboFan.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Run `compile` (a witness calculator's compilation) with V8's WebAssembly code left at its baseline tier. Where
 * flags cannot be changed at run time, it compiles as usual.
 */
export async function withBaselineWasm<T>(compile: () => Promise<T>): Promise<T> {
  let changed = false;
  try {
    setFlagsFromString('--liftoff-only');
    changed = true;
  } catch {
    // Flags frozen in this runtime: compile with the default tiers.
  }
  try {
    return await compile();
  } finally {
    if (changed) setFlagsFromString('--no-liftoff-only');
  }
}
