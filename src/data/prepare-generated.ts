import { compileCircuit, type CompiledCircuit } from '../circuit/compile.ts';
import { keysFromZkey } from '../setup/ceremony.ts';
import { setupCircuit, type CircuitKeys } from '../setup/phase2.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { DATA_TEMPLATES_DIR } from './circuit-gen.ts';

/** Options shared by the functions that prepare generated data circuits. */
export interface PrepareOptions {
  cacheDir?: string;
  ptauPath?: string;
  /**
   * A proving key from a multi-party ceremony (`zkai ceremony`) to prove with, instead of zkai's automatic
   * single-party setup. It is checked against the compiled circuit's r1cs and `ptauPath` (the ptau the ceremony
   * started from, then required): a key of another circuit is refused.
   */
  zkeyPath?: string;
  onProgress?: ProgressListener;
}

/** Compile a generated circuit with `circuits/` on the include path (cached), without setting it up. */
export async function compileGenerated(
  path: string,
  options: Pick<PrepareOptions, 'cacheDir' | 'onProgress'> = {},
): Promise<CompiledCircuit> {
  return compileCircuit(path, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    includePaths: [DATA_TEMPLATES_DIR],
    log: (message) => options.onProgress?.({ stage: 'compile', message, transient: true }),
  });
}

/**
 * Compile a generated circuit (with `circuits/` on the include path) and set it up; both steps are cached. With
 * `zkeyPath` the ceremony's key replaces the setup (see {@link keysFromZkey}).
 */
export async function compileAndSetupGenerated(
  path: string,
  options: PrepareOptions = {},
): Promise<{ circuit: CompiledCircuit; keys: CircuitKeys }> {
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const circuit = await compileGenerated(path, options);
  const keyOptions = {
    ...cache,
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  const keys = options.zkeyPath
    ? await keysFromZkey(circuit, options.zkeyPath, keyOptions)
    : await setupCircuit(circuit, keyOptions);
  return { circuit, keys };
}
