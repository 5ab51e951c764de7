import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { CompileError } from '../errors.ts';
import { publishDirectory, writeFileAtomic } from '../util/atomic-fs.ts';
import { withFileLock } from '../util/file-lock.ts';
import { sha256Parts } from '../util/hash.ts';
import { cacheLayout, circuitFiles } from '../cache/layout.ts';
import { CIRCOM2_PACKAGE_VERSION, circomVersion, runCircom } from './circom-runner.ts';
import { readR1csInfo, type CircuitInfo } from './r1cs-info.ts';
import { collectSources, defaultIncludePaths } from './sources.ts';

/** Options of {@link compileCircuit}. */
export interface CompileOptions {
  /** Cache folder (default: see `resolveCacheDir`). */
  cacheDir?: string;
  /** Extra include folders, searched after the file's own folder and before circomlib. */
  includePaths?: string[];
  /** circom simplification level: 0, 1 or 2 (default 2: full simplification, fewest constraints). */
  optimization?: 0 | 1 | 2;
  /** Ignore a cached build and compile again. */
  force?: boolean;
  /** Called with progress messages. */
  log?: (message: string) => void;
}

/** A compiled circuit in the artifact cache. */
export interface CompiledCircuit {
  /** Content address: hash of every source file, the compiler version and the options. */
  id: string;
  /** Name of the main file without extension. */
  name: string;
  /** Cache folder holding the artifacts. */
  dir: string;
  r1csPath: string;
  wasmPath: string;
  symPath: string;
  info: CircuitInfo;
  /** circom's version, e.g. `2.2.3`. */
  compilerVersion: string;
  /** True when the artifacts came from the cache and nothing was compiled. */
  cached: boolean;
  /** circom's output for a fresh compile (empty when cached). */
  compilerOutput: string;
}

interface CompileMeta {
  id: string;
  name: string;
  info: CircuitInfo;
  compilerVersion: string;
  sources: string[];
}

/**
 * Compile a circom file to r1cs + witness wasm + symbols with circom 2 (WebAssembly), with circomlib on the include
 * path, into the content-addressed artifact cache. A second call with the same sources, compiler and options reuses
 * the cached build. A compile error throws {@link CompileError} with circom's own message; a run that writes no
 * r1cs or wasm is an error too, whatever circom's exit code said.
 */
export async function compileCircuit(sourcePath: string, options: CompileOptions = {}): Promise<CompiledCircuit> {
  const cache = cacheLayout(options.cacheDir);
  const optimization = options.optimization ?? 2;
  const includePaths = [...(options.includePaths ?? []), ...defaultIncludePaths()];
  const sources = await collectSources(sourcePath, includePaths);
  const name = basename(sourcePath).replace(/\.circom$/, '');
  const compilerVersion = await circomVersion();
  const id = sha256Parts([
    'zkai-compile-v1',
    `circom2@${CIRCOM2_PACKAGE_VERSION}`,
    `circom@${compilerVersion}`,
    `O${optimization}`,
    name,
    ...sources.flatMap((source, index) => [index === 0 ? 'main' : basename(source.path), source.content]),
  ]).slice(0, 24);
  const dir = cache.circuitDir(name, id);
  const artifacts = (root: string) => circuitFiles(root, name);

  const final = artifacts(dir);
  const cached = async (): Promise<CompiledCircuit | undefined> => {
    if (options.force || !existsSync(final.metaPath) || !existsSync(final.r1csPath) || !existsSync(final.wasmPath))
      return undefined;
    const meta = JSON.parse(await readFile(final.metaPath, 'utf8')) as CompileMeta;
    options.log?.(`compile: ${name} reused from cache (${dir})`);
    return { id, name, dir, ...final, info: meta.info, compilerVersion, cached: true, compilerOutput: '' };
  };
  // Another process compiling the same circuit holds the lock: wait for its result rather than compiling it twice.
  return (
    (await cached()) ??
    withFileLock(cache.circuitLockPath(name, id), async () => (await cached()) ?? build(), {
      onWait: (pid) => options.log?.(`compile: waiting for process ${pid}, which compiles ${name} (${id})`),
    })
  );

  async function build(): Promise<CompiledCircuit> {
    options.log?.(`compile: ${name} with circom ${compilerVersion} (--O${optimization})`);
    await mkdir(cache.circuitsDir, { recursive: true });
    const buildDir = await mkdtemp(cache.circuitBuildPrefix(name));
    try {
      const run = await runCircom([
        sources[0]?.path as string,
        '--r1cs',
        '--wasm',
        '--sym',
        `--O${optimization}`,
        '-o',
        buildDir,
        ...includePaths.flatMap((path) => ['-l', path]),
      ]);
      const built = artifacts(buildDir);
      const wroteAll = existsSync(built.r1csPath) && existsSync(built.wasmPath);
      if (run.exitCode !== 0 || !wroteAll || /previous errors were found/.test(run.output)) {
        const reason = run.exitCode !== 0 ? `circom exited with code ${run.exitCode}` : 'circom wrote no r1cs/wasm';
        throw new CompileError(`compiling ${sourcePath} failed (${reason}):\n${run.output.trim()}`);
      }
      const info = await readR1csInfo(built.r1csPath);
      const meta: CompileMeta = { id, name, info, compilerVersion, sources: sources.map((source) => source.path) };
      await writeFileAtomic(built.metaPath, JSON.stringify(meta, null, 2));
      if (options.force) await rm(dir, { recursive: true, force: true });
      await publishDirectory(buildDir, dir);
      return { id, name, dir, ...final, info, compilerVersion, cached: false, compilerOutput: run.output };
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
  }
}
