/**
 * The tests run the CLI as users do, through bin/zkai.mjs, which runs the build in dist/ when it is current. Building
 * first when it is not (you edited src/) makes every run test the code as it is now, in the build, and keeps each CLI
 * start cheap (one Node process, commands loaded lazily) instead of going through tsx.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../../bin/build-state.mjs';

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));

/** Run `npm run build` unless dist/ is current; throws with tsc's output when the build fails. */
export function ensureBuild(): void {
  if (buildIsCurrent()) return;
  const result = spawnSync(process.execPath, [BUILD_SCRIPT], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
}
