import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHORS, computeGoals } from '../bench/anchors.ts';
import { stats } from '../bench/common.ts';
import { compareResults, renderComparison } from '../bench/compare.ts';
import { comparisons } from '../bench/proving.ts';
import { renderMarkdown, writeReport } from '../bench/report.ts';
import {
  flattenMetrics,
  RESULTS_SCHEMA,
  type ApproachReport,
  type BenchResults,
  type CircuitReport,
  type ServiceSection,
} from '../bench/results.ts';
import { AnswerLog, checkAnswer } from '../bench/service.ts';

// A small results file shaped like a real run (two circuits, three approaches each, every part present), with
// figures chosen so that one goal is missed. No timing is measured here.

function approach(
  kind: ApproachReport['kind'],
  id: string,
  label: string,
  proofsPerSecond: number,
  latencyMs: number[],
  extra: Partial<ApproachReport> = {},
): ApproachReport {
  return {
    id,
    kind,
    label,
    shape: kind === 'pool' ? { workers: 1, curveThreads: 2 } : null,
    shapeNames: [],
    isDefaultPool: kind === 'pool',
    proofs: latencyMs.length,
    failed: 0,
    wallSeconds: latencyMs.length / proofsPerSecond,
    proofsPerSecond,
    latencyMs: stats(latencyMs),
    witnessMs: kind === 'cli' ? null : stats(latencyMs.map((ms) => ms * 0.1)),
    proveMs: kind === 'cli' ? null : stats(latencyMs.map((ms) => ms * 0.9)),
    singleLatencyMs: kind === 'cli' ? null : stats(latencyMs),
    coldMs: kind === 'cli' ? null : 600,
    peakRssBytes: stats([300 * 2 ** 20]),
    proofBytes: stats([805, 806]),
    verified: true,
    exitedCleanly: true,
    childSeconds: 10,
    notes: [],
    errors: [],
    ...extra,
  };
}

function circuit(power: number, constraints: number, apiMs: number, poolSpeedup: number): CircuitReport {
  const approaches = [
    approach('cli', 'cli', 'snarkjs CLI fullprove (process per proof)', 1000 / (apiMs * 2), [
      apiMs * 2,
      apiMs * 2.1,
      apiMs * 1.9,
    ]),
    approach('api', 'api', 'snarkjs API warm loop (multithreaded)', 1000 / apiMs, [apiMs, apiMs * 1.05, apiMs * 0.95]),
    approach('pool', 'pool-w1c2', 'zkai pool 1 worker × 2 curve threads (default)', (1000 / apiMs) * poolSpeedup, [
      apiMs / poolSpeedup,
      apiMs / poolSpeedup,
    ]),
  ];
  return {
    label: `2^${power}`,
    targetPower: power,
    links: Math.floor((2 ** power - 3) / 240),
    constraints,
    publicInputs: 1,
    outputs: 1,
    wires: constraints + 2,
    requiredPower: power,
    zkeyBytes: 2 ** (power + 9),
    wasmBytes: 40_000,
    compile: { cached: true, seconds: 0 },
    keys: { cached: true, ptauFile: 'dev-pot14.ptau', ptauPower: 14 },
    approaches,
    comparisons: comparisons(approaches),
  };
}

function syntheticResults(): BenchResults {
  const circuits = [circuit(10, 960, 190, 1.2), circuit(12, 4080, 500, 0.9)];
  const defaultRows = circuits.map((c) => ({
    circuit: c.label,
    comparison: c.comparisons.find((x) => x.isDefaultPool),
  }));
  const base: Omit<BenchResults, 'goals' | 'anchors'> = {
    schema: RESULTS_SCHEMA,
    profile: 'quick',
    tiny: false,
    startedAt: '2026-12-06T10:00:00.000Z',
    finishedAt: '2026-12-06T10:09:00.000Z',
    durationSeconds: 540,
    estimatedSeconds: 600,
    machine: {
      cores: 2,
      availableParallelism: 2,
      cpuModel: 'Test CPU',
      memoryBytes: 8 * 2 ** 30,
      platform: 'linux',
      release: '6.1',
      arch: 'x64',
      node: 'v20.0.0',
    },
    versions: { node: 'v20.0.0', zkai: '0.1.0', snarkjs: '0.7.6' },
    load: {
      loadAverageAtStart: [0.2, 0.1, 0.1],
      loadAverageAtEnd: [2, 1, 0.5],
      otherCpuShare: 0.02,
      underLoad: false,
      note: "other processes used 2% of the machine's CPU during the run",
    },
    parts: [
      { part: 'proving', status: 'ok', seconds: 200, estimatedSeconds: 220 },
      { part: 'service', status: 'not-built', seconds: 0, estimatedSeconds: 0, note: 'placeholder' },
    ],
    proving: {
      config: { powers: [10, 12], cliProofs: 3, apiProofs: 3, poolProofs: 2, singleProofs: 2, rapidsnarkProofs: 2 },
      shapes: [{ workers: 1, curveThreads: 2, names: ['default'], isDefault: true }],
      circuits,
      rapidsnark: { binary: null, note: 'RAPIDSNARK is not set: rapidsnark not measured' },
      goals: {
        defaultPool: 'zkai pool 1 worker × 2 curve threads (default)',
        throughputMet: false,
        latencyMet: false,
        perCircuit: defaultRows.map((row) => ({
          circuit: row.circuit,
          throughputVsApi: row.comparison?.throughputVsApi ?? null,
          singleLatencyVsApi: row.comparison?.singleLatencyVsApi ?? null,
        })),
      },
    },
    setup: {
      powers: [8],
      rows: [
        {
          power: 8,
          repetitions: 2,
          constraints: 240,
          ptauNewS: stats([1, 1.2]),
          ptauContributeS: stats([0.5, 0.6]),
          ptauPrepareS: stats([2, 2.2]),
          ptauTotalS: stats([3.5, 4]),
          ptauBytes: 300_000,
          groth16SetupS: stats([0.3, 0.4]),
          contributionS: stats([0.1, 0.1]),
          zkeyBytes: 100_000,
          errors: [],
        },
      ],
    },
    verify: {
      warmRepetitions: 3,
      coldRepetitions: 2,
      rows: [
        {
          circuit: '2^10',
          constraints: 960,
          publicInputs: 1,
          warmMs: stats([14, 15, 16]),
          coldMs: stats([300, 320]),
          coldProcessMs: stats([900, 950]),
          cliMs: stats([700, 720]),
          valid: true,
          errors: [],
        },
      ],
    },
    service: {
      status: 'not-built',
      note: 'not measured: the HTTP service is not part of this benchmark yet',
      rows: [],
    },
    dataset: {
      example: 'examples/patients',
      rules: 4,
      aggregates: 3,
      proveUpTo: 4,
      sizes: [
        {
          records: 4,
          constraints: 2533,
          perRecord: 633.25,
          compileSeconds: 0,
          ptauPower: 14,
          setupSeconds: 0,
          coldProveS: 1.1,
          proveS: stats([0.8, 0.9]),
          verified: true,
        },
      ],
      chunked: {
        rows: 72,
        chunkDepth: 0,
        subtrees: 36,
        recordsPerChunk: 36,
        chunks: 2,
        constraintsPerChunk: 15757,
        commitSeconds: 0.2,
        setupSeconds: 0,
        setupFromCache: true,
        proveSeconds: 4,
        perChunkS: stats([2, 2]),
        rowsPerSecond: 18,
        verifySeconds: 0.1,
        verified: true,
        minutesFor10k: 9.3,
      },
    },
    models: {
      proofRepetitions: 2,
      rows: [
        {
          model: 'digits-logreg',
          architecture: '64 -> 10',
          fracBits: 4,
          visibility: 'private',
          weights: 'fixed',
          constraints: 661,
          estimated: 670,
          parameters: 650,
          reluNeurons: 0,
          circomlibMlFormula: 640,
          compileSeconds: 0,
          proveS: stats([0.4, 0.42]),
          peakRssMiB: 370,
          verified: true,
          layers: [],
        },
      ],
      calibration: [{ model: 'digits-logreg', fracBits: 4, floatAccuracy: 0.965, quantizedAccuracy: 0.955 }],
    },
    chain: {
      verifiers: [
        {
          publicInputs: 1,
          zkaiGas: 214_150,
          zkaiFloor: 212_730,
          snarkjsGas: 214_210,
          snarkjsFloor: 212_438,
          estimateZkai: 216_972,
          estimateSnarkjs: 31_720,
        },
      ],
      operations: [
        { operation: 'attest an inference proof (4 public signals)', gas: 422_826, note: '', publicInputs: 4 },
        { operation: 'register a model', gas: 152_728, note: '' },
      ],
    },
  };
  return { ...base, anchors: ANCHORS, goals: computeGoals(base) };
}

describe('benchmark report', () => {
  let dir: string;
  let markdown: string;
  let charts: string[];
  const results = syntheticResults();

  beforeAll(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'zkai-bench-report-'));
    ({ markdown, charts } = await writeReport(results, {
      markdownPath: join(dir, 'BENCHMARKS.md'),
      chartsDir: join(dir, 'charts'),
      resultsFile: 'bench/results/test.json',
    }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the markdown with a table per part and the machine beside every table', () => {
    expect(readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8')).toBe(markdown);
    for (const heading of [
      '## Goals',
      '### 2^10: 960 constraints',
      '## Throughput',
      '## Trusted setup cost per power',
      '## Off-chain verification',
      '## HTTP service',
      '## Datasets',
      '## Models',
      '## On-chain gas',
      '## Anchors (cited, not measured here)',
    ]) {
      expect(markdown).toContain(heading);
    }
    // a table header row, its separator and a data row of the proving table
    expect(markdown).toMatch(/\| approach \| proofs \| proofs\/s \| latency s \|.*\n\|---\|/);
    expect(markdown).toContain('| snarkjs API warm loop (multithreaded) | 3 | 5.26 |');
    // every table of measured figures is preceded (through a blank line) by the machine line
    const lines = markdown.slice(0, markdown.indexOf('## Anchors')).split('\n');
    const tableStarts = lines.flatMap((line, i) =>
      line.startsWith('| ') && !(lines[i - 1] ?? '').startsWith('|') ? [i] : [],
    );
    expect(tableStarts.length).toBeGreaterThan(8);
    for (const start of tableStarts) expect(lines[start - 2]).toMatch(/^_Machine: 2 cores, 8\.0 GiB/);
  });

  it('computes ratios pair by pair and says when a goal is missed', () => {
    expect(markdown).toContain(
      '| 2^10 | zkai pool 1 worker × 2 curve threads (default) | 6.32 | 1.20x | 2.40x | not measured | 0.83x | met | met |',
    );
    expect(markdown).toContain('| 2^12 | zkai pool 1 worker × 2 curve threads (default) | 1.80 | 0.90x |');
    expect(markdown).toMatch(
      /2\^12: default pool throughput >= 1\.00x the warm snarkjs API loop \| 0\.90x \| \*\*NOT MET\*\*/,
    );
  });

  it('keeps cited anchors in their own columns', () => {
    expect(markdown).toContain('cited: field notes s/proof (4,032 constraints)');
    expect(markdown).toContain(
      '| rapidsnark (not measured: RAPIDSNARK not set) | – | – | – | – | – | – | – | – | – | – | 0.08 s |',
    );
    expect(markdown).toContain('cited: Semaphore validateProof');
    expect(markdown).toContain('cited: circomlib-ml formula');
    expect(markdown).toContain('**Placeholder.** not measured: the HTTP service');
  });

  it('renders the charts with vega into SVG files', () => {
    expect(charts.length).toBeGreaterThanOrEqual(6);
    for (const file of charts) {
      expect(existsSync(file)).toBe(true);
      const svg = readFileSync(file, 'utf8');
      expect(svg).toContain('<svg');
      expect(svg).toContain('class="marks"'); // vega's SVG renderer, not hand-written
    }
    expect(markdown).toContain('![proof time vs circuit size](charts/proving-latency.svg)');
  });
});

describe('benchmark compare', () => {
  const a = syntheticResults();

  it('flags a 2x slowdown and ignores noise', () => {
    const b = structuredClone(a);
    const api = b.proving!.circuits[0]!.approaches.find((x) => x.id === 'api')!;
    api.latencyMs = {
      ...api.latencyMs!,
      min: api.latencyMs!.min * 2,
      median: api.latencyMs!.median * 2,
      max: api.latencyMs!.max * 2,
    };
    api.proofsPerSecond = api.proofsPerSecond! / 2;
    const pool = b.proving!.circuits[0]!.approaches.find((x) => x.kind === 'pool')!;
    pool.proofsPerSecond = pool.proofsPerSecond! * 1.03; // noise
    const comparison = compareResults(a, b);
    const byKey = new Map(comparison.changes.map((c) => [c.key, c]));
    expect(byKey.get('proving/2^10/api/latency')).toMatchObject({ flagged: true, verdict: 'slower' });
    expect(byKey.get('proving/2^10/api/latency')!.change).toBeCloseTo(1, 6);
    expect(byKey.get('proving/2^10/api/throughput')).toMatchObject({ flagged: true, verdict: 'slower' });
    expect(byKey.get('proving/2^10/pool-w1c2/throughput')).toMatchObject({ flagged: false, verdict: 'noise' });
    expect(byKey.get('proving/2^12/api/latency')).toMatchObject({ flagged: false, verdict: 'same' });
    expect(comparison.changes.filter((c) => c.flagged)).toHaveLength(2);
    const text = renderComparison(a, b, 'A.json', 'B.json', comparison);
    expect(text).toMatch(/SLOWER\s+\+100\.0%\s+2\^10 snarkjs API warm loop \(multithreaded\): latency/);
  });

  it('flags any change of an exact figure (gas) and lists figures present in one run only', () => {
    const b = structuredClone(a);
    b.chain!.verifiers[0]!.zkaiGas -= 100;
    b.proving!.circuits.pop();
    const comparison = compareResults(a, b);
    expect(comparison.changes.find((c) => c.key === 'chain/verifier/1/zkai')).toMatchObject({
      flagged: true,
      verdict: 'better',
    });
    expect(comparison.changes.some((c) => c.key.startsWith('proving/2^12/') && c.verdict === 'only in A')).toBe(true);
    expect(flattenMetrics(a).length).toBeGreaterThan(30);
  });
});

/** A service section as bench/service.ts writes it: 50 connections, every answer checked. */
function serviceSection(wrongAnswers: number, status5xx: number): ServiceSection {
  const requests = 1040;
  return {
    status: 'ok',
    note: '50 autocannon connections on 127.0.0.1',
    rows: [
      {
        endpoint: 'POST /v1/verify',
        concurrency: 50,
        requestsPerSecond: stats([104]),
        latencyMs: { n: requests, min: 40, median: 448, max: 1115 },
      },
    ],
    load: {
      endpoint: 'POST /v1/verify',
      circuit: '2^10 Poseidon chain (960 constraints, 1 public input)',
      connections: 50,
      durationSeconds: 10,
      maxRequests: 20_000,
      elapsedSeconds: 10,
      requests,
      validRequests: 520,
      tamperedRequests: 520,
      requestsPerSecond: 104,
      perSecond: stats([82, 91, 143]),
      latencyMs: { mean: 470, p50: 448, p90: 675, p99: 904, max: 1115 },
      errors: 0,
      timeouts: 0,
      non2xx: wrongAnswers + status5xx,
      status5xx,
      statusCodes: {
        '200': requests - wrongAnswers - status5xx,
        ...(wrongAnswers ? { '400': wrongAnswers } : {}),
        ...(status5xx ? { '503': status5xx } : {}),
      },
      checked: requests,
      wrongAnswers,
      wrongExamples: wrongAnswers ? ['valid proof: HTTP 400 {}'] : [],
      verifierWorkers: 2,
    },
    anchor: { verifies: 100, verifiesPerSecond: 65, warmMs: stats([14, 15, 16]), valid: true },
    ratioToSingleProcess: 104 / 65,
  };
}

describe('benchmark report: the HTTP service under load', () => {
  function withService(service: ServiceSection): BenchResults {
    const { goals: _goals, anchors: _anchors, ...base } = syntheticResults();
    const next = {
      ...base,
      service,
      parts: base.parts.map((p) => (p.part === 'service' ? { ...p, status: 'ok' as const, note: service.note } : p)),
    };
    return { ...next, anchors: ANCHORS, goals: computeGoals(next) };
  }

  it('renders what is measured, the figures beside the single-process anchor, and the answer checks', () => {
    const markdown = renderMarkdown(withService(serviceSection(0, 0)));
    const section = markdown.slice(markdown.indexOf('## HTTP service'), markdown.indexOf('## Datasets'));
    expect(section).not.toContain('Placeholder');
    expect(section).toContain('What is measured: the real verification service');
    expect(section).toContain('autocannon opens 50 connections');
    expect(section).toContain('snarkjs.groth16.verify');
    expect(section).toContain(
      '| POST /v1/verify | 50 | 10.0 | 1,040 | 104.0 | 82 / **91** / 143 | 448 | 675 | 904 | 1115 | 65.0 (median 15.0 ms) | 1.60x |',
    );
    expect(section).toContain('| 1,040 | 520 | 520 | 0 | 0 | 0 | 0 (0) | 200: 1,040 |');
    expect(section).toMatch(/_Machine: 2 cores, 8\.0 GiB[^\n]*\n\n\| endpoint \| connections/);
    expect(markdown).toMatch(
      /\| service \| POST \/v1\/verify under load: zero wrong answers \(every answer checked\) \| 0 wrong of 1,040 checked[^|]*\| met \|/,
    );
    expect(markdown).toMatch(
      /\| service \| POST \/v1\/verify under load: zero 5xx, no connection error or timeout \| 0 5xx[^|]*\| met \|/,
    );
  });

  it('marks wrong answers and 5xx as goals NOT MET, with examples', () => {
    const markdown = renderMarkdown(withService(serviceSection(3, 2)));
    expect(markdown).toMatch(
      /zero wrong answers \(every answer checked\) \| 3 wrong of 1,040 checked[^|]*\| \*\*NOT MET\*\* \|/,
    );
    expect(markdown).toMatch(/zero 5xx, no connection error or timeout \| 2 5xx[^|]*\| \*\*NOT MET\*\* \|/);
    expect(markdown).toContain('| 1,040 | 520 | 520 | **3** | **2** | 5 | 0 (0) | 200: 1,035, 400: 3, 503: 2 |');
    expect(markdown).toContain('- valid proof: HTTP 400 {}');
  });

  it('gives --compare the requests/s, the p50 / p99 latency and the anchor', () => {
    const keys = flattenMetrics(withService(serviceSection(0, 0))).map((m) => m.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'service/POST /v1/verify/c50/rps',
        'service/POST /v1/verify/c50/p50',
        'service/POST /v1/verify/c50/p99',
        'service/anchor/verifiesPerSecond',
      ]),
    );
  });

  it('checks every answer: the verdict, the reason, and 5xx apart', () => {
    expect(checkAnswer('valid', 200, JSON.stringify({ valid: true, reason: null }))).toBeNull();
    expect(checkAnswer('tampered', 200, JSON.stringify({ valid: false, reason: 'invalid-proof' }))).toBeNull();
    expect(checkAnswer('valid', 200, JSON.stringify({ valid: false, reason: 'invalid-proof' }))).toMatch(
      /valid proof answered valid: false/,
    );
    expect(checkAnswer('tampered', 200, JSON.stringify({ valid: true, reason: null }))).toMatch(
      /tampered proof answered valid: true/,
    );
    expect(checkAnswer('tampered', 200, JSON.stringify({ valid: false, reason: 'malformed' }))).toMatch(
      /reason malformed/,
    );
    expect(checkAnswer('valid', 400, '{"code":"BAD_REQUEST"}')).toMatch(/HTTP 400/);
    expect(checkAnswer('valid', 200, 'not json')).toMatch(/not JSON/);
    const log = new AnswerLog();
    log.record('valid', 200, JSON.stringify({ valid: true }));
    log.record('tampered', 200, JSON.stringify({ valid: true }));
    log.record('tampered', 503, '{"code":"VERIFIER_BUSY"}');
    log.record('valid', 400, '{}');
    expect(log).toMatchObject({ checked: 4, valid: 2, tampered: 2, wrong: 2, status5xx: 1 });
    expect(log.examples).toHaveLength(3);
  });
});
