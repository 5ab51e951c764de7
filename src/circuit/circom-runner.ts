import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

interface CircomRunnerInstance {
  execute(wasm: Uint8Array): Promise<unknown>;
  compile(wasm: Uint8Array): Promise<WebAssembly.Module>;
}
interface Circom2Module {
  CircomRunner: new (options: {
    args: string[];
    env: Record<string, string>;
    preopens: Record<string, string>;
    bindings: Record<string, unknown>;
  }) => CircomRunnerInstance;
  bindings: Record<string, unknown>;
}
interface WasiModule {
  WASIExitError: new (code: number) => Error & { code: number };
}

const circom2 = require('circom2') as Circom2Module;
const circom2Dir = dirname(require.resolve('circom2'));
const { WASIExitError } = require(join(circom2Dir, 'vendor', 'wasi.js')) as WasiModule;

/** Version of the `circom2` npm package that wraps the compiler. Part of every compile cache key. */
export const CIRCOM2_PACKAGE_VERSION: string = (
  JSON.parse(fs.readFileSync(join(circom2Dir, 'package.json'), 'utf8')) as { version: string }
).version;

/** The global WebAssembly object (typed locally: this project's TypeScript lib has no DOM). */
const wasmRuntime = (
  globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }
).WebAssembly;

let compiledCompiler: Promise<WebAssembly.Module> | undefined;

/** The circom compiler as a WebAssembly module, compiled once per process. */
function circomModule(): Promise<WebAssembly.Module> {
  compiledCompiler ??= wasmRuntime.compile(fs.readFileSync(join(circom2Dir, 'circom.wasm')));
  return compiledCompiler;
}

/** What one run of the circom compiler did. */
export interface CircomRun {
  /** The process exit code circom asked for (0 when it returned normally). */
  exitCode: number;
  /** Everything circom wrote to stdout and stderr, with terminal colours removed. */
  output: string;
}

// eslint-disable-next-line no-control-regex -- the escape character is what this pattern is for
const ANSI_PATTERN = /\u001b\[[0-9;]*m/g;

/**
 * Run circom (WebAssembly, from the `circom2` package) with `args`, capturing its output and its exit code instead
 * of letting it write to the terminal or exit the process. The whole file system is visible to it, so absolute
 * paths work.
 */
export async function runCircom(args: readonly string[]): Promise<CircomRun> {
  let output = '';
  let exitCode = 0;
  const capture = (fd: number, data: unknown): number | undefined => {
    if (fd !== 1 && fd !== 2) return undefined;
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data as Uint8Array);
    output += bytes.toString('utf8');
    return bytes.length;
  };
  const fsBinding = {
    ...fs,
    writeSync(fd: number, data: unknown, ...rest: unknown[]): number {
      const captured = capture(fd, data);
      if (captured !== undefined) return captured;
      return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    },
  };
  const runner = new circom2.CircomRunner({
    args: [...args],
    env: {},
    preopens: { '/': '/' },
    bindings: {
      ...circom2.bindings,
      fs: fsBinding,
      isTTY: () => false,
      exit(code: number) {
        exitCode = code;
        throw new WASIExitError(code);
      },
    },
  });
  const module = await circomModule();
  runner.compile = async () => module;
  try {
    await runner.execute(new Uint8Array(0));
  } catch (error) {
    if (!(error instanceof WASIExitError)) {
      exitCode = exitCode || 1;
      output += `\n${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return { exitCode, output: output.replace(ANSI_PATTERN, '') };
}

let versionPromise: Promise<string> | undefined;

/** The circom compiler version inside the circom2 package, for example `2.2.3`. */
export function circomVersion(): Promise<string> {
  versionPromise ??= runCircom(['--version']).then((run) => run.output.match(/(\d+\.\d+\.\d+)/)?.[1] ?? 'unknown');
  return versionPromise;
}
