import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompiledCircuit } from '../src/circuit/compile.ts';
import { commitRecords } from '../src/data/commitment.ts';
import { leafLayout, recordLeaf } from '../src/data/leaf.ts';
import { poseidon2 } from 'poseidon-lite';
import { createBundle } from '../src/data/bundle.ts';
import { datasetCircuitInput, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { PolicyViolationError, proveDataset, verifyDatasetProof } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { evaluatePolicy, parsePolicy, PolicyError, type Policy, type PolicySpec } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord } from '../src/data/types.ts';
import { WitnessError } from '../src/errors.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { datasetCircuits } from './helpers/circuits.ts';

afterAll(async () => {
  await releaseCurves();
});

const schema = parseSchema({
  name: 'operators',
  columns: [
    { name: 'x', type: 'integer', min: 0, max: 100, nullable: true },
    { name: 'c', type: 'category', values: ['a', 'b', 'c'] },
    { name: 'd', type: 'decimal', scale: 2, min: '-5.00', max: '5.00', nullable: true },
    { name: 's', type: 'string', nullable: true },
  ],
});

type Cells = { x?: number | null; c?: string; d?: string | null; s?: string | null };
const record = (cells: Cells, row = 2): EncodedRecord =>
  encodeRecord(schema, { x: cells.x ?? null, c: cells.c ?? 'a', d: cells.d ?? null, s: cells.s ?? null }, row);

/** Compile the circuit of a policy for 2^depth records (cached per policy and depth). */
const circuitFor = datasetCircuits(schema);

/** Does the circuit accept this dataset? (witness generation checks every constraint) */
async function circuitAccepts(
  circuit: CompiledCircuit,
  policy: Policy,
  records: EncodedRecord[],
  salts = records.map((_, i) => BigInt(i + 7)),
  depth = 1,
): Promise<boolean> {
  try {
    await computeWitness(circuit.wasmPath, datasetCircuitInput(records, salts, schema, policy, depth));
    return true;
  } catch (error) {
    if (error instanceof WitnessError) return false;
    throw error;
  }
}

/** For each case: the TypeScript pre-flight says `expected`, and so does the circuit. */
async function expectAgreement(spec: PolicySpec, cases: Array<[EncodedRecord[], boolean]>, depth = 1): Promise<void> {
  const { circuit, policy } = await circuitFor(spec, depth);
  for (const [records, expected] of cases) {
    const described = JSON.stringify(records.map((r) => r.values.map(String).concat(r.nulls.map(String))));
    expect(evaluatePolicy(policy, records).ok, `pre-flight on ${described}`).toBe(expected);
    expect(
      await circuitAccepts(
        circuit,
        policy,
        records,
        records.map((_, i) => BigInt(i + 7)),
        depth,
      ),
      `circuit on ${described}`,
    ).toBe(expected);
  }
}

const rule = (r: PolicySpec['rules'][number]): PolicySpec => ({ name: 'one rule', rules: [r] });
const one = (cells: Cells) => [record(cells)];

describe('dataset policy circuits agree with the TypeScript pre-flight', () => {
  it('EQ and NE, including null and a constant the column cannot hold', async () => {
    await expectAgreement(rule({ field: 'x', op: 'EQ', value: 18 }), [
      [one({ x: 18 }), true],
      [one({ x: 17 }), false],
      [one({ x: null }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'NE', value: 18 }), [
      [one({ x: 19 }), true],
      [one({ x: 18 }), false],
      [one({ x: null }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'EQ', value: 150 }), [[one({ x: 100 }), false]]);
  });

  it('LT, LTE, GT, GTE at their boundaries, and constants outside the column range', async () => {
    await expectAgreement(rule({ field: 'x', op: 'LT', value: 18 }), [
      [one({ x: 17 }), true],
      [one({ x: 18 }), false],
      [one({ x: 0 }), true],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'LTE', value: 18 }), [
      [one({ x: 18 }), true],
      [one({ x: 19 }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'GT', value: 18 }), [
      [one({ x: 19 }), true],
      [one({ x: 18 }), false],
      [one({ x: null }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'GTE', value: 18 }), [
      [one({ x: 18 }), true],
      [one({ x: 17 }), false],
      [one({ x: 100 }), true],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'LT', value: 500 }), [
      [one({ x: 100 }), true],
      [one({ x: null }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'GTE', value: -3 }), [[one({ x: 0 }), true]]);
  });

  it('BETWEEN and NOT-BETWEEN on a decimal column with a negative minimum', async () => {
    await expectAgreement(rule({ field: 'd', op: 'BETWEEN', min: '-1.50', max: '2.25' }), [
      [one({ d: '-1.50' }), true],
      [one({ d: '-1.51' }), false],
      [one({ d: '2.25' }), true],
      [one({ d: '2.26' }), false],
      [one({ d: null }), false],
    ]);
    await expectAgreement(rule({ field: 'd', op: 'NOT-BETWEEN', min: '-1.50', max: '2.25' }), [
      [one({ d: '-1.51' }), true],
      [one({ d: '0.00' }), false],
      [one({ d: '5.00' }), true],
    ]);
  });

  it('IN and NIN with a one-element list: the zero-encoded value never matches by padding', async () => {
    await expectAgreement(rule({ field: 'c', op: 'IN', values: ['b'] }), [
      [one({ c: 'b' }), true],
      [one({ c: 'a' }), false],
      [one({ c: 'c' }), false],
    ]);
    await expectAgreement(rule({ field: 'c', op: 'NIN', values: ['a'] }), [
      [one({ c: 'a' }), false],
      [one({ c: 'b' }), true],
    ]);
    await expectAgreement(rule({ field: 's', op: 'IN', values: ['alice', 'carol'] }), [
      [one({ s: 'carol' }), true],
      [one({ s: 'bob' }), false],
      [one({ s: null }), false],
    ]);
  });

  it('NOT-NULL, ABSENT, and a rule that applies only where another predicate holds', async () => {
    await expectAgreement(rule({ field: 's', op: 'ABSENT' }), [
      [one({ s: null }), true],
      [one({ s: 'x' }), false],
    ]);
    await expectAgreement(rule({ field: 'x', op: 'NOT-NULL' }), [
      [one({ x: 0 }), true],
      [one({ x: null }), false],
    ]);
    const conditional = rule({ when: { field: 'c', op: 'EQ', value: 'b' }, field: 'x', op: 'GTE', value: 18 });
    await expectAgreement(conditional, [
      [one({ c: 'b', x: 18 }), true],
      [one({ c: 'b', x: 17 }), false],
      [one({ c: 'a', x: 5 }), true],
      [one({ c: 'a', x: null }), true],
    ]);
  });

  it('aggregates at their exact bounds: COUNT, SUM with a negative offset, MEAN with nulls, PROPORTION', async () => {
    await expectAgreement({ name: 'count', rules: [], aggregates: [{ kind: 'COUNT', min: 2, max: 2 }] }, [
      [[record({}), record({})], true],
      [one({}), false],
    ]);
    await expectAgreement(
      { name: 'sum', rules: [], aggregates: [{ kind: 'SUM', field: 'd', min: '-4.00', max: '0.00' }] },
      [
        [[record({ d: '-5.00' }), record({ d: '1.00' })], true],
        [[record({ d: '-5.00' }), record({ d: '0.99' })], false],
        [[record({ d: '-5.00' }), record({ d: '5.00' })], true],
        [[record({ d: '0.01' }), record({ d: null })], false], // 0.01 > max 0.00; the null adds nothing
      ],
    );
    await expectAgreement(
      { name: 'mean', rules: [], aggregates: [{ kind: 'MEAN', field: 'x', min: '20', max: '30' }] },
      [
        [[record({ x: 20 }), record({ x: 20 })], true],
        [[record({ x: 19 }), record({ x: 20 })], false],
        [[record({ x: 30 }), record({ x: 31 })], false],
        [[record({ x: 20 }), record({ x: null })], true],
        [[record({ x: null }), record({ x: null })], false],
      ],
    );
    await expectAgreement(
      {
        name: 'proportion',
        rules: [],
        aggregates: [{ kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'b' }, min: '0.5', max: '0.5' }],
      },
      [
        [[record({ c: 'a' }), record({ c: 'b' })], true],
        [[record({ c: 'b' }), record({ c: 'b' })], false],
        [[record({ c: 'a' }), record({ c: 'a' })], false],
      ],
    );
  });
});

describe('datetime columns (issue 20)', () => {
  it('a rule on instants written in a local format agrees with the pre-flight to the second', async () => {
    const events = parseSchema({
      name: 'events',
      columns: [
        {
          name: 'at',
          type: 'datetime',
          format: 'YYYY-MM-DD HH:mm:ss',
          timezone: '-05:00',
          min: '2020-01-01T00:00:00Z',
          max: '2030-01-01T00:00:00Z',
        },
      ],
    });
    const { circuit, policy } = await datasetCircuits(events)(
      { name: 'since 2024', rules: [{ field: 'at', op: 'GTE', value: '2024-01-01T00:00:00Z' }] },
      1,
    );
    // 19:00 on 31 December in -05:00 is midnight UTC
    for (const [at, expected] of [
      ['2023-12-31 19:00:00', true],
      ['2023-12-31 18:59:59', false],
      ['2029-12-31 18:59:59', true],
    ] as const) {
      const records = [encodeRecord(events, { at }, 2)];
      expect(evaluatePolicy(policy, records).ok, at).toBe(expected);
      let accepted = true;
      try {
        await computeWitness(circuit.wasmPath, datasetCircuitInput(records, [7n], events, policy, 1));
      } catch (error) {
        if (!(error instanceof WitnessError)) throw error;
        accepted = false;
      }
      expect(accepted, `circuit on ${at}`).toBe(expected);
    }
  }, 180_000);
});

describe('group parity (bias check)', () => {
  it('holds at the exact bound, fails beyond it or with an empty group, and ignores padding', async () => {
    const spec: PolicySpec = {
      name: 'parity',
      rules: [],
      aggregates: [
        {
          kind: 'GROUP-PARITY',
          groupA: { field: 'c', op: 'EQ', value: 'a' },
          groupB: { field: 'c', op: 'EQ', value: 'b' },
          outcome: { field: 'x', op: 'GTE', value: 50 },
          maxDifference: '0.5',
        },
      ],
    };
    const r = (c: string, x: number) => record({ c, x });
    await expectAgreement(
      spec,
      [
        [[r('a', 60), r('a', 10), r('b', 60), r('b', 70)], true], // 1/2 vs 2/2: differs by exactly 0.5
        [[r('a', 10), r('a', 10), r('b', 60), r('b', 70)], false], // 0 vs 1
        [[r('a', 60), r('a', 60), r('b', 60), r('b', 60)], true],
        [[r('a', 60), r('a', 60), r('c', 60), r('c', 60)], false], // group b is empty
        [[r('a', 10), r('b', 60), r('b', 70)], false], // 0/1 vs 2/2 (one padding record)
        [[r('a', 60), r('b', 60)], true], // two padding records
      ],
      2,
    );
  });
});

describe('padding and commitment', () => {
  const spec = rule({ field: 'x', op: 'GTE', value: 18 });

  it('padding records are excluded whatever they hold, and the root is the one of the real records', async () => {
    const { circuit, policy } = await circuitFor(spec);
    const real = [record({ x: 30 })];
    const input = datasetCircuitInput(real, [11n], schema, policy, 1) as {
      values: bigint[][];
      isNull: number[][];
      salt: bigint[];
    };
    input.values[1] = [5n, 0n, 0n, 0n]; // a violating padding record: must not matter
    input.salt[1] = 999n;
    const witness = await computeWitness(circuit.wasmPath, input);
    expect(witness[1]).toBe(BigInt(commitRecords(real, [11n], schema).commitment.root));
  });

  it('a prover cannot hide a violating record by calling it padding: the root no longer matches the commitment', async () => {
    const { circuit, policy } = await circuitFor(spec);
    const records = [record({ x: 30 }), record({ x: 5 }, 3)];
    const salts = [11n, 12n];
    const committed = commitRecords(records, salts, schema).commitment.root;
    expect(await circuitAccepts(circuit, policy, records, salts)).toBe(false);
    const cheat = datasetCircuitInput([records[0]!], [11n], schema, policy, 1) as {
      values: bigint[][];
      salt: bigint[];
    };
    cheat.values[1] = records[1]!.values;
    cheat.salt[1] = 12n;
    const witness = await computeWitness(circuit.wasmPath, cheat);
    expect(witness[1]).not.toBe(BigInt(committed));
    expect(witness[2]).toBe(1n); // and the public count says 1, not 2
  });

  it('packing is injective: moving bits between neighbouring values (same packed element, same leaf) is refused', async () => {
    const { circuit, policy } = await circuitFor(rule({ field: 'x', op: 'NOT-NULL' }));
    // Packed element: nulls (4 bits) | x (7 bits, shift 4) | c (2 bits, shift 11) | d (10 bits, shift 13).
    // x + 128 adds 128 * 2^4 = 2^11, exactly what c - 1 removes: the packed element and the leaf are unchanged.
    const honest = [record({ x: 30, c: 'b' })];
    const input = datasetCircuitInput(honest, [3n], schema, policy, 1) as { values: bigint[][] };
    expect(await circuitAccepts(circuit, policy, honest, [3n])).toBe(true);
    input.values[0] = [30n + 128n, 0n, input.values[0]![2]!, input.values[0]![3]!];
    await expect(computeWitness(circuit.wasmPath, input)).rejects.toBeInstanceOf(WitnessError);
  });

  it('values the schema forbids cannot be committed: above a column maximum, or a category that does not exist', async () => {
    const { circuit, policy } = await circuitFor(rule({ field: 'x', op: 'NOT-NULL' }));
    const honest = [record({ x: 100, c: 'c' })];
    expect(await circuitAccepts(circuit, policy, honest, [3n])).toBe(true);
    for (const [column, value] of [
      [0, 101n],
      [0, 127n],
      [1, 3n],
    ] as const) {
      const input = datasetCircuitInput(honest, [3n], schema, policy, 1) as { values: bigint[][] };
      input.values[0]![column] = value;
      await expect(computeWitness(circuit.wasmPath, input), `column ${column} = ${value}`).rejects.toBeInstanceOf(
        WitnessError,
      );
    }
    expect(() =>
      recordLeaf(schema.columns, { values: [127n, 0n, 0n, 0n], nulls: [false, false, true, true] }, 1n),
    ).toThrow(/outside \[0, 100\]/);
  });

  it('a leaf can never be a tree node: a one-element packing gets a domain tag', () => {
    const narrow = parseSchema({ name: 'narrow', columns: [{ name: 'x', type: 'integer', min: 0, max: 9 }] });
    expect(leafLayout(narrow.columns).map((e) => e.kind)).toEqual(['salt', 'packed', 'tag']);
    const leaf = recordLeaf(narrow.columns, { values: [5n], nulls: [false] }, 7n);
    expect(leaf).not.toBe(poseidon2([7n, 5n << 1n]));
    expect(leafLayout(schema.columns).map((e) => e.kind)).toEqual(['salt', 'packed', 'string']);
  });

  it('every signal of a generated circuit is pinned (soundness helper)', async () => {
    const { circuit, policy } = await circuitFor({
      name: 'mixed',
      rules: [
        { field: 'x', op: 'BETWEEN', min: 18, max: 90 },
        { field: 'c', op: 'IN', values: ['a', 'b'] },
        { when: { field: 'c', op: 'EQ', value: 'b' }, field: 'd', op: 'NOT-NULL' },
      ],
      aggregates: [
        { kind: 'MEAN', field: 'x', min: '20', max: '80' },
        { kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'a' }, min: '0.1', max: '1' },
      ],
    });
    const records = [record({ x: 30, c: 'a' }), record({ x: 40, c: 'b', d: '1.00' })];
    const report = await checkSoundness(circuit, datasetCircuitInput(records, [1n, 2n], schema, policy, 1));
    expect(report.checkedSignals).toBeGreaterThan(500);
    expect(report.unpinned).toEqual([]);
    // Listed, not hidden: IsZero inverse hints whose input is zero (no output depends on them).
    for (const hint of report.benignHints) expect(hint.name).toMatch(/\.inv$/);
  });
});

describe('generated files', () => {
  it('a stale or corrupted generated circuit is rewritten, never reused', async () => {
    const policy = parsePolicy(rule({ field: 'x', op: 'GTE', value: 1 }), schema);
    const first = await generateDatasetCircuit(schema, policy, 1);
    await writeFile(first.path, '// stale\n');
    const again = await generateDatasetCircuit(schema, policy, 1);
    expect(again.path).toBe(first.path);
    expect(await readFile(first.path, 'utf8')).toBe(first.source);
  });
});

describe('policy language', () => {
  it('rejects what does not fit the schema, with the rule and field named', () => {
    expect(() => parsePolicy(rule({ field: 'age', op: 'GTE', value: 1 }), schema)).toThrow(
      /rules\[0\].*field "age" is not a column/,
    );
    expect(() => parsePolicy(rule({ field: 'c', op: 'LT', value: 'b' }), schema)).toThrow(
      /LT needs an ordered column.*category/,
    );
    expect(() => parsePolicy(rule({ field: 'c', op: 'EQ', value: 'z' }), schema)).toThrow(
      /"z" is not a value of category column c/,
    );
    expect(() => parsePolicy(rule({ field: 'd', op: 'GT', value: '1.005' }), schema)).toThrow(
      /more decimals than column d holds/,
    );
    expect(() => parsePolicy(rule({ field: 'x', op: 'LIKE', value: 1 }), schema)).toThrow(PolicyError);
    expect(() => parsePolicy(rule({ field: 'x', op: 'BETWEEN', min: 9, max: 3 }), schema)).toThrow(/min is above max/);
    // Constants the circuit would reduce modulo the field, and bounds too wide for a sound check, are refused.
    expect(() =>
      parsePolicy(
        rule({
          field: 'x',
          op: 'IN',
          values: ['21888242871839275222246405745257275088548364400416034343698204186575808495622'],
        }),
        schema,
      ),
    ).toThrow(/more than 30 digits|too large/);
    expect(() => parsePolicy(rule({ field: 'x', op: 'EQ', value: `1${'0'.repeat(70)}` }), schema)).toThrow(
      /more than 30 digits/,
    );
    expect(() =>
      parsePolicy(
        {
          name: 'p',
          rules: [],
          aggregates: [
            { kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'a' }, min: `0.5${'0'.repeat(80)}` },
          ],
        },
        schema,
      ),
    ).toThrow(/more than 30 digits/);
    expect(() =>
      parsePolicy(
        {
          name: 'p',
          rules: [],
          aggregates: [{ kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'a' }, min: '1.5' }],
        },
        schema,
      ),
    ).toThrow(/\[0, 1\]/);
    expect(() =>
      parsePolicy(
        {
          name: 'p',
          rules: [],
          aggregates: [
            {
              kind: 'GROUP-PARITY',
              groupA: { field: 'c', op: 'EQ', value: 'a' },
              groupB: { field: 'c', op: 'EQ', value: 'b' },
              outcome: { field: 'x', op: 'NOT-NULL' },
              maxDifference: '2',
            },
          ],
        },
        schema,
      ),
    ).toThrow(/maxDifference must lie in \[0, 1\]/);
  });

  it('hashes the canonical policy: spelling variants agree, a changed bound does not', () => {
    const a = parsePolicy(rule({ field: 'x', op: 'not_between', min: 1, max: 2 }), schema).hash;
    const b = parsePolicy(rule({ op: 'NOT-BETWEEN', max: 2, min: 1, field: 'x' } as never), schema).hash;
    const c = parsePolicy(rule({ field: 'x', op: 'NOT-BETWEEN', min: 1, max: 3 }), schema).hash;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('dataset proof, end to end', () => {
  it('refuses a violating dataset with row-level errors; proves a compliant one whose claims verify', async () => {
    const policySpec: PolicySpec = {
      name: 'adults',
      rules: [
        { field: 'x', op: 'GTE', value: 18 },
        { field: 's', op: 'ABSENT' },
      ],
    };
    const policy = parsePolicy(policySpec, schema);
    const bad = createBundle(schema, [record({ x: 30 }, 2), record({ x: 12 }, 3)]);
    const refused = await proveDataset(bad, schema, policy).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolicyViolationError);
    expect((refused as Error).message).toMatch(/row 3: x = 12 \(encoded\) breaks rule 0: x GTE 18/);

    const good = createBundle(schema, [record({ x: 30 }, 2), record({ x: 45 }, 3)]);
    const result = await proveDataset(good, schema, policy);
    expect(result.publicSignals).toEqual([good.commitment.root, '2', policy.hash, schema.hash, '0']); // context 0: off chain
    const expected = { root: good.commitment.root, count: 2, policyHash: policy.hash, schemaHash: schema.hash };
    expect(await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, expected)).toEqual({
      valid: true,
    });
    const otherPolicy = parsePolicy({ ...policySpec, name: 'adults, relaxed' }, schema);
    const mismatch = await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      policyHash: otherPolicy.hash,
    });
    expect(mismatch).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(mismatch.detail).toContain('policyHash');
    const otherRoot = await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      root: bad.commitment.root,
    });
    expect(otherRoot.valid).toBe(false);
  });
});
