/**
 * A prover pool worker (run by piscina in a worker thread). It keeps, between jobs: the BN254 curve (one per worker,
 * built once), and for each recent circuit its compiled witness calculator and its proving key: the zkey's bytes for
 * snarkjs, the addon's parsed key for the native prover (parsed from the file, never held whole in memory).
 */
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { threadId, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { installWebWorkerShim } from './web-worker-shim.ts';
import type { ProveReply, ProveTask, WorkerConfig } from './protocol.ts';
import { withoutWitnessErrorEcho } from '../util/quiet-witness.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { loadAddon, type NativeProverAddon, type NativeProvingKey } from './native/addon.ts';

const config = (workerData as { zkai: WorkerConfig }).zkai;

const requireSnarkjs = installWebWorkerShim();

interface Curve {
  terminate(): Promise<void>;
}
interface Ffjavascript {
  buildBn128: (singleThread?: boolean, plugins?: unknown) => Promise<Curve>;
}
interface WitnessCalculator {
  calculateWTNSBin(input: unknown, sanityCheck: boolean): Promise<Uint8Array>;
}
interface SnarkjsCjs {
  groth16: {
    prove(
      zkey: Uint8Array,
      wtns: Uint8Array,
      logger?: unknown,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
  };
}

const ffjavascript = requireSnarkjs('ffjavascript') as Ffjavascript;
const circomRuntime = requireSnarkjs('circom_runtime') as {
  WitnessCalculatorBuilder: (code: Uint8Array, options: unknown) => Promise<WitnessCalculator>;
};
// snarkjs itself only when this worker proves with it (a native worker never loads it).
let snarkjs: SnarkjsCjs | undefined;
const snarkjsProver = (): SnarkjsCjs => (snarkjs ??= requireSnarkjs('snarkjs') as SnarkjsCjs);

// One curve per worker, built once. snarkjs asks ffjavascript for a curve on every proof; in single-thread mode
// ffjavascript would build a new one each time (110-177 ms), so every request gets this worker's cached curve.
const buildBn128 = ffjavascript.buildBn128;
let curve: Promise<Curve> | undefined;
ffjavascript.buildBn128 = () => {
  curve ??= buildWorkerCurve();
  return curve;
};

/** Build the worker's curve with `config.curveThreads` helper threads (ffjavascript sizes it by `os.cpus()`). */
async function buildWorkerCurve(): Promise<Curve> {
  if (config.curveThreads <= 1) return buildBn128(true);
  const realCpus = os.cpus;
  const cpus = realCpus();
  os.cpus = () => Array.from({ length: config.curveThreads }, (_, index) => cpus[index % cpus.length] as os.CpuInfo);
  try {
    return await buildBn128(false);
  } finally {
    os.cpus = realCpus;
  }
}

/** A circuit kept warm: its witness calculator, and its zkey as bytes (snarkjs) or parsed by the native addon. */
interface WarmCircuit {
  witness: WitnessCalculator;
  zkey: Uint8Array | undefined;
  nativeKey: NativeProvingKey | undefined;
}
const warm = new Map<string, Promise<WarmCircuit>>();

/** The warm state of a circuit, loading it on first use and evicting the least recently used beyond the limit. */
async function loadCircuit(
  wasmPath: string,
  zkeyPath: string,
  addon: NativeProverAddon | undefined,
): Promise<{ circuit: WarmCircuit; loadMs: number }> {
  const key = `${wasmPath}\u0000${zkeyPath}\u0000${addon ? 'native' : 'snarkjs'}`;
  let entry = warm.get(key);
  let loadMs = 0;
  if (entry) {
    warm.delete(key);
  } else {
    const started = performance.now();
    entry = (async () => {
      const witness = await circomRuntime.WitnessCalculatorBuilder(await readFile(wasmPath), {
        memorySize: config.witnessMemoryPages,
      });
      // The native prover parses the file itself, through a window: only its parsed key is ever in memory, never the
      // file's bytes as well (at 2^16 that halves the worker's share of the process's peak).
      if (addon) return { witness, zkey: undefined, nativeKey: addon.loadProvingKey(zkeyPath) };
      const zkey = await readFile(zkeyPath);
      return { witness, zkey: new Uint8Array(zkey.buffer, zkey.byteOffset, zkey.byteLength), nativeKey: undefined };
    })();
    entry.catch(() => warm.delete(key));
    await entry;
    loadMs = performance.now() - started;
  }
  warm.set(key, entry);
  while (warm.size > config.warmCircuits) warm.delete(warm.keys().next().value as string);
  return { circuit: await entry, loadMs };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Run one proving job: witness, then Groth16 proof. Expected failures come back as `{ ok: false }`. */
export default async function prove(task: ProveTask): Promise<ProveReply> {
  if (task.fault && config.allowFaultInjection) {
    if (task.fault === 'exit') process.exit(3);
    if (task.fault === 'throw') throw new Error('injected worker failure');
    if (task.fault === 'hang') await new Promise(() => undefined);
  }
  let loaded: Awaited<ReturnType<typeof loadCircuit>>;
  let addon: NativeProverAddon | undefined;
  try {
    addon = task.native ? loadAddon(task.native.addonPath) : undefined;
    loaded = await loadCircuit(task.wasmPath, task.zkeyPath, addon);
  } catch (error) {
    return { ok: false, kind: 'load', message: message(error) };
  }
  const started = performance.now();
  let witness: Uint8Array;
  try {
    witness = await withoutWitnessErrorEcho(() => loaded.circuit.witness.calculateWTNSBin(task.input, true));
  } catch (error) {
    return { ok: false, kind: 'witness', message: message(error) };
  }
  const witnessDone = performance.now();
  try {
    const { nativeKey, zkey } = loaded.circuit;
    const { proof, publicSignals } =
      addon && nativeKey && task.native
        ? await addon.prove(nativeKey, witness, { threads: task.native.threads, cancel: task.native.cancel })
        : await snarkjsProver().groth16.prove(zkey as Uint8Array, witness, undefined, {
            singleThread: config.curveThreads <= 1,
          });
    return {
      prover: addon ? 'native' : 'snarkjs',
      ok: true,
      proof,
      publicSignals,
      witnessMs: witnessDone - started,
      proveMs: performance.now() - witnessDone,
      loadMs: loaded.loadMs,
      workerThreadId: threadId,
    };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'NATIVE_CANCELLED')
      return { ok: false, kind: 'cancelled', message: message(error) };
    return { ok: false, kind: 'prove', message: message(error) };
  }
}
