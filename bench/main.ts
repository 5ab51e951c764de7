/**
 * zkai benchmark: one entry point for every part, one process tree, one results file, one report.
 *
 *   npm run bench                       quick profile (tsx bench/main.ts --profile quick)
 *   npm run bench:full                  full profile
 *   tsx bench/main.ts --tiny            every part at its smallest size, one repetition (checks the plumbing)
 *   tsx bench/main.ts --plan            say what would run and how long it should take, then stop
 *   tsx bench/main.ts --only proving,verify
 *   tsx bench/main.ts --report-only bench/results/<timestamp>.json   regenerate BENCHMARKS.md and the charts
 *   npm run bench -- --compare A.json B.json [--threshold 0.1]        what got faster or slower
 *
 * Parts, in order: proving (bench/proving.ts), verify (verify.ts), setup (setup-cost.ts), service (service.ts: the
 * HTTP service under autocannon load), dataset (dataset.ts), models (models.ts), chain (chain.ts). Each is a module with an exported
 * function returning its section of `bench/results/<timestamp>.json`; BENCHMARKS.md and bench/charts/*.svg are then
 * regenerated from that file (bench/report.ts, bench/charts.ts).
 */
import os from 'node:os';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { writeFileAtomic } from '../src/util/atomic-fs.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { ANCHORS, computeGoals } from './anchors.ts';
import { estimateChain, runChainBench, type ChainProfile } from './chain.ts';
import { clock, errorText, fmtDuration, isoStamp, progress, STARTED_ENV } from './common.ts';
import { compareFiles, loadResults } from './compare.ts';
import { estimateDataset, runDatasetBench, type DatasetProfile } from './dataset.ts';
import { machineInfo, versions, watchLoad } from './machine.ts';
import { estimateModels, runModelsBench, type ModelsProfile } from './models.ts';
import { estimateProving, rapidsnarkBinary, runProvingBench, type ProvingProfile } from './proving.ts';
import { writeReport } from './report.ts';
import { RESULTS_SCHEMA, type BenchResults, type PartName, type PartStatus } from './results.ts';
import { estimateService, runServiceBench, type ServiceProfile } from './service.ts';
import { estimateSetup, runSetupBench, type SetupProfile } from './setup-cost.ts';
import { estimateVerify, runVerifyBench, type VerifyProfile } from './verify.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);

export interface Profile {
  proving: ProvingProfile;
  verify: VerifyProfile;
  setup: SetupProfile;
  service: ServiceProfile;
  dataset: DatasetProfile;
  models: ModelsProfile;
  chain: ChainProfile;
}

export const PROFILES: Record<'quick' | 'full' | 'tiny', Profile> = {
  quick: {
    proving: {
      powers: [10, 12, 14],
      cliProofs: 5,
      apiProofs: 20,
      poolProofs: 20,
      singleProofs: 3,
      rapidsnarkProofs: 10,
    },
    verify: { powers: [10, 14], warmRepetitions: 50, coldRepetitions: 3 },
    setup: {
      powers: [
        { power: 8, repetitions: 2 },
        { power: 10, repetitions: 2 },
      ],
    },
    service: { connections: 50, durationSeconds: 10, maxRequests: 20_000, anchorVerifies: 100 },
    dataset: {
      sizes: [4, 16, 64],
      proveUpTo: 16,
      proveRepetitions: 2,
      rows: 256,
      chunkDepth: 0,
      subtrees: 36,
      snarkjsAnchor: false,
    },
    models: {
      models: ['digits-logreg', 'digits-mlp', 'digits-cnn'],
      mnist: true,
      mnistFull: false,
      proofRepetitions: 3,
      snarkjsAnchor: false,
    },
    chain: { verifierInputs: [1, 4, 16], privateChunks: { rows: 344, chunkDepth: 5 } },
  },
  full: {
    proving: {
      powers: [10, 12, 14, 16],
      cliProofs: 5,
      apiProofs: 20,
      poolProofs: 20,
      singleProofs: 3,
      rapidsnarkProofs: 10,
    },
    verify: { powers: [10, 12, 14, 16], warmRepetitions: 100, coldRepetitions: 5 },
    setup: {
      powers: [
        { power: 8, repetitions: 3 },
        { power: 10, repetitions: 3 },
        { power: 12, repetitions: 2 },
        { power: 14, repetitions: 1 },
        { power: 16, repetitions: 1 },
      ],
    },
    service: { connections: 50, durationSeconds: 30, maxRequests: 60_000, anchorVerifies: 200 },
    dataset: {
      sizes: [4, 16, 64],
      proveUpTo: 64,
      proveRepetitions: 3,
      rows: 10_000,
      chunkDepth: 0,
      subtrees: 36,
      snarkjsAnchor: true,
    },
    models: {
      models: ['digits-logreg', 'digits-mlp', 'digits-cnn'],
      mnist: true,
      mnistFull: true,
      proofRepetitions: 3,
      snarkjsAnchor: true,
    },
    chain: { verifierInputs: [1, 4, 16], privateChunks: { rows: 344, chunkDepth: 5 } },
  },
  tiny: {
    proving: { powers: [10], cliProofs: 1, apiProofs: 1, poolProofs: 1, singleProofs: 1, rapidsnarkProofs: 1 },
    verify: { powers: [10], warmRepetitions: 2, coldRepetitions: 1 },
    setup: { powers: [{ power: 8, repetitions: 1 }] },
    service: { connections: 10, durationSeconds: 3, maxRequests: 2_000, anchorVerifies: 5 },
    dataset: {
      sizes: [4],
      proveUpTo: 4,
      proveRepetitions: 1,
      rows: 4,
      chunkDepth: 0,
      subtrees: 2,
      snarkjsAnchor: true,
    },
    models: { models: ['digits-logreg'], mnist: false, mnistFull: false, proofRepetitions: 1, snarkjsAnchor: true },
    chain: { verifierInputs: [1], privateChunks: { rows: 8, chunkDepth: 1 } },
  },
};

const PART_ORDER: PartName[] = ['proving', 'verify', 'setup', 'service', 'dataset', 'models', 'chain'];

/** Placeholder path: a partial run (--only) writes its report beside its results file. */
const PARTIAL_REPORT = '<beside the results file>';

const USAGE = `usage: tsx bench/main.ts [--profile quick|full] [--tiny] [--only PARTS] [--plan]
                         [--cache-dir DIR] [--results-dir DIR] [--markdown FILE] [--charts-dir DIR]
       tsx bench/main.ts --report-only RESULTS.json [--markdown FILE] [--charts-dir DIR]
       tsx bench/main.ts --compare A.json B.json [--threshold 0.1]

  --profile     quick (npm run bench: 2^10..2^14, a few minutes once ptau files are cached)
                full  (npm run bench:full: adds 2^16, 10,000 dataset rows, the 784-56-10 MLP proof; long)
  --tiny        every part at its smallest size with one repetition: checks the plumbing, figures mean little;
                its report goes to the temporary folder unless --markdown is given
  --only        comma-separated parts: ${PART_ORDER.join(', ')}; a partial run writes its report beside its
                results file (bench/results/<timestamp>.md), never over BENCHMARKS.md, unless --markdown is given
  --plan        print what would run and the time estimate, then stop
  --report-only regenerate BENCHMARKS.md and the charts from a results file, without measuring
  --compare     relative change of the medians between two results files, flagged beyond --threshold`;

class UsageError extends Error {}

interface Options {
  profileName: 'quick' | 'full';
  tiny: boolean;
  parts: PartName[];
  cacheDir: string;
  resultsDir: string;
  markdownPath: string;
  chartsDir: string;
}

function partEstimate(part: PartName, profile: Profile, provingSeconds: number): number {
  switch (part) {
    case 'proving':
      return provingSeconds;
    case 'verify':
      return estimateVerify(profile.verify);
    case 'setup':
      return estimateSetup(profile.setup);
    case 'service':
      return estimateService(profile.service);
    case 'dataset':
      return estimateDataset(profile.dataset);
    case 'models':
      return estimateModels(profile.models);
    case 'chain':
      return estimateChain(profile.chain);
  }
}

async function runPart(
  part: PartName,
  profile: Profile,
  cacheDir: string,
): Promise<Partial<Pick<BenchResults, 'proving' | 'verify' | 'setup' | 'service' | 'dataset' | 'models' | 'chain'>>> {
  switch (part) {
    case 'proving':
      return { proving: await runProvingBench(profile.proving, { cacheDir }) };
    case 'verify':
      return { verify: await runVerifyBench(profile.verify, { cacheDir }) };
    case 'setup':
      return { setup: await runSetupBench(profile.setup, { cacheDir }) };
    case 'service':
      return { service: await runServiceBench(profile.service, { cacheDir }) };
    case 'dataset':
      return { dataset: await runDatasetBench(profile.dataset, { cacheDir }) };
    case 'models':
      return { models: await runModelsBench(profile.models, { cacheDir }) };
    case 'chain':
      return { chain: await runChainBench(profile.chain, { cacheDir }) };
  }
}

/** Problems inside a part's section that make the run a failure (unverified proofs, errors). */
function sectionProblems(
  results: Pick<BenchResults, 'proving' | 'verify' | 'setup' | 'service' | 'dataset' | 'models'>,
): string[] {
  const problems: string[] = [];
  for (const c of results.proving?.circuits ?? []) {
    for (const a of c.approaches)
      if (a.errors.length > 0 || a.verified === false || a.proofs === 0) problems.push(`proving ${c.label} ${a.id}`);
  }
  for (const r of results.verify?.rows ?? []) if (!r.valid || r.errors.length > 0) problems.push(`verify ${r.circuit}`);
  for (const r of results.setup?.rows ?? []) if (r.errors.length > 0) problems.push(`setup 2^${r.power}`);
  const load = results.service?.load;
  if (load && (load.wrongAnswers > 0 || load.status5xx > 0 || load.errors > 0 || load.checked === 0)) {
    problems.push(
      `service: ${load.wrongAnswers} wrong answer(s), ${load.status5xx} 5xx, ${load.errors} connection error(s) of ${load.checked} checked`,
    );
  }
  if (results.service?.anchor && !results.service.anchor.valid)
    problems.push('service anchor: snarkjs did not verify the proof');
  for (const s of results.dataset?.sizes ?? []) if (s.verified === false) problems.push(`dataset ${s.records}`);
  if (results.dataset?.chunked && !results.dataset.chunked.verified) problems.push('dataset chunked');
  for (const r of results.models?.rows ?? []) if (r.verified === false) problems.push(`models ${r.model}`);
  return problems;
}

async function measure(options: Options, planOnly: boolean): Promise<void> {
  const profile = options.tiny ? PROFILES.tiny : PROFILES[options.profileName];
  const cores = os.availableParallelism();
  const rapid = rapidsnarkBinary();
  const provingEstimate = await estimateProving(profile.proving, options.cacheDir, cores, rapid.binary !== null);
  const estimates = new Map(options.parts.map((part) => [part, partEstimate(part, profile, provingEstimate.seconds)]));
  const oneTime = options.parts.includes('proving') ? provingEstimate.ptauSeconds : 0;
  const estimatedSeconds = [...estimates.values()].reduce((a, b) => a + b, 0) + oneTime;
  const m = machineInfo();

  progress(
    `zkai benchmark, profile ${options.profileName}${options.tiny ? ' (TINY: smallest sizes, one repetition)' : ''}, on ${cores} cores (${m.cpuModel}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB; cache ${options.cacheDir}`,
  );
  progress('will run:');
  for (const part of options.parts) {
    const detail: Record<PartName, string> = {
      proving: `proof time vs size at ${profile.proving.powers.map((p) => `2^${p}`).join(', ')}: snarkjs CLI x${profile.proving.cliProofs}, warm API x${profile.proving.apiProofs}, pool shapes x${profile.proving.poolProofs}${rapid.binary ? `, rapidsnark x${profile.proving.rapidsnarkProofs}` : ' (no RAPIDSNARK: skipped)'}`,
      verify: `off-chain verify at ${profile.verify.powers.map((p) => `2^${p}`).join(', ')}: warm x${profile.verify.warmRepetitions}, cold x${profile.verify.coldRepetitions}, snarkjs CLI x${profile.verify.coldRepetitions}`,
      setup: `trusted setup from scratch at ${profile.setup.powers.map((p) => `2^${p.power} x${p.repetitions}`).join(', ')}`,
      service: `HTTP service under load on 127.0.0.1: ${profile.service.connections} autocannon connections posting valid and tampered 2^10 proofs to POST /v1/verify for ${profile.service.durationSeconds} s (at most ${profile.service.maxRequests} requests), every answer checked; warm snarkjs verify x${profile.service.anchorVerifies} as the anchor`,
      dataset: `dataset policy circuits at ${profile.dataset.sizes.join(', ')} records (proving up to ${profile.dataset.proveUpTo}), chunked proof of ${profile.dataset.rows} rows`,
      models: `models ${profile.models.models.join(', ')}${profile.models.mnist ? ', 784-56-10 MLP' : ''}${profile.models.mnistFull ? ' (proven, and with private weights)' : ''}, ${profile.models.proofRepetitions} timed proof(s) each`,
      chain: `gas on anvil: verifiers at ${profile.chain.verifierInputs.join(', ')} public inputs, every registry and consent operation`,
    };
    progress(`  ${part.padEnd(8)} ~${fmtDuration(estimates.get(part) ?? 0).padStart(8)}  ${detail[part]}`);
  }
  if (options.parts.includes('proving')) for (const line of provingEstimate.lines) progress(`           ${line}`);
  progress(
    `estimated total: ~${fmtDuration(estimatedSeconds)}${oneTime > 0 ? ` (of which ~${fmtDuration(oneTime)} generating development ptau files once; later runs reuse them)` : ''}; estimates come from an idle 2-core machine`,
  );
  if (planOnly) return;

  const startedAt = new Date();
  process.env[STARTED_ENV] = String(startedAt.getTime());
  const load = watchLoad();
  const parts: PartStatus[] = [];
  const sections: Partial<BenchResults> = {};
  for (const [index, part] of options.parts.entries()) {
    const estimate = estimates.get(part) ?? 0;
    const elapsed = (Date.now() - startedAt.getTime()) / 1000;
    progress(
      `== part ${index + 1}/${options.parts.length}: ${part} (estimated ~${fmtDuration(estimate)}; ${clock(elapsed)} elapsed of ~${clock(estimatedSeconds)})`,
    );
    const started = Date.now();
    try {
      const section = await runPart(part, profile, options.cacheDir);
      Object.assign(sections, section);
      const status: PartStatus = {
        part,
        status: part === 'service' && sections.service?.status === 'not-built' ? 'not-built' : 'ok',
        seconds: (Date.now() - started) / 1000,
        estimatedSeconds: estimate,
      };
      if (part === 'service' && sections.service) status.note = sections.service.note;
      parts.push(status);
    } catch (error) {
      progress(`${part} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      parts.push({
        part,
        status: 'failed',
        seconds: (Date.now() - started) / 1000,
        estimatedSeconds: estimate,
        error: errorText(error),
      });
    } finally {
      await releaseCurves().catch(() => undefined);
    }
  }
  for (const part of PART_ORDER)
    if (!options.parts.includes(part))
      parts.push({ part, status: 'skipped', seconds: 0, estimatedSeconds: 0, note: 'not selected (--only)' });

  const finishedAt = new Date();
  const base: Omit<BenchResults, 'goals' | 'anchors'> = {
    schema: RESULTS_SCHEMA,
    profile: options.profileName,
    tiny: options.tiny,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    estimatedSeconds,
    machine: m,
    versions: versions(),
    load: load.finish(),
    parts,
    proving: sections.proving ?? null,
    setup: sections.setup ?? null,
    verify: sections.verify ?? null,
    service: sections.service ?? null,
    dataset: sections.dataset ?? null,
    models: sections.models ?? null,
    chain: sections.chain ?? null,
  };
  const results: BenchResults = { ...base, anchors: ANCHORS, goals: computeGoals(base) };
  const jsonPath = join(options.resultsDir, `${isoStamp(startedAt)}${options.tiny ? '-tiny' : ''}.json`);
  await writeFileAtomic(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const markdownPath =
    options.markdownPath === PARTIAL_REPORT ? jsonPath.replace(/\.json$/, '.md') : options.markdownPath;
  const chartsDir = options.chartsDir === PARTIAL_REPORT ? jsonPath.replace(/\.json$/, '-charts') : options.chartsDir;
  const report = await writeReport(results, { markdownPath, chartsDir, resultsFile: relative(REPO_DIR, jsonPath) });
  progress(`results: ${jsonPath}`);
  progress(
    `report: ${markdownPath} and ${report.charts.length} chart(s) in ${chartsDir}${markdownPath === options.markdownPath ? '' : ' (a partial run: BENCHMARKS.md is left as it is)'}`,
  );
  progress(
    `took ${fmtDuration(results.durationSeconds)} (estimated ${fmtDuration(estimatedSeconds)}); ${results.load.note}${results.load.underLoad ? ' (MEASURED UNDER LOAD)' : ''}`,
  );
  const failed = parts.filter((p) => p.status === 'failed').map((p) => p.part);
  const problems = sectionProblems(results);
  for (const goal of results.goals) if (goal.met === false) progress(`goal NOT MET: ${goal.goal}: ${goal.measured}`);
  if (failed.length > 0 || problems.length > 0) {
    progress(`problems: ${[...failed.map((p) => `part ${p} failed`), ...problems].join('; ')}`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        profile: { type: 'string', default: 'quick' },
        tiny: { type: 'boolean', default: false },
        only: { type: 'string' },
        plan: { type: 'boolean', default: false },
        'cache-dir': { type: 'string' },
        'results-dir': { type: 'string' },
        markdown: { type: 'string' },
        'charts-dir': { type: 'string' },
        'report-only': { type: 'string' },
        compare: { type: 'boolean', default: false },
        threshold: { type: 'string' },
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
    if (positionals.length !== 2) throw new UsageError(`--compare needs two results files\n${USAGE}`);
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    if (threshold !== undefined && !(threshold >= 0))
      throw new UsageError('--threshold must be a non-negative number (0.1 = 10%)');
    process.stdout.write(await compareFiles(positionals[0] as string, positionals[1] as string, threshold));
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\n${USAGE}`);
  const tinyDir = join(os.tmpdir(), 'zkai-bench-tiny');
  const markdownFor = (tiny: boolean) =>
    resolve(values.markdown ?? (tiny ? join(tinyDir, 'BENCHMARKS.md') : join(REPO_DIR, 'BENCHMARKS.md')));
  const chartsFor = (tiny: boolean) =>
    resolve(values['charts-dir'] ?? (tiny ? join(tinyDir, 'charts') : join(BENCH_DIR, 'charts')));

  if (values['report-only']) {
    const path = resolve(values['report-only']);
    const loaded = await loadResults(path);
    // The goals are judged again on the run's figures, with today's goals (a goal added since the run shows up).
    const results: BenchResults = { ...loaded, goals: computeGoals(loaded) };
    // A partial run's report goes beside its results file, as when it ran, unless a path is given.
    const partial = !results.tiny && results.parts.some((part) => part.note === 'not selected (--only)');
    const markdownPath =
      partial && values.markdown === undefined ? path.replace(/\.json$/, '.md') : markdownFor(results.tiny);
    const chartsDir =
      partial && values['charts-dir'] === undefined ? path.replace(/\.json$/, '-charts') : chartsFor(results.tiny);
    const report = await writeReport(results, { markdownPath, chartsDir, resultsFile: relative(REPO_DIR, path) });
    process.stderr.write(`[bench] report: ${markdownPath} and ${report.charts.length} chart(s) in ${chartsDir}\n`);
    return;
  }

  const profileName = values.profile;
  if (profileName !== 'quick' && profileName !== 'full')
    throw new UsageError(`unknown profile "${profileName}" (quick, full; --tiny for a plumbing check)\n${USAGE}`);
  const parts = values.only ? values.only.split(',').map((p) => p.trim()) : PART_ORDER;
  const unknown = parts.filter((p) => !PART_ORDER.includes(p as PartName));
  if (unknown.length > 0) throw new UsageError(`unknown part(s): ${unknown.join(', ')} (${PART_ORDER.join(', ')})`);
  // A partial run must not replace the whole run's BENCHMARKS.md and charts: its report goes beside its results file
  // (bench/results/<timestamp>.md and <timestamp>-charts/) unless --markdown / --charts-dir say otherwise.
  const partial = PART_ORDER.some((p) => !parts.includes(p));
  const partialReport =
    partial && !values.tiny
      ? { markdown: values.markdown === undefined, charts: values['charts-dir'] === undefined }
      : { markdown: false, charts: false };
  await measure(
    {
      profileName,
      tiny: values.tiny,
      parts: PART_ORDER.filter((p) => parts.includes(p)),
      cacheDir: resolveCacheDir(values['cache-dir']),
      resultsDir: resolve(values['results-dir'] ?? join(BENCH_DIR, 'results')),
      markdownPath: partialReport.markdown ? PARTIAL_REPORT : markdownFor(values.tiny),
      chartsDir: partialReport.charts ? PARTIAL_REPORT : chartsFor(values.tiny),
    },
    values.plan,
  );
}

main().catch(async (error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n`);
  else progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await releaseCurves().catch(() => undefined);
  process.exitCode = 1;
});
