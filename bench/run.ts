/**
 * zkai benchmark: snarkjs CLI (one process per proof) vs a warm snarkjs API loop vs the zkai prover pool, side by side
 * on Poseidon-chain circuits of about 2^10, 2^12, 2^14 (and 2^16) constraints.
 *
 *   tsx bench/run.ts --profile smoke|quick|full [--cache-dir DIR] [--results-dir DIR] [--powers 10,12] [--proofs N]
 *   tsx bench/run.ts --compare A.json B.json
 *
 * Every approach runs in its own child process (`bench/approach-*.ts`), so its peak RSS is its own and measurements
 * do not pollute each other. Progress goes to stderr; the markdown report to stdout and `bench/results/latest.md`;
 * all figures to `bench/results/<ISO timestamp>.json`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as snarkjs from 'snarkjs';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { defaultPoolShape } from '../src/prover/pool.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit, type CircuitKeys } from '../src/setup/phase2.ts';
import { requiredPtauPower } from '../src/setup/power.ts';
import type { ProgressEvent } from '../src/setup/progress.ts';
import { writeFileAtomic } from '../src/util/atomic-fs.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { linksForPower, writePoseidonChain, CONSTRAINTS_PER_LINK } from './circuits/poseidon_chain.ts';
import { errorText, packageVersion, progress, stats, tsxCliPath, type ChildConfig, type ChildResult } from './common.ts';
import {
  LATENCY_GOAL,
  REPORT_SCHEMA,
  THROUGHPUT_GOAL,
  renderComparison,
  renderMarkdown,
  type ApproachReport,
  type BenchReport,
  type CircuitReport,
  type Comparison,
} from './report.ts';

interface Profile {
  powers: number[];
  cliProofs: number;
  apiProofs: number;
  poolProofs: number;
  singleProofs: number;
}

const PROFILES: Record<string, Profile> = {
  smoke: { powers: [10], cliProofs: 3, apiProofs: 4, poolProofs: 4, singleProofs: 3 },
  quick: { powers: [10, 12, 14], cliProofs: 5, apiProofs: 20, poolProofs: 20, singleProofs: 3 },
  full: { powers: [10, 12, 14, 16], cliProofs: 5, apiProofs: 20, poolProofs: 20, singleProofs: 3 },
};

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);

// Rough figures measured on a 2-core machine (see the field notes), used only for the up-front time estimate.
const EST_API_S: Record<number, number> = { 10: 0.2, 12: 0.46, 14: 1.34, 16: 4.36 };
const EST_CLI_S: Record<number, number> = { 10: 0.7, 12: 0.9, 14: 1.83, 16: 5.37 };
const EST_PTAU_S: Record<number, number> = { 10: 23, 12: 75, 14: 320, 16: 1320 };
const EST_SETUP_S: Record<number, number> = { 10: 4, 12: 8, 14: 20, 16: 70 };
const EST_COMPILE_S: Record<number, number> = { 10: 2, 12: 3, 14: 6, 16: 30 };
const CHILD_START_S = 2;

/** A figure from a table of powers, extrapolated (x3 per two powers) outside it. */
function byPower(table: Record<number, number>, power: number): number {
  if (table[power] !== undefined) return table[power] as number;
  const known = Object.keys(table).map(Number).sort((a, b) => a - b);
  const nearest = known.reduce((best, p) => (Math.abs(p - power) < Math.abs(best - power) ? p : best), known[0] as number);
  return (table[nearest] as number) * 3 ** ((power - nearest) / 2);
}

interface PoolShapeSpec {
  workers: number;
  curveThreads: number;
  names: string[];
  isDefault: boolean;
}

/** The pool shapes of the issue, with equal shapes merged. */
function poolShapes(cores: number): PoolShapeSpec[] {
  const defaults = defaultPoolShape(cores);
  const candidates = [
    { name: `default (new ProverPool(): workers ${defaults.workers}, curveThreads ${defaults.curveThreads})`, ...defaults, isDefault: true },
    { name: `{workers: 1, curveThreads: ${cores}}`, workers: 1, curveThreads: cores, isDefault: false },
    { name: `{workers: ${cores}, curveThreads: 1}`, workers: cores, curveThreads: 1, isDefault: false },
    { name: `{workers: 2, curveThreads: ${cores}}`, workers: 2, curveThreads: cores, isDefault: false },
  ];
  const shapes: PoolShapeSpec[] = [];
  for (const candidate of candidates) {
    const same = shapes.find((shape) => shape.workers === candidate.workers && shape.curveThreads === candidate.curveThreads);
    if (same) same.names.push(candidate.name);
    else shapes.push({ workers: candidate.workers, curveThreads: candidate.curveThreads, names: [candidate.name], isDefault: candidate.isDefault });
  }
  return shapes;
}

function poolLabel(shape: PoolShapeSpec): string {
  return `zkai pool w${shape.workers}×c${shape.curveThreads}${shape.isDefault ? ' (default)' : ''}`;
}

function isoStamp(date: Date): string {
  // ISO 8601 basic format (no colons, so the name is valid on every file system), e.g. 20250102T030405Z.
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function fmtDuration(totalSeconds: number): string {
  if (totalSeconds < 90) return `${Math.round(totalSeconds)} s`;
  return `${(totalSeconds / 60).toFixed(1)} min`;
}

/** Throttled progress of a long setup step: a line when the stage changes, otherwise at most one per 5 s. */
function setupProgress(label: string): (event: ProgressEvent) => void {
  let lastStage = '';
  let lastAt = 0;
  return (event) => {
    const now = Date.now();
    if (event.stage !== lastStage || now - lastAt > 5000) {
      progress(`${label} ${event.stage}: ${event.message.slice(0, 160)}`);
      lastStage = event.stage;
      lastAt = now;
    }
  };
}

interface ChildOutcome {
  result: ChildResult | null;
  exitedCleanly: boolean;
  seconds: number;
  problem: string | null;
}

/** Run one approach child; kill it (by its pid) if it overruns its budget or does not exit after its result. */
async function runChild(script: string, config: ChildConfig, budgetSeconds: number): Promise<ChildOutcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [tsxCliPath(), join(BENCH_DIR, script), JSON.stringify(config)], {
    cwd: REPO_DIR,
    stdio: ['ignore', 2, 'inherit'],
  });
  let problem: string | null = null;
  let killed = false;
  let resultSeenAt = 0;
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    const poll = setInterval(() => {
      const now = Date.now();
      if (!resultSeenAt && existsSync(config.resultPath)) resultSeenAt = now;
      if (problem) return;
      if (resultSeenAt && now - resultSeenAt > 30_000) {
        problem = 'the child wrote its result but did not exit within 30 s (something kept it alive); killed';
        killed = child.kill('SIGKILL');
      } else if (!resultSeenAt && now - started > budgetSeconds * 1000) {
        problem = `no result within the ${Math.round(budgetSeconds)} s budget; killed`;
        killed = child.kill('SIGKILL');
      }
    }, 250);
    child.on('error', (error) => {
      problem = `could not start: ${errorText(error)}`;
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolveExit({ code, signal });
    });
  });
  const seconds = (Date.now() - started) / 1000;
  let result: ChildResult | null = null;
  if (existsSync(config.resultPath)) result = JSON.parse(await readFile(config.resultPath, 'utf8')) as ChildResult;
  if (!problem && exit.code !== 0) problem = `exited with code ${exit.code}${exit.signal ? ` (${exit.signal})` : ''}`;
  if (!problem && !result) problem = 'exited without writing a result';
  return { result, exitedCleanly: !killed && exit.signal === null, seconds, problem };
}

interface PreparedCircuit {
  label: string;
  power: number;
  links: number;
  circuit: CompiledCircuit;
  keys: CircuitKeys;
  compileSeconds: number;
  ptauGenerated: boolean;
}

function approachReport(
  base: Pick<ApproachReport, 'id' | 'kind' | 'label' | 'shape' | 'shapeNames' | 'isDefaultPool'>,
  outcome: ChildOutcome,
): ApproachReport {
  const r = outcome.result;
  const wallSeconds = r ? r.wallMs / 1000 : 0;
  return {
    ...base,
    proofs: r?.proofs ?? 0,
    failed: r?.failed ?? 0,
    wallSeconds,
    proofsPerSecond: r && r.proofs > 0 && wallSeconds > 0 ? r.proofs / wallSeconds : null,
    latencyMs: stats(r?.latencyMs ?? []),
    witnessMs: stats(r?.witnessMs ?? []),
    proveMs: stats(r?.proveMs ?? []),
    singleLatencyMs: stats(r?.singleLatencyMs ?? []),
    coldMs: r?.coldMs ?? null,
    peakRssBytes: stats(r?.peakRssBytes ?? []),
    proofBytes: stats(r?.proofBytes ?? []),
    verified: null,
    exitedCleanly: outcome.exitedCleanly,
    childSeconds: outcome.seconds,
    ...(r?.workerThreads !== undefined ? { workerThreads: r.workerThreads } : {}),
    ...(r?.coldLoadsInBatch !== undefined ? { coldLoadsInBatch: r.coldLoadsInBatch } : {}),
    notes: [...(r?.notes ?? []), ...(r?.coldLoadsInBatch ? [`${r.coldLoadsInBatch} batch proof(s) paid a circuit load`] : [])],
    errors: [...(outcome.problem ? [outcome.problem] : []), ...(r?.errors ?? [])],
  };
}

function comparisons(approaches: ApproachReport[]): Comparison[] {
  const api = approaches.find((a) => a.kind === 'api');
  const cli = approaches.find((a) => a.kind === 'cli');
  const div = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : a / b);
  return approaches
    .filter((a) => a.kind === 'pool')
    .map((pool) => {
      const throughputVsApi = div(pool.proofsPerSecond, api?.proofsPerSecond);
      const singleLatencyVsApi = div(pool.singleLatencyMs?.median, api?.singleLatencyMs?.median);
      return {
        poolId: pool.id,
        poolLabel: pool.label,
        isDefaultPool: pool.isDefaultPool,
        throughputVsApi,
        throughputVsCli: div(pool.proofsPerSecond, cli?.proofsPerSecond),
        singleLatencyVsApi,
        throughputGoalMet: throughputVsApi === null ? null : throughputVsApi >= THROUGHPUT_GOAL,
        latencyGoalMet: singleLatencyVsApi === null ? null : singleLatencyVsApi <= LATENCY_GOAL,
      };
    });
}

function allMet(values: Array<boolean | null>): boolean | null {
  if (values.length === 0 || values.some((value) => value === null)) return null;
  return values.every(Boolean);
}

async function compare(aPath: string, bPath: string): Promise<void> {
  const load = async (path: string) => {
    const report = JSON.parse(await readFile(path, 'utf8')) as BenchReport;
    if (report.schema !== REPORT_SCHEMA) throw new Error(`${path} is not a zkai benchmark result (${REPORT_SCHEMA})`);
    return report;
  };
  const [a, b] = await Promise.all([load(aPath), load(bPath)]);
  process.stdout.write(renderComparison(a, b, basename(aPath), basename(bPath)));
}

/** A mistake in the command line: reported without a stack trace. */
class UsageError extends Error {}

const USAGE = `usage: tsx bench/run.ts [--profile smoke|quick|full] [--cache-dir DIR] [--results-dir DIR] [--powers 10,12] [--proofs N] [--plan]
       tsx bench/run.ts --compare A.json B.json

  --plan       print the plan and time estimate (is each ptau cached?) and stop
  --powers     override the profile's circuits (target powers of two)
  --proofs     override the API loop and pool batch size

  smoke  2^10 only, 3-4 proofs per approach (a check that everything works)
  quick  2^10, 2^12, 2^14; batch of 20 proofs            (npm run bench)
  full   adds 2^16                                       (npm run bench:full)`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
    options: {
      profile: { type: 'string', default: 'quick' },
      'cache-dir': { type: 'string' },
      'results-dir': { type: 'string' },
      powers: { type: 'string' },
      proofs: { type: 'string' },
      compare: { type: 'boolean', default: false },
      plan: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(`${errorText(error)}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.compare) {
    if (positionals.length !== 2) throw new UsageError(`--compare needs two result files\n${USAGE}`);
    await compare(positionals[0] as string, positionals[1] as string);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\n${USAGE}`);
  const profileName = values.profile;
  const baseProfile = PROFILES[profileName];
  if (!baseProfile) throw new UsageError(`unknown profile "${profileName}" (smoke, quick, full)\n${USAGE}`);
  const profile: Profile = { ...baseProfile };
  if (values.powers) profile.powers = values.powers.split(',').map((p) => Number.parseInt(p.trim(), 10));
  if (profile.powers.some((p) => !Number.isInteger(p) || p < 9 || p > 20)) throw new UsageError('--powers must be integers from 9 to 20');
  if (values.proofs) {
    const n = Number.parseInt(values.proofs, 10);
    if (!Number.isInteger(n) || n < 1) throw new UsageError('--proofs must be a positive integer');
    profile.apiProofs = n;
    profile.poolProofs = n;
  }
  const cacheDir = resolveCacheDir(values['cache-dir']);
  const resultsDir = resolve(values['results-dir'] ?? join(BENCH_DIR, 'results'));
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const cores = os.availableParallelism();
  const shapes = poolShapes(cores);

  // ---- Plan and estimate -------------------------------------------------------------------------------------
  progress(`profile ${profileName}: circuits ${profile.powers.map((p) => `2^${p}`).join(', ')}; cache ${cacheDir}`);
  progress(`pool shapes (${cores} cores): ${shapes.map((s) => `w${s.workers}×c${s.curveThreads} = ${s.names.join(' = ')}`).join('; ')}`);
  let estimateTotal = 0;
  let estimatePtau = 0;
  for (const power of profile.powers) {
    const cached = await findDevPtau(cacheDir, power);
    const api = byPower(EST_API_S, power);
    const proving =
      profile.cliProofs * byPower(EST_CLI_S, power) +
      CHILD_START_S + (profile.apiProofs + 1) * api +
      shapes.reduce((sum, s) => sum + CHILD_START_S + (profile.poolProofs + s.workers) * api + profile.singleProofs * api * (s.curveThreads < cores ? cores / s.curveThreads : 1), 0);
    const ptau = cached ? 0 : byPower(EST_PTAU_S, power);
    const prep = byPower(EST_SETUP_S, power) + byPower(EST_COMPILE_S, power);
    estimateTotal += proving + ptau + prep;
    estimatePtau += ptau;
    progress(
      `  2^${power}: ${linksForPower(power)} links (~${linksForPower(power) * CONSTRAINTS_PER_LINK} constraints); ptau ${cached ? `cached (${basename(cached.path)})` : `NOT cached: generating it takes ~${fmtDuration(ptau)}`}; ` +
        `proving ~${fmtDuration(proving)}, compile + setup up to ~${fmtDuration(prep)} (less when cached)`,
    );
  }
  progress(`estimated total: ~${fmtDuration(estimateTotal)}${estimatePtau > 0 ? ` (of which ~${fmtDuration(estimatePtau)} generating development ptau files, a one-time cost)` : ''}; figures from a 2-core machine`);
  if (values.plan) return;

  // ---- Prepare circuits (compile + setup, cached) --------------------------------------------------------------
  const circuitsDir = join(cacheDir, 'bench-circuits');
  const prepared: PreparedCircuit[] = [];
  try {
    for (const power of profile.powers) {
      const label = `2^${power}`;
      const links = linksForPower(power);
      const source = await writePoseidonChain(circuitsDir, links);
      let started = Date.now();
      const circuit = await compileCircuit(source, { cacheDir, log: (message) => progress(`${label} ${message}`) });
      const compileSeconds = (Date.now() - started) / 1000;
      const required = requiredPtauPower(circuit.info);
      progress(`${label}: ${circuit.info.constraints} constraints, requiredPtauPower ${required}${circuit.cached ? ' (compiled earlier)' : ` (compiled in ${compileSeconds.toFixed(1)} s)`}`);
      if (required !== power) progress(`${label}: WARNING: expected ptau power ${power}, the circuit needs ${required}`);
      started = Date.now();
      const keys = await setupCircuit(circuit, { cacheDir, onProgress: setupProgress(label) });
      const ptauGenerated = keys.timings.ptauSeconds > 0;
      progress(
        `${label}: keys ${keys.cached ? 'from cache' : `made in ${((Date.now() - started) / 1000).toFixed(1)} s`} ` +
          `(ptau ${basename(keys.ptau.path)}${ptauGenerated ? ` generated in ${keys.timings.ptauSeconds.toFixed(1)} s` : ' cached'})`,
      );
      prepared.push({ label, power, links, circuit, keys, compileSeconds, ptauGenerated });
    }
  } finally {
    await releaseCurves();
  }

  // ---- Run the approaches, each in its own child process --------------------------------------------------------
  const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-'));
  const circuitReports: CircuitReport[] = [];
  const samples = new Map<ApproachReport, { vkey: Record<string, unknown>; sample: ChildResult['sample'] }>();
  try {
    for (const item of prepared) {
      const api = byPower(EST_API_S, item.power);
      const base = {
        circuitLabel: item.label,
        wasmPath: item.circuit.wasmPath,
        zkeyPath: item.keys.zkeyPath,
        links: item.links,
      };
      const runs: Array<{ script: string; config: ChildConfig; budget: number; meta: Parameters<typeof approachReport>[0] }> = [
        {
          script: 'approach-cli.ts',
          config: { ...base, proofs: profile.cliProofs, workDir: join(scratch, `${item.label}-cli`), resultPath: join(scratch, `${item.power}-cli.json`) },
          budget: 120 + profile.cliProofs * byPower(EST_CLI_S, item.power) * 6,
          meta: { id: 'cli', kind: 'cli', label: 'snarkjs CLI fullprove (process per proof)', shape: null, shapeNames: [], isDefaultPool: false },
        },
        {
          script: 'approach-api.ts',
          config: { ...base, proofs: profile.apiProofs, workDir: join(scratch, `${item.label}-api`), resultPath: join(scratch, `${item.power}-api.json`) },
          budget: 120 + (profile.apiProofs + 1) * api * 6,
          meta: { id: 'api', kind: 'api', label: 'snarkjs API warm loop (multithreaded)', shape: null, shapeNames: [], isDefaultPool: false },
        },
        ...shapes.map((shape) => ({
          script: 'approach-pool.ts',
          config: {
            ...base,
            proofs: profile.poolProofs,
            singleProofs: profile.singleProofs,
            shape: { workers: shape.workers, curveThreads: shape.curveThreads },
            workDir: join(scratch, `${item.label}-pool`),
            resultPath: join(scratch, `${item.power}-pool-w${shape.workers}c${shape.curveThreads}.json`),
          },
          budget: 120 + (profile.poolProofs + profile.singleProofs + shape.workers) * api * 6 * Math.max(1, cores / shape.curveThreads),
          meta: {
            id: `pool-w${shape.workers}c${shape.curveThreads}`,
            kind: 'pool' as const,
            label: poolLabel(shape),
            shape: { workers: shape.workers, curveThreads: shape.curveThreads },
            shapeNames: shape.names,
            isDefaultPool: shape.isDefault,
          },
        })),
      ];
      const approaches: ApproachReport[] = [];
      for (const run of runs) {
        progress(`${item.label}: running ${run.meta.label}`);
        const outcome = await runChild(run.script, run.config, run.budget);
        const report = approachReport(run.meta, outcome);
        if (outcome.problem) progress(`${item.label} ${run.meta.label}: ${outcome.problem}`);
        progress(
          `${item.label} ${run.meta.label}: ${report.proofs} proofs, ${report.proofsPerSecond?.toFixed(2) ?? '–'} proofs/s, ` +
            `median ${report.latencyMs ? (report.latencyMs.median / 1000).toFixed(3) : '–'} s (child ran ${outcome.seconds.toFixed(1)} s)`,
        );
        approaches.push(report);
        samples.set(report, { vkey: item.keys.vkey, sample: outcome.result?.sample ?? null });
      }
      const [zkeyStat, wasmStat] = await Promise.all([stat(item.keys.zkeyPath), stat(item.circuit.wasmPath)]);
      circuitReports.push({
        label: item.label,
        targetPower: item.power,
        links: item.links,
        constraints: item.circuit.info.constraints,
        publicInputs: item.circuit.info.publicInputs,
        outputs: item.circuit.info.outputs,
        wires: item.circuit.info.wires,
        requiredPower: item.keys.requiredPower,
        zkeyBytes: zkeyStat.size,
        wasmBytes: wasmStat.size,
        compile: { cached: item.circuit.cached, seconds: item.compileSeconds },
        setup: {
          keysCached: item.keys.cached,
          ptauPower: item.keys.ptau.power,
          ptauFile: basename(item.keys.ptau.path),
          ptauGeneratedThisRun: item.ptauGenerated,
          ptauSeconds: item.keys.timings.ptauSeconds,
          setupSeconds: item.keys.timings.setupSeconds,
          contributeSeconds: item.keys.timings.contributeSeconds,
          totalSeconds: item.keys.timings.ptauSeconds + item.keys.timings.setupSeconds + item.keys.timings.contributeSeconds,
        },
        approaches,
        comparisons: comparisons(approaches),
      });
    }

    // ---- Check one proof of every approach against the verification key ------------------------------------------
    progress('verifying one proof of every approach');
    try {
      for (const [report, { vkey, sample }] of samples) {
        if (!sample) continue;
        try {
          report.verified = await snarkjs.groth16.verify(vkey, sample.publicSignals, sample.proof);
        } catch (error) {
          report.verified = false;
          report.errors.push(`verification threw: ${errorText(error)}`);
        }
      }
    } finally {
      await releaseCurves();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  // ---- Report ------------------------------------------------------------------------------------------------------
  const finishedAt = new Date();
  const defaultRows = circuitReports.map((c) => ({ circuit: c.label, comparison: c.comparisons.find((x) => x.isDefaultPool) }));
  const cpu = os.cpus()[0];
  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    profile: profileName,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine: {
      cores: os.cpus().length,
      availableParallelism: cores,
      model: cpu?.model.trim() ?? 'unknown',
      memoryBytes: os.totalmem(),
      platform: os.platform(),
      arch: os.arch(),
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    packages: {
      zkai: (JSON.parse(await readFile(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version,
      snarkjs: packageVersion('snarkjs'),
      circom2: packageVersion('circom2'),
      piscina: packageVersion('piscina'),
      tsx: packageVersion('tsx'),
    },
    config: { ...profile },
    circuits: circuitReports,
    goals: {
      defaultPool: poolLabel(shapes.find((s) => s.isDefault) as PoolShapeSpec),
      throughputMet: allMet(defaultRows.map((row) => row.comparison?.throughputGoalMet ?? null)),
      latencyMet: allMet(defaultRows.map((row) => row.comparison?.latencyGoalMet ?? null)),
      perCircuit: defaultRows.map((row) => ({
        circuit: row.circuit,
        throughputVsApi: row.comparison?.throughputVsApi ?? null,
        singleLatencyVsApi: row.comparison?.singleLatencyVsApi ?? null,
      })),
    },
  };
  const markdown = renderMarkdown(report);
  const jsonPath = join(resultsDir, `${isoStamp(startedAt)}.json`);
  await writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(resultsDir, 'latest.md'), markdown);
  process.stdout.write(markdown);
  progress(`results: ${jsonPath} and ${join(resultsDir, 'latest.md')} (${fmtDuration(report.durationSeconds)})`);

  const broken = circuitReports.flatMap((c) => c.approaches).filter((a) => a.errors.length > 0 || a.verified === false || a.proofs === 0);
  if (broken.length > 0) {
    progress(`${broken.length} approach run(s) had errors or unverified proofs: ${broken.map((a) => a.id).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch(async (error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n`);
  else progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await releaseCurves().catch(() => undefined);
  process.exitCode = 1;
});
