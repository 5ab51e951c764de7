import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Environment variable that overrides the cache folder. */
export const CACHE_DIR_ENV = 'ZKAI_CACHE_DIR';

/**
 * The folder where zkai keeps compiled circuits, ptau files and keys. In order of precedence: the explicit
 * `override` (the CLI's `--cache-dir`), `$ZKAI_CACHE_DIR`, `$XDG_CACHE_HOME/zkai`, `~/.cache/zkai`.
 */
export function resolveCacheDir(override?: string): string {
  if (override) return resolve(override);
  const fromEnv = process.env[CACHE_DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return join(resolve(xdg), 'zkai');
  return join(homedir(), '.cache', 'zkai');
}
