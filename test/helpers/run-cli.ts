import { spawn, type ChildProcess } from 'node:child_process';
import { Console } from 'node:console';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ensureBuild } from './build.ts';

const require = createRequire(import.meta.url);
const tsxCli = require.resolve('tsx/cli');
const zkaiBin = fileURLToPath(new URL('../../bin/zkai.mjs', import.meta.url));

/** Output of one CLI run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How a child process is run: its environment, folder, time limit, and a set that holds it while it runs. */
export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Holds the child while it runs (so a test's afterAll can kill what is left). */
  track?: Set<ChildProcess>;
}

/** Run a program to completion, collecting its output (killed after `timeoutMs`, which fails the run). */
export function runProcess(file: string, args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.track?.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `process did not exit within ${options.timeoutMs ?? 120_000} ms: ${file} ${args.join(' ')}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      options.track?.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.track?.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run a command of a separate node process to completion (killed after `timeoutMs`, which fails the run). */
export function runNode(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return runProcess(process.execPath, args, options);
}

/** Whether this process has made sure the build is current (once is enough: src/ does not change during a run). */
let built = false;

/**
 * Run the zkai CLI in a child process as users do, through `bin/zkai.mjs`, which runs the build in `dist/` (built
 * first when `src/` changed, see helpers/build.ts). For the tests about the process itself (its exit, its signals,
 * what a fresh Node prints); the others use {@link runCli}, the same command line in this process.
 */
export function runCliProcess(args: string[], options: CliOptions = {}): Promise<CliRun> {
  if (!built) {
    ensureBuild();
    built = true;
  }
  return runNode([zkaiBin, ...args], options);
}

/** How {@link runCli} runs a command: a time limit, variables added to the environment, the working folder. */
export interface CliOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The in-process runs, one at a time: each one takes over stdout, stderr, the exit code, the folder and the env. */
let lastRun: Promise<unknown> = Promise.resolve();

/**
 * Run one zkai command line to its end in this process (`runZkai` from src/cli/program.ts, the function the `zkai`
 * binary runs), as a child process with piped output would see it: stdout and stderr captured (not a terminal), the
 * exit code, `env` added to the environment and `cwd` as the working folder for that run only. Runs are queued, one
 * at a time. About a second of CPU less per command than a new Node process loading snarkjs, ethers and circom each
 * time, over some 300 commands in the suite; the process boundary itself (the binary, signals, exit on a dead parent)
 * is tested through {@link runCliProcess} (test/cli-signals.test.ts, test/package.test.ts, test/demo.test.ts).
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  if (process.env.ZKAI_TEST_CLI_PROCESS === '1') return runCliProcess(args, options);
  const run = lastRun.then(() => runInThisProcess(args, options));
  lastRun = run.catch(() => undefined);
  return run;
}

/** A writable that appends what it receives to `sink` (the captured stdout or stderr of one run). */
function capturing(sink: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      sink(chunk.toString());
      callback();
    },
  });
}

/** Replace `stream.write` and `stream.isTTY` for one run; returns what puts them back. */
function takeOver(stream: NodeJS.WriteStream, sink: (text: string) => void): () => void {
  const write = Object.getOwnPropertyDescriptor(stream, 'write');
  const isTTY = Object.getOwnPropertyDescriptor(stream, 'isTTY');
  Object.defineProperty(stream, 'isTTY', { value: false, configurable: true, writable: true });
  Object.defineProperty(stream, 'write', {
    configurable: true,
    writable: true,
    value: (chunk: Uint8Array | string, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      const callback = rest.find((value) => typeof value === 'function') as (() => void) | undefined;
      if (callback) process.nextTick(callback);
      return true;
    },
  });
  return () => {
    for (const [name, descriptor] of [
      ['write', write],
      ['isTTY', isTTY],
    ] as const) {
      if (descriptor) Object.defineProperty(stream, name, descriptor);
      else delete (stream as unknown as Record<string, unknown>)[name];
    }
  };
}

/** What is running now and was not before (timers, sockets, child processes, workers), after a few turns. */
async function resourcesLeft(before: string[]): Promise<string[]> {
  let left: string[] = [];
  for (let turn = 0; turn < 20; turn++) {
    const remaining = [...before];
    left = process.getActiveResourcesInfo().filter((name) => {
      const at = remaining.indexOf(name);
      if (at === -1) return true;
      remaining.splice(at, 1);
      return false;
    });
    if (left.length === 0) return left;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return left;
}

async function runInThisProcess(args: string[], options: CliOptions): Promise<CliRun> {
  const { runZkai } = await import('../../src/cli/program.ts');
  let stdout = '';
  let stderr = '';
  const toStdout = (text: string) => (stdout += text);
  const toStderr = (text: string) => (stderr += text);
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const savedExitCode = process.exitCode;
  const savedConsole = globalThis.console;
  const giveBackStdout = takeOver(process.stdout, toStdout);
  const giveBackStderr = takeOver(process.stderr, toStderr);
  globalThis.console = new Console({ stdout: capturing(toStdout), stderr: capturing(toStderr) });
  Object.assign(process.env, options.env);
  if (options.cwd) process.chdir(options.cwd);
  process.exitCode = undefined;
  const before = process.getActiveResourcesInfo();
  const limit = options.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await Promise.race([
      runZkai([process.execPath, zkaiBin, ...args]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`zkai ${args.join(' ')} did not end within ${limit} ms\n${stderr}`)),
          limit,
        );
      }),
    ]);
    clearTimeout(timer);
    const left = await resourcesLeft(before);
    // A process would not have ended by itself: the command left these running.
    if (left.length > 0) throw new Error(`zkai ${args.join(' ')} left running: ${left.join(', ')}\n${stderr}`);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    giveBackStdout();
    giveBackStderr();
    globalThis.console = savedConsole;
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
    if (options.cwd) process.chdir(savedCwd);
    process.exitCode = savedExitCode;
  }
}

/** Run a TypeScript file through tsx in a child process. */
export function runTs(
  file: string,
  args: string[] = [],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return runNode([tsxCli, file, ...args], options);
}

/** Absolute path of a file in test/circuits. */
export function testCircuit(name: string): string {
  return fileURLToPath(new URL(`../circuits/${name}`, import.meta.url));
}
