import os from 'node:os';
import { Piscina } from 'piscina';
import { MalformedProofError, ServiceError, ZkaiError } from '../errors.ts';
import type { Groth16Proof, VerificationKey } from '../verifier/types.ts';
import type { PairingCheck } from '../verifier/verify.ts';
import type { PairingReply, PairingTask } from './verify-protocol.ts';

/** How the verifier pool is shaped. */
export interface VerifierPoolOptions {
  /** Worker threads, each with its own single-threaded curve. Default: the core count, at most 4. */
  workers?: number;
  /** Pairing checks that may wait for a worker; beyond it a check fails with a 503 (VERIFIER_BUSY). Default 256. */
  maxQueue?: number;
  /** Longest a check may take, queueing included, in ms (0 = none); then it fails with a 503 (VERIFY_TIMEOUT). Default 10000. */
  timeoutMs?: number;
}

const WORKER_ENTRY = new URL('./verify-worker-entry.mjs', import.meta.url);

/**
 * A piscina pool of worker threads that run Groth16 pairing checks, so verification leaves the event loop and a
 * server keeps answering while proofs are checked. Each worker keeps its curve between checks. Always {@link close} it.
 */
export class VerifierPool {
  readonly workers: number;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  private readonly piscina: Piscina;
  private closed = false;

  constructor(options: VerifierPoolOptions = {}) {
    this.workers = positiveInteger('workers', options.workers ?? Math.max(1, Math.min(4, os.availableParallelism())));
    this.maxQueue = positiveInteger('maxQueue', options.maxQueue ?? 256);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs < 0)
      throw new ZkaiError('BAD_OPTION', `timeoutMs must be a non-negative integer, got ${this.timeoutMs}`);
    this.piscina = new Piscina({
      filename: WORKER_ENTRY.href,
      minThreads: this.workers,
      maxThreads: this.workers,
      maxQueue: this.maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    // A worker that dies fails its own check (through that check's promise); never the process.
    this.piscina.on('error', () => undefined);
  }

  /** Checks waiting for a worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  /** Queue, workers and completed checks, for /health. */
  stats(): { workers: number; queued: number; completed: number } {
    return { workers: this.workers, queued: this.piscina.queueSize, completed: this.piscina.completed };
  }

  /**
   * The pairing check of one proof, in a worker. Resolves with the verdict; throws {@link MalformedProofError} when
   * snarkjs cannot read the proof's points, and {@link ServiceError} 503 when the pool is busy, timed out or closed.
   */
  readonly pairing: PairingCheck = async (
    vkey: VerificationKey,
    publicSignals: string[],
    proof: Groth16Proof,
  ): Promise<boolean> => {
    if (this.closed) throw new ServiceError(503, 'VERIFIER_CLOSED', 'the verifier pool is shutting down');
    if (this.piscina.queueSize >= this.maxQueue) throw busy(this.maxQueue);
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      this.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), controller.abort()), this.timeoutMs) : undefined;
    const task: PairingTask = { vkey, publicSignals, proof };
    let reply: PairingReply;
    try {
      reply = (await this.piscina.run(task, { signal: controller.signal })) as PairingReply;
    } catch (error) {
      if (timedOut)
        throw new ServiceError(503, 'VERIFY_TIMEOUT', `the pairing check did not finish within ${this.timeoutMs} ms`, {
          hint: 'retry later; the server is overloaded',
        });
      const text = error instanceof Error ? error.message : String(error);
      if (/queue is at limit/i.test(text)) throw busy(this.maxQueue);
      if (this.closed) throw new ServiceError(503, 'VERIFIER_CLOSED', 'the verifier pool is shutting down');
      throw new ZkaiError('VERIFY_FAILED', `the verification worker failed: ${text}`, { cause: error });
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (!reply.ok)
      throw new MalformedProofError(
        `the proof's points cannot be read as BN254 curve points (snarkjs: ${reply.message})`,
      );
    return reply.valid;
  };

  /** Stop every worker; checks still queued or running fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}

function busy(limit: number): ServiceError {
  return new ServiceError(503, 'VERIFIER_BUSY', `the verifier queue is full (${limit} checks waiting)`, {
    hint: 'retry later',
  });
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ZkaiError('BAD_OPTION', `${name} must be a positive integer, got ${value}`);
  return value;
}
