import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poseidon16 } from 'poseidon-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePatientsCsv } from '../examples/patients/generate.ts';
import { InputFileError } from '../src/errors.ts';
import { DataError, DatasetErrors, encodeCell, encodeRecord } from '../src/data/encode.ts';
import { readDataset } from '../src/data/ingest.ts';
import { poseidonBytes, poseidonText } from '../src/crypto/poseidon-bytes.ts';
import { loadSchema, parseSchema, SchemaError } from '../src/data/schema.ts';
import type { Column, Schema } from '../src/data/types.ts';

const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const DAY_MS = 86_400_000;
const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / DAY_MS;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkai-data-ingest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function fixture(extension: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, `fixture-${fileCounter++}.${extension}`);
  await writeFile(path, content);
  return path;
}

function schemaOf(columns: unknown[], extra: Record<string, unknown> = {}): Schema {
  return parseSchema({ name: 'test', columns, ...extra });
}

function column(spec: Record<string, unknown>): Column {
  return schemaOf([{ name: 'c', ...spec }]).columns[0]!;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}

async function catchAsync(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

async function datasetErrors(promise: Promise<unknown>): Promise<DatasetErrors> {
  const error = await catchAsync(promise);
  expect(error).toBeInstanceOf(DatasetErrors);
  expect((error as DatasetErrors).code).toBe('BAD_DATA');
  return error as DatasetErrors;
}

// ---------------------------------------------------------------------------------------------------------------

describe('poseidonBytes', () => {
  const zeros = (n: number) => Array<bigint>(n).fill(0n);

  it('follows its definition: length first, 31-byte big-endian chunks, one padded poseidon16 call', () => {
    expect(poseidonBytes(new Uint8Array([]))).toBe(poseidon16([0n, 0n, ...zeros(14)]));
    expect(poseidonBytes(new Uint8Array([1, 2]))).toBe(poseidon16([0n, 2n, 0x0102n, ...zeros(13)]));
    const bytes32 = new Uint8Array(32).map((_, i) => i + 1);
    const chunk0 = BigInt(`0x${Buffer.from(bytes32.subarray(0, 31)).toString('hex')}`);
    expect(poseidonBytes(bytes32)).toBe(poseidon16([0n, 32n, chunk0, 32n, ...zeros(12)]));
  });

  it('chains a second call after 15 elements (435 bytes), with the running hash first', () => {
    const bytes = new Uint8Array(435).fill(7);
    const chunk = BigInt(`0x${'07'.repeat(31)}`);
    const first = poseidon16([0n, 435n, ...Array<bigint>(14).fill(chunk)]);
    // 435 = 14 full chunks + a 1-byte chunk (0x07): 16 elements, the 16th goes to the second call
    expect(poseidonBytes(bytes)).toBe(poseidon16([first, 7n, ...zeros(14)]));
    // 434 bytes = length + 14 chunks = exactly one call
    const one = poseidon16([0n, 434n, ...Array<bigint>(14).fill(chunk)]);
    expect(poseidonBytes(new Uint8Array(434).fill(7))).toBe(one);
  });

  it('is deterministic and distinguishes lengths, leading zeros and the 31/32-byte boundary', () => {
    const a = new TextEncoder().encode('hello world');
    expect(poseidonBytes(a)).toBe(poseidonBytes(new Uint8Array(a)));
    expect(poseidonBytes(new Uint8Array([]))).not.toBe(poseidonBytes(new Uint8Array([0])));
    expect(poseidonBytes(new Uint8Array([1]))).not.toBe(poseidonBytes(new Uint8Array([0, 1])));
    expect(poseidonText('a')).not.toBe(poseidonText('aa'));
    const b31 = new Uint8Array(31).fill(0x61);
    const b32 = new Uint8Array(32).fill(0x61);
    expect(poseidonBytes(b31)).not.toBe(poseidonBytes(b32));
    expect(poseidonBytes(b32)).not.toBe(poseidonBytes(new Uint8Array(32).fill(0x61).map((v, i) => (i === 31 ? 0 : v))));
  });

  it('poseidonText hashes the UTF-8 bytes', () => {
    expect(poseidonText('é')).toBe(poseidonBytes(new Uint8Array([0xc3, 0xa9])));
    expect(poseidonText('')).toBe(poseidonBytes(new Uint8Array([])));
    expect(poseidonText('é')).toBeLessThan(FIELD_MODULUS);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('parseSchema', () => {
  it('computes bits, maxEncoded and ordered for every type', () => {
    const schema = schemaOf(
      [
        { name: 'id', type: 'string' },
        { name: 'age', type: 'integer', min: 0, max: 120 },
        { name: 'delta', type: 'integer', min: '-5', max: '5' },
        { name: 'bmi', type: 'decimal', scale: 1, min: '10.0', max: '80.0' },
        { name: 'day', type: 'date' },
        { name: 'day2', type: 'date', min: '2000-01-01', max: '2000-12-31' },
        { name: 'flag', type: 'boolean' },
        { name: 'kind', type: 'category', values: ['a', 'b', 'c'] },
        { name: 'only', type: 'category', values: ['x'] },
        { name: 'fixed', type: 'integer', min: 7, max: 7 },
      ],
      { subjectId: 'id' },
    );
    const byName = Object.fromEntries(schema.columns.map((c) => [c.name, c]));
    expect(schema.columns.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(byName.id).toMatchObject({ bits: 253, maxEncoded: undefined, ordered: false, nullable: false });
    expect(byName.age).toMatchObject({ bits: 7, maxEncoded: 120n, ordered: true });
    expect(byName.delta).toMatchObject({ bits: 4, maxEncoded: 10n, ordered: true });
    expect(byName.bmi).toMatchObject({ bits: 10, maxEncoded: 700n, ordered: true });
    const defaultDays = BigInt(utc(2199, 12, 31));
    expect(byName.day).toMatchObject({ maxEncoded: defaultDays, bits: defaultDays.toString(2).length, ordered: true });
    expect(byName.day2).toMatchObject({ maxEncoded: 365n, bits: 9 });
    expect(byName.flag).toMatchObject({ bits: 1, maxEncoded: 1n, ordered: false });
    expect(byName.kind).toMatchObject({ bits: 2, maxEncoded: 2n, ordered: false });
    expect(byName.only).toMatchObject({ bits: 1, maxEncoded: 0n });
    expect(byName.fixed).toMatchObject({ bits: 1, maxEncoded: 0n });
    expect(schema.spec.subjectId).toBe('id');
  });

  it('accepts exactly 64 bits and rejects 65', () => {
    expect(column({ type: 'integer', min: '0', max: (2n ** 64n - 1n).toString() }).bits).toBe(64);
    const error = catchError(() => column({ type: 'integer', min: '0', max: (2n ** 64n).toString() }));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(
      /column "c": encoded values need 65 bits but non-string columns may use at most 64/,
    );
    expect(() => column({ type: 'decimal', scale: 18, min: '0', max: '100' })).toThrow(/needs? 67 bits|need 67 bits/);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    [
      'duplicate names',
      [
        { name: 'a', type: 'boolean' },
        { name: 'a', type: 'boolean' },
      ],
      /column "a": the name is used by more than one column/,
    ],
    ['unknown type', [{ name: 'a', type: 'float' }], /column "a": unknown type "float"/],
    ['integer min > max', [{ name: 'a', type: 'integer', min: 5, max: 3 }], /column "a": min 5 is greater than max 3/],
    [
      'integer bound not an integer',
      [{ name: 'a', type: 'integer', min: 1.5, max: 3 }],
      /column "a": min 1.5 is not an integer/,
    ],
    [
      'integer bound text',
      [{ name: 'a', type: 'integer', min: 0, max: '12abc' }],
      /column "a": max "12abc" is not an integer/,
    ],
    [
      'integer bound unsafe',
      [{ name: 'a', type: 'integer', min: 0, max: 2 ** 60 }],
      /column "a": max .* is beyond 2\^53/,
    ],
    ['integer bound missing', [{ name: 'a', type: 'integer', min: 0 }], /column "a": "max" is required/],
    [
      'decimal scale too big',
      [{ name: 'a', type: 'decimal', scale: 19, min: '0', max: '1' }],
      /column "a": scale 19 must be an integer from 0 to 18/,
    ],
    ['decimal scale negative', [{ name: 'a', type: 'decimal', scale: -1, min: '0', max: '1' }], /column "a": scale -1/],
    [
      'decimal scale fractional',
      [{ name: 'a', type: 'decimal', scale: 1.5, min: '0', max: '1' }],
      /column "a": scale 1.5/,
    ],
    [
      'decimal bound with too many places',
      [{ name: 'a', type: 'decimal', scale: 1, min: '10.55', max: '80.0' }],
      /column "a": min "10.55" has 2 decimal places but the scale is 1/,
    ],
    [
      'decimal bound exponent',
      [{ name: 'a', type: 'decimal', scale: 1, min: '0', max: '1e3' }],
      /column "a": max "1e3" is not an exact decimal/,
    ],
    [
      'decimal bound number',
      [{ name: 'a', type: 'decimal', scale: 1, min: 10.5, max: '80.0' }],
      /column "a": min 10.5 must be a string/,
    ],
    [
      'decimal min > max',
      [{ name: 'a', type: 'decimal', scale: 2, min: '1.5', max: '1.25' }],
      /column "a": min 1.50 is greater than max 1.25/,
    ],
    [
      'date not a calendar date',
      [{ name: 'a', type: 'date', min: '2023-02-30' }],
      /column "a": min "2023-02-30" is not a calendar date/,
    ],
    [
      'date wrong format',
      [{ name: 'a', type: 'date', max: '2023/01/01' }],
      /column "a": max "2023\/01\/01" is not a date in YYYY-MM-DD form/,
    ],
    [
      'date min after default max',
      [{ name: 'a', type: 'date', min: '2200-01-01' }],
      /column "a": min 2200-01-01 is after max 2199-12-31/,
    ],
    ['category empty', [{ name: 'a', type: 'category', values: [] }], /column "a": "values" is empty/],
    [
      'category duplicate',
      [{ name: 'a', type: 'category', values: ['x', 'y', 'x'] }],
      /column "a": category value "x" appears more than once/,
    ],
    [
      'category empty string',
      [{ name: 'a', type: 'category', values: ['x', ''] }],
      /column "a": category value "" is empty/,
    ],
    [
      'category non-string',
      [{ name: 'a', type: 'category', values: ['x', 1] }],
      /column "a": category value 1 is not a string/,
    ],
    [
      'string maxBytes zero',
      [{ name: 'a', type: 'string', maxBytes: 0 }],
      /column "a": maxBytes 0 must be a positive integer/,
    ],
    ['column name with space', [{ name: 'first name', type: 'boolean' }], /column "first name": the name must match/],
    ['column name starting with digit', [{ name: '1st', type: 'boolean' }], /column "1st": the name must match/],
    [
      'unknown column key',
      [{ name: 'a', type: 'integer', min: 0, maximum: 3, max: 4 }],
      /column "a": unknown key "maximum"/,
    ],
    [
      'nullable not boolean',
      [{ name: 'a', type: 'boolean', nullable: 'yes' }],
      /column "a": "nullable" must be true or false/,
    ],
    ['column without name', [{ type: 'boolean' }], /column #1 has no "name"/],
  ];
  it.each(bad)('rejects %s', (_label, columns, pattern) => {
    const error = catchError(() => parseSchema({ name: 'test', columns }));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).code).toBe('BAD_SCHEMA');
    expect((error as Error).message).toMatch(pattern);
  });

  it('rejects a bad subjectId and bad top-level shapes', () => {
    const columns = [
      { name: 'id', type: 'string' },
      { name: 'flag', type: 'boolean' },
      { name: 'n', type: 'integer', min: 0, max: 9 },
    ];
    expect(() => parseSchema({ name: 't', columns, subjectId: 'nope' })).toThrow(
      /"subjectId" names "nope", which is not a column/,
    );
    expect(() => parseSchema({ name: 't', columns, subjectId: 'flag' })).toThrow(
      /"subjectId" names "flag", a boolean column; a subject id must be a string, integer or address column/,
    );
    expect(parseSchema({ name: 't', columns, subjectId: 'n' }).spec.subjectId).toBe('n');
    expect(() => parseSchema([])).toThrow(SchemaError);
    expect(() => parseSchema({ name: 't', columns: [] })).toThrow(/"columns" must be a non-empty array/);
    expect(() => parseSchema({ columns })).toThrow(/"name" must be a non-empty string/);
    expect(() => parseSchema({ name: 't', columns, extra: 1 })).toThrow(/unknown key "extra"/);
    expect(() => parseSchema({ name: 't', columns: [{ name: 'x', type: 'float' }] }, 'my/schema.json')).toThrow(
      /^my\/schema\.json: column "x": unknown type/,
    );
  });

  describe('hash', () => {
    const spec = {
      name: 'patients',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'string' },
        { name: 'age', type: 'integer', min: 0, max: 120 },
        { name: 'bmi', type: 'decimal', scale: 1, min: '10.0', max: '80.0', nullable: true },
        { name: 'day', type: 'date' },
      ],
    };
    const base = parseSchema(spec);

    it('is a decimal field element, stable under key order and equivalent spellings', () => {
      expect(base.hash).toMatch(/^\d+$/);
      expect(BigInt(base.hash)).toBeLessThan(FIELD_MODULUS);
      const reordered = {
        columns: [
          { type: 'string', name: 'id' },
          { max: 120, min: 0, type: 'integer', name: 'age' },
          { nullable: true, max: '80.0', min: '10.0', scale: 1, type: 'decimal', name: 'bmi' },
          { type: 'date', name: 'day' },
        ],
        subjectId: 'id',
        name: 'patients',
      };
      expect(parseSchema(reordered).hash).toBe(base.hash);
      // same meaning: string bounds, "10" for "10.0", explicit defaults
      const equivalent = {
        ...spec,
        columns: [
          { name: 'id', type: 'string', maxBytes: 256, nullable: false },
          { name: 'age', type: 'integer', min: '0', max: '120' },
          { name: 'bmi', type: 'decimal', scale: 1, min: '10', max: '80.0', nullable: true },
          { name: 'day', type: 'date', min: '1970-01-01', max: '2199-12-31' },
        ],
      };
      expect(parseSchema(equivalent).hash).toBe(base.hash);
      expect(parseSchema(base.spec).hash).toBe(base.hash);
      expect(JSON.stringify(base.spec)).toBe(
        '{"name":"patients","columns":[{"name":"id","type":"string","nullable":false,"maxBytes":256},' +
          '{"name":"age","type":"integer","nullable":false,"min":"0","max":"120"},' +
          '{"name":"bmi","type":"decimal","nullable":true,"scale":1,"min":"10.0","max":"80.0"},' +
          '{"name":"day","type":"date","nullable":false,"min":"1970-01-01","max":"2199-12-31"}],"subjectId":"id"}',
      );
      expect(base.hash).toBe(poseidonText(JSON.stringify(base.spec)).toString());
    });

    it('changes with any change of meaning', () => {
      const variant = (edit: (s: any) => void) => {
        const copy = structuredClone(spec);
        edit(copy);
        return parseSchema(copy).hash;
      };
      const hashes = [
        variant((s) => {
          s.columns[1].max = 121;
        }),
        variant((s) => {
          s.columns[2].min = '10.1';
        }),
        variant((s) => {
          s.columns[2].nullable = false;
        }),
        variant((s) => {
          s.name = 'patients2';
        }),
        variant((s) => {
          delete s.subjectId;
        }),
        variant((s) => {
          s.columns.reverse();
        }),
        variant((s) => {
          s.columns[3].max = '2100-01-01';
        }),
      ];
      for (const hash of hashes) expect(hash).not.toBe(base.hash);
      expect(new Set(hashes).size).toBe(hashes.length);
    });
  });

  it('loadSchema names the file on every failure', async () => {
    const missing = join(dir, 'missing.json');
    const notFound = await catchAsync(loadSchema(missing));
    expect(notFound).toBeInstanceOf(InputFileError);
    expect((notFound as Error).message).toBe(`${missing}: no such schema file`);
    const broken = await fixture('json', '{"name": "x", ');
    const notJson = await catchAsync(loadSchema(broken));
    expect(notJson).toBeInstanceOf(InputFileError);
    expect((notJson as Error).message).toContain(`${broken}: the schema is not valid JSON`);
    const invalid = await fixture(
      'json',
      JSON.stringify({ name: 'x', columns: [{ name: 'a', type: 'integer', min: 3, max: 1 }] }),
    );
    const badSchema = await catchAsync(loadSchema(invalid));
    expect(badSchema).toBeInstanceOf(SchemaError);
    expect((badSchema as Error).message).toBe(`${invalid}: column "a": min 3 is greater than max 1`);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('encodeCell', () => {
  const age = column({ type: 'integer', min: 0, max: 120 });
  const signed = column({ type: 'integer', min: -5, max: 5 });
  const bmi = column({ type: 'decimal', scale: 1, min: '10.0', max: '80.0' });
  const whole = column({ type: 'decimal', scale: 0, min: '-3', max: '3' });
  const day = column({ type: 'date' });
  const day2000 = column({ type: 'date', min: '2000-01-01', max: '2000-12-31' });
  const flag = column({ type: 'boolean' });
  const kind = column({ type: 'category', values: ['research', 'treatment', 'none'] });
  const text = column({ type: 'string', maxBytes: 4, nullable: true });

  const ok = (c: Column, raw: string | number | boolean | null | undefined) => encodeCell(c, raw, 1);
  const fail = (c: Column, raw: string | number | boolean | null | undefined, row = 1): DataError => {
    const error = catchError(() => encodeCell(c, raw, row));
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('BAD_DATA');
    return error as DataError;
  };

  it('integer: bounds, JSON integers and digit strings only', () => {
    expect(ok(age, '0')).toEqual({ value: 0n, isNull: false });
    expect(ok(age, '120')).toEqual({ value: 120n, isNull: false });
    expect(ok(age, 120)).toEqual({ value: 120n, isNull: false });
    expect(ok(signed, '-5').value).toBe(0n);
    expect(ok(signed, 5).value).toBe(10n);
    const error = fail(age, '17.5', 17);
    expect(error.message).toBe('row 17, column "c": "17.5" is not an integer (expected an integer in [0, 120])');
    expect(error).toMatchObject({ row: 17, column: 'c', value: '17.5', expected: 'an integer in [0, 120]' });
    expect(fail(age, '121').message).toContain('"121" is out of range');
    expect(fail(age, '-1').message).toContain('"-1" is out of range');
    expect(fail(age, 121).message).toContain('121 is out of range');
    expect(fail(signed, -6).message).toContain('-6 is out of range');
    expect(fail(age, 17.5).message).toContain('17.5 is not an integer');
    expect(fail(age, '12abc').message).toContain('"12abc" is not an integer');
    expect(fail(age, '1e3').message).toContain('"1e3" is not an integer');
    expect(fail(age, '+5').message).toContain('"+5" is not an integer');
    expect(fail(age, ' 12').message).toContain('" 12" has surrounding spaces');
    expect(fail(age, '12\t').message).toContain('has surrounding spaces');
    expect(fail(age, 2 ** 53).message).toContain('beyond 2^53');
    expect(fail(age, true).message).toContain('true, a boolean is not an integer');
  });

  it('decimal: exact text, never rounded, exponents refused', () => {
    expect(ok(bmi, '10.0').value).toBe(0n);
    expect(ok(bmi, '10').value).toBe(0n);
    expect(ok(bmi, '80.0').value).toBe(700n);
    expect(ok(bmi, '25.5').value).toBe(155n);
    expect(ok(bmi, 25.5).value).toBe(155n);
    expect(ok(bmi, 80).value).toBe(700n);
    expect(fail(bmi, '80.1').message).toContain('"80.1" is out of range');
    expect(fail(bmi, '9.9').message).toContain('"9.9" is out of range');
    const places = fail(bmi, '25.55', 4);
    expect(places.message).toBe(
      'row 4, column "c": "25.55" has 2 decimal places but the column allows 1 (values are never rounded) (expected a decimal with at most 1 decimal place in [10.0, 80.0])',
    );
    expect(fail(bmi, '25.50').message).toContain('has 2 decimal places');
    expect(fail(bmi, '1e3').message).toContain('"1e3" is not an exact decimal');
    expect(fail(bmi, 1e21).message).toContain('1e+21 is not an exact decimal');
    expect(fail(bmi, 0.1 + 0.2).message).toContain('0.30000000000000004 has 17 decimal places');
    expect(fail(bmi, '25.').message).toContain('is not an exact decimal');
    expect(fail(bmi, '.5').message).toContain('is not an exact decimal');
    expect(fail(bmi, '2,5').message).toContain('is not an exact decimal');
    expect(ok(whole, '-3').value).toBe(0n);
    expect(ok(whole, '3').value).toBe(6n);
    expect(fail(whole, '1.0').message).toContain('has 1 decimal places but the column allows 0');
  });

  it('date: strict YYYY-MM-DD, real calendar days, bounds', () => {
    expect(ok(day, '1970-01-01').value).toBe(0n);
    expect(ok(day, '2199-12-31').value).toBe(BigInt(utc(2199, 12, 31)));
    expect(ok(day, '2024-02-29').value).toBe(BigInt(utc(2024, 2, 29)));
    expect(ok(day, '2000-02-29').value).toBe(BigInt(utc(2000, 2, 29)));
    expect(ok(day2000, '2000-01-02').value).toBe(1n);
    expect(ok(day2000, '2000-12-31').value).toBe(365n);
    expect(fail(day, '1969-12-31').message).toContain('"1969-12-31" is out of range');
    expect(fail(day, '2200-01-01').message).toContain('out of range');
    expect(fail(day2000, '2001-01-01').message).toContain('(expected a date YYYY-MM-DD in [2000-01-01, 2000-12-31])');
    for (const invalid of ['2023-02-30', '2023-02-29', '1900-02-29', '2023-13-01', '2023-00-10', '2023-04-31']) {
      expect(fail(day, invalid).message).toContain(`"${invalid}" is not a calendar date`);
    }
    for (const malformed of ['2023-2-3', '2023/02/03', '2023-02-03T00:00:00Z', '20230203']) {
      expect(fail(day, malformed).message).toContain('is not a date in YYYY-MM-DD form');
    }
    expect(fail(day, 19000).message).toContain('19000, a number is not a date');
  });

  it('date: a declared format (MMM DD YYYY, DD/MM/YYYY, D.M.YYYY, MMMM D, YYYY), exact, out of the schema hash', () => {
    const written = (format: string) => column({ type: 'date', min: '1900-01-01', format });
    const days = (y: number, m: number, d: number) => BigInt(utc(y, m, d) - utc(1900, 1, 1));
    expect(ok(written('MMM DD YYYY'), 'Jun 12 1998').value).toBe(days(1998, 6, 12));
    expect(ok(written('MMM DD YYYY'), 'jun 12 1998').value).toBe(days(1998, 6, 12));
    expect(ok(written('DD/MM/YYYY'), '03/02/2001').value).toBe(days(2001, 2, 3));
    expect(ok(written('D.M.YYYY'), '3.2.2001').value).toBe(days(2001, 2, 3));
    expect(ok(written('D.M.YYYY'), '03.12.2001').value).toBe(days(2001, 12, 3));
    expect(ok(written('MMMM D, YYYY'), 'February 29, 2000').value).toBe(days(2000, 2, 29));
    expect(ok(written('YYYYMMDD'), '20010203').value).toBe(days(2001, 2, 3));
    expect(fail(written('MMM DD YYYY'), 'Jun 31 1998').message).toContain('"Jun 31 1998" is not a calendar date');
    expect(fail(written('MMM DD YYYY'), 'Jux 12 1998').message).toContain('is not a date in MMM DD YYYY form');
    expect(fail(written('MMM DD YYYY'), '1998-06-12').message).toContain(
      '(expected a date written MMM DD YYYY, from 1900-01-01 to 2199-12-31)',
    );
    expect(fail(written('MMMM D, YYYY'), 'Febuary 2, 2000').message).toContain('is not a date in MMMM D, YYYY form');
    expect(fail(written('DD/MM/YYYY'), ' 03/02/2001').message).toContain('space');
    // the format is how files write dates: not part of the schema hash; bounds stay YYYY-MM-DD
    const plain = schemaOf([{ name: 'c', type: 'date', min: '1900-01-01' }]);
    expect(schemaOf([{ name: 'c', type: 'date', min: '1900-01-01', format: 'MMM DD YYYY' }]).hash).toBe(plain.hash);
    const bad = (format: unknown) => (catchError(() => written(format as string)) as SchemaError).message;
    expect(bad('YYYY-mm-dd')).toMatch(/the letter "m" at position 6 is not a token/);
    expect(bad('YYYY-MM')).toMatch(/exactly one year .* one month .* and one day/);
    expect(bad('DMYYYY')).toMatch(/D and M touch: a token of variable width/);
    expect(bad('')).toMatch(/"format" must be how the data files write dates/);
    expect(bad(7)).toMatch(/"format" must be how the data files write dates/);
  });

  it('datetime: instants in seconds, ISO with its zone by default, a declared format and zone, exact', () => {
    const at = (y: number, mo: number, d: number, h = 0, mi = 0, sec = 0) =>
      BigInt(utc(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec);
    const iso = column({ type: 'datetime' });
    expect(ok(iso, '2024-03-01T12:30:15Z').value).toBe(at(2024, 3, 1, 12, 30, 15));
    expect(ok(iso, '2024-03-01T12:30:15+02:00').value).toBe(at(2024, 3, 1, 10, 30, 15));
    expect(ok(iso, '2024-03-01T00:30:00-0530').value).toBe(at(2024, 3, 1, 6, 0, 0));
    expect(fail(iso, '2024-03-01 12:30:15').message).toContain('is not a date and time in YYYY-MM-DDTHH:mm:ssZ form');
    expect(fail(iso, '2024-02-30T12:00:00Z').message).toContain('is not a real date and time');
    expect(fail(iso, '2024-03-01T24:00:00Z').message).toContain('is not a real date and time');
    expect(fail(iso, '2024-03-01T12:00:00+19:00').message).toContain('is not a date and time in');
    const local = column({
      type: 'datetime',
      format: 'YYYY/MM/DD HH:mm',
      timezone: '+01:00',
      min: '2000-01-01T00:00:00Z',
    });
    expect(ok(local, '2024/03/01 12:30').value).toBe(at(2024, 3, 1, 11, 30) - at(2000, 1, 1));
    expect(fail(local, '1999/12/31 23:59').message).toContain('out of range');
    expect(
      fail(column({ type: 'datetime', format: 'D MMM YYYY H:mm', timezone: 'UTC' }), '1 Jan 2024 7:60').message,
    ).toContain('is not a real date and time');
    // schema: bounds in UTC, a zone stated exactly once, hash without format and zone
    const bad = (spec: Record<string, unknown>) =>
      (catchError(() => column({ type: 'datetime', ...spec })) as SchemaError).message;
    expect(bad({ format: 'YYYY-MM-DD HH:mm' })).toMatch(/has no zone \(Z\), so "timezone" must say which zone/);
    expect(bad({ format: 'YYYY-MM-DD HH:mm', timezone: 'Europe/Paris' })).toMatch(
      /"timezone" must be "UTC" or an offset/,
    );
    expect(bad({ timezone: 'UTC' })).toMatch(/the format's Z reads each cell's own zone/);
    expect(bad({ min: '2024-01-01' })).toMatch(/is not an instant in YYYY-MM-DDTHH:mm:ssZ form/);
    expect(bad({ min: '2024-01-02T00:00:00Z', max: '2024-01-01T00:00:00Z' })).toMatch(/is after max/);
    expect(bad({ format: 'YYYY-MM-DD' })).toMatch(/one hour \(HH, H\) and one minute \(mm\)/);
    expect(column({ type: 'datetime', format: 'YYYYMMDDHHmmss', timezone: 'UTC' }).format).toBe('YYYYMMDDHHmmss');
    // from the attack review: a digit beside a variable-width token would read two ways; -00:00 means "unknown"
    expect((catchError(() => column({ type: 'date', format: 'D1M/YYYY' })) as SchemaError).message).toMatch(
      /the digit 1 at position 2 would be read as part of a number/,
    );
    expect(bad({ format: 'YYYY-MM-DD HH:mm', timezone: '-00:00' })).toMatch(/"timezone" must be "UTC" or an offset/);
    expect(fail(iso, '2024-03-01T12:00:00-00:00').message).toContain('is not a date and time in');
    expect(fail(iso, '2024-03-01T12:00:00+18:01').message).toContain('is not a date and time in');
    expect(ok(iso, '2024-03-01T18:00:00+18:00').value).toBe(at(2024, 3, 1, 0, 0, 0));
    const hashOf = (spec: Record<string, unknown>) => schemaOf([{ name: 'c', type: 'datetime', ...spec }]).hash;
    expect(hashOf({ format: 'YYYY/MM/DD HH:mm', timezone: '+01:00' })).toBe(hashOf({}));
    expect(hashOf({ max: '2100-01-01T00:00:00Z' })).not.toBe(hashOf({}));
    expect(schemaOf([{ name: 'c', type: 'datetime' }]).columns[0]).toMatchObject({ ordered: true, bits: 33 });
  });

  it('boolean: true/false and the exact strings true, false, 1, 0', () => {
    for (const [raw, value] of [
      [true, 1n],
      [false, 0n],
      ['true', 1n],
      ['false', 0n],
      ['1', 1n],
      ['0', 0n],
    ] as const) {
      expect(ok(flag, raw)).toEqual({ value, isNull: false });
    }
    for (const raw of ['TRUE', 'yes', 'True', '2']) expect(fail(flag, raw).message).toContain('is not a boolean');
    expect(fail(flag, ' true').message).toContain('has surrounding spaces');
    expect(fail(flag, 1).message).toContain('1, a number is not a boolean');
  });

  it('category: exact match, errors list the allowed values (truncated when long)', () => {
    expect(ok(kind, 'research').value).toBe(0n);
    expect(ok(kind, 'none').value).toBe(2n);
    expect(fail(kind, 'Research').message).toBe(
      'row 1, column "c": "Research" is not an allowed value (expected one of "research", "treatment", "none")',
    );
    expect(fail(kind, 'none ').message).toContain('has surrounding spaces');
    expect(fail(kind, 0).message).toContain('is not a category value');
    const many = column({ type: 'category', values: Array.from({ length: 30 }, (_, i) => `v${i}`) });
    expect(ok(many, 'v29').value).toBe(29n);
    const message = fail(many, 'v30').message;
    expect(message).toContain('"v9" and 20 more');
    expect(message).not.toContain('"v10"');
  });

  it('string: Poseidon of the UTF-8 bytes, byte limit, no conversion from other types', () => {
    expect(ok(text, 'abcd')).toEqual({ value: poseidonText('abcd'), isNull: false });
    expect(ok(text, 'éé').value).toBe(poseidonText('éé'));
    expect(ok(text, ' a ').value).toBe(poseidonText(' a '));
    expect(fail(text, 'abcde').message).toContain('is 5 UTF-8 bytes long, more than 4');
    expect(fail(text, 'ééé').message).toContain('is 6 UTF-8 bytes long, more than 4');
    expect(fail(text, 123).message).toContain('123, a number is not text');
    expect(fail(text, '\uD800').message).toContain('unpaired UTF-16 surrogate');
    const defaults = column({ type: 'string' });
    expect(ok(defaults, 'x'.repeat(256)).isNull).toBe(false);
    expect(fail(defaults, 'x'.repeat(257)).message).toContain('257 UTF-8 bytes long, more than 256');
    // Hashes are remembered by text, but each column still checks its own limit.
    expect(ok(defaults, 'abcdef').value).toBe(poseidonText('abcdef'));
    expect(ok(defaults, 'abcdef').value).toBe(poseidonText('abcdef'));
    expect(fail(text, 'abcdef').message).toContain('is 6 UTF-8 bytes long, more than 4');
  });

  it('nulls: empty, null and undefined only on nullable columns', () => {
    for (const raw of ['', null, undefined]) {
      expect(ok(text, raw)).toEqual({ value: 0n, isNull: true });
      const error = fail(age, raw, 9);
      expect(error.message).toBe(
        'row 9, column "c": the value is empty but the column is not nullable (expected an integer in [0, 120])',
      );
    }
    const nullableAge = column({ type: 'integer', min: 5, max: 10, nullable: true });
    expect(ok(nullableAge, '')).toEqual({ value: 0n, isNull: true });
    expect(fail(nullableAge, '4').expected).toBe('an integer in [5, 10], or empty');
  });
});

describe('encodeRecord', () => {
  const schema = schemaOf([
    { name: 'id', type: 'string' },
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'note', type: 'string', nullable: true },
  ]);

  it('encodes a record in schema order', () => {
    expect(encodeRecord(schema, { note: null, age: 30, id: 'p1' }, 5)).toEqual({
      row: 5,
      values: [poseidonText('p1'), 30n, 0n],
      nulls: [false, false, true],
    });
  });

  it('names unknown and missing columns', () => {
    const extra = catchError(() => encodeRecord(schema, { id: 'p1', age: 30, note: null, Age: 3 }, 2));
    expect(extra).toBeInstanceOf(DataError);
    expect((extra as Error).message).toBe('row 2, column "Age": is not a column of the schema');
    const missing = catchError(() => encodeRecord(schema, { id: 'p1', note: null }, 3));
    expect((missing as Error).message).toContain('row 3, column "age": is missing');
    const several = catchError(() => encodeRecord(schema, { id: 5, age: 'x', note: null }, 4));
    expect(several).toBeInstanceOf(DatasetErrors);
    expect((several as DatasetErrors).errors.map((e) => e.column)).toEqual(['id', 'age']);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('readDataset: CSV', () => {
  const schema = schemaOf([
    { name: 'id', type: 'string' },
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'note', type: 'string', nullable: true },
  ]);

  it('reads BOM, CRLF, quoted commas/quotes/newlines, any header order; rows are physical lines', async () => {
    const path = await fixture(
      'csv',
      [
        '\uFEFFage,id,note', // line 1
        '30,p1,"Ann\r\nLee"', // lines 2-3
        '31,"p,2","say ""hi"""', // line 4
        '', // line 5 (skipped)
        '', // line 6 (skipped)
        '32,p3,', // line 7
        '33,"multi\nline\nid",""', // lines 8-10 (LF inside quotes of a CRLF file)
        '34,p5,x', // line 11
      ].join('\r\n') + '\r\n',
    );
    const records = await readDataset(path, schema);
    expect(records.map((r) => r.row)).toEqual([2, 4, 7, 8, 11]);
    expect(records[0]).toEqual({
      row: 2,
      values: [poseidonText('p1'), 30n, poseidonText('Ann\r\nLee')],
      nulls: [false, false, false],
    });
    expect(records[1]!.values).toEqual([poseidonText('p,2'), 31n, poseidonText('say "hi"')]);
    expect(records[2]!.nulls).toEqual([false, false, true]);
    expect(records[3]!.values[0]).toBe(poseidonText('multi\nline\nid'));
    expect(records[3]!.nulls[2]).toBe(true);
    expect(records[4]!.values[2]).toBe(poseidonText('x'));
  });

  it('reports physical lines after blank lines and multi-line fields', async () => {
    const path = await fixture('csv', 'id,age,note\r\n\r\np1,30,"a\r\nb\r\nc"\r\n\r\np2,abc,\r\np3,200,\r\n');
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.errors.map((e) => e.row)).toEqual([7, 8]);
    expect(error.message).toContain('row 7, column "age": "abc" is not an integer');
    expect(error.message).toContain('row 8, column "age": "200" is out of range');
  });

  it('reads LF files, mixed line ends and a missing final newline', async () => {
    const lf = await fixture('csv', 'id,age,note\np1,1,\np2,2,');
    expect((await readDataset(lf, schema)).map((r) => [r.row, r.values[1]])).toEqual([
      [2, 1n],
      [3, 2n],
    ]);
    const mixed = await fixture('csv', 'id,age,note\np1,1,\r\np2,2,\np3,3,x\r\n');
    const records = await readDataset(mixed, schema);
    expect(records.map((r) => r.values[1])).toEqual([1n, 2n, 3n]);
    expect(records[2]!.values[2]).toBe(poseidonText('x'));
  });

  it('does not drop an all-empty row: it is a record of nulls and fails on non-nullable columns', async () => {
    const path = await fixture('csv', 'id,age,note\np1,1,\n,,\np2,2,\n');
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.total).toBe(1);
    expect(error.errors[0]!.row).toBe(3);
    expect(error.message).toContain(
      'row 3: every cell is empty: an empty row is a record of nulls, but columns "id", "age" are not nullable',
    );
    const allNullable = schemaOf([
      { name: 'a', type: 'integer', min: 0, max: 9, nullable: true },
      { name: 'b', type: 'boolean', nullable: true },
    ]);
    const nulls = await readDataset(await fixture('csv', 'a,b\n1,true\n,\n'), allNullable);
    expect(nulls).toEqual([
      { row: 2, values: [1n, 1n], nulls: [false, false] },
      { row: 3, values: [0n, 0n], nulls: [true, true] },
    ]);
  });

  it('reports rows with the wrong number of cells', async () => {
    const path = await fixture('csv', 'id,age,note\np1,1\np2,2,,\np3,3,\n');
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.errors.map((e) => e.message)).toEqual([
      'row 2: has 2 cells but the header has 3',
      'row 3: has 4 cells but the header has 3',
    ]);
  });

  it('requires a header naming exactly the schema columns', async () => {
    const wrong = await fixture('csv', 'id,Age,note,extra\np1,1,,\n');
    const error = await datasetErrors(readDataset(wrong, schema));
    expect(error.total).toBe(1);
    expect(error.message).toContain(
      'row 1: the header does not match the schema: missing column "age"; unknown columns "Age", "extra"',
    );
    const repeated = await fixture('csv', 'id,age,note,age\n');
    expect((await datasetErrors(readDataset(repeated, schema))).message).toContain('repeated column "age"');
    const noHeader = await fixture('csv', 'p1,1,\n');
    expect((await datasetErrors(readDataset(noHeader, schema))).message).toContain(
      'missing columns "id", "age", "note"',
    );
    const empty = await fixture('csv', '');
    expect((await datasetErrors(readDataset(empty, schema))).message).toContain('the file is empty');
    const headerOnly = await fixture('csv', 'note,age,id\r\n');
    expect(await readDataset(headerOnly, schema)).toEqual([]);
  });

  it('never trims cells', async () => {
    const path = await fixture('csv', 'id,age,note\np1, 30, x \n');
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.total).toBe(1);
    expect(error.message).toContain('row 2, column "age": " 30" has surrounding spaces');
  });

  it('reports CSV syntax errors and invalid UTF-8 with their line', async () => {
    const unclosed = await fixture('csv', 'id,age,note\np1,1,\n\np2,2,"never closed\np3,3,\n');
    const quote = await datasetErrors(readDataset(unclosed, schema));
    expect(quote.message).toContain('row 4: a quoted field is never closed');
    const stray = await fixture('csv', 'id,age,note\np1,1,\np2,2,ab"c\n');
    expect((await datasetErrors(readDataset(stray, schema))).message).toContain(
      'row 3: a quote appears inside an unquoted field',
    );
    const latin1 = await fixture(
      'csv',
      Buffer.concat([Buffer.from('id,age,note\np1,1,\np2,2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    );
    expect((await datasetErrors(readDataset(latin1, schema))).message).toContain(
      'row 3: the line is not valid UTF-8 text',
    );
  });

  it('collects all errors, lists the first 50 with their rows and counts the rest', async () => {
    const lines = ['id,age,note'];
    for (let i = 0; i < 60; i++) lines.push(`p${i},${i % 2 === 0 ? 'x' : '5'},`);
    for (let i = 0; i < 30; i++) lines.push(`q${i},old,`);
    const path = await fixture('csv', `${lines.join('\n')}\n`);
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.total).toBe(60);
    expect(error.errors).toHaveLength(50);
    const listed = error.message.split('\n');
    expect(listed[0]).toBe(`${path}: 60 problems in the data (the first 50 are listed):`);
    expect(listed[1]).toBe('  row 2, column "age": "x" is not an integer (expected an integer in [0, 120])');
    expect(listed[2]).toContain('row 4, column "age"');
    expect(error.errors.map((e) => e.row)).toEqual(
      Array.from({ length: 30 }, (_, i) => 2 + 2 * i).concat(Array.from({ length: 20 }, (_, i) => 62 + i)),
    );
    expect(listed.at(-1)).toBe('  ... and 10 more');
    expect(error.row).toBe(2);
    const limited = await datasetErrors(readDataset(path, schema, { maxErrors: 3 }));
    expect(limited.errors).toHaveLength(3);
    expect(limited.message).toContain('... and 57 more');
  });
});

describe('readDataset: JSON and NDJSON', () => {
  const schema = schemaOf([
    { name: 'id', type: 'string' },
    { name: 'bmi', type: 'decimal', scale: 1, min: '10.0', max: '80.0' },
    { name: 'ok', type: 'boolean', nullable: true },
  ]);

  it('reads a JSON array of records; rows are index + 1', async () => {
    const path = await fixture(
      'json',
      JSON.stringify([
        { id: 'a', bmi: 25.5, ok: true },
        { ok: null, bmi: '10', id: 'b' },
      ]),
    );
    expect(await readDataset(path, schema)).toEqual([
      { row: 1, values: [poseidonText('a'), 155n, 1n], nulls: [false, false, false] },
      { row: 2, values: [poseidonText('b'), 0n, 0n], nulls: [false, false, true] },
    ]);
  });

  it('reports JSON errors with the array index', async () => {
    const items =
      '[{"id":"a","bmi":1e21,"ok":true}, 7, {"id":"c","bmi":"20.0"}, {"id":"d","bmi":"20.0","ok":false,"x":1}, [1]]';
    const error = await datasetErrors(readDataset(await fixture('json', items), schema));
    expect(error.errors.map((e) => e.message)).toEqual([
      'index 0, column "bmi": 1e+21 is not an exact decimal (write digits with an optional "." part, e.g. "12.5") (expected a decimal with at most 1 decimal place in [10.0, 80.0])',
      'index 1: is a number, expected a record (an object keyed by column name)',
      'index 2, column "ok": is missing (write null or "" for an empty value)',
      'index 3, column "x": is not a column of the schema',
      'index 4: is an array, expected a record (an object keyed by column name)',
    ]);
    expect(error.errors.map((e) => e.row)).toEqual([1, 2, 3, 4, 5]);
    const notArray = await datasetErrors(readDataset(await fixture('json', '{"id":"a"}'), schema));
    expect(notArray.message).toContain('the file holds an object, expected an array of records');
    const broken = await datasetErrors(readDataset(await fixture('json', '[\n{"id":"a",}\n]'), schema));
    expect(broken.message).toContain('the file is not valid JSON');
    expect(broken.message).toMatch(/line 2/);
  });

  it('reads NDJSON with blank lines; rows are physical lines', async () => {
    const path = await fixture('ndjson', '{"id":"a","bmi":"11.5","ok":"1"}\r\n\r\n   \n{"id":"b","bmi":12,"ok":""}\n');
    const records = await readDataset(path, schema);
    expect(records.map((r) => [r.row, r.values[1], r.nulls[2]])).toEqual([
      [1, 15n, false],
      [4, 20n, true],
    ]);
  });

  it('reports NDJSON errors with their line', async () => {
    const path = await fixture(
      'jsonl',
      '{"id":"a","bmi":"11.5","ok":true}\n\n{"id":"b","bmi":"11.55","ok":true}\nnot json\n[1,2]\n{"id":"c","bmi":"11.5","ok":"yes"}\n',
    );
    const error = await datasetErrors(readDataset(path, schema));
    expect(error.errors.map((e) => e.row)).toEqual([3, 4, 5, 6]);
    expect(error.errors[0]!.message).toContain('row 3, column "bmi": "11.55" has 2 decimal places');
    expect(error.errors[1]!.message).toContain('row 4: the line is not valid JSON');
    expect(error.errors[2]!.message).toContain('row 5: is an array');
    expect(error.errors[3]!.message).toContain('row 6, column "ok": "yes" is not a boolean');
  });

  it('chooses the format by extension unless given, and reports missing files', async () => {
    const ndjsonText = '{"id":"a","bmi":"11.5","ok":true}\n';
    const asTxt = await fixture('txt', ndjsonText);
    const unknown = await catchAsync(readDataset(asTxt, schema));
    expect(unknown).toBeInstanceOf(InputFileError);
    expect((unknown as Error).message).toContain('cannot tell the data format');
    expect(await readDataset(asTxt, schema, { format: 'ndjson' })).toHaveLength(1);
    const missing = await catchAsync(readDataset(join(dir, 'nope.csv'), schema));
    expect(missing).toBeInstanceOf(InputFileError);
    expect((missing as Error).message).toContain('nope.csv: no such data file');
  });

  it('reports progress', async () => {
    const numbers = schemaOf([
      { name: 'bmi', type: 'decimal', scale: 1, min: '10.0', max: '80.0' },
      { name: 'ok', type: 'boolean', nullable: true },
    ]);
    const rows = Array.from({ length: 2500 }, () => ({ bmi: '20.0', ok: null }));
    const seen: number[] = [];
    const records = await readDataset(await fixture('json', JSON.stringify(rows)), numbers, {
      onProgress: (n) => seen.push(n),
    });
    expect(records).toHaveLength(2500);
    expect(seen).toEqual([1000, 2000, 2500]);
  });
});

describe('readDataset: columns named by their source, and a subset of a file', () => {
  // Headers as data sets write them (issue 20): spaces, $, punctuation, a colon.
  const mapped = (extra: Record<string, unknown> = {}) =>
    schemaOf(
      [
        { name: 'id', type: 'string', source: 'Record ID' },
        { name: 'cost', type: 'decimal', scale: 2, min: '0', max: '1000', source: 'Cost: Total $' },
        { name: 'year', type: 'integer', min: 1900, max: 2100 },
      ],
      extra,
    );

  it('reads CSV headers and JSON keys by `source`; the schema hash does not depend on it', async () => {
    const schema = mapped();
    const csv = await fixture('csv', 'year,"Cost: Total $",Record ID\n2001,12.50,r1\n');
    const json = await fixture('json', JSON.stringify([{ 'Record ID': 'r1', 'Cost: Total $': '12.50', year: 2001 }]));
    const expected = [{ row: 2, values: [poseidonText('r1'), 1250n, 101n], nulls: [false, false, false] }];
    expect(await readDataset(csv, schema)).toEqual(expected);
    expect(await readDataset(json, schema)).toEqual([{ ...expected[0], row: 1 }]);
    const plain = schemaOf([
      { name: 'id', type: 'string' },
      { name: 'cost', type: 'decimal', scale: 2, min: '0', max: '1000' },
      { name: 'year', type: 'integer', min: 1900, max: 2100 },
    ]);
    expect(schema.hash).toBe(plain.hash);
    expect(mapped({ otherColumns: 'ignore' }).hash).toBe(plain.hash);
    expect(schema.columns[1]).toMatchObject({ name: 'cost', source: 'Cost: Total $' });
    expect(schema.columns[2]!.source).toBeUndefined();
  });

  it('names the file column in data errors, and the source in header errors', async () => {
    const schema = mapped();
    const bad = await datasetErrors(
      readDataset(await fixture('csv', 'Record ID,Cost: Total $,year\nr1,12.505,2001\n'), schema),
    );
    expect(bad.errors[0]).toMatchObject({ row: 2, column: 'Cost: Total $' });
    const header = await datasetErrors(readDataset(await fixture('csv', 'id,cost,year\nr1,1,2001\n'), schema));
    expect(header.message).toMatch(/missing columns "Record ID", "Cost: Total \$"/);
    expect(header.message).toMatch(/unknown columns "id", "cost"/);
    expect(header.message).toMatch(/"otherColumns": "ignore" skips the columns it does not list/);
  });

  it('refuses columns the schema does not list unless it says "otherColumns": "ignore"; skipped ones are reported', async () => {
    const csv = await fixture('csv', 'Record ID,extra one,Cost: Total $,year,$$\nr1,x,1,2001,y\n');
    const json = await fixture(
      'json',
      JSON.stringify([
        { 'Record ID': 'r1', 'Cost: Total $': 1, year: 2001, note: 'a' },
        { 'Record ID': 'r2', 'Cost: Total $': 2, year: 2002, other: null, note: 'b' },
      ]),
    );
    const refused = await datasetErrors(readDataset(csv, mapped()));
    expect(refused.message).toMatch(/unknown columns "extra one", "\$\$"/);
    const refusedJson = await datasetErrors(readDataset(json, mapped()));
    expect(refusedJson.errors[0]).toMatchObject({ column: 'note' });
    expect(refusedJson.errors[0]!.message).toMatch(/is not a column of the schema$/);
    // the hint reaches the error people see (the list's own), once however many records hold the key
    expect(refusedJson.hint).toMatch(/^list it in the schema, .*"otherColumns": "ignore"; fix the listed values/);

    const schema = mapped({ otherColumns: 'ignore' });
    let skipped: string[] = [];
    const records = await readDataset(csv, schema, { onIgnoredColumns: (columns) => (skipped = columns) });
    expect(records[0]!.values).toEqual([poseidonText('r1'), 100n, 101n]);
    expect(skipped).toEqual(['extra one', '$$']);
    const fromJson = await readDataset(json, schema, { onIgnoredColumns: (columns) => (skipped = columns) });
    expect(fromJson).toHaveLength(2);
    expect(skipped).toEqual(['note', 'other']);
    // without a listener, a process warning says it (never silent)
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'ZKAI_IGNORED_COLUMNS') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      await readDataset(csv, schema);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([
      expect.stringMatching(/skipped the columns the schema does not list .*"extra one", "\$\$"/),
    ]);
    // repeated columns it does not read (empty header cells at the end of a spreadsheet's rows) are skipped too
    const trailing = await fixture('csv', 'Record ID,Cost: Total $,year,,\nr1,1,2001,,\n');
    expect(await readDataset(trailing, schema, { onIgnoredColumns: (columns) => (skipped = columns) })).toHaveLength(1);
    expect(skipped).toEqual(['']);
    const readTwice = await datasetErrors(
      readDataset(await fixture('csv', 'Record ID,Cost: Total $,year,year\nr1,1,2001,2002\n'), schema),
    );
    expect(readTwice.message).toMatch(/repeated column "year"/);
    // a record encoded alone says what it skipped too
    const single: string[] = [];
    const onSingle = (warning: Error & { code?: string }) => {
      if (warning.code === 'ZKAI_IGNORED_COLUMNS') single.push(warning.message);
    };
    process.on('warning', onSingle);
    try {
      encodeRecord(schema, { 'Record ID': 'r', 'Cost: Total $': 1, year: 2000, extra: 1 }, 1);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onSingle);
    }
    expect(single).toEqual([
      expect.stringMatching(/record row 1: skipped the column the schema does not list .*"extra"/),
    ]);
    // a listed column that is missing is still an error
    const missing = await datasetErrors(readDataset(await fixture('csv', 'Record ID,year,x\nr1,2001,1\n'), schema));
    expect(missing.message).toMatch(/missing column "Cost: Total \$"/);
  });

  it('refuses a bad source, two columns reading one file column, and a bad otherColumns', () => {
    const fails = (columns: unknown[], extra: Record<string, unknown> = {}) =>
      catchError(() => schemaOf(columns, extra)) as SchemaError;
    expect(fails([{ name: 'a', type: 'boolean', source: '' }])).toBeInstanceOf(SchemaError);
    expect(fails([{ name: 'a', type: 'boolean', source: 7 }]).message).toMatch(/"source" must be the column's header/);
    expect(fails([{ name: 'a', type: 'boolean', source: 'x\ny' }]).message).toMatch(/one line of text/);
    expect(
      fails([
        { name: 'a', type: 'boolean', source: 'b' },
        { name: 'b', type: 'boolean', source: 'B' },
      ]).message,
    ).toMatch(/column "a": its "source" "b" is the name of column "b"/);
    expect(
      fails([
        { name: 'a', type: 'boolean', source: 'X y' },
        { name: 'b', type: 'boolean', source: 'X y' },
      ]).message,
    ).toMatch(/column "b": reads the data files' column "X y", which column "a" reads too/);
    expect(fails([{ name: 'a', type: 'boolean' }], { otherColumns: 'skip' }).message).toMatch(
      /"otherColumns" must be "ignore" .* or "refuse"/,
    );
    expect(schemaOf([{ name: 'a', type: 'boolean' }], { otherColumns: 'refuse' }).otherColumns).toBeUndefined();
    // a source equal to the name is no mapping at all
    expect(schemaOf([{ name: 'a', type: 'boolean', source: 'a' }]).columns[0]!.source).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('examples/patients', () => {
  const examples = new URL('../examples/patients/', import.meta.url);

  it('the committed CSV is what the generator makes, and it is clean', async () => {
    const csv = await readFile(new URL('patients.csv', examples), 'utf8');
    expect(generatePatientsCsv(64)).toBe(csv);
    expect(generatePatientsCsv(64, 1)).not.toBe(csv);
    const schema = await loadSchema(new URL('schema.json', examples).pathname);
    expect(schema.spec.subjectId).toBe('patient_id');
    const records = await readDataset(new URL('patients.csv', examples).pathname, schema);
    expect(records).toHaveLength(64);
    const ageIndex = schema.columns.findIndex((c) => c.name === 'age');
    const nameIndex = schema.columns.findIndex((c) => c.name === 'name');
    expect(records.every((r) => r.values[ageIndex]! >= 18n)).toBe(true);
    expect(records.every((r) => r.nulls[nameIndex] === true)).toBe(true);
    expect(new Set(records.map((r) => r.values[0])).size).toBe(64);
  });
});
