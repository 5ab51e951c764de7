/**
 * `zkai doctor`: checks the machine and the cache before a long run, and says what to do about each problem.
 * Every check has a status: ok, warn (works, but something is missing or tight) or fail (zkai cannot work as it
 * is); the command exits with 1 when a check fails.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import { access, lstat, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheLayout, cacheLayout, devPtauPower, isBuildDir } from '../cache/layout.ts';
import { defaultPoolShape } from '../prover/pool.ts';
import { entryStillValid, readPtauHashCache } from '../setup/ptau-hash-cache.ts';
import { classifyPtau, PINNED_CEREMONY_PTAU } from '../setup/ptau-trust.ts';
import { emit, type GlobalFlags } from './output.ts';

/** The outcome of one check. */
export type DoctorStatus = 'ok' | 'warn' | 'fail';

/** One line of the doctor's report. */
export interface DoctorCheck {
  /** Stable name, e.g. `node`, `cache`, `anvil`. */
  name: string;
  status: DoctorStatus;
  /** What was found. */
  detail: string;
  /** What to do about a warn or a fail. */
  hint?: string;
  /** Machine-readable facts (versions, sizes, powers). */
  data?: Record<string, unknown>;
}

/** The whole report. */
export interface DoctorReport {
  ok: boolean;
  counts: Record<DoctorStatus, number>;
  checks: DoctorCheck[];
}

const GIB = 1024 ** 3;
/** circom_runtime's witness calculator reserves about 2 GiB of WASM memory per instance (field notes). */
const WITNESS_CALCULATOR_BYTES = 2 * GIB;
const PACKAGE_JSON = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
const CHROMIUM = '/usr/bin/chromium';

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** `1.5 GiB`, `12.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Whether `version` (x.y.z) satisfies a `>=x.y(.z)` range; undefined for a range this cannot read. */
export function satisfiesMinimum(version: string, range: string): boolean | undefined {
  const minimum = /^\s*>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range);
  const actual = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!minimum || !actual) return undefined;
  const want = [Number(minimum[1]), Number(minimum[2] ?? 0), Number(minimum[3] ?? 0)];
  const have = [Number(actual[1]), Number(actual[2]), Number(actual[3])];
  for (let i = 0; i < 3; i++) if (have[i]! !== want[i]!) return have[i]! > want[i]!;
  return true;
}

function checkNode(): DoctorCheck {
  const version = process.versions.node;
  let range: string | undefined;
  try {
    range = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { engines?: { node?: string } }).engines?.node;
  } catch (error) {
    return {
      name: 'node',
      status: 'warn',
      detail: `Node ${version}; cannot read ${PACKAGE_JSON}: ${errorText(error)}`,
      hint: 'reinstall zkai',
      data: { version },
    };
  }
  if (!range)
    return {
      name: 'node',
      status: 'ok',
      detail: `Node ${version} (package.json names no engine range)`,
      data: { version },
    };
  const fits = satisfiesMinimum(version, range);
  if (fits === undefined)
    return {
      name: 'node',
      status: 'warn',
      detail: `Node ${version}; cannot interpret the engine range "${range}"`,
      hint: `check by hand that Node ${version} satisfies ${range}`,
      data: { version, required: range },
    };
  return fits
    ? { name: 'node', status: 'ok', detail: `Node ${version} (needs ${range})`, data: { version, required: range } }
    : {
        name: 'node',
        status: 'fail',
        detail: `Node ${version} is older than zkai needs (${range})`,
        hint: `install Node ${range.replace(/^\s*>=\s*/, '')} or newer (for example with nvm: nvm install 20)`,
        data: { version, required: range },
      };
}

/** Total size in bytes and number of files under a folder (symbolic links are not followed). */
async function folderSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = await folderSize(path);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += (await lstat(path)).size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** Entries of a cache sub-folder (`circuits`, `keys`, `ptau`), or an error text when it is not a readable folder. */
async function subfolder(path: string): Promise<{ entries: string[] } | { problem: string }> {
  if (!existsSync(path)) return { entries: [] };
  const info = await stat(path);
  if (!info.isDirectory()) return { problem: `${path} is a file, not a folder` };
  try {
    return { entries: (await readdir(path)).filter((entry) => !isBuildDir(entry)) };
  } catch (error) {
    return { problem: `${path}: ${errorText(error)}` };
  }
}

/**
 * The ptau files zkai knows: the development ones it generated (`dev-pot<power>.ptau`), other `.ptau` files in the
 * cache folder, and every ptau whose hash it remembers (files used with --ptau). Trust is decided as setup decides it:
 * PRODUCTION only when the file's blake2b-512 is in the pinned table of published ceremony files, DEVELOPMENT
 * otherwise, whatever the name. A remembered file that changed since is listed as such (it is hashed again on its
 * next use).
 */
async function checkPtau(layout: CacheLayout, entries: string[]): Promise<DoctorCheck> {
  const cacheDir = layout.dir;
  // Development ptau files are named dev-pot<power>.ptau (src/cache/layout.ts); other .ptau files are listed too.
  const dev = entries
    .flatMap((name) => {
      const power = devPtauPower(name);
      return power === undefined ? [] : [power];
    })
    .sort((a, b) => a - b);
  const others = entries.filter((name) => name.endsWith('.ptau') && devPtauPower(name) === undefined);
  const files: Array<{
    path: string;
    trust: 'production' | 'development' | 'changed since checked';
    ceremonyFile?: string;
  }> = [];
  const problems: string[] = [];
  for (const name of others) {
    const path = join(layout.ptauDir, name);
    try {
      const info = await classifyPtau(path, { cacheDir });
      files.push({
        path: info.path,
        trust: info.trust,
        ...(info.ceremony ? { ceremonyFile: info.ceremony.fileName } : {}),
      });
    } catch (error) {
      problems.push(`${name}: ${errorText(error)}`);
    }
  }
  for (const [path, entry] of await readPtauHashCache(cacheDir)) {
    if (files.some((file) => file.path === path) || devPtauPower(basename(path)) !== undefined) continue;
    const ceremony = PINNED_CEREMONY_PTAU.find((pinned) => pinned.blake2b512 === entry.blake2b512);
    if (!(await entryStillValid(path, entry))) files.push({ path, trust: 'changed since checked' });
    else
      files.push({
        path,
        trust: ceremony ? 'production' : 'development',
        ...(ceremony ? { ceremonyFile: ceremony.fileName } : {}),
      });
  }
  const describe = (file: (typeof files)[number]) =>
    file.trust === 'production'
      ? `${file.path} (PRODUCTION: ${file.ceremonyFile})`
      : file.trust === 'development'
        ? `${file.path} (DEVELOPMENT-ONLY)`
        : `${file.path} (changed since its hash was checked; checked again on next use)`;
  const parts = [
    dev.length > 0
      ? `development ptau powers ${dev.map((p) => `2^${p}`).join(', ')} (DEVELOPMENT-ONLY; the largest serves circuits below ${(2 ** Math.max(...dev)).toLocaleString('en-US')} constraints + public signals)`
      : 'no development ptau cached: the first setup generates one (2^14 takes about 1.5 min on 2 cores), or pass --ptau FILE',
  ];
  if (files.length > 0) parts.push(`ptau files checked by hash: ${files.map(describe).join(', ')}`);
  if (!files.some((file) => file.trust === 'production'))
    parts.push('no PRODUCTION ptau (a published ceremony file whose blake2b-512 is pinned) seen yet');
  const data = { powers: dev, others, files, pinnedCeremonyFiles: PINNED_CEREMONY_PTAU.length };
  if (problems.length > 0) {
    return {
      name: 'ptau',
      status: 'warn',
      detail: `${parts.join('; ')}; cannot check: ${problems.join('; ')}`,
      hint: 'remove or replace the unreadable ptau files in the cache folder',
      data,
    };
  }
  return { name: 'ptau', status: 'ok', detail: parts.join('; '), data };
}

/** The cache folder: a writable folder (or one that can be created), its size, its circuits and keys. */
async function checkCache(layout: CacheLayout): Promise<{ cache: DoctorCheck; ptau: DoctorCheck }> {
  const cacheDir = layout.dir;
  const ptauUnknown = (why: string): DoctorCheck => ({
    name: 'ptau',
    status: 'warn',
    detail: `cached ptau files not known: ${why}`,
    hint: 'fix the cache folder first',
  });
  const fix = `remove or rename it, or choose another folder with --cache-dir DIR (or $ZKAI_CACHE_DIR)`;
  let info;
  try {
    info = await stat(cacheDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      const why =
        (error as NodeJS.ErrnoException).code === 'ENOTDIR'
          ? 'a part of this path is a file, not a folder'
          : errorText(error);
      return {
        cache: { name: 'cache', status: 'fail', detail: `${cacheDir}: ${why}`, hint: fix, data: { dir: cacheDir } },
        ptau: ptauUnknown('the cache folder cannot be read'),
      };
    }
  }
  if (!info) {
    // Not created yet: fine if the nearest existing parent is a writable folder.
    let parent = dirname(cacheDir);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    const parentInfo = await stat(parent);
    const writable =
      parentInfo.isDirectory() &&
      (await access(parent, fsConstants.W_OK).then(
        () => true,
        () => false,
      ));
    return {
      cache: writable
        ? {
            name: 'cache',
            status: 'ok',
            detail: `${cacheDir} does not exist yet; zkai creates it on first use`,
            data: { dir: cacheDir, exists: false, writable: true, bytes: 0, circuits: 0, keys: 0 },
          }
        : {
            name: 'cache',
            status: 'fail',
            detail: `${cacheDir} does not exist and ${parent} is ${parentInfo.isDirectory() ? 'not writable' : 'a file, not a folder'}`,
            hint: `choose another folder with --cache-dir DIR (or $ZKAI_CACHE_DIR), or make ${parent} writable`,
            data: { dir: cacheDir, exists: false, writable: false },
          },
      ptau: {
        name: 'ptau',
        status: 'ok',
        detail:
          'none cached yet: the first setup generates a development ptau (2^14 takes about 1.5 min on 2 cores), or pass --ptau FILE',
        data: { powers: [] },
      },
    };
  }
  if (!info.isDirectory()) {
    return {
      cache: {
        name: 'cache',
        status: 'fail',
        detail: `${cacheDir} is a file, not a folder`,
        hint: fix,
        data: { dir: cacheDir, exists: true, writable: false },
      },
      ptau: ptauUnknown(`${cacheDir} is not a folder`),
    };
  }

  let writable = true;
  let writeProblem = '';
  try {
    const probe = await mkdtemp(layout.doctorProbePrefix);
    await rm(probe, { recursive: true, force: true });
  } catch (error) {
    writable = false;
    writeProblem = errorText(error);
  }
  const size = await folderSize(cacheDir).catch(() => undefined);
  const [circuits, keys, ptauDir] = await Promise.all([
    subfolder(layout.circuitsDir),
    subfolder(layout.keysDir),
    subfolder(layout.ptauDir),
  ]);
  const problems = [circuits, keys, ptauDir].flatMap((part) => ('problem' in part ? [part.problem] : []));
  const circuitCount = 'entries' in circuits ? circuits.entries.length : undefined;
  const keyCount = 'entries' in keys ? keys.entries.length : undefined;
  const data = {
    dir: cacheDir,
    exists: true,
    writable,
    bytes: size?.bytes ?? null,
    files: size?.files ?? null,
    circuits: circuitCount ?? null,
    keys: keyCount ?? null,
  };
  const summary = `${cacheDir}: ${size ? formatBytes(size.bytes) : 'size unknown'}, ${circuitCount ?? '?'} compiled circuit(s), ${keyCount ?? '?'} key set(s)`;
  let cache: DoctorCheck;
  if (!writable)
    cache = {
      name: 'cache',
      status: 'fail',
      detail: `${summary}; not writable (${writeProblem})`,
      hint: `make it writable (chmod u+w ${cacheDir}) or choose another folder with --cache-dir DIR`,
      data,
    };
  else if (problems.length > 0)
    cache = {
      name: 'cache',
      status: 'fail',
      detail: `${summary}; ${problems.join('; ')}`,
      hint: `remove what is in the way, or choose another folder with --cache-dir DIR`,
      data,
    };
  else cache = { name: 'cache', status: 'ok', detail: `${summary}; writable`, data };

  const ptau = 'problem' in ptauDir ? ptauUnknown(ptauDir.problem) : await checkPtau(layout, ptauDir.entries);
  return { cache, ptau };
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr }),
    );
  });
}

async function checkAnvil(): Promise<DoctorCheck> {
  const hint =
    'the embedded chain (zkai deploy, zkai chain ..., the demo) needs it: run `npm install` (without --omit=optional), or give those commands --rpc URL of a running node';
  let binary: string;
  try {
    const { resolveAnvilBinary } = await import('../chain/anvil.ts');
    binary = resolveAnvilBinary();
  } catch (error) {
    return { name: 'anvil', status: 'warn', detail: `not available: ${errorText(error)}`, hint };
  }
  try {
    const { stdout } = await run(binary, ['--version'], 15_000);
    const version = stdout.trim().split('\n')[0] ?? '';
    const { parentDeathWrapper } = await import('../chain/anvil.ts');
    const reaper = parentDeathWrapper();
    if (!reaper && process.platform === 'linux') {
      return {
        name: 'anvil',
        status: 'warn',
        detail: `${version} (${binary}); no setpriv with --pdeathsig: an anvil zkai started keeps running if zkai is killed with SIGKILL`,
        hint: 'install util-linux (Debian: apt-get install util-linux), which has setpriv; other signals and normal exits stop anvil anyway',
        data: { binary, version },
      };
    }
    return {
      name: 'anvil',
      status: 'ok',
      detail: `${version} (${binary})${reaper ? '; ends with zkai even on SIGKILL (setpriv --pdeathsig)' : ''}`,
      data: { binary, version, ...(reaper ? { parentDeath: reaper } : {}) },
    };
  } catch (error) {
    return {
      name: 'anvil',
      status: 'warn',
      detail: `${binary} --version failed: ${errorText(error).split('\n')[0]}`,
      hint,
      data: { binary },
    };
  }
}

async function checkSolc(): Promise<DoctorCheck> {
  try {
    const { solcVersion } = await import('../chain/solidity-verifier.ts');
    const version = await solcVersion();
    return { name: 'solc', status: 'ok', detail: `solc ${version} loads`, data: { version } };
  } catch (error) {
    return {
      name: 'solc',
      status: 'warn',
      detail: `solc does not load: ${errorText(error)}`,
      hint: 'Solidity verifiers and the registry contracts need it: run `npm install` again',
    };
  }
}

async function checkCircom(): Promise<DoctorCheck> {
  try {
    const { circomVersion, CIRCOM2_PACKAGE_VERSION } = await import('../circuit/circom-runner.ts');
    const version = await circomVersion();
    return {
      name: 'circom',
      status: 'ok',
      detail: `circom ${version} runs (circom2 ${CIRCOM2_PACKAGE_VERSION}, WebAssembly)`,
      data: { version, package: CIRCOM2_PACKAGE_VERSION },
    };
  } catch (error) {
    return {
      name: 'circom',
      status: 'fail',
      detail: `the circom2 compiler does not load: ${errorText(error)}`,
      hint: 'nothing can be compiled without it: run `npm install` again (circom2 is a dependency)',
    };
  }
}

/** Which Groth16 prover runs (native or snarkjs) and why; never builds (a build happens on first proof). */
async function checkProver(cacheDir: string): Promise<DoctorCheck> {
  const { nativeProver, proverChoiceFromEnvironment } = await import('../prover/native/index.ts');
  const choice = proverChoiceFromEnvironment();
  const { status } = await nativeProver({ cacheDir, build: false });
  if (choice === 'snarkjs')
    return {
      name: 'prover',
      status: 'ok',
      detail: `snarkjs (chosen with --prover snarkjs or ZKAI_PROVER)${status.available ? '; the native prover is built' : ''}`,
      data: { active: 'snarkjs', native: status.available },
    };
  if (status.available) {
    const { poseidonIsNative } = await import('../crypto/poseidon-native.ts');
    const poseidon = poseidonIsNative();
    return {
      name: 'prover',
      status: 'ok',
      detail: `native (${status.adx ? 'x86-64 mulx/adcx/adox' : 'portable C++'} field arithmetic): ${status.path}; Poseidon hashes (commitments, Merkle trees) ${poseidon ? 'native too' : 'in JavaScript (this addon has no Poseidon)'}`,
      data: { active: 'native', path: status.path, adx: status.adx, poseidon },
    };
  }
  return {
    name: 'prover',
    status: 'warn',
    detail: `snarkjs: the native prover is not available (${status.reason})`,
    hint: "it builds into the cache on the first proof once g++ and Node's headers are installed (Debian: apt-get install g++); in a checkout of zkai, `npm run build` builds it. Until then snarkjs proves, which is slower",
    data: { active: 'snarkjs', native: false, reason: status.reason },
  };
}

/** Free memory and cores against what the default prover pool will use. */
export function checkResources(
  freeBytes = os.freemem(),
  totalBytes = os.totalmem(),
  cores = os.availableParallelism(),
): DoctorCheck[] {
  const shape = defaultPoolShape(cores);
  const needed = shape.workers * WITNESS_CALCULATOR_BYTES;
  const memoryData = { freeBytes, totalBytes, workers: shape.workers, neededBytes: needed };
  const memory: DoctorCheck =
    freeBytes >= needed
      ? {
          name: 'memory',
          status: 'ok',
          detail: `${formatBytes(freeBytes)} free of ${formatBytes(totalBytes)}; the default pool (${shape.workers} worker${shape.workers === 1 ? '' : 's'}) reserves about ${formatBytes(needed)} for witness calculators`,
          data: memoryData,
        }
      : {
          name: 'memory',
          status: 'warn',
          detail: `${formatBytes(freeBytes)} free of ${formatBytes(totalBytes)}, below the ${formatBytes(needed)} the default pool (${shape.workers} worker${shape.workers === 1 ? '' : 's'}) reserves for witness calculators (about 2 GiB each)`,
          hint: `close other programs, or prove with fewer workers (--workers 1 for zkai demo); large circuits may fail with out-of-memory errors`,
          data: memoryData,
        };
  const coreData = { cores, workers: shape.workers, curveThreads: shape.curveThreads };
  const coreCheck: DoctorCheck =
    cores >= 2
      ? {
          name: 'cores',
          status: 'ok',
          detail: `${cores} cores: the prover pool runs ${shape.workers} worker${shape.workers === 1 ? '' : 's'} x ${shape.curveThreads} curve threads`,
          data: coreData,
        }
      : {
          name: 'cores',
          status: 'warn',
          detail: `${cores} core: proofs and a development ptau take about twice as long as on the 2-core reference machine`,
          hint: 'use a machine with more cores for big datasets, or pass --ptau with a published ptau file instead of generating one',
          data: coreData,
        };
  return [memory, coreCheck];
}

function checkChromium(): DoctorCheck {
  return existsSync(CHROMIUM)
    ? {
        name: 'chromium',
        status: 'ok',
        detail: `${CHROMIUM} (for the explorer page's browser test)`,
        data: { path: CHROMIUM },
      }
    : {
        name: 'chromium',
        status: 'warn',
        detail: `optional: ${CHROMIUM} not found; only the explorer page's browser test needs it`,
        hint: 'on Debian: apt-get install chromium (no other browser download is used)',
      };
}

/** Run every check. */
export async function runDoctor(options: { cacheDir?: string } = {}): Promise<DoctorReport> {
  const layout = cacheLayout(options.cacheDir);
  const cacheDir = layout.dir;
  const [node, cacheChecks, anvil, solc, circom, prover] = await Promise.all([
    Promise.resolve(checkNode()),
    checkCache(layout).catch((error: unknown): { cache: DoctorCheck; ptau: DoctorCheck } => ({
      cache: {
        name: 'cache',
        status: 'fail',
        detail: `${cacheDir}: ${errorText(error)}`,
        hint: 'choose another folder with --cache-dir DIR',
        data: { dir: cacheDir },
      },
      ptau: {
        name: 'ptau',
        status: 'warn',
        detail: 'cached ptau files not known: the cache folder cannot be read',
        hint: 'fix the cache folder first',
      },
    })),
    checkAnvil(),
    checkSolc(),
    checkCircom(),
    checkProver(cacheDir),
  ]);
  const checks = [
    node,
    cacheChecks.cache,
    cacheChecks.ptau,
    circom,
    prover,
    solc,
    anvil,
    ...checkResources(),
    checkChromium(),
  ];
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const check of checks) counts[check.status] += 1;
  return { ok: counts.fail === 0, counts, checks };
}

/** The report as a table for people, with what to do under each problem. */
export function formatDoctorReport(report: DoctorReport): string {
  const nameWidth = Math.max(...report.checks.map((check) => check.name.length));
  const lines = ['zkai doctor', ''];
  for (const check of report.checks) {
    lines.push(`  ${check.name.padEnd(nameWidth)}  ${check.status.toUpperCase().padEnd(4)}  ${check.detail}`);
    if (check.hint && check.status !== 'ok') lines.push(`  ${' '.repeat(nameWidth)}        -> ${check.hint}`);
  }
  lines.push(
    '',
    `${report.counts.ok} ok, ${report.counts.warn} warning${report.counts.warn === 1 ? '' : 's'}, ${report.counts.fail} failed`,
  );
  return lines.join('\n');
}

/** `zkai doctor`: exit code 1 when a check fails. */
export async function doctorCommand(flags: GlobalFlags): Promise<void> {
  const report = await runDoctor(flags.cacheDir ? { cacheDir: flags.cacheDir } : {});
  emit(flags, report, () => formatDoctorReport(report));
  if (!report.ok) process.exitCode = 1;
}
