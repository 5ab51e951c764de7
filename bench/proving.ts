/**
 * Proving part of the benchmark: the snarkjs CLI (one process per proof) vs a warm snarkjs API loop vs the zkai prover
 * pool at 1, 2, 4 .. cores workers (vs rapidsnark when `RAPIDSNARK` names its binary), side by side on Poseidon-chain
 * circuits of about 2^10, 2^12, 2^14 (and 2^16) constraints, in one run so the ratios are pair by pair.
 *
 * Every approach runs in its own child process (`bench/approach-*.ts`), so its peak RSS is its own and measurements
 * do not pollute each other. Called by bench/main.ts; returns the `proving` section of the results file.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { defaultPoolShape } from '../src/prover/pool.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { setupCircuit, type CircuitKeys } from '../src/setup/phase2.ts';
import { requiredPtauPower } from '../src/setup/power.ts';
import type { ProgressEvent } from '../src/setup/progress.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { linksForPower, writePoseidonChain, CONSTRAINTS_PER_LINK } from './circuits/poseidon_chain.ts';
import {
  byPower,
  errorText,
  fmtDuration,
  progress,
  stats,
  tsxCliPath,
  type ChildConfig,
  type ChildResult,
} from './common.ts';
import {
  LATENCY_GOAL,
  THROUGHPUT_GOAL,
  type ApproachReport,
  type CircuitReport,
  type Comparison,
  type ProvingSection,
} from './results.ts';

export interface ProvingProfile {
  powers: number[];
  cliProofs: number;
  apiProofs: number;
  poolProofs: number;
  singleProofs: number;
  rapidsnarkProofs: number;
}

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);

// Rough figures measured on a 2-core machine (see the field notes), used only for the up-front time estimate.
const EST_API_S: Record<number, number> = { 10: 0.2, 12: 0.46, 14: 1.34, 16: 4.36 };
const EST_CLI_S: Record<number, number> = { 10: 0.7, 12: 0.9, 14: 1.83, 16: 5.37 };
/** Seconds to generate a development ptau (zkai's direct writer), for the run's duration estimate. */
export const EST_PTAU_S: Record<number, number> = { 8: 2, 10: 6, 12: 22, 14: 80, 16: 320 };
/** Seconds of snarkjs's own new + contribute + prepare phase 2 (the setup section's anchor). */
export const EST_SNARKJS_PTAU_S: Record<number, number> = { 8: 5, 10: 23, 12: 75, 14: 320, 16: 1320 };
export const EST_SETUP_S: Record<number, number> = { 8: 1, 10: 4, 12: 8, 14: 20, 16: 70 };
const EST_COMPILE_S: Record<number, number> = { 10: 2, 12: 3, 14: 6, 16: 30 };
const CHILD_START_S = 2;

export interface PoolShapeSpec {
  workers: number;
  curveThreads: number;
  names: string[];
  isDefault: boolean;
}

/**
 * The pool shapes: the default, then 1, 2, 4 .. cores workers (and `cores` itself), each worker's curve getting an
 * equal share of the cores; equal shapes are merged.
 */
export function poolShapes(cores: number): PoolShapeSpec[] {
  const defaults = defaultPoolShape(cores);
  const counts: number[] = [];
  for (let w = 1; w < cores; w *= 2) counts.push(w);
  counts.push(cores);
  const candidates = [
    {
      name: `default (new ProverPool(): workers ${defaults.workers}, curveThreads ${defaults.curveThreads})`,
      ...defaults,
      isDefault: true,
    },
    ...counts.map((workers) => {
      const curveThreads = Math.max(1, Math.floor(cores / workers));
      return { name: `{workers: ${workers}, curveThreads: ${curveThreads}}`, workers, curveThreads, isDefault: false };
    }),
  ];
  const shapes: PoolShapeSpec[] = [];
  for (const candidate of candidates) {
    const same = shapes.find(
      (shape) => shape.workers === candidate.workers && shape.curveThreads === candidate.curveThreads,
    );
    if (same) same.names.push(candidate.name);
    else
      shapes.push({
        workers: candidate.workers,
        curveThreads: candidate.curveThreads,
        names: [candidate.name],
        isDefault: candidate.isDefault,
      });
  }
  return shapes;
}

function poolLabel(shape: {
  workers: number;
  curveThreads: number;
  isDefault: boolean;
  prover: 'native' | 'snarkjs';
}): string {
  const threads = shape.prover === 'native' ? 'thread' : 'curve thread';
  return `zkai pool, ${shape.prover}: ${shape.workers} worker${shape.workers === 1 ? '' : 's'} × ${shape.curveThreads} ${threads}${shape.curveThreads === 1 ? '' : 's'}${shape.isDefault && shape.prover === 'native' ? ' (default)' : ''}`;
}

/** The rapidsnark binary named by `RAPIDSNARK`, or why there is none. */
export function rapidsnarkBinary(env: NodeJS.ProcessEnv = process.env): { binary: string | null; note: string } {
  const value = env.RAPIDSNARK;
  if (!value)
    return {
      binary: null,
      note: 'RAPIDSNARK is not set: rapidsnark not measured (set it to the path of a rapidsnark `prover` binary to add the column)',
    };
  try {
    accessSync(value, fsConstants.X_OK);
    if (!statSync(value).isFile()) throw new Error('not a file');
  } catch {
    return { binary: null, note: `RAPIDSNARK=${value} is not an executable file: rapidsnark not measured` };
  }
  return {
    binary: value,
    note: `rapidsnark binary ${value}; witness by snarkjs (wtns file), proof by one rapidsnark process per proof`,
  };
}

/** Seconds the proving part should take (the ptau files it still has to generate are counted apart). */
export async function estimateProving(
  profile: ProvingProfile,
  cacheDir: string,
  cores: number,
  rapidsnark: boolean,
): Promise<{ seconds: number; ptauSeconds: number; lines: string[] }> {
  const shapes = poolShapes(cores);
  let seconds = 0;
  let ptauSeconds = 0;
  const lines: string[] = [];
  for (const power of profile.powers) {
    const cached = await findDevPtau(cacheDir, power);
    const api = byPower(EST_API_S, power);
    const proving =
      CHILD_START_S +
      profile.cliProofs * byPower(EST_CLI_S, power) +
      CHILD_START_S +
      (profile.apiProofs + 1) * api +
      (rapidsnark ? CHILD_START_S + profile.rapidsnarkProofs * api * 0.5 : 0) +
      shapes.reduce(
        (sum, s) =>
          sum +
          CHILD_START_S +
          (profile.poolProofs + s.workers) * api +
          profile.singleProofs * api * (s.curveThreads < cores ? cores / s.curveThreads : 1),
        0,
      );
    const ptau = cached ? 0 : byPower(EST_PTAU_S, power);
    const prep = byPower(EST_SETUP_S, power) + byPower(EST_COMPILE_S, power);
    seconds += proving + prep;
    ptauSeconds += ptau;
    lines.push(
      `2^${power}: ${linksForPower(power)} links (~${linksForPower(power) * CONSTRAINTS_PER_LINK} constraints), ${shapes.length} pool shapes; ` +
        `ptau ${cached ? `cached (${basename(cached.path)})` : `NOT cached: generating it takes ~${fmtDuration(ptau)} once`}; proving ~${fmtDuration(proving)}`,
    );
  }
  return { seconds, ptauSeconds, lines };
}

/** Throttled progress of a long setup step: a line when the stage changes, otherwise at most one per 10 s. */
export function setupProgress(label: string): (event: ProgressEvent) => void {
  let lastStage = '';
  let lastAt = 0;
  return (event) => {
    const now = Date.now();
    if (event.stage !== lastStage || now - lastAt > 10_000) {
      progress(`${label} ${event.stage}: ${event.message.slice(0, 120)}`);
      lastStage = event.stage;
      lastAt = now;
    }
  };
}

export interface PreparedChain {
  label: string;
  power: number;
  links: number;
  circuit: CompiledCircuit;
  keys: CircuitKeys;
  compileSeconds: number;
}

/** Compile and set up (both cached) the Poseidon-chain circuit of a target power. */
export async function preparePoseidonChain(power: number, cacheDir: string): Promise<PreparedChain> {
  const label = `2^${power}`;
  const links = linksForPower(power);
  const source = await writePoseidonChain(join(cacheDir, 'bench-circuits'), links);
  const started = Date.now();
  const circuit = await compileCircuit(source, { cacheDir, log: (message) => progress(`${label} ${message}`) });
  const compileSeconds = (Date.now() - started) / 1000;
  const required = requiredPtauPower(circuit.info);
  if (required !== power) progress(`${label}: WARNING: expected ptau power ${power}, the circuit needs ${required}`);
  const keys = await setupCircuit(circuit, { cacheDir, onProgress: setupProgress(label) });
  progress(
    `${label}: ${circuit.info.constraints} constraints, circuit ${circuit.cached ? 'cached' : `compiled in ${compileSeconds.toFixed(1)} s`}, keys ${keys.cached ? 'cached' : 'made'} (${basename(keys.ptau.path)})`,
  );
  return { label, power, links, circuit, keys, compileSeconds };
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
    notes: [
      ...(r?.notes ?? []),
      ...(r?.coldLoadsInBatch ? [`${r.coldLoadsInBatch} batch proof(s) paid a circuit load`] : []),
    ],
    errors: [...(outcome.problem ? [outcome.problem] : []), ...(r?.errors ?? [])],
  };
}

const div = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? null : a / b;

/** Ratios of every approach (but the anchors themselves) against the CLI, the warm API loop and rapidsnark. */
export function comparisons(approaches: ApproachReport[]): Comparison[] {
  const api = approaches.find((a) => a.kind === 'api');
  const cli = approaches.find((a) => a.kind === 'cli');
  const rapid = approaches.find((a) => a.kind === 'rapidsnark');
  return approaches
    .filter((a) => a.kind === 'pool' || a.kind === 'api')
    .map((approach) => {
      const isPool = approach.kind === 'pool';
      const throughputVsApi = isPool ? div(approach.proofsPerSecond, api?.proofsPerSecond) : null;
      const singleLatencyVsApi = isPool ? div(approach.singleLatencyMs?.median, api?.singleLatencyMs?.median) : null;
      return {
        approachId: approach.id,
        label: approach.label,
        isDefaultPool: approach.isDefaultPool,
        throughputVsApi,
        throughputVsCli: div(approach.proofsPerSecond, cli?.proofsPerSecond),
        throughputVsRapidsnark: div(approach.proofsPerSecond, rapid?.proofsPerSecond),
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

/** Run the proving part. */
export async function runProvingBench(
  profile: ProvingProfile,
  options: { cacheDir: string; cores?: number; env?: NodeJS.ProcessEnv },
): Promise<ProvingSection> {
  const cores = options.cores ?? os.availableParallelism();
  const shapes = poolShapes(cores);
  const rapidsnark = rapidsnarkBinary(options.env);
  progress(
    `proving: pool shapes (${cores} cores): ${shapes.map((s) => `${s.workers}×${s.curveThreads} = ${s.names.join(' = ')}`).join('; ')}`,
  );
  progress(`proving: ${rapidsnark.note}`);

  const prepared: PreparedChain[] = [];
  try {
    for (const power of profile.powers) prepared.push(await preparePoseidonChain(power, options.cacheDir));
  } finally {
    await releaseCurves();
  }

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
      const runs: Array<{
        script: string;
        config: ChildConfig;
        budget: number;
        meta: Parameters<typeof approachReport>[0];
      }> = [
        {
          script: 'approach-cli.ts',
          config: {
            ...base,
            proofs: profile.cliProofs,
            workDir: join(scratch, `${item.power}-cli`),
            resultPath: join(scratch, `${item.power}-cli.json`),
          },
          budget: 120 + profile.cliProofs * byPower(EST_CLI_S, item.power) * 6,
          meta: {
            id: 'cli',
            kind: 'cli',
            label: 'snarkjs CLI fullprove (process per proof)',
            shape: null,
            shapeNames: [],
            isDefaultPool: false,
          },
        },
        {
          script: 'approach-api.ts',
          config: {
            ...base,
            proofs: profile.apiProofs,
            workDir: join(scratch, `${item.power}-api`),
            resultPath: join(scratch, `${item.power}-api.json`),
          },
          budget: 120 + (profile.apiProofs + 1) * api * 6,
          meta: {
            id: 'api',
            kind: 'api',
            label: 'snarkjs API warm loop (multithreaded)',
            shape: null,
            shapeNames: [],
            isDefaultPool: false,
          },
        },
        ...(rapidsnark.binary
          ? [
              {
                script: 'approach-rapidsnark.ts',
                config: {
                  ...base,
                  proofs: profile.rapidsnarkProofs,
                  rapidsnark: rapidsnark.binary,
                  workDir: join(scratch, `${item.power}-rapidsnark`),
                  resultPath: join(scratch, `${item.power}-rapidsnark.json`),
                },
                budget: 120 + profile.rapidsnarkProofs * api * 6,
                meta: {
                  id: 'rapidsnark',
                  kind: 'rapidsnark' as const,
                  label: 'rapidsnark (snarkjs witness + native prover process)',
                  shape: null,
                  shapeNames: [],
                  isDefaultPool: false,
                },
              },
            ]
          : []),
        // The native prover in the default shape (the pool's default prover), then snarkjs in every shape.
        ...[
          { ...(shapes.find((shape) => shape.isDefault) as PoolShapeSpec), prover: 'native' as const },
          ...shapes.map((shape) => ({ ...shape, prover: 'snarkjs' as const })),
        ].map((shape) => ({
          script: 'approach-pool.ts',
          config: {
            ...base,
            proofs: profile.poolProofs,
            singleProofs: profile.singleProofs,
            shape: { workers: shape.workers, curveThreads: shape.curveThreads },
            prover: shape.prover,
            workDir: join(scratch, `${item.power}-pool`),
            resultPath: join(
              scratch,
              `${item.power}-pool-${shape.prover}-w${shape.workers}c${shape.curveThreads}.json`,
            ),
          },
          budget:
            120 +
            (profile.poolProofs + profile.singleProofs + shape.workers) *
              api *
              6 *
              Math.max(1, cores / shape.curveThreads),
          meta: {
            id: `pool-${shape.prover === 'native' ? 'native-' : ''}w${shape.workers}c${shape.curveThreads}`,
            kind: 'pool' as const,
            label: poolLabel(shape),
            shape: { workers: shape.workers, curveThreads: shape.curveThreads },
            shapeNames: shape.names,
            // The default pool proves natively (when the addon is built, as it is after npm install).
            isDefaultPool: shape.isDefault && shape.prover === 'native',
          },
        })),
      ];
      const approaches: ApproachReport[] = [];
      for (const [index, run] of runs.entries()) {
        progress(`proving ${item.label} [${index + 1}/${runs.length}]: ${run.meta.label}`);
        const outcome = await runChild(run.script, run.config, run.budget);
        const report = approachReport(run.meta, outcome);
        if (outcome.problem) progress(`proving ${item.label} ${run.meta.label}: ${outcome.problem}`);
        progress(
          `proving ${item.label} ${run.meta.label}: ${report.proofs} proofs, ${report.proofsPerSecond?.toFixed(2) ?? '–'} proofs/s, ` +
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
        keys: { cached: item.keys.cached, ptauFile: basename(item.keys.ptau.path), ptauPower: item.keys.ptau.power },
        approaches,
        comparisons: comparisons(approaches),
      });
    }

    progress('proving: checking one proof of every approach against the verification key');
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

  const defaultShape = shapes.find((s) => s.isDefault) as PoolShapeSpec;
  const defaultRows = circuitReports.map((c) => ({
    circuit: c.label,
    comparison: c.comparisons.find((x) => x.isDefaultPool),
  }));
  return {
    config: { ...profile },
    shapes,
    circuits: circuitReports,
    rapidsnark,
    goals: {
      defaultPool: poolLabel({ ...defaultShape, prover: 'native' }),
      throughputMet: allMet(defaultRows.map((row) => row.comparison?.throughputGoalMet ?? null)),
      latencyMet: allMet(defaultRows.map((row) => row.comparison?.latencyGoalMet ?? null)),
      perCircuit: defaultRows.map((row) => ({
        circuit: row.circuit,
        throughputVsApi: row.comparison?.throughputVsApi ?? null,
        singleLatencyVsApi: row.comparison?.singleLatencyVsApi ?? null,
      })),
    },
  };
}
