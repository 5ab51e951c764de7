import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Path of the snarkjs command-line tool (`build/cli.cjs`), as installed. */
export function snarkjsCliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('snarkjs')), 'cli.cjs');
}
