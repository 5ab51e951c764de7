/**
 * Charts of a results file as SVG: vega-lite specs compiled to vega and rendered headless in Node
 * (`new vega.View(...).toSVG()`). No SVG is written by hand.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../src/util/atomic-fs.ts';
import type { ApproachReport, BenchResults } from './results.ts';

export interface Chart {
  /** File name, e.g. `proving-latency.svg`. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}

/** A short name of an approach for legends: `CLI`, `warm API`, `rapidsnark`, `zkai native 1×2 (default)`. */
export function shortApproach(a: Pick<ApproachReport, 'id' | 'kind' | 'shape' | 'isDefaultPool'>): string {
  if (a.kind === 'cli') return 'snarkjs CLI';
  if (a.kind === 'api') return 'snarkjs warm API';
  if (a.kind === 'rapidsnark') return 'rapidsnark';
  const prover = a.id.startsWith('pool-native') ? 'native' : 'snarkjs';
  return `zkai pool ${prover} ${a.shape?.workers}×${a.shape?.curveThreads}${a.isDefaultPool ? ' (default)' : ''}`;
}

export function machineLine(results: BenchResults): string {
  const m = results.machine;
  return `${m.availableParallelism} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.cpuModel}; run ${results.startedAt.slice(0, 16)}Z${results.load.underLoad ? ', under load' : ''}`;
}

/** A log-scale domain around the values, with some margin. */
function logDomain(values: number[]): [number, number] {
  return [Math.min(...values) / 1.5, Math.max(...values) * 1.5];
}

const base = (title: string, subtitle: string) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, subtitle, anchor: 'start' as const, subtitleFontSize: 10 },
  config: { font: 'sans-serif', view: { stroke: null }, legend: { labelLimit: 360 }, axis: { labelLimit: 240 } },
});

/** The charts this results file has data for. */
export function buildCharts(results: BenchResults): Chart[] {
  const charts: Chart[] = [];
  const sub = machineLine(results);
  const circuits = results.proving?.circuits ?? [];

  const latency = circuits.flatMap((c) =>
    c.approaches
      .filter((a) => a.latencyMs)
      .map((a) => ({
        constraints: c.constraints,
        circuit: c.label,
        approach: shortApproach(a),
        median: a.latencyMs!.median / 1000,
        min: a.latencyMs!.min / 1000,
        max: a.latencyMs!.max / 1000,
      })),
  );
  if (latency.length > 0) {
    charts.push({
      file: 'proving-latency.svg',
      title: 'Proof time vs circuit size',
      spec: {
        ...base('Proof time vs circuit size (median, min-max bars)', sub),
        width: 520,
        height: 300,
        data: { values: latency },
        encoding: {
          x: {
            field: 'constraints',
            type: 'quantitative',
            scale: { type: 'log', domain: logDomain(latency.map((d) => d.constraints)), nice: false },
            title: 'constraints',
          },
          color: { field: 'approach', type: 'nominal', title: null },
        },
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              y: { field: 'median', type: 'quantitative', scale: { type: 'log' }, title: 'seconds per proof' },
            },
          },
          { mark: { type: 'rule' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
        ],
      } as TopLevelSpec,
    });
  }

  const throughput = circuits.flatMap((c) =>
    c.approaches
      .filter((a) => a.proofsPerSecond !== null)
      .map((a) => ({
        circuit: `${c.label} (${c.constraints.toLocaleString('en-US')})`,
        approach: shortApproach(a),
        proofsPerSecond: a.proofsPerSecond,
      })),
  );
  if (throughput.length > 0) {
    charts.push({
      file: 'proving-throughput.svg',
      title: 'Throughput per approach',
      spec: {
        ...base('Throughput: pool shapes vs snarkjs CLI and warm API (same run)', sub),
        width: 520,
        height: 280,
        data: { values: throughput },
        mark: 'bar',
        encoding: {
          x: { field: 'circuit', type: 'nominal', title: 'circuit (constraints)', sort: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'approach', type: 'nominal' },
          y: { field: 'proofsPerSecond', type: 'quantitative', title: 'proofs per second' },
          color: { field: 'approach', type: 'nominal', title: null },
        },
      } as TopLevelSpec,
    });
  }

  const split = circuits.flatMap((c) =>
    c.approaches
      .filter((a) => a.witnessMs && a.proveMs)
      .flatMap((a) => [
        { circuit: c.label, approach: shortApproach(a), phase: 'witness', seconds: a.witnessMs!.median / 1000 },
        { circuit: c.label, approach: shortApproach(a), phase: 'prove', seconds: a.proveMs!.median / 1000 },
      ]),
  );
  if (split.length > 0) {
    charts.push({
      file: 'proving-split.svg',
      title: 'Witness vs prove',
      spec: {
        ...base("Where a proof's time goes: witness vs Groth16 prove (medians)", sub),
        data: { values: split },
        width: { step: 36 },
        height: 240,
        mark: 'bar',
        encoding: {
          column: { field: 'circuit', type: 'nominal', title: null, sort: null },
          x: { field: 'approach', type: 'nominal', title: null, axis: { labelAngle: -30 } },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'phase', type: 'nominal', title: null },
        },
        resolve: { scale: { y: 'independent' } },
      } as TopLevelSpec,
    });
  }

  const setup = (results.setup?.rows ?? []).flatMap((r) =>
    (
      [
        ['zkai development ptau', r.ptauTotalS],
        ['snarkjs ptau new (anchor)', r.ptauNewS],
        ['snarkjs contribute (anchor)', r.ptauContributeS],
        ['snarkjs prepare phase 2 (anchor)', r.ptauPrepareS],
        ['groth16 setup', r.groth16SetupS],
        ['phase-2 contribution', r.contributionS],
      ] as const
    )
      .filter(([, s]) => s)
      .map(([step, s], order) => ({ power: `2^${r.power}`, step, order, seconds: s!.median })),
  );
  if (setup.length > 0) {
    charts.push({
      file: 'setup-cost.svg',
      title: 'Trusted setup cost per power',
      spec: {
        ...base('Trusted setup cost per power (development ptau, medians)', sub),
        width: 420,
        height: 280,
        data: { values: setup },
        mark: 'bar',
        encoding: {
          x: { field: 'power', type: 'ordinal', title: 'ptau power', sort: null, axis: { labelAngle: 0 } },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds', stack: 'zero' },
          color: { field: 'step', type: 'nominal', title: null, sort: null },
          order: { field: 'order', type: 'quantitative' },
        },
      } as TopLevelSpec,
    });
  }

  const verify = (results.verify?.rows ?? []).flatMap((r) =>
    (
      [
        ['zkai verifyProof, warm', r.warmMs],
        ['zkai verifyProof, cold (first in process)', r.coldMs],
        ['fresh process, start to exit', r.coldProcessMs],
        ['snarkjs CLI groth16 verify', r.cliMs],
      ] as const
    )
      .filter(([, s]) => s)
      .map(([kind, s]) => ({ circuit: r.circuit, kind, ms: s!.median })),
  );
  if (verify.length > 0) {
    charts.push({
      file: 'verify.svg',
      title: 'Off-chain verification',
      spec: {
        ...base('Off-chain verification, warm and cold (medians, log scale)', sub),
        width: 420,
        height: 260,
        data: { values: verify },
        mark: 'bar',
        encoding: {
          x: { field: 'circuit', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'kind', type: 'nominal', sort: null },
          y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds', stack: null },
          color: { field: 'kind', type: 'nominal', title: null, sort: null },
        },
      } as TopLevelSpec,
    });
  }

  const gas = (results.chain?.verifiers ?? []).flatMap((r) => [
    { inputs: String(r.publicInputs), series: 'zkai verifier', gas: r.zkaiGas },
    { inputs: String(r.publicInputs), series: 'snarkjs verifier', gas: r.snarkjsGas },
    { inputs: String(r.publicInputs), series: 'EIP-1108 floor (zkai calldata)', gas: r.zkaiFloor },
  ]);
  if (gas.length > 0) {
    charts.push({
      file: 'chain-gas.svg',
      title: 'Verifier gas vs EIP-1108 floor',
      spec: {
        ...base('Groth16 verification gas vs the EIP-1108 floor (transaction receipts)', sub),
        width: 420,
        height: 260,
        data: { values: gas },
        mark: 'bar',
        encoding: {
          x: { field: 'inputs', type: 'ordinal', title: 'public inputs', sort: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'series', type: 'nominal', sort: null },
          y: { field: 'gas', type: 'quantitative', title: 'gas' },
          color: { field: 'series', type: 'nominal', title: null, sort: null },
        },
      } as TopLevelSpec,
    });
  }

  const perRecord = (results.dataset?.sizes ?? []).map((s) => ({ records: s.records, perRecord: s.perRecord }));
  if (perRecord.length > 0) {
    charts.push({
      file: 'dataset-constraints.svg',
      title: 'Dataset policy: constraints per record',
      spec: {
        ...base('Example policy circuit: constraints per record (goal: at most 700)', sub),
        width: 420,
        height: 240,
        layer: [
          {
            data: { values: perRecord },
            mark: { type: 'line', point: true },
            encoding: {
              x: {
                field: 'records',
                type: 'quantitative',
                scale: { type: 'log', base: 2 },
                title: 'records in one circuit',
              },
              y: { field: 'perRecord', type: 'quantitative', title: 'constraints per record', scale: { zero: false } },
            },
          },
          {
            data: { values: [{ goal: 700 }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: 'firebrick' },
            encoding: { y: { field: 'goal', type: 'quantitative' } },
          },
        ],
      } as TopLevelSpec,
    });
  }

  const models = (results.models?.rows ?? []).map((r) => ({
    model: `${r.model} (${r.weights} weights)`,
    constraints: r.constraints,
  }));
  if (models.length > 0) {
    charts.push({
      file: 'models-constraints.svg',
      title: 'Model circuits: constraints',
      spec: {
        ...base('Model circuits: measured constraints (log scale)', sub),
        width: 420,
        height: Math.max(80, 32 * models.length),
        data: { values: models },
        mark: 'bar',
        encoding: {
          y: { field: 'model', type: 'nominal', title: null, sort: null },
          x: { field: 'constraints', type: 'quantitative', scale: { type: 'log' }, title: 'constraints', stack: null },
        },
      } as TopLevelSpec,
    });
  }
  return charts;
}

/** Render one vega-lite spec to an SVG string with vega, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Every chart file this module can write (a run without the data of one removes its stale file). */
export const CHART_FILES = [
  'proving-latency.svg',
  'proving-throughput.svg',
  'proving-split.svg',
  'setup-cost.svg',
  'verify.svg',
  'chain-gas.svg',
  'dataset-constraints.svg',
  'models-constraints.svg',
];

/** Render every chart into `dir`; returns the files written. */
export async function writeCharts(results: BenchResults, dir: string): Promise<Array<{ chart: Chart; path: string }>> {
  await mkdir(dir, { recursive: true });
  const written: Array<{ chart: Chart; path: string }> = [];
  for (const chart of buildCharts(results)) {
    const path = join(dir, chart.file);
    await writeFileAtomic(path, `${await renderSvg(chart.spec)}\n`);
    written.push({ chart, path });
  }
  for (const file of CHART_FILES)
    if (!written.some((w) => w.chart.file === file)) await rm(join(dir, file), { force: true });
  return written;
}
