// Entry of each verification worker thread (src/service/verifier-pool.ts). Loads the compiled worker when there is
// one, otherwise registers tsx in this thread and loads the TypeScript source, as src/prover/worker-entry.mjs does.
// Plain JavaScript on purpose: a worker thread does not inherit the TypeScript loader of the thread that started it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./verify-worker.js', import.meta.url);
let mod;
if (existsSync(fileURLToPath(compiled))) {
  mod = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(new URL('./verify-worker.ts', import.meta.url).href);
}
export default mod.default;
