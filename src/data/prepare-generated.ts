import { compileCircuit, type CompiledCircuit } from '../circuit/compile.ts';
import { setupCircuit, type CircuitKeys } from '../setup/phase2.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { DATA_TEMPLATES_DIR } from './circuit-gen.ts';

/** Options shared by the functions that prepare generated data circuits. */
export interface PrepareOptions {
  cacheDir?: string;
  ptauPath?: string;
  onProgress?: ProgressListener;
}

/** Compile a generated circuit (with `circuits/` on the include path) and set it up; both steps are cached. */
export async function compileAndSetupGenerated(path: string, options: PrepareOptions = {}): Promise<{ circuit: CompiledCircuit; keys: CircuitKeys }> {
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const circuit = await compileCircuit(path, { ...cache, includePaths: [DATA_TEMPLATES_DIR], log: (message) => options.onProgress?.({ stage: 'compile', message, transient: true }) });
  const keys = await setupCircuit(circuit, {
    ...cache,
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { circuit, keys };
}
