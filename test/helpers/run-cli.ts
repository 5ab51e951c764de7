import { spawn } from 'node:child_process';
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

/** Run a command of a separate node process to completion (killed after `timeoutMs`, which fails the run). */
export function runNode(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${options.timeoutMs ?? 120_000} ms: ${args.join(' ')}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run the zkai CLI (`src/cli/main.ts` through tsx) in a child process. */
export function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return runNode([tsxCli, cliMain, ...args], options);
}

/** Run a TypeScript file through tsx in a child process. */
export function runTs(file: string, args: string[] = [], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return runNode([tsxCli, file, ...args], options);
}

/** Absolute path of a file in test/circuits. */
export function testCircuit(name: string): string {
  return fileURLToPath(new URL(`../circuits/${name}`, import.meta.url));
}
