/**
 * What got faster or slower between two benchmark runs: the relative change of the medians of every figure both runs
 * have, flagged when it is beyond a noise threshold (deterministic figures such as gas and constraints are flagged on
 * any change).
 *
 *   tsx bench/compare.ts A.json B.json [--threshold 0.1]
 *   npm run bench -- --compare A.json B.json
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { flattenMetrics, RESULTS_SCHEMA, type BenchResults, type Metric } from './results.ts';

/** Default noise threshold: a relative change of the median below 10% is not called a change. */
export const DEFAULT_NOISE_THRESHOLD = 0.1;

export type Verdict = 'faster' | 'slower' | 'better' | 'worse' | 'noise' | 'same' | 'only in A' | 'only in B';

export interface MetricChange {
  key: string;
  label: string;
  unit: string;
  a: Metric | null;
  b: Metric | null;
  /** B's median / A's median - 1. */
  change: number | null;
  verdict: Verdict;
  /** Beyond the threshold (or any change of an exact figure). */
  flagged: boolean;
}

export interface Comparison {
  threshold: number;
  sameMachine: boolean;
  changes: MetricChange[];
}

const TIME_UNITS = new Set(['s', 'ms', 'proofs/s', 'rows/s', 'req/s']);

/** Compare two runs figure by figure. */
export function compareResults(a: BenchResults, b: BenchResults, options: { threshold?: number } = {}): Comparison {
  const threshold = options.threshold ?? DEFAULT_NOISE_THRESHOLD;
  const ma = new Map(flattenMetrics(a).map((m) => [m.key, m]));
  const mb = new Map(flattenMetrics(b).map((m) => [m.key, m]));
  const keys = [...new Set([...ma.keys(), ...mb.keys()])];
  const changes: MetricChange[] = keys.map((key) => {
    const x = ma.get(key) ?? null;
    const y = mb.get(key) ?? null;
    const any = (x ?? y) as Metric;
    if (!x || !y)
      return {
        key,
        label: any.label,
        unit: any.unit,
        a: x,
        b: y,
        change: null,
        verdict: x ? 'only in A' : 'only in B',
        flagged: false,
      };
    const change = x.median === 0 ? (y.median === 0 ? 0 : Number.POSITIVE_INFINITY) : y.median / x.median - 1;
    const flagged = x.exact ? change !== 0 : Math.abs(change) > threshold;
    const improved = x.better === 'lower' ? change < 0 : change > 0;
    const timing = TIME_UNITS.has(x.unit);
    const verdict: Verdict = !flagged
      ? change === 0
        ? 'same'
        : 'noise'
      : improved
        ? timing
          ? 'faster'
          : 'better'
        : timing
          ? 'slower'
          : 'worse';
    return { key, label: x.label, unit: x.unit, a: x, b: y, change, verdict, flagged };
  });
  return {
    threshold,
    sameMachine:
      a.machine.cpuModel === b.machine.cpuModel &&
      a.machine.availableParallelism === b.machine.availableParallelism &&
      a.machine.memoryBytes === b.machine.memoryBytes,
    changes,
  };
}

const fmt = (value: number) =>
  Math.abs(value) >= 1000
    ? Math.round(value).toLocaleString('en-US')
    : Math.abs(value) >= 10
      ? value.toFixed(1)
      : value.toFixed(3);

/** The comparison as text: flagged changes first (slowest first), then a count of the rest. */
export function renderComparison(
  a: BenchResults,
  b: BenchResults,
  aName: string,
  bName: string,
  comparison: Comparison,
): string {
  const lines: string[] = [];
  const describe = (r: BenchResults) =>
    `${r.profile}${r.tiny ? ' (tiny)' : ''}, ${r.startedAt}, ${r.machine.availableParallelism} cores, ${r.machine.cpuModel}, Node ${r.machine.node}, snarkjs ${r.versions.snarkjs ?? '?'}${r.load.underLoad ? ', UNDER LOAD' : ''}`;
  lines.push(`A: ${aName} (${describe(a)})`);
  lines.push(`B: ${bName} (${describe(b)})`);
  if (!comparison.sameMachine) lines.push('Different machines: the comparison is only indicative.');
  lines.push(
    `Noise threshold: ${(comparison.threshold * 100).toFixed(0)}% change of the median (gas and constraints: any change).`,
  );
  lines.push('');
  const flagged = comparison.changes
    .filter((c) => c.flagged)
    .sort((x, y) => Math.abs(y.change ?? 0) - Math.abs(x.change ?? 0));
  if (flagged.length === 0) lines.push('No change beyond the threshold.');
  for (const c of flagged) {
    const pct = c.change === null ? '' : `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`;
    lines.push(
      `${c.verdict.toUpperCase().padEnd(7)} ${pct.padStart(8)}  ${c.label}: ${fmt(c.a!.median)} -> ${fmt(c.b!.median)} ${c.unit}`,
    );
  }
  const noise = comparison.changes.filter((c) => !c.flagged && (c.verdict === 'noise' || c.verdict === 'same')).length;
  const onlyA = comparison.changes.filter((c) => c.verdict === 'only in A');
  const onlyB = comparison.changes.filter((c) => c.verdict === 'only in B');
  lines.push('');
  lines.push(`${noise} figure(s) within the threshold; ${onlyA.length} only in A; ${onlyB.length} only in B.`);
  return `${lines.join('\n')}\n`;
}

export async function loadResults(path: string): Promise<BenchResults> {
  const results = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
  if (results.schema !== RESULTS_SCHEMA)
    throw new Error(
      `${path} is not a zkai benchmark results file (${RESULTS_SCHEMA}); older per-part files cannot be compared`,
    );
  return results;
}

/** `--compare A B`: prints the comparison; exit code 0 (a slowdown is information, not a failure). */
export async function compareFiles(aPath: string, bPath: string, threshold?: number): Promise<string> {
  const [a, b] = await Promise.all([loadResults(aPath), loadResults(bPath)]);
  return renderComparison(
    a,
    b,
    basename(aPath),
    basename(bPath),
    compareResults(a, b, threshold === undefined ? {} : { threshold }),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { threshold: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 2) {
    process.stderr.write('usage: tsx bench/compare.ts A.json B.json [--threshold 0.1]\n');
    process.exitCode = 2;
  } else {
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    process.stdout.write(await compareFiles(positionals[0] as string, positionals[1] as string, threshold));
  }
}
