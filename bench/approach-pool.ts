/**
 * Approach (c): the zkai prover pool with one shape ({workers, curveThreads}) and one prover (native or snarkjs). First a warm-up of one proof per worker
 * (reported as the cold start: pool start + circuit load + first proof), then the measured batch through
 * `proveMany`, then `singleProofs` warm proofs one at a time (single-proof latency, submission to result).
 * Per-proof latency of the batch is the time a worker spent on the proof (witness + prove), without queueing.
 */
import { performance } from 'node:perf_hooks';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { poseidonChainInput } from './circuits/poseidon_chain.ts';
import {
  errorText,
  peakRssBytes,
  progress,
  proofJsonBytes,
  readChildConfig,
  writeChildResult,
  type ChildResult,
  emptyChildResult,
} from './common.ts';

async function main(): Promise<void> {
  const config = readChildConfig();
  if (!config.shape) throw new Error('pool approach needs a shape');
  const shape = config.shape;
  const prover = config.prover ?? 'snarkjs';
  const tag = `${config.circuitLabel} pool ${prover} w${shape.workers}c${shape.curveThreads}`;
  const result: ChildResult = emptyChildResult();
  const artifacts = { wasmPath: config.wasmPath, zkeyPath: config.zkeyPath };
  const startedPool = performance.now();
  const pool = new ProverPool({ workers: shape.workers, curveThreads: shape.curveThreads, prover });
  try {
    // Warm-up: as many concurrent jobs as workers, so each idle worker loads the circuit and builds its curve once.
    const warmups = await Promise.all(
      Array.from({ length: shape.workers }, (_, index) => pool.prove(artifacts, poseidonChainInput(10_000 + index))),
    );
    result.coldMs = performance.now() - startedPool;
    const warmThreads = new Set(warmups.map((proof) => proof.workerThreadId));
    if (warmThreads.size < shape.workers) {
      result.notes.push(
        `warm-up reached ${warmThreads.size} of ${shape.workers} workers; the rest loaded during the batch`,
      );
    }
    progress(`${tag}: started and warmed up in ${(result.coldMs / 1000).toFixed(2)} s`);

    const inputs = Array.from({ length: config.proofs }, (_, index) => poseidonChainInput(index));
    const threads = new Set<number>();
    let coldLoads = 0;
    const started = performance.now();
    for await (const item of pool.proveMany(artifacts, inputs)) {
      if (!item.ok) {
        result.failed += 1;
        result.errors.push(`proof ${item.index}: ${item.error.message}`);
        continue;
      }
      result.proofs += 1;
      result.latencyMs.push(item.witnessMs + item.proveMs);
      result.witnessMs.push(item.witnessMs);
      result.proveMs.push(item.proveMs);
      result.proofBytes.push(proofJsonBytes(item.proof));
      result.sample = { proof: item.proof, publicSignals: item.publicSignals };
      threads.add(item.workerThreadId);
      if (item.loadMs > 0) coldLoads += 1;
      progress(
        `${tag}: batch ${result.proofs + result.failed}/${config.proofs} (worker ${item.workerThreadId}, ${((item.witnessMs + item.proveMs) / 1000).toFixed(2)} s)`,
      );
    }
    result.wallMs = performance.now() - started;
    result.workerThreads = threads.size;
    result.coldLoadsInBatch = coldLoads;

    for (let index = 0; index < (config.singleProofs ?? 0); index += 1) {
      try {
        const one = await pool.prove(artifacts, poseidonChainInput(20_000 + index));
        result.singleLatencyMs.push(one.totalMs);
        progress(`${tag}: single proof ${index + 1}/${config.singleProofs} in ${(one.totalMs / 1000).toFixed(2)} s`);
      } catch (error) {
        result.errors.push(`single proof ${index}: ${errorText(error)}`);
      }
    }
  } catch (error) {
    result.errors.push(errorText(error));
  } finally {
    await pool.close();
    await releaseCurves();
  }
  result.peakRssBytes = [peakRssBytes()];
  await writeChildResult(config, result);
}

main().catch((error: unknown) => {
  progress(`pool approach failed: ${errorText(error)}`);
  process.exitCode = 1;
});
