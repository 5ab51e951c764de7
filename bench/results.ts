/**
 * The one results file of a benchmark run (`bench/results/<timestamp>.json`): its types, and the flat list of
 * figures that `--compare` and the report read from it. Every part of the benchmark (bench/proving.ts, setup-cost.ts,
 * verify.ts, service.ts, dataset.ts, models.ts, chain.ts) returns one section of it.
 */
import type { Stats } from './common.ts';

export const RESULTS_SCHEMA = 'zkai-bench-v2';

/** Goals of issue 2: pool throughput >= 1.0x the warm multithreaded API loop; single proof <= 1.05x warm snarkjs. */
export const THROUGHPUT_GOAL = 1.0;
export const LATENCY_GOAL = 1.05;

export type PartName = 'proving' | 'setup' | 'verify' | 'service' | 'dataset' | 'models' | 'chain';

export interface PartStatus {
  part: PartName;
  status: 'ok' | 'failed' | 'skipped' | 'not-built';
  seconds: number;
  estimatedSeconds: number;
  note?: string;
  error?: string;
}

export interface MachineInfo {
  cores: number;
  availableParallelism: number;
  cpuModel: string;
  memoryBytes: number;
  platform: string;
  release: string;
  arch: string;
  node: string;
}

/**
 * How busy the machine was with other work. `otherCpuShare` is the CPU time used by processes outside this run's
 * process tree, as a share of the machine's capacity over the run (Linux /proc; null elsewhere).
 */
export interface LoadReport {
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  otherCpuShare: number | null;
  /** True when other work used more than {@link UNDER_LOAD_SHARE} of the machine or the start load was high. */
  underLoad: boolean;
  note: string;
}

export const UNDER_LOAD_SHARE = 0.1;

// ---- proving: proof time vs size, pool vs CLI vs warm API (vs rapidsnark) ------------------------------------------

export type ApproachKind = 'cli' | 'api' | 'pool' | 'rapidsnark';

export interface ApproachReport {
  /** `cli`, `api`, `rapidsnark` or `pool-w<workers>c<curveThreads>`. */
  id: string;
  kind: ApproachKind;
  label: string;
  shape: { workers: number; curveThreads: number } | null;
  /** The option sets that gave this shape (e.g. `default` and `{workers: 1, curveThreads: 2}`). */
  shapeNames: string[];
  isDefaultPool: boolean;
  proofs: number;
  failed: number;
  wallSeconds: number;
  proofsPerSecond: number | null;
  /** Per-proof latency: CLI process wall time; API loop iteration; pool time in the worker (witness + prove). */
  latencyMs: Stats | null;
  witnessMs: Stats | null;
  proveMs: Stats | null;
  /** Warm single-proof latency (API: the loop's iterations; pool: sequential proofs after the batch). */
  singleLatencyMs: Stats | null;
  /** API: the first proof (curve build included); pool: start + one warm-up proof per worker. */
  coldMs: number | null;
  peakRssBytes: Stats | null;
  proofBytes: Stats | null;
  /** The last proof checked with `groth16.verify` against the verification key. */
  verified: boolean | null;
  exitedCleanly: boolean;
  childSeconds: number;
  workerThreads?: number;
  coldLoadsInBatch?: number;
  notes: string[];
  errors: string[];
}

/** Ratios of one approach against the anchors measured in the same run (null when either side is missing). */
export interface Comparison {
  approachId: string;
  label: string;
  isDefaultPool: boolean;
  throughputVsApi: number | null;
  throughputVsCli: number | null;
  throughputVsRapidsnark: number | null;
  singleLatencyVsApi: number | null;
  /** Goals apply to pool shapes only. */
  throughputGoalMet: boolean | null;
  latencyGoalMet: boolean | null;
}

export interface CircuitReport {
  label: string;
  targetPower: number;
  links: number;
  constraints: number;
  publicInputs: number;
  outputs: number;
  wires: number;
  requiredPower: number;
  zkeyBytes: number;
  wasmBytes: number;
  compile: { cached: boolean; seconds: number };
  keys: { cached: boolean; ptauFile: string; ptauPower: number };
  approaches: ApproachReport[];
  comparisons: Comparison[];
}

export interface ProvingSection {
  config: {
    powers: number[];
    cliProofs: number;
    apiProofs: number;
    poolProofs: number;
    singleProofs: number;
    rapidsnarkProofs: number;
  };
  shapes: Array<{ workers: number; curveThreads: number; names: string[]; isDefault: boolean }>;
  circuits: CircuitReport[];
  rapidsnark: { binary: string | null; note: string };
  goals: {
    defaultPool: string;
    throughputMet: boolean | null;
    latencyMet: boolean | null;
    perCircuit: Array<{ circuit: string; throughputVsApi: number | null; singleLatencyVsApi: number | null }>;
  };
}

// ---- setup cost per power ------------------------------------------------------------------------------------------

export interface SetupRow {
  power: number;
  repetitions: number;
  /** The Poseidon-chain circuit set up with the generated ptau (the largest of that power). */
  constraints: number;
  /** The anchor, snarkjs's own steps (`powersoftau new`, one contribution, `prepare phase2`), once per power. */
  ptauNewS: Stats | null;
  ptauContributeS: Stats | null;
  ptauPrepareS: Stats | null;
  /** zkai's development ptau (`ensureDevPtau`), every repetition (before 2026-12-07: snarkjs's three steps). */
  ptauTotalS: Stats | null;
  ptauBytes: number;
  groth16SetupS: Stats | null;
  contributionS: Stats | null;
  zkeyBytes: number;
  errors: string[];
}

export interface SetupSection {
  powers: number[];
  rows: SetupRow[];
}

// ---- off-chain verification ----------------------------------------------------------------------------------------

export interface VerifyRow {
  circuit: string;
  constraints: number;
  publicInputs: number;
  /** `verifyProof` in a process that has verified before (curve built). */
  warmMs: Stats | null;
  /** The first `verifyProof` in a fresh process (curve build included, process start excluded). */
  coldMs: Stats | null;
  /** A fresh process that verifies once: node start to exit. */
  coldProcessMs: Stats | null;
  /** `snarkjs groth16 verify` CLI, one process per verification (anchor measured in the same run). */
  cliMs: Stats | null;
  valid: boolean;
  errors: string[];
}

export interface VerifySection {
  warmRepetitions: number;
  coldRepetitions: number;
  rows: VerifyRow[];
}

// ---- HTTP service under load ---------------------------------------------------------------------------------------

/**
 * One load run of the verification service (bench/service.ts): autocannon clients on 127.0.0.1 posting valid and
 * tampered proofs to one endpoint for a bounded time and count, every answer checked.
 */
export interface ServiceLoadRun {
  endpoint: string;
  /** The circuit whose proofs are posted, e.g. `2^10 Poseidon chain (960 constraints, 1 public input)`. */
  circuit: string;
  connections: number;
  /** The bounds: the run stops at whichever comes first. */
  durationSeconds: number;
  maxRequests: number;
  /** Time the load ran (autocannon's), in seconds. */
  elapsedSeconds: number;
  /** Answers received (any status). */
  requests: number;
  /** Answers to the valid proof and to the tampered one (a public signal changed). */
  validRequests: number;
  tamperedRequests: number;
  /** requests / elapsedSeconds. */
  requestsPerSecond: number;
  /** autocannon's one-second samples of answers per second (min / median / max). */
  perSecond: Stats | null;
  /** Latency of every answer, ms (autocannon's histogram). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Connection errors (timeouts included) and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  status5xx: number;
  statusCodes: Record<string, number>;
  /** Answers whose body was checked: every answer that arrived. */
  checked: number;
  /** Answers other than the expected one that are not 5xx (a 200 with the wrong verdict or reason, a 4xx). */
  wrongAnswers: number;
  /** A few of them, for the report. */
  wrongExamples: string[];
  /** The service's verifier pool (worker threads running pairing checks). */
  verifierWorkers: number;
}

/** The anchor of the service figures: a warm `snarkjs.groth16.verify` loop in one process, same proof, same run. */
export interface ServiceAnchor {
  verifies: number;
  verifiesPerSecond: number;
  warmMs: Stats | null;
  valid: boolean;
}

/** The HTTP service's section (older results files hold only status, note and rows). */
export interface ServiceSection {
  status: 'not-built' | 'ok' | 'failed';
  note: string;
  rows: Array<{ endpoint: string; concurrency: number; requestsPerSecond: Stats | null; latencyMs: Stats | null }>;
  load?: ServiceLoadRun | null;
  anchor?: ServiceAnchor | null;
  /** Service requests/s / single-process verifies/s. */
  ratioToSingleProcess?: number | null;
}

// ---- datasets ------------------------------------------------------------------------------------------------------

export interface DatasetSizeRow {
  records: number;
  constraints: number;
  perRecord: number;
  compileSeconds: number;
  ptauPower?: number;
  setupSeconds?: number;
  /** First proof in a new pool (loads the key). */
  coldProveS?: number;
  /** Warm proofs after it. */
  proveS?: Stats | null;
  verified?: boolean;
}

export interface DatasetSection {
  example: string;
  rules: number;
  aggregates: number;
  sizes: DatasetSizeRow[];
  proveUpTo: number;
  chunked: {
    rows: number;
    chunkDepth: number;
    subtrees: number;
    recordsPerChunk: number;
    chunks: number;
    /** Aggregation proofs (private chunks; absent in results of the earlier format, whose chunks published partials). */
    aggregationProofs?: number;
    constraintsPerChunk: number;
    commitSeconds: number;
    setupSeconds: number;
    setupFromCache: boolean;
    /** The prover of the pool that made the proofs (absent in results from before the native prover). */
    prover?: 'native' | 'snarkjs';
    proveSeconds: number;
    perChunkS: Stats | null;
    rowsPerSecond: number;
    verifySeconds: number;
    verified: boolean;
    minutesFor10k: number;
    /** The same rows proven again with the snarkjs prover in the same run (the "before" of the native prover). */
    snarkjs?: { proveSeconds: number; perChunkS: Stats | null; rowsPerSecond: number; verified: boolean } | null;
  } | null;
}

// ---- models --------------------------------------------------------------------------------------------------------

export interface ModelRow {
  model: string;
  architecture: string;
  fracBits: number;
  visibility: string;
  weights: string;
  constraints: number;
  estimated: number;
  parameters: number;
  reluNeurons: number;
  constraintsPerReluNeuron?: number;
  /** circomlib-ml's cost formula applied to this architecture: cited, not measured. */
  circomlibMlFormula?: number;
  commitmentPerWeight?: number;
  compileSeconds: number;
  proveS?: Stats | null;
  /** The prover of the pool behind `proveS` (absent in results from before the native prover). */
  prover?: 'native' | 'snarkjs';
  /** The same proofs made with the snarkjs prover in the same run (the "before" of the native prover). */
  snarkjsProveS?: Stats | null;
  peakRssMiB?: number;
  verified?: boolean;
  layers: Array<{ layer: string; constraints: number }>;
}

export interface ModelsSection {
  rows: ModelRow[];
  calibration: Array<{ model: string; fracBits: number; floatAccuracy: number; quantizedAccuracy: number }>;
  proofRepetitions: number;
}

// ---- chain ---------------------------------------------------------------------------------------------------------

export interface VerifierGasRow {
  publicInputs: number;
  zkaiGas: number;
  zkaiFloor: number;
  snarkjsGas: number;
  snarkjsFloor: number;
  estimateZkai: number;
  estimateSnarkjs: number;
}

export interface OperationGasRow {
  operation: string;
  gas: number;
  note: string;
  /** Public inputs verified by this operation, when it verifies a proof (for its EIP-1108 floor). */
  publicInputs?: number;
}

export interface ChainSection {
  verifiers: VerifierGasRow[];
  operations: OperationGasRow[];
}

// ---- the whole run -------------------------------------------------------------------------------------------------

/** A figure from a paper or another project: never measured here, always shown apart with its source. */
export interface Anchor {
  id: string;
  what: string;
  value: string;
  source: string;
}

export interface Goal {
  /** The part it judges, or `bench` for the benchmark itself (its duration). */
  part: PartName | 'bench';
  goal: string;
  measured: string;
  /** null when the run did not measure it. */
  met: boolean | null;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  profile: string;
  /** Smallest sizes and one repetition: checks the plumbing, the figures mean little. */
  tiny: boolean;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  estimatedSeconds: number;
  machine: MachineInfo;
  versions: Record<string, string>;
  load: LoadReport;
  parts: PartStatus[];
  proving: ProvingSection | null;
  setup: SetupSection | null;
  verify: VerifySection | null;
  service: ServiceSection | null;
  dataset: DatasetSection | null;
  models: ModelsSection | null;
  chain: ChainSection | null;
  anchors: Anchor[];
  goals: Goal[];
}

// ---- flat figures, for --compare -------------------------------------------------------------------------------------

export interface Metric {
  /** Stable key across runs, e.g. `proving/2^12/api/latency`. */
  key: string;
  label: string;
  unit: string;
  min: number;
  median: number;
  max: number;
  /** Which direction is an improvement. */
  better: 'lower' | 'higher';
  /** Deterministic figures (gas, constraints): any change counts, no noise threshold. */
  exact: boolean;
}

function fromStats(
  key: string,
  label: string,
  unit: string,
  value: Stats | null | undefined,
  better: 'lower' | 'higher' = 'lower',
  scale = 1,
): Metric[] {
  if (!value) return [];
  return [
    {
      key,
      label,
      unit,
      min: value.min * scale,
      median: value.median * scale,
      max: value.max * scale,
      better,
      exact: false,
    },
  ];
}

function single(
  key: string,
  label: string,
  unit: string,
  value: number | null | undefined,
  better: 'lower' | 'higher',
  exact: boolean,
): Metric[] {
  if (value === null || value === undefined || !Number.isFinite(value)) return [];
  return [{ key, label, unit, min: value, median: value, max: value, better, exact }];
}

/** Every comparable figure of a run. */
export function flattenMetrics(results: BenchResults): Metric[] {
  const out: Metric[] = [];
  for (const circuit of results.proving?.circuits ?? []) {
    for (const a of circuit.approaches) {
      const k = `proving/${circuit.label}/${a.id}`;
      const l = `${circuit.label} ${a.label}`;
      out.push(...single(`${k}/throughput`, `${l}: throughput`, 'proofs/s', a.proofsPerSecond, 'higher', false));
      out.push(...fromStats(`${k}/latency`, `${l}: latency`, 's', a.latencyMs, 'lower', 1 / 1000));
      out.push(...fromStats(`${k}/witness`, `${l}: witness`, 's', a.witnessMs, 'lower', 1 / 1000));
      out.push(...fromStats(`${k}/prove`, `${l}: prove`, 's', a.proveMs, 'lower', 1 / 1000));
      out.push(...fromStats(`${k}/single`, `${l}: single proof`, 's', a.singleLatencyMs, 'lower', 1 / 1000));
      out.push(...fromStats(`${k}/peakRss`, `${l}: peak RSS`, 'MiB', a.peakRssBytes, 'lower', 1 / 2 ** 20));
    }
  }
  for (const row of results.setup?.rows ?? []) {
    const k = `setup/2^${row.power}`;
    out.push(...fromStats(`${k}/ptau`, `2^${row.power} dev ptau generation`, 's', row.ptauTotalS));
    out.push(...fromStats(`${k}/groth16`, `2^${row.power} groth16 setup`, 's', row.groth16SetupS));
    out.push(...fromStats(`${k}/contribution`, `2^${row.power} contribution`, 's', row.contributionS));
  }
  for (const row of results.verify?.rows ?? []) {
    const k = `verify/${row.circuit}`;
    out.push(...fromStats(`${k}/warm`, `${row.circuit} verify warm`, 'ms', row.warmMs));
    out.push(...fromStats(`${k}/cold`, `${row.circuit} verify cold (in process)`, 'ms', row.coldMs));
    out.push(...fromStats(`${k}/coldProcess`, `${row.circuit} verify cold (process)`, 'ms', row.coldProcessMs));
    out.push(...fromStats(`${k}/cli`, `${row.circuit} snarkjs CLI verify`, 'ms', row.cliMs));
  }
  for (const row of results.service?.rows ?? []) {
    out.push(
      ...fromStats(
        `service/${row.endpoint}/c${row.concurrency}/rps`,
        `service ${row.endpoint} x${row.concurrency}: requests/s`,
        'req/s',
        row.requestsPerSecond,
        'higher',
      ),
    );
  }
  const load = results.service?.load;
  if (load) {
    const k = `service/${load.endpoint}/c${load.connections}`;
    out.push(
      ...single(
        `${k}/p50`,
        `service ${load.endpoint} x${load.connections}: p50 latency`,
        'ms',
        load.latencyMs.p50,
        'lower',
        false,
      ),
    );
    out.push(
      ...single(
        `${k}/p99`,
        `service ${load.endpoint} x${load.connections}: p99 latency`,
        'ms',
        load.latencyMs.p99,
        'lower',
        false,
      ),
    );
  }
  out.push(
    ...single(
      'service/anchor/verifiesPerSecond',
      'single-process snarkjs verify: verifies/s',
      'proofs/s',
      results.service?.anchor?.verifiesPerSecond,
      'higher',
      false,
    ),
  );
  for (const size of results.dataset?.sizes ?? []) {
    out.push(
      ...single(
        `dataset/${size.records}/constraints`,
        `dataset ${size.records} records: constraints`,
        'constraints',
        size.constraints,
        'lower',
        true,
      ),
    );
    out.push(...fromStats(`dataset/${size.records}/prove`, `dataset ${size.records} records: prove`, 's', size.proveS));
  }
  const chunked = results.dataset?.chunked;
  if (chunked) {
    out.push(
      ...single(
        `dataset/chunked/${chunked.recordsPerChunk}/rowsPerSecond`,
        `dataset chunked (${chunked.recordsPerChunk}/chunk): rows/s`,
        'rows/s',
        chunked.rowsPerSecond,
        'higher',
        false,
      ),
    );
    out.push(
      ...fromStats(
        `dataset/chunked/${chunked.recordsPerChunk}/perChunk`,
        `dataset chunked (${chunked.recordsPerChunk}/chunk): per chunk`,
        's',
        chunked.perChunkS,
      ),
    );
  }
  for (const row of results.models?.rows ?? []) {
    const k = `models/${row.model}/${row.visibility}/${row.weights}`;
    out.push(
      ...single(
        `${k}/constraints`,
        `${row.model} (${row.weights} weights): constraints`,
        'constraints',
        row.constraints,
        'lower',
        true,
      ),
    );
    out.push(...fromStats(`${k}/prove`, `${row.model} (${row.weights} weights): prove`, 's', row.proveS));
  }
  for (const row of results.chain?.verifiers ?? []) {
    out.push(
      ...single(
        `chain/verifier/${row.publicInputs}/zkai`,
        `zkai verifier, ${row.publicInputs} public inputs: gas`,
        'gas',
        row.zkaiGas,
        'lower',
        true,
      ),
    );
    out.push(
      ...single(
        `chain/verifier/${row.publicInputs}/snarkjs`,
        `snarkjs verifier, ${row.publicInputs} public inputs: gas`,
        'gas',
        row.snarkjsGas,
        'lower',
        true,
      ),
    );
  }
  for (const row of results.chain?.operations ?? []) {
    out.push(...single(`chain/op/${row.operation}`, `${row.operation}: gas`, 'gas', row.gas, 'lower', true));
  }
  return out;
}
