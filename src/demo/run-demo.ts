import { compileCircuit } from '../circuit/compile.ts';
import { setupCircuit } from '../setup/phase2.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { ProverPool, type PoolProof } from '../prover/pool.ts';
import { verifyProof } from '../verifier/verify.ts';
import type { VerificationKey } from '../verifier/types.ts';
import { deployVerifier, verifyOnChain, withChain } from '../chain/index.ts';
import { ProveError } from '../errors.ts';
import { runDatasetDemo, type DatasetDemoSummary } from './dataset-demo.ts';
import {
  DEMO_CIRCUIT_PATH,
  DEMO_SIGNAL_NAMES,
  rangeCommitment,
  rangeCommitmentInput,
  sampleAges,
} from './range-commitment.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  cacheDir?: string;
  /** Proofs in the batch (default 8). */
  proofs?: number;
  /** Worker threads of the pool (default: adapted to the core count). */
  workers?: number;
  /** EVM node; default: an embedded anvil started and stopped by the demo. */
  rpcUrl?: string;
  ptauPath?: string;
  onProgress?: ProgressListener;
}

/** What the demo measured. */
export interface DemoSummary {
  circuit: {
    name: string;
    constraints: number;
    publicSignals: number;
    compiledFromCache: boolean;
    compileSeconds: number;
  };
  setup: { fromCache: boolean; seconds: number; ptauPower: number; developmentPtau: boolean; ptauSeconds: number };
  proving: {
    proofs: number;
    workers: number;
    curveThreads: number;
    seconds: number;
    proofsPerSecond: number;
    medianWitnessMs: number;
    medianProveMs: number;
  };
  offChain: { allValid: boolean; verified: number; tamperedRejected: boolean; medianVerifyMs: number };
  onChain: {
    rpc: string;
    verifierAddress: string;
    valid: boolean;
    tamperedRejected: boolean;
    verifyGas: string;
    deployGas: string;
  };
  /** The data holder's part: the patients example committed, checked, proven in chunks and verified. */
  dataset: DatasetDemoSummary;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

/**
 * The whole spine on the built-in circuit: compile (cached), trusted setup (cached; a development ptau the first
 * time), a batch of proofs in the prover pool (each a different private list of 16 ages in [18, 99] with its own
 * salt), off-chain verification of every proof with its commitment checked, and on-chain verification on an EVM node.
 * Then the dataset part on the patients example (see {@link runDatasetDemo}).
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const say = (message: string) => options.onProgress?.({ stage: 'demo', message });
  const count = options.proofs ?? 8;
  let started = Date.now();
  const circuit = await compileCircuit(DEMO_CIRCUIT_PATH, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    log: (message) => options.onProgress?.({ stage: 'compile', message, transient: true }),
  });
  const compileSeconds = (Date.now() - started) / 1000;
  say(`circuit ${circuit.name}: ${circuit.info.constraints} constraints${circuit.cached ? ' (cached)' : ''}`);

  started = Date.now();
  const keys = await setupCircuit(circuit, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const setupSeconds = (Date.now() - started) / 1000;
  say(`keys ready${keys.cached ? ' (cached)' : ''} in ${setupSeconds.toFixed(1)} s`);

  const inputs = Array.from({ length: count }, (_, index) => rangeCommitmentInput(sampleAges(index + 1), 18, 99));
  const pool = new ProverPool(options.workers ? { workers: options.workers } : {});
  const proofs: Array<PoolProof | undefined> = new Array(count);
  let provingSeconds: number;
  try {
    pool.on('progress', (p: { done: number; total: number }) => say(`proved ${p.done}/${p.total}`));
    started = Date.now();
    for await (const result of pool.proveMany(
      { wasmPath: circuit.wasmPath, zkeyPath: keys.zkeyPath },
      inputs as never,
    )) {
      if (!result.ok) throw result.error;
      proofs[result.index] = result;
    }
    provingSeconds = (Date.now() - started) / 1000;
  } finally {
    await pool.close();
  }

  const vkey = keys.vkey as VerificationKey;
  const verifyTimes: number[] = [];
  let verified = 0;
  for (const [index, proof] of proofs.entries()) {
    if (!proof) throw new ProveError(`proof ${index} is missing`);
    const input = inputs[index]!;
    const expect = { commitment: rangeCommitment(input.values, input.salt), low: input.low, high: input.high };
    const at = performance.now();
    const result = await verifyProof(vkey, proof.proof, proof.publicSignals, {
      expect,
      signalNames: DEMO_SIGNAL_NAMES,
    });
    verifyTimes.push(performance.now() - at);
    if (result.valid) verified += 1;
  }
  const first = proofs[0]!;
  const tampered = [...first.publicSignals];
  tampered[2] = (BigInt(tampered[2] as string) + 1n).toString(); // claim a wider range than was proved
  const tamperedOffChain = await verifyProof(vkey, first.proof, tampered);
  say(`off-chain: ${verified}/${count} valid; tampered public signal rejected: ${!tamperedOffChain.valid}`);

  const onChain = await withChain(options.rpcUrl, async (chain) => {
    say(`chain: ${chain.anvil ? 'embedded anvil' : chain.rpcUrl}, chain id ${chain.chainId}`);
    const deployed = await deployVerifier(chain.signer, keys.zkeyPath);
    const good = await verifyOnChain(deployed.contract, first.proof, first.publicSignals);
    const bad = await verifyOnChain(deployed.contract, first.proof, tampered, { measureGas: false });
    return {
      rpc: chain.anvil ? 'embedded anvil (127.0.0.1)' : chain.rpcUrl,
      verifierAddress: deployed.address,
      valid: good.valid,
      tamperedRejected: !bad.valid,
      verifyGas: String(good.gasUsed ?? ''),
      deployGas: String(deployed.deployGas),
    };
  });

  const dataset = await runDatasetDemo({
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.ptauPath ? { ptauPath: options.ptauPath } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });

  return {
    circuit: {
      name: circuit.name,
      constraints: circuit.info.constraints,
      publicSignals: circuit.info.outputs + circuit.info.publicInputs,
      compiledFromCache: circuit.cached,
      compileSeconds,
    },
    setup: {
      fromCache: keys.cached,
      seconds: setupSeconds,
      ptauPower: keys.ptau.power,
      developmentPtau: keys.ptau.developmentOnly,
      ptauSeconds: keys.timings.ptauSeconds,
    },
    proving: {
      proofs: count,
      workers: pool.workers,
      curveThreads: pool.curveThreads,
      seconds: provingSeconds,
      proofsPerSecond: count / provingSeconds,
      medianWitnessMs: median(proofs.map((p) => p?.witnessMs ?? 0)),
      medianProveMs: median(proofs.map((p) => p?.proveMs ?? 0)),
    },
    offChain: {
      allValid: verified === count,
      verified,
      tamperedRejected: !tamperedOffChain.valid,
      medianVerifyMs: median(verifyTimes),
    },
    onChain,
    dataset,
  };
}
