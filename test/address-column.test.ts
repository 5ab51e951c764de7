/**
 * The `address` column type (an Ethereum account, encoded as an unsigned 160-bit integer): schema, cell encoding,
 * policy constants and refusals, display, and one real circuit (UNIQUE on an address subject id, EQ on an address)
 * whose witness passes for an honest dataset and fails when tampered with.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue } from '../src/cli/data-commands.ts';
import { createBundle } from '../src/data/bundle.ts';
import { datasetCircuitInput } from '../src/data/circuit-gen.ts';
import { DataError, encodeCell, encodeRecord, formatAddress, parseAddress } from '../src/data/encode.ts';
import { leafLayout, PACK_BITS, recordLeaf } from '../src/data/leaf.ts';
import { evaluatePolicy, parsePolicy, PolicyError, type PolicySpec } from '../src/policy/policy.ts';
import { ADDRESS_BITS, parseSchema, SchemaError } from '../src/data/schema.ts';
import type { Column, EncodedRecord } from '../src/data/types.ts';
import { uniqueKey, uniqueKeyBits } from '../src/data/unique.ts';
import { checkSoundness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { datasetCircuits, witnessAccepts } from './helpers/circuits.ts';

afterAll(async () => {
  await releaseCurves();
});

// Test vectors of EIP-55 (https://eips.ethereum.org/EIPS/eip-55).
const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const CHECKSUMMED_2 = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const CHECKSUMMED_3 = '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB';
const ALL_CAPS = '0x52908400098527886E0F7030069857D2E4169EE7';
const ALL_LOWER = '0xde709f2102306220921060314715629080e2fb77';
/** CHECKSUMMED with the case of one letter flipped: mixed case, bad checksum. */
const BAD_CHECKSUM = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD';

const MAX_ADDRESS = (1n << 160n) - 1n;

const schemaSpec = {
  name: 'accounts',
  subjectId: 'account',
  columns: [
    { name: 'account', type: 'address' },
    { name: 'score', type: 'integer', min: 0, max: 100 },
  ],
};
const schema = parseSchema(schemaSpec);
const account = schema.columns[0] as Column;

function dataError(run: () => unknown): DataError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError');
}

function policyError(spec: PolicySpec): string {
  try {
    parsePolicy(spec, schema);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as Error).message;
  }
  throw new Error('expected a PolicyError');
}

describe('address columns: schema', () => {
  it('parses to 160 unordered bits, with no extra keys, exempt from the 64-bit limit', () => {
    expect(account.bits).toBe(ADDRESS_BITS);
    expect(account.bits).toBe(160);
    expect(account.maxEncoded).toBe(MAX_ADDRESS);
    expect(account.ordered).toBe(false);
    expect(account.nullable).toBe(false);
    expect(uniqueKey(account, 5n)).toBe(5n);
    expect(uniqueKeyBits(account)).toBe(160);
    expect(schema.spec.subjectId).toBe('account');
    const nullable = parseSchema({ name: 'n', columns: [{ name: 'a', type: 'address', nullable: true }] }).columns[0]!;
    expect(nullable.nullable).toBe(true);
    expect(() => parseSchema({ name: 'x', columns: [{ name: 'a', type: 'address', maxBytes: 20 }] })).toThrow(
      SchemaError,
    );
    expect(() => parseSchema({ name: 'x', columns: [{ name: 'a', type: 'address', maxBytes: 20 }] })).toThrow(
      /column "a": unknown key "maxBytes" \(address columns take name, type, nullable, source\)/,
    );
    // Other types keep the 64-bit limit.
    expect(() =>
      parseSchema({ name: 'x', columns: [{ name: 'n', type: 'integer', min: '0', max: MAX_ADDRESS.toString() }] }),
    ).toThrow(/need 160 bits but non-string columns may use at most 64/);
  });

  it('has a canonical form name, type, nullable and a stable hash', () => {
    expect(JSON.stringify(schema.spec.columns[0])).toBe('{"name":"account","type":"address","nullable":false}');
    const reordered = parseSchema({
      columns: [
        { type: 'address', nullable: false, name: 'account' },
        { max: '100', min: '0', type: 'integer', name: 'score' },
      ],
      subjectId: 'account',
      name: 'accounts',
    });
    expect(reordered.hash).toBe(schema.hash);
    expect(parseSchema(schema.spec).hash).toBe(schema.hash);
    // Meaning changes change the hash: nullability, and the type itself.
    expect(
      parseSchema({
        ...schemaSpec,
        columns: [{ name: 'account', type: 'address', nullable: true }, schemaSpec.columns[1]],
      }).hash,
    ).not.toBe(schema.hash);
    expect(
      parseSchema({ ...schemaSpec, columns: [{ name: 'account', type: 'string' }, schemaSpec.columns[1]] }).hash,
    ).not.toBe(schema.hash);
  });
});

describe('address columns: cells', () => {
  it('encodes lowercase, uppercase and checksummed text of one account alike, as its 160-bit integer', () => {
    const value = BigInt(CHECKSUMMED);
    for (const text of [CHECKSUMMED, CHECKSUMMED.toLowerCase(), `0x${CHECKSUMMED.slice(2).toUpperCase()}`]) {
      expect(encodeCell(account, text, 2)).toEqual({ value, isNull: false });
    }
    expect(encodeCell(account, ALL_CAPS, 2).value).toBe(BigInt(ALL_CAPS));
    expect(encodeCell(account, ALL_LOWER, 2).value).toBe(BigInt(ALL_LOWER));
    expect(encodeCell(account, `0x${'0'.repeat(40)}`, 2).value).toBe(0n);
    expect(encodeCell(account, `0x${'f'.repeat(40)}`, 2).value).toBe(MAX_ADDRESS);
    const nullable = parseSchema({ name: 'n', columns: [{ name: 'a', type: 'address', nullable: true }] }).columns[0]!;
    expect(encodeCell(nullable, '', 3)).toEqual({ value: 0n, isNull: true });
  });

  it('refuses malformed text, naming row, column, problem and what is expected', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        BAD_CHECKSUM,
        /has mixed-case digits with a bad EIP-55 checksum: expected 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/,
      ],
      [` ${CHECKSUMMED}`, /has surrounding spaces/],
      [`${ALL_LOWER} `, /has surrounding spaces/],
      [CHECKSUMMED.slice(2), /does not start with 0x/],
      [`0X${ALL_LOWER.slice(2)}`, /does not start with 0x/],
      [ALL_LOWER.slice(0, -1), /has 39 hex digits after 0x, not 40/],
      [`${ALL_LOWER}0`, /has 41 hex digits after 0x, not 40/],
      [`0x${'g'.repeat(40)}`, /has "g", which is not a hex digit/],
      [12345, /12345, a number is not an account address/],
      [true, /true, a boolean is not an account address/],
    ];
    for (const [raw, problem] of cases) {
      const error = dataError(() => encodeCell(account, raw as string, 7));
      expect(error.code).toBe('BAD_DATA');
      expect(error.row).toBe(7);
      expect(error.column).toBe('account');
      expect(error.expected).toBe('an account address 0x + 40 hex digits');
      expect(error.problem).toMatch(problem);
      expect(error.message).toMatch(/^row 7, column "account": /);
      expect(error.message).toMatch(/\(expected an account address 0x \+ 40 hex digits\)$/);
    }
    // The whole address is shown (not cut at 40 characters like other long text).
    expect(dataError(() => encodeCell(account, BAD_CHECKSUM, 7)).problem).toContain(JSON.stringify(BAD_CHECKSUM));
    const empty = dataError(() => encodeCell(account, '', 4));
    expect(empty.message).toBe(
      'row 4, column "account": the value is empty but the column is not nullable (expected an account address 0x + 40 hex digits)',
    );
    // A whole record: every problem at once.
    expect(() => encodeRecord(schema, { account: BAD_CHECKSUM, score: 5 }, 9)).toThrow(
      /^row 9, column "account": .*bad EIP-55 checksum/,
    );
  });

  it('parseAddress and formatAddress round-trip; reports show the checksummed form', () => {
    expect(parseAddress(CHECKSUMMED_2.toLowerCase())).toBe(BigInt(CHECKSUMMED_2));
    expect(parseAddress(BAD_CHECKSUM)).toEqual({ problem: expect.stringContaining('bad EIP-55 checksum') as unknown });
    for (const text of [CHECKSUMMED, CHECKSUMMED_2, CHECKSUMMED_3]) {
      expect(formatAddress(BigInt(text))).toBe(text);
      expect(decodeValue(account, BigInt(text.toLowerCase()).toString())).toBe(text);
    }
    expect(formatAddress(0n)).toBe(`0x${'0'.repeat(40)}`);
    expect(() => formatAddress(1n << 160n)).toThrow(/not an encoded address/);
    expect(decodeValue(account, null)).toBe('null');
    expect(decodeValue(account, (1n << 160n).toString())).toMatch(/\(encoded, not an address\)$/);
  });
});

describe('address columns: policies', () => {
  it('EQ, NE, IN and NIN constants are addresses, encoded like cells (case and checksum alike)', () => {
    const lower = parsePolicy(
      { name: 'p', rules: [{ field: 'account', op: 'EQ', value: CHECKSUMMED.toLowerCase() }] },
      schema,
    );
    const checksummed = parsePolicy({ name: 'p', rules: [{ field: 'account', op: 'EQ', value: CHECKSUMMED }] }, schema);
    expect(lower.rules[0]!.predicate.constants).toEqual([BigInt(CHECKSUMMED)]);
    expect(checksummed.rules[0]!.predicate.constants).toEqual(lower.rules[0]!.predicate.constants);
    const list = parsePolicy(
      {
        name: 'p',
        rules: [{ field: 'account', op: 'NIN', values: [CHECKSUMMED, CHECKSUMMED.toLowerCase(), ALL_CAPS] }],
      },
      schema,
    );
    expect(list.rules[0]!.predicate.constants).toEqual([BigInt(CHECKSUMMED), BigInt(ALL_CAPS)]);
    expect(
      parsePolicy({ name: 'p', rules: [{ field: 'account', op: 'NE', value: ALL_LOWER }] }, schema).rules[0]!.predicate
        .constants,
    ).toEqual([BigInt(ALL_LOWER)]);
  });

  it('refuses bad constants, ordered operators and SUM/MEAN on an address column, naming the type', () => {
    expect(policyError({ name: 'p', rules: [{ field: 'account', op: 'EQ', value: BAD_CHECKSUM }] })).toMatch(
      /rules\[0\] \(account EQ\): not an account address of address column account: .*bad EIP-55 checksum: expected 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/,
    );
    expect(
      policyError({ name: 'p', rules: [{ field: 'account', op: 'IN', values: [CHECKSUMMED, '0x1234'] }] }),
    ).toMatch(/values\[1\].*has 4 hex digits after 0x, not 40/);
    expect(policyError({ name: 'p', rules: [{ field: 'account', op: 'EQ', value: 1234 }] })).toMatch(
      /1234 is not an account address \(write it as a string/,
    );
    expect(policyError({ name: 'p', rules: [{ field: 'account', op: 'LT', value: CHECKSUMMED }] })).toMatch(
      /rules\[0\] \(account LT\): LT needs an ordered column \(integer, decimal, date, datetime\); account is address/,
    );
    expect(
      policyError({ name: 'p', rules: [{ field: 'account', op: 'BETWEEN', min: ALL_LOWER, max: CHECKSUMMED }] }),
    ).toMatch(/BETWEEN needs an ordered column.*account is address/);
    expect(policyError({ name: 'p', rules: [], aggregates: [{ kind: 'SUM', field: 'account', min: 0 }] })).toMatch(
      /aggregates\[0\]: SUM needs a numeric or date column; account is address/,
    );
    expect(policyError({ name: 'p', rules: [], aggregates: [{ kind: 'MEAN', field: 'account', min: 0 }] })).toMatch(
      /MEAN needs a numeric or date column; account is address/,
    );
  });
});

describe('address columns: circuit', () => {
  // The flagged account must score at least 50 (EQ on the address, in `when`); accounts are distinct (UNIQUE).
  const policySpec: PolicySpec = {
    name: 'accounts policy',
    rules: [
      { field: 'score', op: 'GTE', value: 50, when: { field: 'account', op: 'EQ', value: CHECKSUMMED.toLowerCase() } },
    ],
    aggregates: [{ kind: 'UNIQUE', field: 'account' }],
  };
  const circuits = datasetCircuits(schema);
  const depth = 2;
  const records = (rows: Array<[string, number]>): EncodedRecord[] =>
    createBundle(
      schema,
      rows.map(([address, score], i) => encodeRecord(schema, { account: address, score }, i + 2)),
    ).records;
  const inputOf = (recs: EncodedRecord[], policy: Parameters<typeof datasetCircuitInput>[3]) =>
    datasetCircuitInput(
      recs,
      recs.map((_, i) => BigInt(i + 11)),
      schema,
      policy,
      depth,
    );

  it('accepts an honest dataset and refuses a duplicate account, a broken EQ rule and a value beyond 160 bits', async () => {
    const { circuit, policy } = await circuits(policySpec, depth);
    // Honest: three distinct accounts (written in three cases), the flagged one scores 80.
    const honest = records([
      [ALL_CAPS, 10],
      [CHECKSUMMED, 80],
      [ALL_LOWER, 30],
    ]);
    expect(evaluatePolicy(policy, honest).ok).toBe(true);
    expect(honest.map((r) => r.values[0])).toEqual(
      [BigInt(ALL_CAPS), BigInt(CHECKSUMMED), BigInt(ALL_LOWER)].sort((a, b) => (a < b ? -1 : 1)),
    );
    expect(await witnessAccepts(circuit, inputOf(honest, policy))).toBe(true);
    // Every signal is pinned (the 160-bit range checks and comparators included).
    expect((await checkSoundness(circuit, inputOf(honest, policy))).unpinned).toEqual([]);

    // The same account twice, written once checksummed and once lowercase: one subject.
    const duplicate = records([
      [CHECKSUMMED, 80],
      [ALL_CAPS, 10],
      [CHECKSUMMED.toLowerCase(), 90],
    ]);
    const report = evaluatePolicy(policy, duplicate);
    expect(report.ok).toBe(false);
    expect(report.aggregates[0]!.actual).toMatch(/the same account at rows/);
    expect(await witnessAccepts(circuit, inputOf(duplicate, policy))).toBe(false);

    // The flagged account scores 20: the EQ-scoped rule fails.
    const broken = records([
      [ALL_CAPS, 10],
      [CHECKSUMMED, 20],
    ]);
    expect(evaluatePolicy(policy, broken).violations.map((v) => v.row)).toEqual([3]);
    expect(await witnessAccepts(circuit, inputOf(broken, policy))).toBe(false);

    // A forged cell of 2^160 (no address) in an otherwise honest input: the leaf's 160-bit range check refuses it.
    const forged = inputOf(honest, policy) as { values: bigint[][] };
    const last = honest.length - 1;
    forged.values = forged.values.map((row, i) => (i === last ? [1n << 160n, ...row.slice(1)] : row));
    expect(await witnessAccepts(circuit, forged)).toBe(false);
  });

  it('packs the 160-bit address with the other values into one leaf element (PACK_BITS is 250)', () => {
    expect(PACK_BITS).toBe(250);
    expect(leafLayout(schema.columns)).toEqual([
      { kind: 'salt' },
      {
        kind: 'packed',
        parts: [
          { kind: 'nulls', width: 2, shift: 0 },
          { kind: 'value', column: 0, bits: 160, shift: 2 },
          { kind: 'value', column: 1, bits: 7, shift: 162 },
        ],
      },
      { kind: 'tag' },
    ]);
    // Two addresses do not fit one element: the second starts a new one.
    const two = parseSchema({
      name: 'two',
      columns: [
        { name: 'a', type: 'address' },
        { name: 'b', type: 'address' },
      ],
    });
    expect(leafLayout(two.columns).filter((element) => element.kind === 'packed')).toHaveLength(2);
    const [record] = records([[CHECKSUMMED, 80]]);
    expect(recordLeaf(schema.columns, record!, 5n)).toBeTypeOf('bigint');
    expect(() => recordLeaf(schema.columns, { values: [1n << 160n, 0n], nulls: [false, false] }, 5n)).toThrow(
      /outside \[0, 1461501637330902918203684832716283019655932542975\]/,
    );
  });
});
