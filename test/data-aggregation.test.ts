/**
 * Private chunked proofs, circuit level (issue 18, docs/design/private-chunks.md): a committed chunk circuit publishes
 * one salted commitment to its partials, and the aggregation circuits (node and root) open such commitments
 * privately. REAL compiled circuits; every refusal below is a constraint failing during witness generation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import { chunkCircuitInput } from '../src/data/chunked.ts';
import { DATA_TEMPLATES_DIR, committedChunkSignalNames, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import {
  aggregationSignalNames,
  childSlots,
  generateAggregationCircuit,
  partialsCommitment,
  type AggregationLevel,
} from '../src/data/aggregation-gen.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord } from '../src/data/types.ts';
import { WitnessError } from '../src/errors.ts';
import { chunkPartials, chunkPartialValues, partialSignalName } from '../src/policy/chunks.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';

afterAll(async () => {
  await releaseCurves();
});

const schema = parseSchema({
  name: 'aggregation-test',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string', maxBytes: 16 },
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'group', type: 'category', values: ['a', 'b'] },
    { name: 'score', type: 'decimal', scale: 1, min: '-10.0', max: '10.0', nullable: true },
  ],
});

/** Every kind of aggregate, with bounds the tests below reach exactly. */
const policy = parsePolicy(
  {
    name: 'every kind',
    rules: [{ field: 'age', op: 'GTE', value: 18 }],
    aggregates: [
      { kind: 'COUNT', min: 2, max: 1000 },
      { kind: 'SUM', field: 'score', min: '-100', max: '100' },
      { kind: 'MEAN', field: 'age', min: '20', max: '80' },
      { kind: 'PROPORTION', where: { field: 'group', op: 'EQ', value: 'a' }, min: '0.25', max: '0.75' },
      {
        kind: 'GROUP-PARITY',
        groupA: { field: 'group', op: 'EQ', value: 'a' },
        groupB: { field: 'group', op: 'EQ', value: 'b' },
        outcome: { field: 'age', op: 'GTE', value: 40 },
        maxDifference: '0.5',
      },
      { kind: 'UNIQUE', field: 'id' },
    ],
  },
  schema,
);

const row = (id: string, age: number, group: 'a' | 'b', score: string | null, line: number): EncodedRecord =>
  encodeRecord(schema, { id, age, group, score }, line);

/** Eight records, committed sorted by id key (createBundle sorts them). */
const bundle = createBundle(schema, [
  row('p-01', 25, 'a', '1.5', 2),
  row('p-02', 45, 'b', null, 3),
  row('p-03', 61, 'a', '-2.0', 4),
  row('p-04', 33, 'b', '9.9', 5),
  row('p-05', 52, 'a', '0.0', 6),
  row('p-06', 19, 'b', '-10.0', 7),
  row('p-07', 70, 'b', '3.3', 8),
  row('p-08', 40, 'a', null, 9),
]);
const m = chunkPartials(policy).length;

const compile = async (path: string) => compileCircuit(path, { includePaths: [DATA_TEMPLATES_DIR] });
const circuits = new Map<string, Promise<CompiledCircuit>>();
const aggregation = (level: AggregationLevel, fanIn: number) => {
  const key = `${level}-${fanIn}`;
  if (!circuits.has(key))
    circuits.set(
      key,
      generateAggregationCircuit(schema, policy, { level, fanIn }).then((generated) => compile(generated.path)),
    );
  return circuits.get(key)!;
};

/** Chunks of `size` consecutive records: each one's partials (as its chunk circuit computes them) and a salt. */
const chunksOf = (size: number) =>
  Array.from({ length: Math.ceil(bundle.records.length / size) }, (_, j) => {
    const records = bundle.records.slice(j * size, (j + 1) * size);
    return { partials: chunkPartialValues(policy, records), salt: BigInt(1000 + j), records };
  });

/** The input of an aggregation circuit over these children (fanIn slots, the unused ones zero). */
function aggregationInput(
  level: AggregationLevel,
  fanIn: number,
  children: ReadonlyArray<{ partials: readonly bigint[]; salt: bigint }>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const slots = Array.from({ length: fanIn }, (_, j) => children[j]);
  return {
    ...(level === 'root' ? { count: bundle.records.length } : { nodeSalt: '4242' }),
    slots: children.length,
    policyHash: policy.hash,
    child: slots.map((child) => String(child ? partialsCommitment(child.partials, child.salt) : 0n)),
    partials: slots.map((child) => (child ? child.partials : Array<bigint>(m).fill(0n)).map(String)),
    salt: slots.map((child) => String(child?.salt ?? 0n)),
    ...extra,
  };
}

async function accepts(circuit: CompiledCircuit, input: Record<string, unknown>): Promise<boolean> {
  try {
    await computeWitness(circuit.wasmPath, input);
    return true;
  } catch (error) {
    if (error instanceof WitnessError) return false;
    throw error;
  }
}

describe('committed chunk circuit', () => {
  it('publishes the salted commitment to its partials in place of the partials, and nothing else derived from records', async () => {
    const generated = await generateDatasetCircuit(schema, policy, 1, { mode: 'committed-chunk', subtrees: 2 });
    const circuit = await compile(generated.path);
    const names = committedChunkSignalNames(policy, 2);
    expect(names).toEqual([
      'root0',
      'root1',
      'commitment',
      'count',
      'policyHash',
      'schemaHash',
      'chunkDepth',
      'chunkSubtrees',
      'context',
    ]);
    expect(names.some((name) => chunkPartials(policy).map(partialSignalName).includes(name))).toBe(false);
    expect(circuit.info.outputs + circuit.info.publicInputs).toBe(names.length);

    const records = bundle.records.slice(0, 3);
    const input = {
      ...chunkCircuitInput(records, bundle.salts.slice(0, 3), schema, policy, 1, [], 2),
      context: '0',
      chunkSalt: '987654321',
    };
    const witness = await computeWitness(circuit.wasmPath, input);
    expect(witness[3]).toBe(partialsCommitment(chunkPartialValues(policy, records), 987654321n));
    // The same records under another salt: another commitment (the salt hides the partials).
    const resalted = await computeWitness(circuit.wasmPath, { ...input, chunkSalt: '987654322' });
    expect(resalted[3]).not.toBe(witness[3]);
    const report = await checkSoundness(circuit, input, { maxSignals: 600 });
    expect(report.unpinned).toEqual([]);
  }, 300_000);
});

describe('aggregation root', () => {
  it('accepts honest chunks whose commitments are its public children, and is sound', async () => {
    const circuit = await aggregation('root', 4);
    expect(circuit.info.outputs + circuit.info.publicInputs).toBe(aggregationSignalNames('root', 4).length);
    for (const size of [2, 3, 8]) {
      const chunks = chunksOf(size);
      const witness = await computeWitness(circuit.wasmPath, aggregationInput('root', 4, chunks));
      // The public signals: count, slots, policyHash, then the four children's commitments (0 past the chunks).
      expect(witness.slice(4, 8)).toEqual(
        childSlots(
          chunks.map((c) => partialsCommitment(c.partials, c.salt)),
          4,
        ),
      );
    }
    const report = await checkSoundness(circuit, aggregationInput('root', 4, chunksOf(3)), { maxSignals: 400 });
    expect(report.unpinned).toEqual([]);
  }, 300_000);

  it('a commitment opened to other partials is refused; unused slots must be empty; slots in 1..fanIn', async () => {
    const circuit = await aggregation('root', 4);
    const chunks = chunksOf(3);
    const honest = aggregationInput('root', 4, chunks);
    expect(await accepts(circuit, honest)).toBe(true);
    // Shift one matched record from chunk 0 to chunk 1: every total is the same, but the chunks' published
    // commitments do not open to these partials.
    const matched = chunkPartials(policy).findIndex((p) => p.name === 'matched');
    const moved = chunks.map((c) => ({ ...c, partials: [...c.partials] }));
    moved[0]!.partials[matched]! -= 1n;
    moved[1]!.partials[matched]! += 1n;
    expect(await accepts(circuit, { ...aggregationInput('root', 4, moved), child: honest.child })).toBe(false);
    // A child's commitment left out of the public children (0 in a used slot), or one put in an unused slot.
    const children = honest.child as string[];
    expect(await accepts(circuit, { ...honest, child: ['0', ...children.slice(1)] })).toBe(false);
    expect(await accepts(circuit, { ...honest, child: [...children.slice(0, 3), children[0]] })).toBe(false);
    // A fourth, unused slot holding partials: refused.
    const input = aggregationInput('root', 4, chunks);
    const partials = input.partials as string[][];
    partials[3] = partials[3]!.map((value, k) => (k === matched ? '1' : value));
    expect(await accepts(circuit, input)).toBe(false);
    expect(await accepts(circuit, aggregationInput('root', 4, chunks, { slots: 0 }))).toBe(false);
    expect(await accepts(circuit, aggregationInput('root', 4, chunks, { slots: 5 }))).toBe(false);
  }, 300_000);

  it('UNIQUE where chunks meet: a repeated or out-of-order id across a boundary is refused', async () => {
    const circuit = await aggregation('root', 4);
    const chunks = chunksOf(2);
    const [first, last] = ['firstKey', 'lastKey'].map((name) =>
      chunkPartials(policy).findIndex((p) => p.name === name),
    );
    // Chunk 1 starts with chunk 0's last id (a duplicate across the boundary).
    const repeated = chunks.map((c) => ({ ...c, partials: [...c.partials] }));
    repeated[1]!.partials[first!] = repeated[0]!.partials[last!]!;
    expect(await accepts(circuit, aggregationInput('root', 4, repeated))).toBe(false);
    // Chunks swapped: the keys go down where they meet.
    expect(await accepts(circuit, aggregationInput('root', 4, [chunks[1]!, chunks[0]!, chunks[2]!]))).toBe(false);
    // A key past its bits (a wrapped value) is refused by the range check, not compared.
    const wide = chunks.map((c) => ({ ...c, partials: [...c.partials] }));
    wide[3]!.partials[first!] = 1n << 200n;
    expect(await accepts(circuit, aggregationInput('root', 4, wide))).toBe(false);
  }, 300_000);

  it('judges every aggregate at its exact bound, and refuses one unit past it', async () => {
    const circuit = await aggregation('root', 4);
    const names = chunkPartials(policy).map(partialSignalName);
    const at = (name: string) => names.indexOf(name);
    // One child holding totals chosen at the bounds (count 8): PROPORTION matched 2/8 = 0.25 and 6/8 = 0.75, MEAN age
    // 160/8 = 20, GROUP-PARITY at a difference of 0.5.
    const base = chunksOf(8)[0]!;
    const withValues = (values: Record<string, bigint>, count = 8) => {
      const partials = [...base.partials];
      for (const [name, value] of Object.entries(values)) partials[at(name)] = value;
      return aggregationInput('root', 4, [{ partials, salt: 5n }], { count });
    };
    const matched = 'aggregate3.matched';
    expect(await accepts(circuit, withValues({ [matched]: 2n }))).toBe(true);
    expect(await accepts(circuit, withValues({ [matched]: 1n }))).toBe(false);
    expect(await accepts(circuit, withValues({ [matched]: 6n }))).toBe(true);
    expect(await accepts(circuit, withValues({ [matched]: 7n }))).toBe(false);
    // MEAN(age) in [20, 80]: 8 values summing to 160 is exactly 20; 159 is below.
    const meanSum = 'aggregate2.encodedSum';
    const meanPresent = 'aggregate2.present';
    expect(await accepts(circuit, withValues({ [meanSum]: 160n, [meanPresent]: 8n }))).toBe(true);
    expect(await accepts(circuit, withValues({ [meanSum]: 159n, [meanPresent]: 8n }))).toBe(false);
    // A mean of no values fails.
    expect(await accepts(circuit, withValues({ [meanSum]: 0n, [meanPresent]: 0n }))).toBe(false);
    // GROUP-PARITY: |kA/nA - kB/nB| <= 0.5. 4/4 against 2/4 is exactly 0.5; against 1/4 it is 0.75.
    const parity = (kB: bigint) => ({
      'aggregate4.nA': 4n,
      'aggregate4.kA': 4n,
      'aggregate4.nB': 4n,
      'aggregate4.kB': kB,
    });
    expect(await accepts(circuit, withValues(parity(2n)))).toBe(true);
    expect(await accepts(circuit, withValues(parity(1n)))).toBe(false);
  }, 300_000);
});

describe('aggregation node', () => {
  it('commits to the combined partials: a root over nodes judges the whole dataset like a root over the chunks', async () => {
    const node = await aggregation('node', 2);
    const root = await aggregation('root', 4);
    const chunks = chunksOf(2); // four chunks of two
    const nodes = [];
    for (const [j, pair] of [chunks.slice(0, 2), chunks.slice(2, 4)].entries()) {
      const input = aggregationInput('node', 2, pair, { nodeSalt: String(77 + j) });
      const witness = await computeWitness(node.wasmPath, input);
      const combined = chunkPartialValues(
        policy,
        pair.flatMap((c) => c.records),
      );
      expect(witness[1]).toBe(partialsCommitment(combined, BigInt(77 + j)));
      expect(witness.slice(4, 6)).toEqual(pair.map((c) => partialsCommitment(c.partials, c.salt)));
      nodes.push({ partials: combined, salt: BigInt(77 + j) });
    }
    expect(await accepts(root, aggregationInput('root', 4, nodes))).toBe(true);
    const report = await checkSoundness(node, aggregationInput('node', 2, chunks.slice(0, 2)), { maxSignals: 400 });
    expect(report.unpinned).toEqual([]);
  }, 300_000);
});
