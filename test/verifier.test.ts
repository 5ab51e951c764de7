import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyProof } from '../src/verifier/verify.ts';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { rangeCommitment, rangeCommitmentInput, sampleAges, DEMO_SIGNAL_NAMES } from '../src/demo/range-commitment.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';
import { runCli, runNode } from './helpers/run-cli.ts';
import { snarkjsCliPath } from './helpers/snarkjs-cli.ts';

let demo: DemoFixture;
let scratch: string;
beforeAll(async () => {
  demo = await getDemoFixture();
  scratch = await mkdtemp(join(tmpdir(), 'zkai-verify-'));
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('off-chain verifier', () => {
  it('accepts a proof made by snarkjs itself (snarkjs -> zkai) and checks the claimed commitment', async () => {
    const commitment = rangeCommitment(demo.input.values, demo.input.salt);
    expect(demo.publicSignals).toEqual([commitment.toString(), '18', '99']);
    const result = await verifyProof(demo.vkey, demo.proof, demo.publicSignals, {
      expect: { commitment, low: 18n, high: 99n },
      signalNames: DEMO_SIGNAL_NAMES,
    });
    expect(result).toEqual({ valid: true });
  });

  it('reports a claim mismatch with the signal that differs', async () => {
    const result = await verifyProof(demo.vkey, demo.proof, demo.publicSignals, {
      expect: { commitment: 12345n },
      signalNames: DEMO_SIGNAL_NAMES,
    });
    expect(result.valid).toBe(false);
    expect(result.reason).toBe('claim-mismatch');
    expect(result.mismatches?.[0]).toMatchObject({ index: 0, name: 'commitment', expected: '12345' });
    const unknown = await verifyProof(demo.vkey, demo.proof, demo.publicSignals, {
      expect: { policyHash: 1n },
      signalNames: DEMO_SIGNAL_NAMES,
    });
    expect(unknown.detail).toContain('names no public signal');
  });

  it('rejects a tampered public signal and a tampered proof as invalid', async () => {
    const widened = [...demo.publicSignals];
    widened[2] = '100';
    expect(await verifyProof(demo.vkey, demo.proof, widened)).toMatchObject({ valid: false, reason: 'invalid-proof' });
    const swapped = { ...demo.proof, pi_a: demo.proof.pi_c, pi_c: demo.proof.pi_a };
    expect(await verifyProof(demo.vkey, swapped, demo.publicSignals)).toMatchObject({
      valid: false,
      reason: 'invalid-proof',
    });
  });

  it('rejects malformed input with a specific reason, never an exception', async () => {
    const outOfField = [...demo.publicSignals];
    outOfField[1] = (BN254_SCALAR_FIELD + 18n).toString(); // same value mod p: must be refused, not reduced
    const r1 = await verifyProof(demo.vkey, demo.proof, outOfField);
    expect(r1).toMatchObject({ valid: false, reason: 'malformed' });
    expect(r1.detail).toContain('publicSignals[1]');
    const r2 = await verifyProof(demo.vkey, { ...demo.proof, pi_b: [['1', '2']] }, demo.publicSignals);
    expect(r2).toMatchObject({ valid: false, reason: 'malformed' });
    expect(r2.detail).toContain('proof.pi_b');
    const r3 = await verifyProof(demo.vkey, { ...demo.proof, pi_a: ['0x12', '1', '1'] }, demo.publicSignals);
    expect(r3.detail).toContain('proof.pi_a[0] must be a decimal string');
    expect(await verifyProof(demo.vkey, demo.proof, demo.publicSignals.slice(0, 2))).toMatchObject({
      valid: false,
      reason: 'wrong-signal-count',
    });
    expect(await verifyProof({ protocol: 'plonk' }, demo.proof, demo.publicSignals)).toMatchObject({
      valid: false,
      reason: 'malformed',
    });
    expect(await verifyProof(demo.vkey, null, demo.publicSignals)).toMatchObject({ valid: false, reason: 'malformed' });
  });
});

describe('snarkjs interoperability', () => {
  it('a proof made by the zkai pool verifies with `snarkjs groth16 verify` (zkai -> snarkjs)', async () => {
    const pool = new ProverPool({ workers: 1 });
    try {
      const result = await pool.prove(
        { wasmPath: demo.circuit.wasmPath, zkeyPath: demo.zkeyPath },
        rangeCommitmentInput(sampleAges(7), 18, 99) as never,
      );
      await writeFile(join(scratch, 'proof.json'), JSON.stringify(result.proof));
      await writeFile(join(scratch, 'public.json'), JSON.stringify(result.publicSignals));
      const ok = await runNode([
        snarkjsCliPath(),
        'groth16',
        'verify',
        demo.keys.vkeyPath,
        join(scratch, 'public.json'),
        join(scratch, 'proof.json'),
      ]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain('OK');
      const tampered = [...result.publicSignals];
      tampered[0] = '1';
      await writeFile(join(scratch, 'public-bad.json'), JSON.stringify(tampered));
      const bad = await runNode([
        snarkjsCliPath(),
        'groth16',
        'verify',
        demo.keys.vkeyPath,
        join(scratch, 'public-bad.json'),
        join(scratch, 'proof.json'),
      ]);
      expect(bad.stdout + bad.stderr).toContain('Invalid proof');
    } finally {
      await pool.close();
    }
  });

  it('`zkai verify` accepts snarkjs files as they are, and exits 1 with a reason for an invalid proof', async () => {
    await writeFile(join(scratch, 'sj-proof.json'), JSON.stringify(demo.proof));
    await writeFile(join(scratch, 'sj-public.json'), JSON.stringify(demo.publicSignals));
    const base = ['verify', '--vkey', demo.keys.vkeyPath, '--proof', join(scratch, 'sj-proof.json')];
    const ok = await runCli([...base, '--public', join(scratch, 'sj-public.json'), '--expect', '1=18', '2=99']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('OK: the proof is valid');
    await writeFile(join(scratch, 'sj-public-bad.json'), JSON.stringify([demo.publicSignals[0], '17', '99']));
    const bad = await runCli(['--json', ...base, '--public', join(scratch, 'sj-public-bad.json')]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, reason: 'invalid-proof' });
    const mismatch = await runCli([...base, '--public', join(scratch, 'sj-public.json'), '--expect', '2=120']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('claim-mismatch');
  });
});
