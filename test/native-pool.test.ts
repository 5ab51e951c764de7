/**
 * The prover pool with the native prover: the default when it is built, proofs snarkjs verifies from two workers
 * sharing one zkey, timeouts and cancellation at any moment of a job leave the pool serving, and without the addon
 * the pool falls back to snarkjs with one warning (or refuses, when native was asked for).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProverPool, type ProvingArtifacts } from '../src/prover/pool.ts';
import { verifyProof } from '../src/verifier/verify.ts';
import { rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';
import { JobCancelledError, JobTimeoutError, ZkaiError } from '../src/errors.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';

let demo: DemoFixture;
let artifacts: ProvingArtifacts;

beforeAll(async () => {
  demo = await getDemoFixture();
  artifacts = { wasmPath: demo.circuit.wasmPath, zkeyPath: demo.zkeyPath };
}, 600_000);

afterAll(async () => {
  await releaseCurves();
});

const input = (seed: number) => rangeCommitmentInput(sampleAges(seed), 18, 99) as never;

describe('prover pool, native prover', () => {
  it('is the default: two workers share one zkey, every proof verifies with snarkjs', async () => {
    const pool = new ProverPool({ workers: 2, curveThreads: 1 });
    try {
      expect(await pool.prover()).toMatchObject({ prover: 'native' });
      const proofs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => pool.prove(artifacts, input(seed))));
      expect(new Set(proofs.map((p) => p.workerThreadId)).size).toBe(2);
      for (const proof of proofs) {
        expect(proof.prover).toBe('native');
        expect(await verifyProof(demo.vkey, proof.proof, proof.publicSignals)).toEqual({ valid: true });
      }
    } finally {
      await pool.close();
    }
  });

  it('a timeout or an abort at any moment of a job fails that job alone; the pool keeps proving', async () => {
    const pool = new ProverPool({ workers: 1, curveThreads: 2 });
    try {
      await pool.prove(artifacts, input(7)); // warm: the next jobs are stopped while witnessing or proving
      for (const timeoutMs of [1, 3, 8, 15, 30]) {
        const outcome = await pool.prove(artifacts, input(8), { timeoutMs }).catch((error: unknown) => error as Error);
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(JobTimeoutError);
        else expect((await verifyProof(demo.vkey, outcome.proof, outcome.publicSignals)).valid).toBe(true);
      }
      for (const delayMs of [0, 2, 10, 25]) {
        const controller = new AbortController();
        const job = pool.prove(artifacts, input(9), { signal: controller.signal });
        setTimeout(() => controller.abort(new Error('stop')), delayMs);
        const outcome = await job.catch((error: unknown) => error);
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(JobCancelledError);
      }
      const after = await pool.prove(artifacts, input(10));
      expect(after.prover).toBe('native');
      expect(await verifyProof(demo.vkey, after.proof, after.publicSignals)).toEqual({ valid: true });
    } finally {
      await pool.close();
    }
  });

  it('without the addon: snarkjs with one warning (auto), a typed refusal (native)', async () => {
    const saved = process.env.ZKAI_NATIVE_ADDON;
    process.env.ZKAI_NATIVE_ADDON = 'none';
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const auto = new ProverPool({ workers: 1, curveThreads: 1, prover: 'auto' });
    const native = new ProverPool({ workers: 1, curveThreads: 1, prover: 'native' });
    try {
      const proof = await auto.prove(artifacts, input(11));
      expect(proof.prover).toBe('snarkjs');
      expect(await verifyProof(demo.vkey, proof.proof, proof.publicSignals)).toEqual({ valid: true });
      const error = await native.prove(artifacts, input(11)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ZkaiError);
      expect(error).toMatchObject({ code: 'NATIVE_UNAVAILABLE' });
      expect((error as Error).message).toContain('ZKAI_NATIVE_ADDON=none');
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'ZKAI_NATIVE_UNAVAILABLE');
      expect(ours).toHaveLength(1); // once per process (each test file runs in a process of its own)
    } finally {
      process.off('warning', onWarning);
      if (saved === undefined) delete process.env.ZKAI_NATIVE_ADDON;
      else process.env.ZKAI_NATIVE_ADDON = saved;
      await auto.close();
      await native.close();
    }
  });
});
