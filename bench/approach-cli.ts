/**
 * Approach (a): the snarkjs CLI, one process per proof:
 * `node snarkjs/build/cli.cjs groth16 fullprove input.json circuit.wasm circuit.zkey proof.json public.json`.
 * Each process is wrapped in GNU `/usr/bin/time -f %M` (when present) to read its peak RSS; latency is the wall time
 * from spawn to exit. The CLI does not report witness and proving time separately.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { poseidonChainInput } from './circuits/poseidon_chain.ts';
import {
  errorText,
  gnuTimeAvailable,
  progress,
  readChildConfig,
  runProcess as run,
  snarkjsCliPath,
  TIME_BINARY,
  writeChildResult,
  type ChildResult,
  emptyChildResult,
  readSampleProof,
  readTimeRss,
} from './common.ts';

async function main(): Promise<void> {
  const config = readChildConfig();
  const cli = snarkjsCliPath();
  const useTime = gnuTimeAvailable();
  const result: ChildResult = emptyChildResult();
  if (!useTime) result.notes.push(`no GNU ${TIME_BINARY}: peak RSS of the CLI processes not measured`);
  await mkdir(config.workDir, { recursive: true });
  const started = performance.now();
  for (let index = 0; index < config.proofs; index += 1) {
    const inputPath = join(config.workDir, `input_${index}.json`);
    const proofPath = join(config.workDir, `proof_${index}.json`);
    const publicPath = join(config.workDir, `public_${index}.json`);
    const rssPath = join(config.workDir, `rss_${index}.txt`);
    await writeFile(inputPath, JSON.stringify(poseidonChainInput(index)));
    const nodeArgs = [cli, 'groth16', 'fullprove', inputPath, config.wasmPath, config.zkeyPath, proofPath, publicPath];
    const proofStarted = performance.now();
    const outcome = useTime
      ? await run(TIME_BINARY, ['-f', '%M', '-o', rssPath, process.execPath, ...nodeArgs])
      : await run(process.execPath, nodeArgs);
    const ms = performance.now() - proofStarted;
    if (outcome.code !== 0 || !existsSync(proofPath)) {
      result.failed += 1;
      result.errors.push(`proof ${index}: snarkjs exited with ${outcome.code}: ${outcome.stderr.trim().slice(-500)}`);
      continue;
    }
    result.proofs += 1;
    result.latencyMs.push(ms);
    result.proofBytes.push((await stat(proofPath)).size);
    const rss = useTime ? await readTimeRss(rssPath) : undefined;
    if (rss !== undefined) result.peakRssBytes.push(rss);
    result.sample = await readSampleProof(proofPath, publicPath);
    progress(`${config.circuitLabel} cli: proof ${index + 1}/${config.proofs} in ${(ms / 1000).toFixed(2)} s`);
  }
  result.wallMs = performance.now() - started;
  await rm(config.workDir, { recursive: true, force: true });
  await writeChildResult(config, result);
}

main().catch((error: unknown) => {
  progress(`cli approach failed: ${errorText(error)}`);
  process.exitCode = 1;
});
