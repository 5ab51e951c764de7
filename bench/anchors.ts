/**
 * Anchors from papers and other projects: figures NOT measured by this benchmark, shown only in separate "cited"
 * columns with their source. And the goals a run is judged against.
 */
import { LATENCY_GOAL, THROUGHPUT_GOAL, type Anchor, type BenchResults, type Goal } from './results.ts';

const FIELD_NOTES =
  'zkai field notes: measured by the project on a 2-core machine of the reference class (not in this run)';

export const ANCHORS: Anchor[] = [
  {
    id: 'snarkjs-2core',
    what: 'snarkjs median s/proof on Poseidon chains, CLI / warm API / warm single-thread',
    value: '4,032 constraints: 0.90 / 0.46 / 0.91; 16,320: 1.83 / 1.34 / 2.45; 65,472: 5.37 / 4.36 / 8.22',
    source: FIELD_NOTES,
  },
  {
    id: 'rapidsnark',
    what: 'rapidsnark (native C++, built from source) on the same zkeys',
    value:
      '0.08 / 0.26 / 0.90 s at 4k / 16k / 65k constraints: 4.7x-5.2x faster than warm snarkjs; 49 MB vs 465 MB at 65k',
    source: FIELD_NOTES,
  },
  { id: 'verify-warm', what: 'warm snarkjs groth16.verify', value: 'about 15 ms', source: FIELD_NOTES },
  {
    id: 'ptau-generation',
    what: 'local ptau generation (new + contribute + prepare phase 2), 2 cores',
    value: '2^10 23 s, 2^12 75 s, 2^14 320 s, 2^16 about 22 min',
    source: FIELD_NOTES,
  },
  {
    id: 'ptau-size',
    what: 'size of a prepared ptau',
    value: 'about 1,152 bytes x 2^p (2^12: 4.7 MB, 2^14: 18.9 MB, 2^16: 75 MB)',
    source: FIELD_NOTES,
  },
  {
    id: 'eip-1108',
    what: 'EIP-1108 precompile prices',
    value:
      'ecAdd 150, ecMul 6,000, pairing 45,000 + 34,000 per pair: a Groth16 verification needs 181,000 + 6,150 per public input',
    source: 'EIP-1108 (Ethereum Improvement Proposal, Istanbul)',
  },
  {
    id: 'snarkjs-verifier-gas',
    what: 'snarkjs Solidity verifier, transaction gas',
    value: '214,534 (1 public input), 235,074 (4), 316,543 (16)',
    source: FIELD_NOTES,
  },
  {
    id: 'semaphore',
    what: "Semaphore's validateProof (verify + nullifier write + event)",
    value: '285,577 to 290,087 gas',
    source: 'Semaphore protocol gas figures (semaphore-protocol), via the zkai field notes',
  },
  {
    id: 'circomlib-ml',
    what: 'circomlib-ml v2 cost',
    value:
      'every weight x input product is a constraint; ReLU 517 constraints per neuron; its 784-56-10 MNIST MLP measured at 73,416 constraints',
    source: 'circomlib-ml v2 source; an independent benchmark (via the zkai field notes)',
  },
];

/** Field notes' snarkjs / rapidsnark seconds per proof at the size nearest a target power (2^12, 2^14, 2^16 only). */
export const CITED_PROOF_SECONDS: Record<
  number,
  { cli: number; api: number; rapidsnark: number; constraints: number }
> = {
  12: { constraints: 4_032, cli: 0.9, api: 0.46, rapidsnark: 0.08 },
  14: { constraints: 16_320, cli: 1.83, api: 1.34, rapidsnark: 0.26 },
  16: { constraints: 65_472, cli: 5.37, api: 4.36, rapidsnark: 0.9 },
};

export const CITED_PTAU_SECONDS: Record<number, number> = { 10: 23, 12: 75, 14: 320, 16: 1320 };
export const CITED_SNARKJS_VERIFIER_GAS: Record<number, number> = { 1: 214_534, 4: 235_074, 16: 316_543 };
export const SEMAPHORE_GAS = { low: 285_577, high: 290_087 };
export const CITED_VERIFY_WARM_MS = 15;

/**
 * Goals of issue 19 (the native prover): a single proof (witness by the warm calculator + proof in the warm pool) at
 * least 5x faster than the warm snarkjs loop at 2^14 and 2^16; the proving process's peak memory at 2^16 under 150 MB.
 */
export const NATIVE_SPEEDUP_GOAL = 5;
export const NATIVE_PEAK_MEMORY_GOAL_BYTES = 150e6;

/** Goal of the benchmark itself (issue 7): the quick profile finishes in a few minutes. */
export const QUICK_PROFILE_GOAL_MINUTES = 10;

const x = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${value.toFixed(2)}x`);

/** The goals of the issues, judged on this run's figures; `met: null` when the run did not measure them. */
export function computeGoals(results: Omit<BenchResults, 'goals' | 'anchors'>): Goal[] {
  const goals: Goal[] = [];
  const proving = results.proving;
  if (proving) {
    for (const row of proving.goals.perCircuit) {
      goals.push({
        part: 'proving',
        goal: `${row.circuit}: default pool throughput >= ${THROUGHPUT_GOAL.toFixed(2)}x the warm snarkjs API loop`,
        measured: x(row.throughputVsApi),
        met: row.throughputVsApi === null ? null : row.throughputVsApi >= THROUGHPUT_GOAL,
      });
      goals.push({
        part: 'proving',
        goal: `${row.circuit}: default pool single proof <= ${LATENCY_GOAL.toFixed(2)}x warm snarkjs`,
        measured: x(row.singleLatencyVsApi),
        met: row.singleLatencyVsApi === null ? null : row.singleLatencyVsApi <= LATENCY_GOAL,
      });
    }
  }
  for (const circuit of proving?.circuits ?? []) {
    if (circuit.targetPower < 14) continue;
    const ratio = circuit.comparisons.find((comparison) => comparison.isDefaultPool)?.singleLatencyVsApi ?? null;
    const speedup = ratio ? 1 / ratio : null;
    goals.push({
      part: 'proving',
      goal: `${circuit.label}: default pool single proof >= ${NATIVE_SPEEDUP_GOAL}x faster than the warm snarkjs loop (issue 19)`,
      measured: x(speedup),
      met: speedup === null ? null : speedup >= NATIVE_SPEEDUP_GOAL,
    });
    if (circuit.targetPower < 16) continue;
    const peak = circuit.approaches.find((approach) => approach.isDefaultPool)?.peakRssBytes?.max ?? null;
    goals.push({
      part: 'proving',
      goal: `${circuit.label}: default pool process peak memory < ${NATIVE_PEAK_MEMORY_GOAL_BYTES / 1e6} MB (issue 19)`,
      measured: peak === null ? '–' : `${(peak / 1e6).toFixed(0)} MB (${(peak / 2 ** 20).toFixed(0)} MiB)`,
      met: peak === null ? null : peak < NATIVE_PEAK_MEMORY_GOAL_BYTES,
    });
  }
  const load = results.service?.load;
  if (load) {
    const under = `${load.connections} clients, ${load.requests.toLocaleString('en-US')} answers (${load.validRequests.toLocaleString('en-US')} valid, ${load.tamperedRequests.toLocaleString('en-US')} tampered proofs)`;
    goals.push({
      part: 'service',
      goal: 'POST /v1/verify under load: zero wrong answers (every answer checked)',
      measured: `${load.wrongAnswers} wrong of ${load.checked.toLocaleString('en-US')} checked; ${under}`,
      met: load.checked > 0 ? load.wrongAnswers === 0 : null,
    });
    goals.push({
      part: 'service',
      goal: 'POST /v1/verify under load: zero 5xx, no connection error or timeout',
      measured: `${load.status5xx} 5xx, ${load.errors} connection error(s) (${load.timeouts} timeouts), ${load.non2xx} non-2xx in all`,
      met: load.checked > 0 ? load.status5xx === 0 && load.errors === 0 : null,
    });
  }
  const dataset = results.dataset;
  if (dataset) {
    const worst = Math.max(...dataset.sizes.map((s) => s.perRecord));
    goals.push({
      part: 'dataset',
      goal: 'example policy: at most 700 constraints per record',
      measured: dataset.sizes.length
        ? `${worst.toFixed(1)} (worst of ${dataset.sizes.map((s) => s.records).join(', ')} records)`
        : '–',
      met: dataset.sizes.length ? worst <= 700 : null,
    });
    const c = dataset.chunked;
    goals.push({
      part: 'dataset',
      goal: '10,000 rows proven in under 10 minutes (extrapolated from the chunked rate)',
      measured: c
        ? `${c.minutesFor10k.toFixed(1)} min (${c.rowsPerSecond.toFixed(1)} rows/s over ${c.rows} rows)`
        : '–',
      met: c ? c.minutesFor10k < 10 : null,
    });
  }
  const models = results.models;
  if (models) {
    const relu = models.rows.map((r) => r.constraintsPerReluNeuron).filter((v): v is number => v !== undefined);
    goals.push({
      part: 'models',
      goal: 'fused rescale + ReLU: at most 60 constraints per neuron',
      measured: relu.length ? `${Math.max(...relu)} (worst)` : '–',
      met: relu.length ? Math.max(...relu) <= 60 : null,
    });
    const mnist = models.rows.find((r) => r.model.startsWith('mnist') && r.weights === 'fixed');
    goals.push({
      part: 'models',
      goal: '784-56-10 MLP, fixed weights, private input: under 12,000 constraints',
      measured: mnist ? mnist.constraints.toLocaleString('en-US') : '–',
      met: mnist ? mnist.constraints < 12_000 : null,
    });
    const commit = models.rows.filter((r) => r.commitmentPerWeight !== undefined);
    goals.push({
      part: 'models',
      goal: 'private weights: at most 25 constraints per weight for the commitment',
      measured: commit.length ? commit.map((r) => `${r.model}: ${r.commitmentPerWeight!.toFixed(1)}`).join('; ') : '–',
      met: commit.length ? commit.every((r) => r.commitmentPerWeight! <= 25) : null,
    });
  }
  const chain = results.chain;
  if (chain) {
    const worst = Math.max(...chain.verifiers.map((r) => r.zkaiGas / r.zkaiFloor - 1));
    goals.push({
      part: 'chain',
      goal: 'zkai verifier within 3% of the EIP-1108 floor',
      measured: chain.verifiers.length
        ? `${(worst * 100).toFixed(2)}% over (worst of ${chain.verifiers.map((r) => r.publicInputs).join(', ')} public inputs)`
        : '–',
      met: chain.verifiers.length ? worst <= 0.03 : null,
    });
  }
  if (results.tiny) {
    // a plumbing check: its sizes and repetitions are too small for any goal to mean something
    return goals.map((g) => ({ ...g, measured: `${g.measured} (tiny run: not judged)`, met: null }));
  }
  // Only a run of every part says how long the quick profile takes (--only runs a subset).
  if (results.profile === 'quick' && results.parts.every((p) => p.status !== 'skipped')) {
    const minutes = results.durationSeconds / 60;
    goals.push({
      part: 'bench',
      goal: `the quick profile finishes in a few minutes (<= ${QUICK_PROFILE_GOAL_MINUTES} min)`,
      measured: `${minutes.toFixed(1)} min (estimated ${(results.estimatedSeconds / 60).toFixed(1)})`,
      met: minutes <= QUICK_PROFILE_GOAL_MINUTES,
    });
  }
  return goals;
}
