import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
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
 * first when `src/` changed, see helpers/build.ts). Half a second and a second of CPU less per run than the sources
 * through tsx, over several hundred runs in the suite; test/cli-signals.test.ts covers the tsx path too.
 */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliRun> {
  if (!built) {
    ensureBuild();
    built = true;
  }
  return runNode([zkaiBin, ...args], options);
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
