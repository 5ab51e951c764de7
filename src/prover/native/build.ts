/**
 * Building the native prover addon from native/src with the machine's C++ compiler and the running Node's own
 * headers, calling the compiler directly: node-gyp would need python3 and make besides, and outside npm it does not
 * see npm's `nodedir` and downloads headers, which a machine without the internet cannot. Nothing here downloads.
 *
 * A build is named by a hash of everything that decides it (the sources, the flags, the platform, node-addon-api's
 * version), so a changed source or a checkout on another machine never loads a stale addon. The file is written to a
 * temporary name and renamed into place: readers see the whole addon or none.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingTempPath } from '../../util/atomic-fs.ts';

/** The C++ sources (the same path from src/prover/native and from dist/prover/native). */
export const NATIVE_SOURCE_DIR = fileURLToPath(new URL('../../../native/src', import.meta.url));

/** Where `npm install` in the repository puts the addon (git-ignored). */
export const NATIVE_REPO_BUILD_DIR = fileURLToPath(new URL('../../../native/build', import.meta.url));

/** The compiler flags of the addon (the sanitizer build of the tests adds its own). */
const FLAGS = [
  '-std=c++17',
  '-O3',
  '-fPIC',
  '-shared',
  '-pthread',
  '-fvisibility=hidden',
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  '-Wall',
  '-Wextra',
];

/** Why the addon cannot be built here, or what building it needs. */
export type BuildPlan =
  | { ok: true; compiler: string; nodeInclude: string; addonApiInclude: string; sources: string[]; id: string }
  | { ok: false; reason: string };

function nodeHeaders(): string | undefined {
  const candidates = [
    process.env.npm_config_nodedir ? join(process.env.npm_config_nodedir, 'include', 'node') : undefined,
    join(dirname(process.execPath), '..', 'include', 'node'),
  ];
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'node_api.h')));
}

function addonApiHeaders(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('node-addon-api/package.json'));
    return existsSync(join(dir, 'napi.h')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** What a build needs and its id; `ok: false` says what is missing (no compiler is found only when it runs). */
export function buildPlan(): BuildPlan {
  // getrandom and the link flags are Linux's; macOS (getentropy, -undefined dynamic_lookup) is not done yet.
  if (process.platform !== 'linux')
    return { ok: false, reason: `the native prover is built on Linux only for now, not ${process.platform}` };
  if (!existsSync(NATIVE_SOURCE_DIR)) return { ok: false, reason: `its sources are missing (${NATIVE_SOURCE_DIR})` };
  const nodeInclude = nodeHeaders();
  if (!nodeInclude)
    return {
      ok: false,
      reason: `Node's headers (include/node/node_api.h) are not installed beside ${process.execPath}`,
    };
  const addonApiInclude = addonApiHeaders();
  if (!addonApiInclude) return { ok: false, reason: 'the node-addon-api package is not installed' };
  const compiler = process.env.CXX || 'g++';
  const files = readdirSync(NATIVE_SOURCE_DIR)
    .filter((name) => /\.(cpp|hpp)$/.test(name))
    .sort();
  const hash = createHash('sha256');
  for (const name of files)
    hash
      .update(`${name}\0`)
      .update(readFileSync(join(NATIVE_SOURCE_DIR, name)))
      .update('\0');
  const addonApiVersion = (
    JSON.parse(readFileSync(join(addonApiInclude, 'package.json'), 'utf8')) as { version: string }
  ).version;
  hash.update(JSON.stringify([FLAGS, compiler, process.platform, process.arch, addonApiVersion]));
  return {
    ok: true,
    compiler,
    nodeInclude,
    addonApiInclude,
    sources: files.filter((name) => name.endsWith('.cpp')).map((name) => join(NATIVE_SOURCE_DIR, name)),
    id: hash.digest('hex').slice(0, 16),
  };
}

/** The addon's file name for a build id. */
export function addonFileName(id: string): string {
  return `zkai_prover-${id}.node`;
}

/** Runs the compiler; resolves with its output, rejects with a readable reason. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `no C++ compiler: ${command} was not found (install g++, or set CXX)`
            : `${command} could not start: ${error.message}`,
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} failed (${signal ?? `exit code ${code}`}):\n${output.trim().slice(-4000)}`));
    });
  });
}

/**
 * Compile the addon of `plan` into `dir` (as {@link addonFileName}), atomically; returns its path. A file already
 * there is kept. Several processes may build at once: each renames its own complete file into place.
 */
export async function buildAddon(plan: Extract<BuildPlan, { ok: true }>, dir: string): Promise<string> {
  const target = join(dir, addonFileName(plan.id));
  if (existsSync(target)) return target;
  await mkdir(dir, { recursive: true });
  const temp = `${siblingTempPath(target)}.node`;
  try {
    // CXX may be a wrapper with arguments ("ccache g++"); no shell is involved.
    const [compiler = 'g++', ...wrapped] = plan.compiler.split(/\s+/).filter(Boolean);
    await run(compiler, [
      ...wrapped,
      ...FLAGS,
      '-I',
      plan.nodeInclude,
      '-I',
      plan.addonApiInclude,
      ...plan.sources,
      '-o',
      temp,
    ]);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return target;
}
