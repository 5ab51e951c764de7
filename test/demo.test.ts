import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run-demo.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { runCliProcess } from './helpers/run-cli.ts';

afterAll(async () => {
  await releaseCurves();
});

describe('demo: the whole spine', () => {
  it('compiles, sets up, proves a batch in the pool, verifies off-chain and on a real anvil', async () => {
    const summary = await runDemo({ proofs: 4 });
    expect(summary.circuit.publicSignals).toBe(3);
    expect(summary.proving.proofs).toBe(4);
    expect(summary.proving.proofsPerSecond).toBeGreaterThan(0);
    expect(summary.offChain).toMatchObject({ allValid: true, verified: 4, tamperedRejected: true });
    expect(summary.onChain.valid).toBe(true);
    expect(summary.onChain.tamperedRejected).toBe(true);
    expect(summary.onChain.verifierAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    // EIP-1108 floor for 3 public inputs: 181,000 + 3 x 6,150, plus the 21,000 transaction base.
    expect(Number(summary.onChain.verifyGas)).toBeGreaterThan(181_000 + 3 * 6_150 + 21_000);
    // The dataset part: the patients example, committed, checked, proven in chunks, verified.
    expect(summary.dataset).toMatchObject({
      records: 64,
      preflightOk: true,
      verification: { valid: true, otherRootRejected: true },
    });
    expect(summary.dataset.violation).toMatchObject({ row: expect.any(Number), field: 'age', rule: 'age GTE 18' });
    expect(summary.dataset.proving.chunks).toBe(16);
    expect(summary.dataset.proving.constraintsPerChunk).toBeLessThan(4096);
    // Private chunks: 16 chunk commitments opened by the root proof, which judges the policy.
    expect(summary.dataset.proving.aggregationProofs).toBe(1);
    expect(summary.dataset.proving.constraintsOfRoot).toBeLessThan(8192);
  }, 600_000); // cold: compiles and sets up the spine circuit, the chunk circuit, a node and the root

  it('`zkai demo` runs from the command line, reuses every cache, and exits by itself', async () => {
    const run = await runCliProcess(['demo', '--proofs', '2'], { timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('keys from cache');
    expect(run.stdout).toContain('from cache');
    expect(run.stdout).toMatch(/2\/2 valid/);
    expect(run.stdout).toMatch(/proof valid \(\d+ gas\)/);
    expect(run.stdout).toMatch(/dataset: 64 private patient records/);
    expect(run.stdout).toMatch(/verification valid against the public commitment/);
    expect(run.stdout).toMatch(/16 chunk proofs of 4 records \(\d+ constraints each\) and 1 aggregation proof /);
  });
});
