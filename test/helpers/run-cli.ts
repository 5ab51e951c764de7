import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const tsxCli = require.resolve('tsx/cli');
const cliMain = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

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

/** Run the zkai CLI (`src/cli/main.ts` through tsx) in a child process. */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliRun> {
  return runNode([tsxCli, cliMain, ...args], options);
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
