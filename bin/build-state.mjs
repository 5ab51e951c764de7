// Is dist/ (npm run build) current? Shared by bin/zkai.mjs, which runs the build only then, and by the tests, which
// build first when it is not. Plain JavaScript: it runs before any TypeScript loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILT_CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const STAMP = fileURLToPath(new URL('../dist/.build-stamp', import.meta.url));
const SOURCES = fileURLToPath(new URL('../src', import.meta.url));

/** True when some file under `dir` was modified after `time` (ms). */
function newerThan(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() ? newerThan(path, time) : statSync(path).mtimeMs > time) return true;
  }
  return false;
}

/** True when dist/ holds a build and no file of src/ is newer (an installed package has no src/ to compare with). */
export function buildIsCurrent() {
  if (!existsSync(BUILT_CLI) || !existsSync(STAMP)) return false;
  return !existsSync(SOURCES) || !newerThan(SOURCES, statSync(STAMP).mtimeMs);
}
