// Loads the module a worker thread runs: the compiled `<name>.js` beside the entry file when there is one, otherwise
// registers tsx (a runtime dependency) in this thread and loads the TypeScript source `<name>.ts`. Plain JavaScript
// on purpose: a worker thread does not inherit the TypeScript loader of the thread that started it. Shared by the
// prover pool's and the verification service's worker entries.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @param {string} entryUrl the worker entry's import.meta.url
 * @param {string} name the module's file name without extension, beside the entry
 */
export async function loadWorkerModule(entryUrl, name) {
  const compiled = new URL(`./${name}.js`, entryUrl);
  if (existsSync(fileURLToPath(compiled))) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, entryUrl).href);
}
