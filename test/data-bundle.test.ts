import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, loadBundle, recommit, saveBundle } from '../src/data/bundle.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { evaluatePolicy, loadPolicy, parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { merkleLevels } from '../src/crypto/merkle.ts';
import { commitRecords, recordLeaf } from '../src/data/commitment.ts';
import { poseidon2 } from 'poseidon-lite';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-bundle-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// Names and values that look like the old "123n" bigint encoding must survive a round trip untouched.
const schema = parseSchema({
  name: '5n',
  columns: [
    { name: 'label', type: 'category', values: ['1n', '2n'] },
    { name: 'when_day', type: 'date', min: '0001-01-01', max: '2099-12-31' },
  ],
});

describe('dataset bundle', () => {
  it('round-trips exactly, is private from its creation, and recommits to the same root', async () => {
    const records = [
      encodeRecord(schema, { label: '1n', when_day: '0050-06-01' }, 2),
      encodeRecord(schema, { label: '2n', when_day: '2024-02-29' }, 3),
    ];
    const bundle = createBundle(schema, records);
    const path = join(scratch, 'b.json');
    await saveBundle(path, bundle);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await loadBundle(path);
    expect(loaded).toEqual(bundle);
    expect(loaded.schema.name).toBe('5n');
    expect(recommit(loaded, schema)).toEqual(bundle.commitment);
  });

  it('a new commit of the same rows has a new root (fresh salts); a changed record breaks recommit', () => {
    const records = [encodeRecord(schema, { label: '1n', when_day: '2001-01-01' }, 2)];
    const a = createBundle(schema, records);
    const b = createBundle(schema, records);
    expect(a.commitment.root).not.toBe(b.commitment.root);
    const altered = { ...a, records: [{ ...a.records[0]!, values: [1n, a.records[0]!.values[1]!] }] };
    expect(() => recommit(altered, schema)).toThrow(/do not give its stored commitment/);
  });

  it('builds the tree the circuit builds: leaves then Poseidon(2) pairs, zero leaves after count', () => {
    const records = [0, 1, 2].map((i) => encodeRecord(schema, { label: '1n', when_day: `200${i}-01-01` }, i + 2));
    const salts = [5n, 6n, 7n];
    const { commitment, leaves } = commitRecords(records, salts, schema);
    expect(commitment.depth).toBe(2);
    const manual = poseidon2([poseidon2([leaves[0]!, leaves[1]!]), poseidon2([leaves[2]!, 0n])]);
    expect(commitment.root).toBe(manual.toString());
    expect(leaves[0]).toBe(recordLeaf(schema.columns, records[0]!, 5n));
    expect(merkleLevels(leaves).at(-1)![0]!.toString()).toBe(commitment.root);
  });

  it('refuses a file that is not a bundle, naming it', async () => {
    const path = join(scratch, 'not.json');
    await writeFile(path, JSON.stringify({ format: 'zkai-dataset-bundle-v1', records: [{ values: [1] }], salts: [] }));
    await expect(loadBundle(path)).rejects.toThrow(/not\.json: records\[0\]\.values must be a list of decimal strings/);
  });
});

describe('policy strictness', () => {
  it('refuses misspelled keys instead of silently weakening the policy', () => {
    expect(() =>
      parsePolicy({ name: 'p', rules: [{ field: 'label', op: 'EQ', value: '1n', wehn: {} }] }, schema),
    ).toThrow(/unknown key "wehn"/);
    expect(() => parsePolicy({ name: 'p', rules: [], aggregates: [{ kind: 'COUNT', mn: 10 }] }, schema)).toThrow(
      /unknown key "mn"/,
    );
    expect(() => parsePolicy({ name: 'p', rules: [], extra: 1 }, schema)).toThrow(/policy: unknown key "extra"/);
    expect(() =>
      parsePolicy(
        {
          name: 'p',
          rules: [{ field: 'label', op: 'EQ', value: '1n', when: { field: 'label', op: 'EQ', value: '2n', when: {} } }],
        },
        schema,
      ),
    ).toThrow(/unknown key "when"/);
  });

  it('reads dates before the year 100 like the schema does, and tells a JSON syntax error from a missing file', async () => {
    const policy = parsePolicy({ name: 'old', rules: [{ field: 'when_day', op: 'GTE', value: '0050-01-01' }] }, schema);
    expect(policy.rules[0]!.predicate.constants[0]).toBeGreaterThan(0n);
    await writeFile(join(scratch, 'broken-policy.json'), '{ "name": ');
    await expect(loadPolicy(join(scratch, 'broken-policy.json'), schema)).rejects.toThrow(/not valid JSON/);
    await expect(loadPolicy(join(scratch, 'absent.json'), schema)).rejects.toThrow(/cannot read the policy: ENOENT/);
  });
});

describe('datetime columns in policies (issue 20)', () => {
  it('compares instants written in a local format and zone with UTC constants, exactly at the boundary', () => {
    const schema = parseSchema({
      name: 'events',
      columns: [
        { name: 'id', type: 'integer', min: 0, max: 100 },
        {
          name: 'at',
          type: 'datetime',
          format: 'DD/MM/YYYY HH:mm',
          timezone: '+01:00',
          min: '2020-01-01T00:00:00Z',
          max: '2030-01-01T00:00:00Z',
        },
      ],
    });
    // 01:00 on 1 January in +01:00 is midnight UTC: exactly the bound; a minute earlier is before it
    const records = [
      encodeRecord(schema, { id: 1, at: '01/01/2024 01:00' }, 1),
      encodeRecord(schema, { id: 2, at: '01/01/2024 00:59' }, 2),
    ];
    const policy = parsePolicy(
      { name: 'since 2024', rules: [{ field: 'at', op: 'GTE', value: '2024-01-01T00:00:00Z' }] },
      schema,
    );
    const report = evaluatePolicy(policy, records);
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => v.row)).toEqual([2]);
    expect(() =>
      parsePolicy({ name: 'bad', rules: [{ field: 'at', op: 'GTE', value: '2024-01-01' }] }, schema),
    ).toThrow(/is not a date and time YYYY-MM-DDTHH:mm:ssZ \(UTC\)/);
    for (const kind of ['SUM', 'MEAN'])
      expect(() =>
        parsePolicy({ name: 'sum', rules: [], aggregates: [{ kind, field: 'at', min: 0 }] } as never, schema),
      ).toThrow(/of a datetime column is not supported/);
  });
});

describe('one rule over many columns (issue 20)', () => {
  const features = parseSchema({
    name: 'features',
    columns: ['a', 'b', 'c'].map((name) => ({ name, type: 'integer', min: -10, max: 10 })),
  });

  it('"fields" is the rule once per column: the same rules, report and hash as writing them out', () => {
    const compact = parsePolicy(
      { name: 'non-negative', rules: [{ fields: ['a', 'b', 'c'], op: 'GTE', value: 0 }] } as never,
      features,
    );
    const written = parsePolicy(
      {
        name: 'non-negative',
        rules: ['a', 'b', 'c'].map((field) => ({ field, op: 'GTE', value: 0 })),
      },
      features,
    );
    expect(compact.hash).toBe(written.hash);
    expect(compact.rules.map((rule) => rule.text)).toEqual(written.rules.map((rule) => rule.text));
    const records = [
      encodeRecord(features, { a: 1, b: 0, c: 2 }, 1),
      encodeRecord(features, { a: 1, b: -1, c: -2 }, 2),
    ];
    const report = evaluatePolicy(compact, records);
    expect(report.violations.map((v) => [v.row, v.field])).toEqual([
      [2, 'b'],
      [2, 'c'],
    ]);
  });

  it('refuses "field" with "fields", an empty or repeated list, and names the column at fault', () => {
    const parse = (rule: Record<string, unknown>) => () => parsePolicy({ name: 'p', rules: [rule] } as never, features);
    expect(parse({ field: 'a', fields: ['b'], op: 'GTE', value: 0 })).toThrow(
      /give "field" .* or "fields" .*, not both/,
    );
    expect(parse({ fields: [], op: 'GTE', value: 0 })).toThrow(/"fields" must be a non-empty list of column names/);
    expect(parse({ fields: ['a', 'a'], op: 'GTE', value: 0 })).toThrow(/"fields" names "a" twice/);
    expect(parse({ fields: ['a', 'zz'], op: 'GTE', value: 0 })).toThrow(
      /rules\[0\]\.fields\[1\] \(zz\): field "zz" is not a column/,
    );
  });
});
