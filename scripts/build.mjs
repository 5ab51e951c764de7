#!/usr/bin/env node
// `npm run build` (also run by `npm install` in the repository, through `prepare`, and before `npm pack`): compiles
// src/ to JavaScript and type declarations in dist/ (tsconfig.build.json) and copies the files that are not
// TypeScript (worker entries, the explorer page) beside them, so dist/ mirrors src/. Written atomically enough for a
// build: dist/ is rebuilt in a temporary folder and swapped in at the end by two renames, so a failed build leaves the
// old one and a zkai process running from dist/ meanwhile (the tests run the CLI while package.test.ts packs) finds
// its lazily loaded modules. A build that is current (no file of src/ newer than it) is kept: `--force` rebuilds.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../bin/build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');
const temp = join(root, `.dist-build-${process.pid}`);
const require = createRequire(import.meta.url);

if (!process.argv.includes('--force') && buildIsCurrent()) {
  process.stdout.write('zkai build: dist/ is current (no file of src/ is newer); --force rebuilds it\n');
  process.exit(0);
}
rmSync(temp, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', temp], {
  stdio: 'inherit',
});
if (result.status !== 0) {
  rmSync(temp, { recursive: true, force: true });
  process.stderr.write('zkai build: tsc failed; dist/ was left as it was\n');
  process.exit(result.status ?? 1);
}
/** Copy every file under src/ that tsc does not emit (not .ts). */
const copyAssets = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (!entry.endsWith('.ts')) cpSync(path, join(temp, relative(src, path)), { force: true });
  }
};
copyAssets(src);
// bin/zkai.mjs runs dist/ only while no file of src/ is newer than this stamp (else the sources, through tsx).
writeFileSync(join(temp, '.build-stamp'), `${new Date().toISOString()}\n`);
const old = join(root, `.dist-old-${process.pid}`);
if (existsSync(out)) renameSync(out, old);
renameSync(temp, out);
rmSync(old, { recursive: true, force: true });
process.stdout.write(
  `zkai build: ${relative(root, out)}/ (JavaScript, declarations and assets of ${relative(root, src)}/)\n`,
);
