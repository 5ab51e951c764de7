/**
 * Dataset benchmark: constraints per record of the example policy circuit (commitment included) at several
 * capacities, and a chunked proof of a synthetic dataset (commit, prove in chunks, verify), timed.
 *
 *   tsx bench/dataset.ts [--rows 256] [--chunk-depth 0] [--subtrees 36] [--sizes 4,16,64] [--prove-up-to 16]
 *                        [--ptau FILE] [--cache-dir DIR]
 *
 * Single-circuit proofs are timed for sizes up to --prove-up-to records (64 records need a 2^16 ptau, 256 a 2^18 and
 * 1,024 a 2^20 one: pass a Perpetual Powers of Tau file with --ptau, or wait for a development one to be generated).
 *
 * The default chunk shape, 36 single-record subtrees per proof (15,757 constraints), is the fullest that fits a 2^14
 * ptau for the example policy; `--chunk-depth 4 --subtrees 1` is the shape of 16-record subtrees.
 *
 * Writes bench/results/dataset-<timestamp>.json and bench/results/latest-dataset.md, prints the table.
 */
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { compileCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import { prepareChunkCircuit, proveDatasetInChunks, verifyChunkedDataset } from '../src/data/chunked.ts';
import { prepareDatasetCircuit, proveDataset, verifyDatasetProof } from '../src/data/dataset-proof.ts';
import { DATA_TEMPLATES_DIR, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { readDataset } from '../src/data/ingest.ts';
import { loadPolicy } from '../src/data/policy.ts';
import { loadSchema } from '../src/data/schema.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { writeFileAtomic } from '../src/util/atomic-fs.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { runTsChild } from './dataset-child.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/patients/', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '256' }, 'chunk-depth': { type: 'string', default: '0' }, subtrees: { type: 'string', default: '36' }, sizes: { type: 'string', default: '4,16,64' }, 'prove-up-to': { type: 'string', default: '16' }, ptau: { type: 'string' }, 'cache-dir': { type: 'string' } } });
  const rows = Number(values.rows);
  const chunkDepth = Number(values['chunk-depth']);
  const subtrees = Number(values.subtrees);
  const perChunk = subtrees * 2 ** chunkDepth;
  const cache = values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {};
  const ptau = values.ptau ? { ptauPath: values.ptau } : {};
  const proveUpTo = Number(values['prove-up-to']);
  const depths = values.sizes.split(',').map((size) => {
    const depth = Math.log2(Number(size));
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`--sizes: ${size} is not a power of two >= 2`);
    return depth;
  });
  const schema = await loadSchema(join(EXAMPLE, 'schema.json'));
  const policy = await loadPolicy(join(EXAMPLE, 'policy.json'), schema);

  const sizes: Array<{ records: number; constraints: number; perRecord: number; compileSeconds: number; ptauPower?: number; setupSeconds?: number; proveSeconds?: number; verified?: boolean }> = [];
  const scratchSingle = await mkdtemp(join(os.tmpdir(), 'zkai-bench-single-'));
  const largest = 2 ** Math.max(...depths);
  await runTsChild(join(EXAMPLE, 'generate.ts'), [String(largest), join(scratchSingle, 'data.csv')]);
  const singleRecords = await readDataset(join(scratchSingle, 'data.csv'), schema);
  await rm(scratchSingle, { recursive: true, force: true });
  for (const depth of depths) {
    process.stderr.write(`[dataset] compiling the policy circuit for ${2 ** depth} records\n`);
    const generated = await generateDatasetCircuit(schema, policy, depth, cache);
    const started = performance.now();
    const circuit = await compileCircuit(generated.path, { ...cache, includePaths: [DATA_TEMPLATES_DIR] });
    const size: (typeof sizes)[number] = { records: 2 ** depth, constraints: circuit.info.constraints, perRecord: circuit.info.constraints / 2 ** depth, compileSeconds: circuit.cached ? 0 : (performance.now() - started) / 1000 };
    sizes.push(size);
    if (2 ** depth > proveUpTo) continue;
    process.stderr.write(`[dataset] proving ${2 ** depth} records in one circuit (setup cached after the first run)\n`);
    const bundle = createBundle(schema, singleRecords.slice(0, 2 ** depth));
    const setupStarted = performance.now();
    const prepared = await prepareDatasetCircuit(schema, policy, depth, { ...cache, ...ptau });
    size.setupSeconds = prepared.keys.cached ? 0 : (performance.now() - setupStarted) / 1000;
    size.ptauPower = prepared.keys.ptau.power;
    const pool = new ProverPool();
    try {
      const proveStarted = performance.now();
      const proof = await proveDataset(bundle, schema, policy, { ...cache, ...ptau, pool });
      size.proveSeconds = (performance.now() - proveStarted) / 1000;
      size.verified = (await verifyDatasetProof(prepared.keys.vkey, proof.proof, proof.publicSignals, { root: bundle.commitment.root, count: bundle.commitment.count, policyHash: policy.hash, schemaHash: schema.hash })).valid;
    } finally {
      await pool.close();
    }
  }

  const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-data-'));
  const chunked: Record<string, number | string | boolean> = { rows, chunkDepth, subtrees, recordsPerChunk: perChunk };
  try {
    await runTsChild(join(EXAMPLE, 'generate.ts'), [String(rows), join(scratch, 'data.csv')]);
    let started = performance.now();
    const bundle = createBundle(schema, await readDataset(join(scratch, 'data.csv'), schema));
    chunked.commitSeconds = (performance.now() - started) / 1000;
    const pool = new ProverPool();
    try {
      process.stderr.write(`[dataset] preparing the chunk circuit (compile and setup, cached after the first run)\n`);
      started = performance.now();
      const prepared = await prepareChunkCircuit(schema, policy, chunkDepth, { ...cache, subtrees });
      chunked.setupSeconds = (performance.now() - started) / 1000;
      chunked.setupFromCache = prepared.keys.cached;
      process.stderr.write(`[dataset] proving ${rows} rows in chunks of ${perChunk} (${subtrees} subtree(s) of ${2 ** chunkDepth})\n`);
      started = performance.now();
      const proof = await proveDatasetInChunks(bundle, schema, policy, { ...cache, chunkDepth, subtreesPerChunk: subtrees, pool, onChunk: (done, total) => { if (done % 8 === 0 || done === total) process.stderr.write(`[dataset] chunk ${done}/${total}\n`); } });
      chunked.proveSeconds = (performance.now() - started) / 1000;
      chunked.chunks = proof.chunks.length;
      chunked.constraintsPerChunk = proof.prepared.circuit.info.constraints;
      started = performance.now();
      const verdict = await verifyChunkedDataset(proof.prepared.keys.vkey, proof, { root: bundle.commitment.root, count: rows, schemaHash: schema.hash }, policy);
      chunked.verifySeconds = (performance.now() - started) / 1000;
      chunked.verified = verdict.valid;
    } finally {
      await pool.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await releaseCurves();
  }

  const machine = `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  const lines = [
    `# zkai dataset benchmark, ${new Date().toISOString()}`,
    '',
    `Machine: ${machine}. Example schema (7 columns) and policy (${policy.rules.length} rules, ${policy.aggregates.length} aggregates), commitment included.`,
    '',
    '| records in one circuit | constraints | per record | compile s | ptau | setup s | prove s (one proof, new pool: includes loading the key) | verified |',
    '|---|---|---|---|---|---|---|---|',
    ...sizes.map((s) => `| ${s.records} | ${s.constraints} | ${s.perRecord.toFixed(1)} | ${s.compileSeconds ? s.compileSeconds.toFixed(1) : 'cached'} | ${s.ptauPower ? `2^${s.ptauPower}` : '-'} | ${s.setupSeconds === undefined ? '-' : s.setupSeconds ? s.setupSeconds.toFixed(1) : 'cached'} | ${s.proveSeconds === undefined ? `not run (--prove-up-to ${proveUpTo})` : s.proveSeconds.toFixed(2)} | ${s.verified === undefined ? '-' : s.verified ? 'yes' : 'NO'} |`),
    '',
    `Goal (issue 3): at most 700 constraints per record: ${sizes.every((s) => s.perRecord <= 700) ? 'met' : '**not met**'}.`,
    '',
    `Chunked proof: ${rows} rows in ${chunked.chunks} chunks of ${perChunk} records (${subtrees} subtree(s) of ${2 ** chunkDepth}; ${chunked.constraintsPerChunk} constraints each; chunk circuit ${chunked.setupFromCache ? 'from cache' : `compiled and set up in ${Number(chunked.setupSeconds).toFixed(1)} s, not counted below`}): commit ${Number(chunked.commitSeconds).toFixed(1)} s, prove ${Number(chunked.proveSeconds).toFixed(1)} s (${(rows / Number(chunked.proveSeconds)).toFixed(1)} rows/s), verify ${Number(chunked.verifySeconds).toFixed(2)} s, verified: ${chunked.verified ? 'yes' : 'NO'}.`,
    `At that rate 10,000 rows take about ${((10_000 / (rows / Number(chunked.proveSeconds))) / 60).toFixed(1)} min of proving (issue 3's goal: under 10 min).`,
  ];
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  await writeFileAtomic(join(RESULTS, `dataset-${stamp}.json`), JSON.stringify({ machine, sizes, chunked }, null, 2));
  await writeFileAtomic(join(RESULTS, 'latest-dataset.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!chunked.verified || sizes.some((s) => s.verified === false)) process.exitCode = 1;
}

await main();
