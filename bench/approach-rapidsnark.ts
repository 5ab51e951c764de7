/**
 * Approach (d), only when `RAPIDSNARK` names a binary: the witness by snarkjs (`wtns.calculate` to a .wtns file, in
 * this process, as rapidsnark users do), then one native rapidsnark process per proof:
 * `prover <circuit.zkey> <witness.wtns> <proof.json> <public.json>`, wrapped in GNU `/usr/bin/time -f %M` (when present)
 * for its peak RSS. Latency = witness + prover process.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as snarkjs from 'snarkjs';
import { releaseCurves } from '../src/util/curves.ts';
import { poseidonChainInput } from './circuits/poseidon_chain.ts';
import {
  emptyChildResult,
  errorText,
  gnuTimeAvailable,
  progress,
  readChildConfig,
  runProcess,
  TIME_BINARY,
  writeChildResult,
  type ChildResult,
  readSampleProof,
  readTimeRss,
} from './common.ts';

async function main(): Promise<void> {
  const config = readChildConfig();
  const binary = config.rapidsnark;
  const result: ChildResult = emptyChildResult();
  if (!binary) throw new Error('rapidsnark approach needs the binary');
  const useTime = gnuTimeAvailable();
  if (!useTime) result.notes.push(`no GNU ${TIME_BINARY}: peak RSS of the rapidsnark processes not measured`);
  await mkdir(config.workDir, { recursive: true });
  try {
    const started = performance.now();
    for (let index = 0; index < config.proofs; index += 1) {
      const wtnsPath = join(config.workDir, `witness_${index}.wtns`);
      const proofPath = join(config.workDir, `proof_${index}.json`);
      const publicPath = join(config.workDir, `public_${index}.json`);
      const rssPath = join(config.workDir, `rss_${index}.txt`);
      try {
        const t0 = performance.now();
        await snarkjs.wtns.calculate(poseidonChainInput(index), config.wasmPath, wtnsPath);
        const t1 = performance.now();
        const args = [config.zkeyPath, wtnsPath, proofPath, publicPath];
        const outcome = useTime
          ? await runProcess(TIME_BINARY, ['-f', '%M', '-o', rssPath, binary, ...args])
          : await runProcess(binary, args);
        const t2 = performance.now();
        if (outcome.code !== 0 || !existsSync(proofPath))
          throw new Error(`rapidsnark exited with ${outcome.code}: ${outcome.stderr.trim().slice(-300)}`);
        result.proofs += 1;
        result.witnessMs.push(t1 - t0);
        result.proveMs.push(t2 - t1);
        result.latencyMs.push(t2 - t0);
        result.proofBytes.push((await stat(proofPath)).size);
        const rss = useTime ? await readTimeRss(rssPath) : undefined;
        if (rss !== undefined) result.peakRssBytes.push(rss);
        result.sample = await readSampleProof(proofPath, publicPath);
        progress(
          `${config.circuitLabel} rapidsnark: proof ${index + 1}/${config.proofs} in ${((t2 - t0) / 1000).toFixed(2)} s`,
        );
      } catch (error) {
        result.failed += 1;
        result.errors.push(`proof ${index}: ${errorText(error)}`);
      }
    }
    result.wallMs = performance.now() - started;
    result.singleLatencyMs = [...result.latencyMs];
  } finally {
    await releaseCurves();
    await rm(config.workDir, { recursive: true, force: true });
  }
  await writeChildResult(config, result);
}

main().catch((error: unknown) => {
  progress(`rapidsnark approach failed: ${errorText(error)}`);
  process.exitCode = 1;
});
