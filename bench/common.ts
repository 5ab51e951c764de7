/**
 * Shared pieces of the benchmark: result types, statistics, the protocol between `bench/run.ts` and the approach
 * children (`bench/approach-*.ts`), and small helpers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../src/util/atomic-fs.ts';

/** min / median / max of a set of samples (n = how many). */
export interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** Summarise samples; null when there are none. The median of an even count is the mean of the middle two. */
export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n: sorted.length, min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

/** What the orchestrator tells an approach child to do (passed as one JSON argument). */
export interface ChildConfig {
  /** Circuit label, e.g. `2^12`, for progress messages. */
  circuitLabel: string;
  wasmPath: string;
  zkeyPath: string;
  /** Links of the Poseidon chain (the inputs are made by `poseidonChainInput`). */
  links: number;
  /** Measured proofs (CLI: processes; API: loop iterations; pool: batch size). */
  proofs: number;
  /** Pool only: sequential warm single proofs after the batch. */
  singleProofs?: number;
  /** Pool only. */
  shape?: { workers: number; curveThreads: number };
  /** Pool only: the Groth16 prover its workers use. */
  prover?: 'native' | 'snarkjs';
  /** rapidsnark only: the prover binary (`prover <zkey> <wtns> <proof.json> <public.json>`). */
  rapidsnark?: string;
  /** A scratch folder the child may write into (CLI input/proof files). */
  workDir: string;
  /** Where the child writes its {@link ChildResult} (atomically), before it exits. */
  resultPath: string;
}

/** One proof that the orchestrator verifies afterwards against the verification key. */
export interface SampleProof {
  proof: unknown;
  publicSignals: string[];
}

/** What an approach child measured. Times in ms, memory in bytes. */
export interface ChildResult {
  proofs: number;
  failed: number;
  /** Wall time of the measured proofs (the loop, the batch, or the sequential CLI processes). */
  wallMs: number;
  /** Per-proof latency of the measured proofs. */
  latencyMs: number[];
  witnessMs: number[];
  proveMs: number[];
  /** Warm single-proof latency (pool: sequential proofs after the batch; API: the loop itself). */
  singleLatencyMs: number[];
  /** First, cold proof(s) not counted above (API: first proof incl. curve build; pool: start + first proof per worker). */
  coldMs: number | null;
  /** Peak resident memory: one value for an in-process approach, one per proof process for the CLI. */
  peakRssBytes: number[];
  /** Bytes of proof.json (as the snarkjs CLI writes it: JSON with 1-space indentation). */
  proofBytes: number[];
  /** Pool only: distinct worker threads that proved, and how many measured proofs still paid a circuit load. */
  workerThreads?: number;
  coldLoadsInBatch?: number;
  /** Notes worth showing (e.g. why a figure is missing). */
  notes: string[];
  sample: SampleProof | null;
  errors: string[];
}

/** Read the child's config from `process.argv` (the one argument after the script). */
export function readChildConfig(): ChildConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: tsx bench/approach-*.ts <config json>');
  return JSON.parse(raw) as ChildConfig;
}

export async function writeChildResult(config: ChildConfig, result: ChildResult): Promise<void> {
  await writeFileAtomic(config.resultPath, JSON.stringify(result));
}

/** Environment variable with the run's start (ms since the epoch), so children print the same elapsed clock. */
export const STARTED_ENV = 'ZKAI_BENCH_STARTED_AT';

/** `m:ss` */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Progress line on stderr, with the time elapsed since the run started. */
export function progress(message: string): void {
  const started = Number(process.env[STARTED_ENV]);
  const elapsed = Number.isFinite(started) && started > 0 ? (Date.now() - started) / 1000 : process.uptime();
  process.stderr.write(`[bench ${clock(elapsed)}] ${message}\n`);
}

export function fmtDuration(totalSeconds: number): string {
  if (totalSeconds < 90) return `${Math.round(totalSeconds)} s`;
  return `${(totalSeconds / 60).toFixed(1)} min`;
}

/** A figure from a table of powers, extrapolated (x3 per two powers) outside it. Used for time estimates only. */
export function byPower(table: Record<number, number>, power: number): number {
  if (table[power] !== undefined) return table[power] as number;
  const known = Object.keys(table)
    .map(Number)
    .sort((a, b) => a - b);
  const nearest = known.reduce(
    (best, p) => (Math.abs(p - power) < Math.abs(best - power) ? p : best),
    known[0] as number,
  );
  return (table[nearest] as number) * 3 ** ((power - nearest) / 2);
}

/** ISO 8601 basic format (no colons, valid on every file system), e.g. 20250102T030405Z. */
export function isoStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Bytes of a proof serialised the way `snarkjs groth16 fullprove` writes proof.json (bfj, space 1). */
export function proofJsonBytes(proof: unknown): number {
  return Buffer.byteLength(JSON.stringify(proof, null, 1));
}

/** This process's peak RSS in bytes (`maxRSS` is in KiB; it covers all threads, so pool workers are included). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Which prover a pool's jobs use (`native` or `snarkjs`), as the results files record it. */
export async function proverName(pool: {
  prover(): Promise<{ prover: 'native' | 'snarkjs' }>;
}): Promise<'native' | 'snarkjs'> {
  return (await pool.prover()).prover;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const require = createRequire(import.meta.url);

/** The root folder of an installed package, found from its resolved entry point (works despite exports maps). */
export function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name)
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}

export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(packageRoot(name), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `node_modules/snarkjs/build/cli.cjs`, from snarkjs's main entry (its exports map hides the file itself). */
export function snarkjsCliPath(): string {
  return join(packageRoot('snarkjs'), 'build', 'cli.cjs');
}

/** tsx's CLI entry, to run the approach children with the same TypeScript loader. */
export function tsxCliPath(): string {
  return require.resolve('tsx/cli');
}

/** A result with nothing measured yet, for an approach child to fill in. */
export function emptyChildResult(): ChildResult {
  return {
    proofs: 0,
    failed: 0,
    wallMs: 0,
    latencyMs: [],
    witnessMs: [],
    proveMs: [],
    singleLatencyMs: [],
    coldMs: null,
    peakRssBytes: [],
    proofBytes: [],
    notes: [],
    sample: null,
    errors: [],
  };
}

/** GNU time, used to read a child process's peak RSS. */
export const TIME_BINARY = '/usr/bin/time';

/** GNU time with `-f` and `-o`? (BusyBox or BSD time would not do.) */
export function gnuTimeAvailable(): boolean {
  if (!existsSync(TIME_BINARY)) return false;
  const probe = spawnSync(TIME_BINARY, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return probe.status === 0 && /^\d+\s*$/m.test(probe.stderr ?? '');
}

/** Run a command to its end; resolves with its exit code and stderr. */
export function runProcess(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The peak RSS in bytes that `/usr/bin/time -f %M -o FILE` wrote (its last line, in KiB), or undefined. */
export async function readTimeRss(path: string): Promise<number | undefined> {
  const kib = Number.parseInt((await readFile(path, 'utf8')).trim().split('\n').pop() ?? '', 10);
  return Number.isFinite(kib) ? kib * 1024 : undefined;
}

/** A proof and its public signals as a prover process wrote them, kept as the approach's sample. */
export async function readSampleProof(proofPath: string, publicPath: string): Promise<SampleProof> {
  return {
    proof: JSON.parse(await readFile(proofPath, 'utf8')) as unknown,
    publicSignals: JSON.parse(await readFile(publicPath, 'utf8')) as string[],
  };
}
