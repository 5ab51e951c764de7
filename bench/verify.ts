/**
 * Off-chain verification time, warm and cold, for the proving part's Poseidon-chain circuits: one proof is made with
 * the snarkjs API, then
 * - warm: zkai's `verifyProof` repeated in this process after a first call (the curve is built);
 * - cold: a fresh process per verification (`bench/verify-child.ts`): the first `verifyProof` in it (curve build
 *   included), and the whole process from spawn to exit (node + tsx start included);
 * - anchor measured in the same run: `snarkjs groth16 verify` CLI, one process per verification.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import { releaseCurves } from '../src/util/curves.ts';
import { verifyProof } from '../src/verifier/verify.ts';
import { poseidonChainInput } from './circuits/poseidon_chain.ts';
import { errorText, progress, snarkjsCliPath, stats, tsxCliPath } from './common.ts';
import { preparePoseidonChain } from './proving.ts';
import type { VerifyRow, VerifySection } from './results.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

export interface VerifyProfile {
  powers: number[];
  warmRepetitions: number;
  coldRepetitions: number;
}

export function estimateVerify(profile: VerifyProfile): number {
  return profile.powers.length * (5 + profile.warmRepetitions * 0.03 + profile.coldRepetitions * 4);
}

function timedProcess(args: string[]): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stderr }));
  });
}

export async function runVerifyBench(profile: VerifyProfile, options: { cacheDir: string }): Promise<VerifySection> {
  const rows: VerifyRow[] = [];
  for (const power of profile.powers) {
    const prepared = await preparePoseidonChain(power, options.cacheDir);
    const row: VerifyRow = {
      circuit: prepared.label,
      constraints: prepared.circuit.info.constraints,
      publicInputs: prepared.circuit.info.publicInputs,
      warmMs: null,
      coldMs: null,
      coldProcessMs: null,
      cliMs: null,
      valid: true,
      errors: [],
    };
    const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-verify-'));
    try {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        poseidonChainInput(0),
        prepared.circuit.wasmPath,
        prepared.keys.zkeyPath,
      );
      const vkey = prepared.keys.vkey;
      await Promise.all([
        writeFile(join(scratch, 'verification_key.json'), JSON.stringify(vkey)),
        writeFile(join(scratch, 'proof.json'), JSON.stringify(proof)),
        writeFile(join(scratch, 'public.json'), JSON.stringify(publicSignals)),
      ]);
      // warm: the first call builds the curve and is not counted
      row.valid = (await verifyProof(vkey, proof, publicSignals)).valid;
      const warm: number[] = [];
      for (let i = 0; i < profile.warmRepetitions; i += 1) {
        const started = performance.now();
        const verdict = await verifyProof(vkey, proof, publicSignals);
        warm.push(performance.now() - started);
        row.valid &&= verdict.valid;
      }
      row.warmMs = stats(warm);
      await releaseCurves();
      progress(`verify ${prepared.label}: warm median ${row.warmMs?.median.toFixed(1)} ms over ${warm.length}`);

      const cold: number[] = [];
      const coldProcess: number[] = [];
      const cli: number[] = [];
      for (let i = 0; i < profile.coldRepetitions; i += 1) {
        const child = await timedProcess([tsxCliPath(), join(BENCH_DIR, 'verify-child.ts'), scratch]);
        if (child.code !== 0) throw new Error(`verify-child exited with ${child.code}: ${child.stderr.slice(-300)}`);
        const result = JSON.parse(await readFile(join(scratch, 'result.json'), 'utf8')) as {
          verifyMs: number;
          valid: boolean;
        };
        cold.push(result.verifyMs);
        coldProcess.push(child.ms);
        row.valid &&= result.valid;
        const viaCli = await timedProcess([
          snarkjsCliPath(),
          'groth16',
          'verify',
          join(scratch, 'verification_key.json'),
          join(scratch, 'public.json'),
          join(scratch, 'proof.json'),
        ]);
        if (viaCli.code !== 0)
          throw new Error(`snarkjs groth16 verify exited with ${viaCli.code}: ${viaCli.stderr.slice(-300)}`);
        cli.push(viaCli.ms);
      }
      row.coldMs = stats(cold);
      row.coldProcessMs = stats(coldProcess);
      row.cliMs = stats(cli);
      progress(
        `verify ${prepared.label}: cold median ${row.coldMs?.median.toFixed(0)} ms in process, ${row.coldProcessMs?.median.toFixed(0)} ms as a process; snarkjs CLI ${row.cliMs?.median.toFixed(0)} ms`,
      );
    } catch (error) {
      row.errors.push(errorText(error));
      progress(`verify ${prepared.label}: failed: ${errorText(error)}`);
    } finally {
      await releaseCurves();
      await rm(scratch, { recursive: true, force: true });
    }
    rows.push(row);
  }
  return { warmRepetitions: profile.warmRepetitions, coldRepetitions: profile.coldRepetitions, rows };
}
