/**
 * Approach (b): a warm snarkjs API loop in one process. The zkey is read into memory once; each proof is
 * `wtns.calculate(input, wasmPath, {type: 'mem'})` (snarkjs reads and instantiates the witness wasm on every call:
 * that is how its API works) then `groth16.prove(zkeyBytes, wtns.data)` on snarkjs's default multithreaded curve.
 * One cold proof (which builds the curve) comes first and is reported apart.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import * as snarkjs from 'snarkjs';
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

async function proveOnce(zkey: Uint8Array, wasmPath: string, input: Record<string, unknown>) {
  const started = performance.now();
  const wtns: { type: 'mem'; data?: Uint8Array } = { type: 'mem' };
  await snarkjs.wtns.calculate(input, wasmPath, wtns);
  const witnessDone = performance.now();
  if (!wtns.data) throw new Error('wtns.calculate wrote no witness');
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns.data);
  const done = performance.now();
  return {
    proof,
    publicSignals,
    witnessMs: witnessDone - started,
    proveMs: done - witnessDone,
    totalMs: done - started,
  };
}

async function main(): Promise<void> {
  const config = readChildConfig();
  const result: ChildResult = emptyChildResult();
  try {
    const zkeyFile = await readFile(config.zkeyPath);
    const zkey = new Uint8Array(zkeyFile.buffer, zkeyFile.byteOffset, zkeyFile.byteLength);
    // Cold proof: builds snarkjs's multithreaded curve. Uses an input index outside the measured range.
    const cold = await proveOnce(zkey, config.wasmPath, poseidonChainInput(10_000));
    result.coldMs = cold.totalMs;
    progress(`${config.circuitLabel} api: cold first proof ${(cold.totalMs / 1000).toFixed(2)} s`);
    const started = performance.now();
    for (let index = 0; index < config.proofs; index += 1) {
      try {
        const one = await proveOnce(zkey, config.wasmPath, poseidonChainInput(index));
        result.proofs += 1;
        result.latencyMs.push(one.totalMs);
        result.witnessMs.push(one.witnessMs);
        result.proveMs.push(one.proveMs);
        result.proofBytes.push(proofJsonBytes(one.proof));
        result.sample = { proof: one.proof, publicSignals: one.publicSignals };
        progress(
          `${config.circuitLabel} api: proof ${index + 1}/${config.proofs} in ${(one.totalMs / 1000).toFixed(2)} s`,
        );
      } catch (error) {
        result.failed += 1;
        result.errors.push(`proof ${index}: ${errorText(error)}`);
      }
    }
    result.wallMs = performance.now() - started;
    result.singleLatencyMs = [...result.latencyMs];
  } catch (error) {
    result.errors.push(errorText(error));
  } finally {
    await releaseCurves();
  }
  result.peakRssBytes = [peakRssBytes()];
  await writeChildResult(config, result);
}

main().catch((error: unknown) => {
  progress(`api approach failed: ${errorText(error)}`);
  process.exitCode = 1;
});
