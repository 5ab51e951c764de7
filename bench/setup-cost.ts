/**
 * Trusted setup cost per power, to help people plan: zkai's development ptau generation (`ensureDevPtau`, written
 * directly from known secrets), beside the anchor it replaces, snarkjs's own three steps (powers of tau new, one
 * contribution, prepare phase 2; run once per power, in the same run); then the Groth16 setup (`zkey new`) and the
 * phase-2 contribution of the largest Poseidon-chain circuit of that power. Each repetition starts from an empty
 * scratch cache, so nothing is reused; the compiled circuit comes from the normal cache (compiling is not setup).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { compileCircuit } from '../src/circuit/compile.ts';
import { ensureDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { linksForPower, writePoseidonChain } from './circuits/poseidon_chain.ts';
import { byPower, errorText, progress, stats } from './common.ts';
import { EST_PTAU_S, EST_SETUP_S, EST_SNARKJS_PTAU_S } from './proving.ts';
import type { SetupRow, SetupSection } from './results.ts';

export interface SetupProfile {
  /** Powers and how many times each is repeated. */
  powers: Array<{ power: number; repetitions: number }>;
}

export function estimateSetup(profile: SetupProfile): number {
  return profile.powers.reduce(
    (sum, { power, repetitions }) =>
      sum +
      byPower(EST_SNARKJS_PTAU_S, power) +
      repetitions * (byPower(EST_PTAU_S, power) + byPower(EST_SETUP_S, power) + 2),
    0,
  );
}

export async function runSetupBench(profile: SetupProfile, options: { cacheDir: string }): Promise<SetupSection> {
  const rows: SetupRow[] = [];
  for (const { power, repetitions } of profile.powers) {
    const samples = {
      new: [] as number[],
      contribute: [] as number[],
      prepare: [] as number[],
      total: [] as number[],
      setup: [] as number[],
      contribution: [] as number[],
    };
    const row: SetupRow = {
      power,
      repetitions,
      constraints: 0,
      ptauNewS: null,
      ptauContributeS: null,
      ptauPrepareS: null,
      ptauTotalS: null,
      ptauBytes: 0,
      groth16SetupS: null,
      contributionS: null,
      zkeyBytes: 0,
      errors: [],
    };
    const source = await writePoseidonChain(join(options.cacheDir, 'bench-circuits'), linksForPower(power));
    const circuit = await compileCircuit(source, { cacheDir: options.cacheDir });
    row.constraints = circuit.info.constraints;
    for (let rep = 0; rep < repetitions; rep += 1) {
      const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-setup-'));
      try {
        progress(`setup 2^${power} [${rep + 1}/${repetitions}]: generating a development ptau from scratch`);
        const started = Date.now();
        const ptau = await ensureDevPtau(scratch, power);
        const ended = Date.now();
        if (rep === 0) {
          progress(`setup 2^${power}: the anchor, snarkjs's powers of tau new, contribute and prepare phase 2`);
          const anchor = await snarkjsPtauSeconds(scratch, power);
          samples.new.push(anchor.new);
          samples.contribute.push(anchor.contribute);
          samples.prepare.push(anchor.prepare);
        }
        samples.total.push((ended - started) / 1000);
        row.ptauBytes = (await stat(ptau.path)).size;
        progress(
          `setup 2^${power}: ptau in ${((ended - started) / 1000).toFixed(1)} s; groth16 setup of ${circuit.info.constraints} constraints`,
        );
        const keys = await setupCircuit(circuit, { cacheDir: scratch });
        samples.setup.push(keys.timings.setupSeconds);
        samples.contribution.push(keys.timings.contributeSeconds);
        row.zkeyBytes = (await stat(keys.zkeyPath)).size;
      } catch (error) {
        row.errors.push(errorText(error));
        progress(`setup 2^${power}: failed: ${errorText(error)}`);
      } finally {
        await releaseCurves();
        await rm(scratch, { recursive: true, force: true });
      }
    }
    row.ptauNewS = stats(samples.new);
    row.ptauContributeS = stats(samples.contribute);
    row.ptauPrepareS = stats(samples.prepare);
    row.ptauTotalS = stats(samples.total);
    row.groth16SetupS = stats(samples.setup);
    row.contributionS = stats(samples.contribution);
    rows.push(row);
  }
  return { powers: profile.powers.map((p) => p.power), rows };
}

/** snarkjs's own development ptau path, timed per step (the anchor zkai's direct writer is compared with). */
async function snarkjsPtauSeconds(
  scratch: string,
  power: number,
): Promise<{ new: number; contribute: number; prepare: number }> {
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const files = [0, 1, 2].map((step) => join(scratch, `anchor-${step}.ptau`)) as [string, string, string];
  const t0 = Date.now();
  await snarkjs.powersOfTau.newAccumulator(curve, power, files[0]);
  const t1 = Date.now();
  await snarkjs.powersOfTau.contribute(files[0], files[1], 'bench anchor', 'bench anchor entropy, development only');
  const t2 = Date.now();
  await snarkjs.powersOfTau.preparePhase2(files[1], files[2]);
  const t3 = Date.now();
  await Promise.all(files.map((file) => rm(file, { force: true })));
  return { new: (t1 - t0) / 1000, contribute: (t2 - t1) / 1000, prepare: (t3 - t2) / 1000 };
}
