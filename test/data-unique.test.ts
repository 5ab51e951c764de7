import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { createBundle } from '../src/data/bundle.ts';
import { DATA_TEMPLATES_DIR, datasetCircuitInput, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { evaluatePolicy, parsePolicy, PolicyError, type Policy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord, Schema } from '../src/data/types.ts';
import { uniqueKey } from '../src/data/unique.ts';
import { WitnessError } from '../src/errors.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';

afterAll(async () => {
  await releaseCurves();
});

const intSchema = parseSchema({
  name: 'int ids',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'integer', min: 0, max: 1000 },
    { name: 'x', type: 'integer', min: 0, max: 9 },
  ],
});
const strSchema = parseSchema({
  name: 'string ids',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string' },
    { name: 'x', type: 'integer', min: 0, max: 9 },
  ],
});
const uniquePolicy = (schema: Schema): Policy =>
  parsePolicy({ name: 'unique ids', rules: [], aggregates: [{ kind: 'UNIQUE', field: 'id' }] }, schema);
const rec = (schema: Schema, id: number | string, row: number): EncodedRecord =>
  encodeRecord(schema, { id, x: 1 }, row);

async function accepts(schema: Schema, records: EncodedRecord[], depth = 2): Promise<boolean> {
  const policy = uniquePolicy(schema);
  const generated = await generateDatasetCircuit(schema, policy, depth);
  const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
  try {
    await computeWitness(
      circuit.wasmPath,
      datasetCircuitInput(
        records,
        records.map((_, i) => BigInt(i + 1)),
        schema,
        policy,
        depth,
      ),
    );
    return true;
  } catch (error) {
    if (error instanceof WitnessError) return false;
    throw error;
  }
}

describe('UNIQUE subject ids', () => {
  it('commits records sorted by their id key', () => {
    const bundle = createBundle(
      strSchema,
      ['P3', 'P1', 'P2'].map((id, i) => rec(strSchema, id, i + 2)),
    );
    const keys = bundle.records.map((r) => uniqueKey(strSchema.columns[0]!, r.values[0]!));
    expect([...keys].sort((a, b) => (a < b ? -1 : 1))).toEqual(keys);
    expect(bundle.records.map((r) => r.row).sort()).toEqual([2, 3, 4]);
  });

  it('integer ids: distinct sorted ids prove; a duplicate or an unsorted pair is refused by pre-flight and circuit', async () => {
    const policy = uniquePolicy(intSchema);
    const distinct = createBundle(intSchema, [
      rec(intSchema, 7, 2),
      rec(intSchema, 3, 3),
      rec(intSchema, 500, 4),
    ]).records;
    expect(evaluatePolicy(policy, distinct).ok).toBe(true);
    expect(await accepts(intSchema, distinct)).toBe(true);
    const duplicate = createBundle(intSchema, [
      rec(intSchema, 7, 2),
      rec(intSchema, 3, 3),
      rec(intSchema, 7, 4),
    ]).records;
    const report = evaluatePolicy(policy, duplicate);
    expect(report.ok).toBe(false);
    expect(report.aggregates[0]!.actual).toMatch(/the same id at rows (2 and 4|4 and 2)/);
    expect(await accepts(intSchema, duplicate)).toBe(false);
    const unsorted = [rec(intSchema, 7, 2), rec(intSchema, 3, 3)];
    expect(evaluatePolicy(policy, unsorted).aggregates[0]!.actual).toMatch(/not committed in subject id order/);
    expect(await accepts(intSchema, unsorted)).toBe(false);
  });

  it('string ids: the strict decomposition of the hash gives the key; duplicates are refused', async () => {
    const distinct = createBundle(
      strSchema,
      ['alice', 'bob', 'carol'].map((id, i) => rec(strSchema, id, i + 2)),
    ).records;
    expect(await accepts(strSchema, distinct)).toBe(true);
    const duplicate = createBundle(
      strSchema,
      ['alice', 'bob', 'alice'].map((id, i) => rec(strSchema, id, i + 2)),
    ).records;
    expect(evaluatePolicy(uniquePolicy(strSchema), duplicate).ok).toBe(false);
    expect(await accepts(strSchema, duplicate)).toBe(false);
    // Padding records (all zeros) after the real ones do not count.
    expect(await accepts(strSchema, distinct.slice(0, 1))).toBe(true);
  });

  it('pins every signal of the string-id circuit (strict decomposition and comparators)', async () => {
    const policy = uniquePolicy(strSchema);
    const generated = await generateDatasetCircuit(strSchema, policy, 1);
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    const records = createBundle(
      strSchema,
      ['alice', 'bob'].map((id, i) => rec(strSchema, id, i + 2)),
    ).records;
    const report = await checkSoundness(circuit, datasetCircuitInput(records, [1n, 2n], strSchema, policy, 1));
    expect(report.unpinned).toEqual([]);
  });

  it('UNIQUE only on the non-nullable subject id column', () => {
    expect(() =>
      parsePolicy({ name: 'p', rules: [], aggregates: [{ kind: 'UNIQUE', field: 'x' }] }, intSchema),
    ).toThrow(PolicyError);
    expect(() =>
      parsePolicy({ name: 'p', rules: [], aggregates: [{ kind: 'UNIQUE', field: 'x' }] }, intSchema),
    ).toThrow(/subject id column/);
    // Without a field it says so (it used to say `field undefined is not a column`).
    const missing = () => parsePolicy({ name: 'p', rules: [], aggregates: [{ kind: 'UNIQUE' }] } as never, intSchema);
    expect(missing).toThrow(/has no "field"; name one of the columns of schema/);
    expect(missing).not.toThrow(/undefined/);
    expect(() =>
      parsePolicy({ name: 'p', rules: [], aggregates: [{ kind: 'UNIQUE', field: 7 }] } as never, intSchema),
    ).toThrow(/"field" must be the name of a column \(text\), got number/);
  });

  // Chunked: each private chunk proves its own order, and its aggregation proof the order where chunks meet
  // (test/data-aggregation.test.ts, 'UNIQUE where chunks meet').
});
