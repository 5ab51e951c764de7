import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProverPool, defaultPoolShape, type ProvingArtifacts } from '../src/prover/pool.ts';
import { verifyProof } from '../src/verifier/verify.ts';
import { rangeCommitment, rangeCommitmentInput, sampleAges, DEMO_SIGNAL_NAMES } from '../src/demo/range-commitment.ts';
import {
  JobCancelledError,
  JobTimeoutError,
  PoolClosedError,
  ProveError,
  QueueFullError,
  WitnessError,
} from '../src/errors.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';
import { runTs } from './helpers/run-cli.ts';

let demo: DemoFixture;
let artifacts: ProvingArtifacts;
let pool: ProverPool;

beforeAll(async () => {
  demo = await getDemoFixture();
  artifacts = { wasmPath: demo.circuit.wasmPath, zkeyPath: demo.zkeyPath };
  pool = new ProverPool({ workers: 2, curveThreads: 2, allowFaultInjection: true });
});
afterAll(async () => {
  await pool?.close();
  await releaseCurves();
});

describe('prover pool', () => {
  it('proves many inputs concurrently; every proof verifies with its own commitment', async () => {
    const inputs = Array.from({ length: 10 }, (_, i) => rangeCommitmentInput(sampleAges(i + 10), 18, 99));
    const progress: number[] = [];
    pool.on('progress', (p: { done: number }) => progress.push(p.done));
    const seen = new Set<number>();
    const threads = new Set<number>();
    for await (const result of pool.proveMany(artifacts, inputs as never)) {
      expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
      if (!result.ok) continue;
      seen.add(result.index);
      threads.add(result.workerThreadId);
      const input = inputs[result.index]!;
      const verdict = await verifyProof(demo.vkey, result.proof, result.publicSignals, {
        expect: { commitment: rangeCommitment(input.values, input.salt), low: 18n, high: 99n },
        signalNames: DEMO_SIGNAL_NAMES,
      });
      expect(verdict).toEqual({ valid: true });
    }
    pool.removeAllListeners('progress');
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(progress.at(-1)).toBe(10);
    expect(threads.size).toBe(2); // both workers took jobs
  });

  it('keeps the circuit warm: a worker loads it once and then reports no load time', async () => {
    const input = rangeCommitmentInput(sampleAges(3), 18, 99);
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await pool.prove(artifacts, input as never));
    expect(results.slice(1).every((r) => r.loadMs === 0)).toBe(true);
  });

  it('rejects an input that breaks the circuit with a WitnessError, and serves the next job', async () => {
    const bad = { ...rangeCommitmentInput(sampleAges(1), 18, 99), low: 50n } as never; // values below 50 violate the range
    const error = await pool.prove(artifacts, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WitnessError);
    expect((error as Error).message).toMatch(/Assert Failed|Num2Bits/);
    const missing = await pool.prove(artifacts, { low: 1 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(WitnessError);
    const ok = await pool.prove(artifacts, rangeCommitmentInput(sampleAges(2), 18, 99) as never);
    expect(ok.publicSignals).toHaveLength(3);
  });

  it('stops a job at its timeout and keeps serving', async () => {
    const started = Date.now();
    await expect(pool.prove(artifacts, {}, { fault: 'hang', timeoutMs: 300 })).rejects.toBeInstanceOf(JobTimeoutError);
    expect(Date.now() - started).toBeLessThan(10_000);
    const ok = await pool.prove(artifacts, rangeCommitmentInput(sampleAges(4), 18, 99) as never);
    expect(ok.publicSignals).toHaveLength(3);
  });

  it('cancels a running job through its AbortSignal, and a job whose signal is already aborted', async () => {
    const controller = new AbortController();
    const job = pool.prove(artifacts, {}, { fault: 'hang', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user pressed stop')), 200);
    const error = await job.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobCancelledError);
    expect((error as Error).message).toContain('user pressed stop');
    await expect(pool.prove(artifacts, {}, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('fails only the job whose worker throws or dies; the pool replaces the worker', async () => {
    await expect(pool.prove(artifacts, {}, { fault: 'throw' })).rejects.toBeInstanceOf(ProveError);
    const died = await pool.prove(artifacts, {}, { fault: 'exit' }).catch((e: unknown) => e);
    expect(died).toBeInstanceOf(ProveError);
    const after = await Promise.all(
      [1, 2, 3].map((seed) => pool.prove(artifacts, rangeCommitmentInput(sampleAges(seed), 18, 99) as never)),
    );
    for (const proof of after)
      expect((await verifyProof(demo.vkey, proof.proof, proof.publicSignals)).valid).toBe(true);
  });

  it('refuses jobs beyond its queue with QueueFullError', async () => {
    const small = new ProverPool({ workers: 1, curveThreads: 1, maxQueue: 1, allowFaultInjection: true });
    try {
      const controller = new AbortController();
      const running = small.prove(artifacts, {}, { fault: 'hang', signal: controller.signal }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued = small.prove(artifacts, {}, { fault: 'hang', signal: controller.signal }).catch((e: unknown) => e);
      await expect(small.prove(artifacts, {})).rejects.toBeInstanceOf(QueueFullError);
      controller.abort();
      expect(await running).toBeInstanceOf(JobCancelledError);
      expect(await queued).toBeInstanceOf(JobCancelledError);
    } finally {
      await small.close();
    }
    await expect(small.prove(artifacts, {})).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('refuses test-only fault injection unless enabled, and bad pool options', async () => {
    const plain = new ProverPool({ workers: 1, curveThreads: 1 });
    await expect(plain.prove(artifacts, {}, { fault: 'exit' })).rejects.toThrow(/fault injection is disabled/);
    await plain.close();
    expect(() => new ProverPool({ workers: 0 })).toThrow(/workers must be a positive integer/);
  });

  it('adapts its default shape to the core count', () => {
    expect(defaultPoolShape(1)).toEqual({ workers: 1, curveThreads: 1 });
    expect(defaultPoolShape(2)).toEqual({ workers: 1, curveThreads: 2 });
    expect(defaultPoolShape(16)).toEqual({ workers: 4, curveThreads: 4 });
  });

  it('leaves no thread behind: a process that proves and closes its pool exits by itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkai-pool-exit-'));
    try {
      const script = join(dir, 'prove-and-exit.mts');
      const poolModule = new URL('../src/prover/pool.ts', import.meta.url).href;
      const input = rangeCommitmentInput(sampleAges(5), 18, 99);
      await writeFile(
        script,
        `import { ProverPool } from ${JSON.stringify(poolModule)};\n` +
          `const pool = new ProverPool({ workers: 2, curveThreads: 2 });\n` +
          `const input = ${JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))};\n` +
          `const r = await pool.prove(${JSON.stringify(artifacts)}, input);\n` +
          `await pool.close();\n` +
          `console.log('signals', r.publicSignals.length);\n`,
      );
      const run = await runTs(script, [], { timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('signals 3');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
