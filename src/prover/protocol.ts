/** Messages between the prover pool and its workers (structured-clone safe: plain data only). */

import type { Groth16Proof } from '../verifier/types.ts';

/** Configuration every worker receives when it starts. */
export interface WorkerConfig {
  /** Threads of the BN254 curve inside each worker (1 = snarkjs single-thread mode). */
  curveThreads: number;
  /** How many circuits a worker keeps warm (witness calculator + zkey in memory). */
  warmCircuits: number;
  /** Pages (64 KiB) of WebAssembly memory given to circom_runtime's unused import; circom 2 wasm brings its own. */
  witnessMemoryPages: number;
  /** Allow the test-only fault injection below. */
  allowFaultInjection: boolean;
}

/** A proving job. */
export interface ProveTask {
  wasmPath: string;
  zkeyPath: string;
  input: Record<string, unknown>;
  /** Prove with the native addon at this path (`threads` threads, `cancel[0]` raised to stop), else snarkjs. */
  native?: { addonPath: string; threads: number; cancel: Int32Array };
  /** Test only (needs `allowFaultInjection`): make the worker throw or die while running this job. */
  fault?: 'throw' | 'exit' | 'hang';
}

/** The outcome of a job, as sent back by a worker. */
export type ProveReply =
  | {
      ok: true;
      proof: Groth16Proof;
      publicSignals: string[];
      witnessMs: number;
      proveMs: number;
      /** Time spent loading the circuit into the worker (0 when it was warm). */
      loadMs: number;
      workerThreadId: number;
      /** Which prover made the proof. */
      prover: 'native' | 'snarkjs';
    }
  | { ok: false; kind: 'witness' | 'prove' | 'load' | 'cancelled'; message: string };
