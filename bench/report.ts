/**
 * The benchmark's result file format, its markdown rendering, and `--compare A.json B.json`.
 */
import type { Stats } from './common.ts';

export const REPORT_SCHEMA = 'zkai-bench-v1';

/** Goals of the issue: pool throughput >= 1.0x the warm multithreaded API loop; single proof <= 1.05x warm snarkjs. */
export const THROUGHPUT_GOAL = 1.0;
export const LATENCY_GOAL = 1.05;

export interface ApproachReport {
  /** `cli`, `api`, or `pool-w<workers>c<curveThreads>`. */
  id: string;
  kind: 'cli' | 'api' | 'pool';
  label: string;
  shape: { workers: number; curveThreads: number } | null;
  /** The option sets that gave this shape (e.g. `default` and `{workers:2, curveThreads:2}`). */
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
  /** The child process ended on its own after writing its result. */
  exitedCleanly: boolean;
  childSeconds: number;
  workerThreads?: number;
  coldLoadsInBatch?: number;
  notes: string[];
  errors: string[];
}

export interface Comparison {
  poolId: string;
  poolLabel: string;
  isDefaultPool: boolean;
  throughputVsApi: number | null;
  throughputVsCli: number | null;
  singleLatencyVsApi: number | null;
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
  setup: {
    keysCached: boolean;
    ptauPower: number;
    ptauFile: string;
    ptauGeneratedThisRun: boolean;
    ptauSeconds: number;
    setupSeconds: number;
    contributeSeconds: number;
    totalSeconds: number;
  };
  approaches: ApproachReport[];
  comparisons: Comparison[];
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  profile: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: {
    cores: number;
    availableParallelism: number;
    model: string;
    memoryBytes: number;
    platform: string;
    arch: string;
    node: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  packages: Record<string, string>;
  config: { cliProofs: number; apiProofs: number; poolProofs: number; singleProofs: number; powers: number[] };
  circuits: CircuitReport[];
  goals: { defaultPool: string; throughputMet: boolean | null; latencyMet: boolean | null; perCircuit: Array<{ circuit: string; throughputVsApi: number | null; singleLatencyVsApi: number | null }> };
}

const seconds = (ms: number | null | undefined, digits = 3) => (ms === null || ms === undefined ? '–' : (ms / 1000).toFixed(digits));
const triple = (value: Stats | null, format: (n: number) => string) =>
  value === null ? '–' : value.min === value.max ? format(value.median) : `${format(value.min)} / ${format(value.median)} / ${format(value.max)}`;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const ratio = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)}x`);
const yesNo = (value: boolean | null) => (value === null ? '–' : value ? 'yes' : '**no**');

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

/** The report as markdown (the same text goes to stdout and to `bench/results/latest.md`). */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# zkai benchmark: ${report.profile} profile, ${report.startedAt}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cores} cores (${m.model}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}/${m.arch}, Node ${m.node}. ` +
      `Packages: ${Object.entries(report.packages).map(([name, version]) => `${name} ${version}`).join(', ')}. ` +
      `Load average (1 min) at start ${m.loadAverageAtStart[0]?.toFixed(2)}, at end ${m.loadAverageAtEnd[0]?.toFixed(2)}. ` +
      `Run took ${(report.durationSeconds / 60).toFixed(1)} min.`,
  );
  lines.push('');
  lines.push(
    `Proofs per approach: CLI ${report.config.cliProofs} processes, warm API loop ${report.config.apiProofs} (+1 cold), ` +
      `pool batch ${report.config.poolProofs} (+1 warm-up per worker) then ${report.config.singleProofs} single proofs. ` +
      'Circuits: chains of Poseidon(2) (240 constraints each), 1 public input, 1 output.',
  );
  lines.push('');
  lines.push('## Setup cost (development ptau, generated locally when not cached)');
  lines.push('');
  lines.push(
    table(
      ['circuit', 'constraints', 'ptau used', 'ptau generation s', 'groth16 setup s', 'contribution s', 'zkey MiB', 'source'],
      report.circuits.map((c) => [
        c.label,
        String(c.constraints),
        `${c.setup.ptauFile} (2^${c.setup.ptauPower})`,
        c.setup.ptauGeneratedThisRun ? c.setup.ptauSeconds.toFixed(1) : 'cached',
        c.setup.keysCached ? 'cached' : c.setup.setupSeconds.toFixed(1),
        c.setup.keysCached ? 'cached' : c.setup.contributeSeconds.toFixed(1),
        (c.zkeyBytes / 2 ** 20).toFixed(1),
        [c.compile.cached ? 'circuit from cache' : `compiled in ${c.compile.seconds.toFixed(1)} s`, c.setup.keysCached ? 'keys from cache' : 'keys made in this run'].join(', '),
      ]),
    ),
  );
  for (const c of report.circuits) {
    lines.push('');
    lines.push(`## ${c.label}: ${c.constraints.toLocaleString('en-US')} constraints (${c.links} Poseidon links, ptau power ${c.requiredPower})`);
    lines.push('');
    lines.push(
      table(
        ['approach', 'proofs', 'proofs/s', 'latency s min / med / max', 'witness s (med)', 'prove s (med)', 'single proof s (med)', 'cold s', 'peak RSS MiB', 'proof.json bytes', 'verified'],
        c.approaches.map((a) => [
          a.label,
          a.failed > 0 ? `${a.proofs} (+${a.failed} failed)` : String(a.proofs),
          a.proofsPerSecond === null ? '–' : a.proofsPerSecond.toFixed(2),
          triple(a.latencyMs, (n) => seconds(n)),
          seconds(a.witnessMs?.median),
          seconds(a.proveMs?.median),
          seconds(a.singleLatencyMs?.median),
          a.kind === 'cli' ? 'every proof' : seconds(a.coldMs, 2),
          triple(a.peakRssBytes, mib),
          triple(a.proofBytes, String),
          a.verified === null ? '–' : a.verified ? 'yes' : '**NO**',
        ]),
      ),
    );
    lines.push('');
    lines.push(
      table(
        ['pool shape', 'pool / warm API throughput', 'pool / CLI throughput', 'pool single / warm API single latency', `throughput goal (>= ${THROUGHPUT_GOAL.toFixed(2)}x)`, `latency goal (<= ${LATENCY_GOAL.toFixed(2)}x)`],
        c.comparisons.map((cmp) => [
          cmp.poolLabel,
          ratio(cmp.throughputVsApi),
          ratio(cmp.throughputVsCli),
          ratio(cmp.singleLatencyVsApi),
          yesNo(cmp.throughputGoalMet),
          yesNo(cmp.latencyGoalMet),
        ]),
      ),
    );
    const notes = c.approaches.flatMap((a) => [
      ...a.notes.map((note) => `${a.label}: ${note}`),
      ...a.errors.slice(0, 3).map((error) => `${a.label}: ERROR ${error}`),
      ...(a.exitedCleanly ? [] : [`${a.label}: the child process did not exit by itself and was killed`]),
    ]);
    if (notes.length > 0) {
      lines.push('');
      for (const note of notes) lines.push(`- ${note}`);
    }
  }
  lines.push('');
  lines.push('## Goals (default pool shape)');
  lines.push('');
  const g = report.goals;
  lines.push(
    `Default pool: ${g.defaultPool}. Throughput >= ${THROUGHPUT_GOAL.toFixed(2)}x the warm multithreaded API loop: ${verdict(g.throughputMet)}. ` +
      `Single proof <= ${LATENCY_GOAL.toFixed(2)}x warm snarkjs: ${verdict(g.latencyMet)}.`,
  );
  lines.push('');
  for (const row of g.perCircuit) {
    lines.push(`- ${row.circuit}: throughput ${ratio(row.throughputVsApi)} of warm API, single-proof latency ${ratio(row.singleLatencyVsApi)} of warm API`);
  }
  lines.push('');
  lines.push(
    'Legend: latency is per proof (CLI: one `snarkjs groth16 fullprove` process, start to exit; API: witness + prove in the warm loop, ' +
      'where `wtns.calculate` reads and instantiates the witness wasm on every call as snarkjs does, while pool workers keep it warm; ' +
      'pool: time in the worker, witness + prove, without queueing). Single proof: API loop median; pool: one job at a time after the batch, ' +
      'submission to result. Cold: API first proof incl. curve build; pool start + one warm-up proof per worker. ' +
      'Peak RSS: maxRSS of the approach\'s process (pool: includes its worker threads; CLI: per proof process, via /usr/bin/time). ' +
      'Ratios come from the same run. Figures are min / median / max.',
  );
  return `${lines.join('\n')}\n`;
}

function verdict(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'MET' : 'NOT MET';
}

/** `--compare A.json B.json`: what got faster or slower from A to B, approach by approach. */
export function renderComparison(a: BenchReport, b: BenchReport, aName: string, bName: string): string {
  const lines: string[] = [];
  lines.push(`# zkai benchmark comparison`);
  lines.push('');
  lines.push(`A: ${aName} (${a.profile}, ${a.startedAt}, ${a.machine.cores} cores, Node ${a.machine.node}, snarkjs ${a.packages.snarkjs ?? '?'})`);
  lines.push(`B: ${bName} (${b.profile}, ${b.startedAt}, ${b.machine.cores} cores, Node ${b.machine.node}, snarkjs ${b.packages.snarkjs ?? '?'})`);
  if (a.machine.model !== b.machine.model || a.machine.cores !== b.machine.cores) lines.push('', '**Different machines: the comparison is only indicative.**');
  lines.push('');
  const rows: string[][] = [];
  const change = (before: number | null | undefined, after: number | null | undefined, higherIsBetter: boolean) => {
    if (before === null || before === undefined || after === null || after === undefined || before === 0) return { text: '–', verdict: 'n/a' };
    const delta = after / before - 1;
    const better = higherIsBetter ? delta > 0 : delta < 0;
    const verdict = Math.abs(delta) < 0.03 ? 'same (within 3%)' : better ? 'faster' : 'slower';
    return { text: `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)}%`, verdict };
  };
  const onlyIn: string[] = [];
  for (const circuitB of b.circuits) {
    const circuitA = a.circuits.find((c) => c.label === circuitB.label);
    if (!circuitA) {
      onlyIn.push(`${circuitB.label} only in B`);
      continue;
    }
    for (const approachB of circuitB.approaches) {
      const approachA = circuitA.approaches.find((x) => x.id === approachB.id);
      if (!approachA) {
        onlyIn.push(`${circuitB.label} ${approachB.label} only in B`);
        continue;
      }
      const throughput = change(approachA.proofsPerSecond, approachB.proofsPerSecond, true);
      const latency = change(approachA.latencyMs?.median, approachB.latencyMs?.median, false);
      const single = change(approachA.singleLatencyMs?.median, approachB.singleLatencyMs?.median, false);
      const rss = change(approachA.peakRssBytes?.median, approachB.peakRssBytes?.median, false);
      rows.push([
        circuitB.label,
        approachB.label,
        `${approachA.proofsPerSecond?.toFixed(2) ?? '–'} → ${approachB.proofsPerSecond?.toFixed(2) ?? '–'} (${throughput.text})`,
        throughput.verdict,
        `${seconds(approachA.latencyMs?.median)} → ${seconds(approachB.latencyMs?.median)} (${latency.text})`,
        `${seconds(approachA.singleLatencyMs?.median)} → ${seconds(approachB.singleLatencyMs?.median)} (${single.text})`,
        `${approachA.peakRssBytes ? mib(approachA.peakRssBytes.median) : '–'} → ${approachB.peakRssBytes ? mib(approachB.peakRssBytes.median) : '–'} MiB (${rss.text})`,
      ]);
    }
    for (const approachA of circuitA.approaches) {
      if (!circuitB.approaches.some((x) => x.id === approachA.id)) onlyIn.push(`${circuitA.label} ${approachA.label} only in A`);
    }
  }
  for (const circuitA of a.circuits) if (!b.circuits.some((c) => c.label === circuitA.label)) onlyIn.push(`${circuitA.label} only in A`);
  lines.push(table(['circuit', 'approach', 'proofs/s A → B', 'throughput', 'median latency s A → B', 'single proof s A → B', 'peak RSS (median)'], rows));
  lines.push('');
  lines.push(
    `Goals in A: throughput ${verdict(a.goals.throughputMet)}, latency ${verdict(a.goals.latencyMet)}. ` +
      `Goals in B: throughput ${verdict(b.goals.throughputMet)}, latency ${verdict(b.goals.latencyMet)}.`,
  );
  if (onlyIn.length > 0) {
    lines.push('');
    for (const note of onlyIn) lines.push(`- ${note}`);
  }
  return `${lines.join('\n')}\n`;
}
