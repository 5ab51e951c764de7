/**
 * zkai is a package a plain Node project can use: `npm pack` (which builds dist/ first, through `prepare`), install
 * the tarball into an empty folder (from the npm cache: --prefer-offline), import it from a plain .mjs file with no
 * TypeScript loader, verify a real proof with it (and see a tampered one refused), and run `npx zkai --help`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseCurves } from '../src/util/curves.ts';
import { getDemoFixture } from './helpers/fixture.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const npm = (args: string[], cwd: string) =>
  run('npm', args, {
    cwd,
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' },
  });

let scratch: string;
let app: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-package-'));
  await npm(['pack', '--silent', '--pack-destination', scratch], ROOT);
  const tarball = (await readdir(scratch)).find((name) => name.endsWith('.tgz'));
  expect(tarball, 'npm pack wrote no tarball').toBeDefined();
  app = join(scratch, 'app');
  await run('mkdir', [app]);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'zkai-package-check', private: true, type: 'module' }),
  );
  await npm(
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(scratch, tarball as string)],
    app,
  );
}, 900_000);

afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the build, not the TypeScript sources', async () => {
    const installed = join(app, 'node_modules', 'zkai');
    const entries = await readdir(installed);
    expect(entries).toEqual(expect.arrayContaining(['bin', 'dist', 'circuits', 'contracts', 'package.json']));
    expect(entries).not.toContain('src');
    expect(entries).not.toContain('test');
  });

  it('is imported from a plain .mjs file without any TypeScript loader and verifies a real proof', async () => {
    const fixture = await getDemoFixture();
    await writeFile(
      join(app, 'proof.json'),
      JSON.stringify({ vkey: fixture.vkey, proof: fixture.proof, publicSignals: fixture.publicSignals }),
    );
    await writeFile(
      join(app, 'check.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { verifyProof, releaseCurves } from 'zkai';",
        "const { vkey, proof, publicSignals } = JSON.parse(readFileSync('proof.json', 'utf8'));",
        'const good = await verifyProof(vkey, proof, publicSignals);',
        'const tampered = await verifyProof(vkey, proof, [String(BigInt(publicSignals[0]) + 1n), ...publicSignals.slice(1)]);',
        'await releaseCurves();',
        'console.log(JSON.stringify({ good: good.valid, tampered: tampered.valid }));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['check.mjs'], {
      cwd: app,
      timeout: 120_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({ good: true, tampered: false });
    // The same through the verifier's own entry point, which loads no chain, data, model or service code.
    const source = await readFile(join(app, 'check.mjs'), 'utf8');
    await writeFile(join(app, 'check-verifier.mjs'), source.replace("from 'zkai';", "from 'zkai/verifier';"));
    const alone = await run(process.execPath, ['check-verifier.mjs'], {
      cwd: app,
      timeout: 120_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(JSON.parse(alone.stdout.trim().split('\n').at(-1) as string)).toEqual({ good: true, tampered: false });
  }, 300_000);

  it('runs `npx zkai --help` from the build', async () => {
    const { stdout } = await run('npx', ['--no-install', 'zkai', '--help'], { cwd: app, timeout: 120_000 });
    expect(stdout).toContain('Usage: zkai');
    expect(stdout).toContain('ceremony');
    expect(stdout).toContain('chain');
  });
});
