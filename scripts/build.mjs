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
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIsCurrent } from '../bin/build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');
const temp = join(root, `.dist-build-${process.pid}`);
const require = createRequire(import.meta.url);

if (!process.argv.includes('--force') && buildIsCurrent()) {
  process.stdout.write('zkai build: dist/ is current (no file of src/ is newer); --force rebuilds it\n');
  await buildNative();
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
await buildNative();

/**
 * The native prover addon (native/src) into native/build, from dist/'s build module: the compiler and Node's own
 * headers, nothing downloaded. It never fails the build: without it zkai proves with snarkjs (and builds the addon
 * into the cache on first use once a compiler is there). ZKAI_SKIP_NATIVE_BUILD=1 skips it.
 */
async function buildNative() {
  if (process.env.ZKAI_SKIP_NATIVE_BUILD === '1') return;
  const { buildPlan, buildAddon, NATIVE_REPO_BUILD_DIR, addonFileName } = await import(
    pathToFileURL(join(out, 'prover', 'native', 'build.js')).href
  );
  const plan = buildPlan();
  if (!plan.ok) {
    process.stdout.write(`zkai build: the native prover is not built (${plan.reason}); zkai proves with snarkjs\n`);
    return;
  }
  const started = Date.now();
  try {
    const path = await buildAddon(plan, NATIVE_REPO_BUILD_DIR);
    for (const entry of readdirSync(NATIVE_REPO_BUILD_DIR))
      if (entry.startsWith('zkai_prover-') && entry !== addonFileName(plan.id))
        rmSync(join(NATIVE_REPO_BUILD_DIR, entry), { force: true });
    process.stdout.write(
      `zkai build: native prover ${relative(root, path)} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  } catch (error) {
    process.stdout.write(
      `zkai build: the native prover was not built, zkai proves with snarkjs: ${error instanceof Error ? error.message : error}\n`,
    );
  }
}
