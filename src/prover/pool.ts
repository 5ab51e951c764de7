import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Piscina } from 'piscina';
import {
  JobCancelledError,
  JobTimeoutError,
  PoolClosedError,
  ProveError,
  QueueFullError,
  WitnessError,
  ZkaiError,
} from '../errors.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import type { ProveReply, ProveTask, WorkerConfig } from './protocol.ts';
import {
  nativeProver,
  proverChoiceFromEnvironment,
  type NativeProverStatus,
  type ProverChoice,
} from './native/index.ts';

/** The two files a worker needs to prove for a circuit. */
export interface ProvingArtifacts {
  /** Witness generator (`<name>_js/<name>.wasm`). */
  wasmPath: string;
  /** Groth16 proving key. */
  zkeyPath: string;
}

/** How the pool is shaped. Defaults adapt to the machine's core count (see {@link defaultPoolShape}). */
export interface ProverPoolOptions {
  /** Worker threads. */
  workers?: number;
  /** BN254 curve threads inside each worker (1 = single-threaded curve). */
  curveThreads?: number;
  /** Jobs that may wait for a worker; beyond it `prove` rejects with {@link QueueFullError}. Default 1024. */
  maxQueue?: number;
  /** Default per-job timeout in ms (0 = none). Default 0. */
  timeoutMs?: number;
  /** Circuits each worker keeps warm. Default 4. */
  warmCircuits?: number;
  /** Allow the test-only `fault` field of jobs. */
  allowFaultInjection?: boolean;
  /**
   * The Groth16 prover: `native` (zkai's C++ prover; built on first use when `npm install` did not build it), `snarkjs`,
   * or `auto`: native when it is available, else snarkjs with one warning. Default: `$ZKAI_PROVER` (which the CLI's
   * `--prover` sets), else `auto`.
   */
  prover?: ProverChoice;
  /** The cache folder a first-use build of the native prover goes to (default: the default cache). */
  cacheDir?: string;
}

/** Options of a single job. */
export interface ProveOptions {
  /** Cancel the job. A running job is stopped by ending its worker, which the pool replaces. */
  signal?: AbortSignal;
  /** Per-job timeout in ms, overriding the pool's. */
  timeoutMs?: number;
  /** Test only: see {@link ProverPoolOptions.allowFaultInjection}. */
  fault?: ProveTask['fault'];
}

/** A proof made by the pool, with where the time went. */
export interface PoolProof {
  proof: Groth16Proof;
  publicSignals: string[];
  /** Witness computation time in the worker. */
  witnessMs: number;
  /** Groth16 proving time in the worker. */
  proveMs: number;
  /** Time to load the circuit into the worker (0 when warm). */
  loadMs: number;
  /** Time from submission to result, including queueing. */
  totalMs: number;
  workerThreadId: number;
  /** Which prover made it. */
  prover: 'native' | 'snarkjs';
}

/** One result of {@link ProverPool.proveMany}: a proof, or the error of that one input. */
export type BatchResult = ({ index: number; ok: true } & PoolProof) | { index: number; ok: false; error: ZkaiError };

/** Progress of a batch. */
export interface BatchProgress {
  done: number;
  failed: number;
  total: number;
}

/**
 * The pool shape for a machine with `cores` cores, chosen by measurement (`npm run bench`, 2 cores, Poseidon-chain
 * circuits of 2^10 to 2^14 constraints): one worker whose curve spans all cores was the only shape that reached both
 * goals at every size (throughput 1.19x / 1.07x / 1.03x the warm multithreaded snarkjs loop, single-proof latency
 * 0.81x / 0.88x / 1.04x), with the least memory. Two such workers oversubscribe the cores (throughput 0.996x at 2^14);
 * two single-threaded workers have the best small-circuit throughput but 1.4x-1.8x the latency. On bigger machines,
 * several workers with 4 curve threads each (not yet measured here).
 */
export function defaultPoolShape(cores = os.availableParallelism()): { workers: number; curveThreads: number } {
  if (cores <= 4) return { workers: 1, curveThreads: Math.max(1, cores) };
  const workers = Math.max(2, Math.floor(cores / 4));
  return { workers, curveThreads: Math.max(1, Math.floor(cores / workers)) };
}

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * A pool of worker threads (piscina) that compute witnesses and Groth16 proofs. Each worker keeps its curve, its
 * compiled witness calculators and its zkeys warm between jobs; piscina keeps the workers themselves alive between
 * jobs (unlike `worker-threads-pool`, which starts a new Worker for every task and so would reload all of that).
 *
 * Jobs queue up to `maxQueue`; each may have a timeout and an AbortSignal. A job whose worker throws or dies fails
 * alone: piscina replaces the worker and the pool keeps serving. Always {@link close} the pool.
 */
export class ProverPool extends EventEmitter {
  readonly workers: number;
  readonly curveThreads: number;
  readonly maxQueue: number;
  private readonly piscina: Piscina;
  private readonly defaultTimeoutMs: number;
  private readonly allowFaultInjection: boolean;
  private readonly proverChoice: ProverChoice;
  private nativeReady: Promise<{ status: NativeProverStatus }> | undefined;
  private resolvedProver: Awaited<ReturnType<ProverPool['prover']>> | undefined;
  /** The cancel words of the jobs under way: `close()` raises them, so ending a worker does not wait for a proof. */
  private readonly running = new Set<Int32Array>();
  private readonly cacheDir: string | undefined;
  private closed = false;

  constructor(options: ProverPoolOptions = {}) {
    super();
    const shape = defaultPoolShape();
    this.workers = positiveInteger('workers', options.workers ?? shape.workers);
    this.curveThreads = positiveInteger('curveThreads', options.curveThreads ?? shape.curveThreads);
    this.maxQueue = positiveInteger('maxQueue', options.maxQueue ?? 1024);
    this.defaultTimeoutMs = options.timeoutMs ?? 0;
    this.allowFaultInjection = options.allowFaultInjection ?? false;
    this.proverChoice = options.prover ?? proverChoiceFromEnvironment();
    this.cacheDir = options.cacheDir;
    const config: WorkerConfig = {
      curveThreads: this.curveThreads,
      warmCircuits: positiveInteger('warmCircuits', options.warmCircuits ?? 4),
      witnessMemoryPages: 1,
      allowFaultInjection: this.allowFaultInjection,
    };
    this.piscina = new Piscina({
      filename: WORKER_ENTRY.href,
      minThreads: this.workers,
      maxThreads: this.workers,
      maxQueue: this.maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { zkai: config },
    });
    // A worker that dies fails its own job (reported through that job's promise); do not crash the process.
    this.piscina.on('error', (error: unknown) => this.emit('workerError', error));
  }

  /**
   * The prover this pool's jobs use, resolved once (a first-use build of the native prover happens here): `native`
   * with its addon's path, or `snarkjs` with the reason the native one is not used.
   */
  async prover(): Promise<
    { prover: 'native'; addonPath: string; adx: boolean } | { prover: 'snarkjs'; reason: string }
  > {
    if (this.proverChoice === 'snarkjs') return { prover: 'snarkjs', reason: 'snarkjs was chosen' };
    this.nativeReady ??= nativeProver({ ...(this.cacheDir ? { cacheDir: this.cacheDir } : {}) });
    const { status } = await this.nativeReady;
    if (status.available) return { prover: 'native', addonPath: status.path, adx: status.adx };
    if (this.proverChoice === 'native')
      throw new ZkaiError('NATIVE_UNAVAILABLE', `the native prover is not available: ${status.reason}`, {
        hint: 'install a C++ compiler (g++) and run again, or choose the snarkjs prover (--prover snarkjs)',
      });
    warnSnarkjsFallback(status.reason);
    return { prover: 'snarkjs', reason: status.reason };
  }

  /** Jobs waiting for a worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  /**
   * Prove one input. Resolves with the proof and timings; rejects with {@link WitnessError} when the input does not
   * fit the circuit, {@link QueueFullError}, {@link JobTimeoutError}, {@link JobCancelledError}, or
   * {@link ProveError} (including a worker that died).
   */
  async prove(
    circuit: ProvingArtifacts,
    input: Record<string, unknown>,
    options: ProveOptions = {},
  ): Promise<PoolProof> {
    if (this.closed) throw new PoolClosedError();
    if (options.fault && !this.allowFaultInjection) throw new ProveError('fault injection is disabled for this pool');
    if (options.signal?.aborted) throw new JobCancelledError(options.signal.reason);
    // Resolved once; later jobs take it without waiting, so the queue check below stays in call order.
    const prover = this.resolvedProver ?? (this.resolvedProver = await this.prover());
    if (this.closed) throw new PoolClosedError();
    if (this.piscina.queueSize >= this.maxQueue) throw new QueueFullError(this.maxQueue);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const controller = new AbortController();
    // A native proof stops at its next check of this flag; the worker is then ended as for snarkjs (the witness
    // calculator cannot be interrupted otherwise).
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    this.running.add(cancel);
    const stop = () => {
      Atomics.store(cancel, 0, 1);
      controller.abort();
    };
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), stop()), timeoutMs) : undefined;
    const onAbort = () => stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const task: ProveTask = {
      wasmPath: circuit.wasmPath,
      zkeyPath: circuit.zkeyPath,
      input,
      ...(prover.prover === 'native'
        ? { native: { addonPath: prover.addonPath, threads: this.curveThreads, cancel } }
        : {}),
      ...(options.fault ? { fault: options.fault } : {}),
    };
    const submitted = performance.now();
    let reply: ProveReply;
    try {
      reply = (await this.piscina.run(task, { signal: controller.signal })) as ProveReply;
    } catch (error) {
      if (timedOut) throw new JobTimeoutError(timeoutMs);
      if (options.signal?.aborted) throw new JobCancelledError(options.signal.reason);
      const text = error instanceof Error ? error.message : String(error);
      if (/queue is at limit/i.test(text)) throw new QueueFullError(this.maxQueue);
      if (this.closed) throw new PoolClosedError();
      throw new ProveError(`the worker failed while proving: ${text}`, { cause: error });
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(cancel);
    }
    if (!reply.ok) {
      if (reply.kind === 'witness') {
        throw new WitnessError(
          `the input does not satisfy the circuit (${circuit.wasmPath}): ${reply.message.trim()}`,
          {
            hint: 'check the input signal names, array lengths and value ranges against the circuit',
          },
        );
      }
      if (reply.kind === 'load') throw new ProveError(`could not load the circuit into a worker: ${reply.message}`);
      if (reply.kind === 'cancelled') {
        if (timedOut) throw new JobTimeoutError(timeoutMs);
        throw new JobCancelledError(options.signal?.reason);
      }
      throw new ProveError(`proving failed: ${reply.message}`);
    }
    return {
      proof: reply.proof,
      publicSignals: reply.publicSignals,
      witnessMs: reply.witnessMs,
      proveMs: reply.proveMs,
      loadMs: reply.loadMs,
      totalMs: performance.now() - submitted,
      workerThreadId: reply.workerThreadId,
      prover: reply.prover,
    };
  }

  /**
   * Prove many inputs for one circuit. Yields each result as soon as it is done (not in input order; `index` tells
   * which input), one failed input does not stop the others, and emits `progress` ({@link BatchProgress}) events.
   * Inputs are fed to the pool as workers free up, so a batch larger than the queue never overflows it.
   */
  async *proveMany(
    circuit: ProvingArtifacts,
    inputs: ReadonlyArray<Record<string, unknown>>,
    options: Omit<ProveOptions, 'fault'> = {},
  ): AsyncGenerator<BatchResult> {
    const total = inputs.length;
    const progress: BatchProgress = { done: 0, failed: 0, total };
    const inFlightLimit = Math.max(1, Math.min(this.maxQueue, this.workers * 2));
    const settled: BatchResult[] = [];
    let wake: (() => void) | undefined;
    let next = 0;
    let running = 0;
    const launch = () => {
      while (running < inFlightLimit && next < total) {
        const index = next;
        next += 1;
        running += 1;
        this.prove(circuit, inputs[index] as Record<string, unknown>, options)
          .then(
            (proof) => settled.push({ index, ok: true, ...proof }),
            (error: unknown) =>
              settled.push({
                index,
                ok: false,
                error: error instanceof ZkaiError ? error : new ProveError(String(error), { cause: error }),
              }),
          )
          .finally(() => {
            running -= 1;
            wake?.();
          });
      }
    };
    launch();
    while (progress.done + progress.failed < total) {
      if (settled.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      while (settled.length > 0) {
        const result = settled.shift() as BatchResult;
        if (result.ok) progress.done += 1;
        else progress.failed += 1;
        this.emit('progress', { ...progress });
        launch();
        yield result;
      }
    }
  }

  /** Stop all workers (and their curve threads). Jobs still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of this.running) Atomics.store(cancel, 0, 1);
    await this.piscina.destroy();
  }
}

let warnedFallback = false;

/** Once per process: the native prover is not available, so snarkjs proves (slower). */
function warnSnarkjsFallback(reason: string): void {
  if (warnedFallback) return;
  warnedFallback = true;
  process.emitWarning(
    `the native prover is not available (${reason}); proving with snarkjs, which is slower (npm run bench compares them)`,
    {
      code: 'ZKAI_NATIVE_UNAVAILABLE',
    },
  );
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ZkaiError('BAD_OPTION', `${name} must be a positive integer, got ${value}`);
  return value;
}
