/**
 * Trusted setup cost per power, to help people plan: zkai's development ptau generation (powers of tau new, one
 * contribution, prepare phase 2; split by stage from its progress events), then the Groth16 setup (`zkey new`) and the
 * phase-2 contribution of the largest Poseidon-chain circuit of that power. Each repetition starts from an empty
 * scratch cache, so nothing is reused; the compiled circuit comes from the normal cache (compiling is not setup).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { compileCircuit } from '../src/circuit/compile.ts';
import { ensureDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { linksForPower, writePoseidonChain } from './circuits/poseidon_chain.ts';
import { byPower, errorText, progress, stats } from './common.ts';
import { EST_PTAU_S, EST_SETUP_S } from './proving.ts';
import type { SetupRow, SetupSection } from './results.ts';

export interface SetupProfile {
  /** Powers and how many times each is repeated. */
  powers: Array<{ power: number; repetitions: number }>;
}

export function estimateSetup(profile: SetupProfile): number {
  return profile.powers.reduce((sum, { power, repetitions }) => sum + repetitions * (byPower(EST_PTAU_S, power) + byPower(EST_SETUP_S, power) + 2), 0);
}

export async function runSetupBench(profile: SetupProfile, options: { cacheDir: string }): Promise<SetupSection> {
  const rows: SetupRow[] = [];
  for (const { power, repetitions } of profile.powers) {
    const samples = { new: [] as number[], contribute: [] as number[], prepare: [] as number[], total: [] as number[], setup: [] as number[], contribution: [] as number[] };
    const row: SetupRow = { power, repetitions, constraints: 0, ptauNewS: null, ptauContributeS: null, ptauPrepareS: null, ptauTotalS: null, ptauBytes: 0, groth16SetupS: null, contributionS: null, zkeyBytes: 0, errors: [] };
    const source = await writePoseidonChain(join(options.cacheDir, 'bench-circuits'), linksForPower(power));
    const circuit = await compileCircuit(source, { cacheDir: options.cacheDir });
    row.constraints = circuit.info.constraints;
    for (let rep = 0; rep < repetitions; rep += 1) {
      const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-setup-'));
      try {
        progress(`setup 2^${power} [${rep + 1}/${repetitions}]: generating a development ptau from scratch`);
        const marks = new Map<string, number>();
        const started = Date.now();
        const ptau = await ensureDevPtau(scratch, power, (event) => {
          if (!marks.has(event.stage)) marks.set(event.stage, Date.now());
        });
        const ended = Date.now();
        const contributeAt = marks.get('ptau:contribute');
        const prepareAt = marks.get('ptau:prepare');
        if (contributeAt !== undefined && prepareAt !== undefined) {
          samples.new.push((contributeAt - started) / 1000);
          samples.contribute.push((prepareAt - contributeAt) / 1000);
          samples.prepare.push((ended - prepareAt) / 1000);
        }
        samples.total.push((ended - started) / 1000);
        row.ptauBytes = (await stat(ptau.path)).size;
        progress(`setup 2^${power}: ptau in ${((ended - started) / 1000).toFixed(1)} s; groth16 setup of ${circuit.info.constraints} constraints`);
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
