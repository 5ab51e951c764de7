import { getAddress } from 'ethers';
import { ZkaiError } from '../errors.ts';
import { poseidonText } from '../crypto/poseidon-bytes.ts';
import {
  ADDRESS_BITS,
  DEFAULT_DATE_MAX,
  DEFAULT_DATE_MIN,
  DEFAULT_DATETIME_MAX,
  DEFAULT_DATETIME_MIN,
  DEFAULT_STRING_MAX_BYTES,
  formatScaledDecimal,
  parseDateDays,
  parseScaledDecimal,
} from './schema.ts';
import type { Column, EncodedRecord, Schema } from './types.ts';
import {
  compileDateFormat,
  DEFAULT_DATETIME_FORMAT,
  parseIsoInstant,
  parseOffset,
  readDateDays,
  readInstant,
  type DateFormat,
} from './date-format.ts';

/** What a cell can hold before encoding: CSV gives strings, JSON any of these. */
export type CellValue = string | number | boolean | null | undefined;

/** Where and what a data problem is. */
export interface DataErrorDetails {
  /** 1-based row (CSV/NDJSON: physical line of the file; JSON: array index + 1). */
  row?: number | undefined;
  /** How the location is written in the message; `row <row>` by default (JSON uses `index <i>`). */
  where?: string | undefined;
  column?: string | undefined;
  /** The offending raw value, when there is one. */
  value?: unknown;
  /** What the column accepts, e.g. `an integer in [0, 120]`. */
  expected?: string | undefined;
  /** What is wrong, e.g. `"17.5" is not an integer`. */
  problem: string;
}

/**
 * A value (or a row, or a file) does not fit the schema. Code `BAD_DATA`. Messages look like
 * `row 17, column "age": "17.5" is not an integer (expected an integer in [0, 120])`.
 */
export class DataError extends ZkaiError {
  readonly row: number | undefined;
  readonly column: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  /** The message without location and expectation. */
  readonly problem: string;
  /** The location as written in the message (`row 17`, `index 3`), if any. */
  readonly where: string | undefined;

  constructor(details: DataErrorDetails, options: { message?: string; hint?: string; cause?: unknown } = {}) {
    const where = details.where ?? (details.row === undefined ? undefined : `row ${details.row}`);
    const location = [where, details.column === undefined ? undefined : `column "${details.column}"`]
      .filter((part) => part !== undefined)
      .join(', ');
    const message =
      options.message ??
      `${location === '' ? '' : `${location}: `}${details.problem}${details.expected === undefined ? '' : ` (expected ${details.expected})`}`;
    super('BAD_DATA', message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.row = details.row;
    this.column = details.column;
    this.value = details.value;
    this.expected = details.expected;
    this.problem = details.problem;
    this.where = where;
  }
}

/**
 * Several data problems at once: the first `errors.length` of `total`, one per line in the message. Its own
 * `row`/`column`/`value`/`expected` are those of the first error.
 */
export class DatasetErrors extends DataError {
  readonly errors: readonly DataError[];
  readonly total: number;
  readonly source: string | undefined;

  constructor(errors: readonly DataError[], total: number = errors.length, source?: string) {
    const first = errors[0];
    const more = total - errors.length;
    const header = `${source === undefined ? '' : `${source}: `}${total} problem${total === 1 ? '' : 's'} in the data${more > 0 ? ` (the first ${errors.length} are listed)` : ''}:`;
    const lines = errors.map((error) => `  ${error.message}`);
    if (more > 0) lines.push(`  ... and ${more} more`);
    super(
      {
        row: first?.row,
        where: first?.where,
        column: first?.column,
        value: first?.value,
        expected: first?.expected,
        problem: first?.problem ?? 'no problems',
      },
      {
        message: [header, ...lines].join('\n'),
        hint: [
          ...new Set(errors.map((error) => error.hint).filter((hint): hint is string => hint !== undefined)),
          'fix the listed values: zkai never drops, rounds or coerces a value',
        ].join('; '),
      },
    );
    this.errors = errors;
    this.total = total;
    this.source = source;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Bounds {
  min: bigint;
  max: bigint;
}

const boundsCache = new WeakMap<Column, Bounds>();

/** The column's bounds in its own units (integer value, decimal scaled by 10^scale, date days since 1970-01-01). */
function boundsOf(column: Column): Bounds {
  let bounds = boundsCache.get(column);
  if (bounds) return bounds;
  const spec = column.spec;
  switch (spec.type) {
    case 'integer':
      bounds = { min: BigInt(spec.min), max: BigInt(spec.max) };
      break;
    case 'decimal': {
      const min = parseScaledDecimal(spec.min, spec.scale);
      const max = parseScaledDecimal(spec.max, spec.scale);
      if (typeof min !== 'bigint' || typeof max !== 'bigint')
        throw new ZkaiError(
          'BAD_SCHEMA',
          `column "${column.name}": bad decimal bounds; build columns with parseSchema`,
        );
      bounds = { min, max };
      break;
    }
    case 'date': {
      const min = parseDateDays(spec.min ?? DEFAULT_DATE_MIN);
      const max = parseDateDays(spec.max ?? DEFAULT_DATE_MAX);
      if (typeof min !== 'number' || typeof max !== 'number')
        throw new ZkaiError('BAD_SCHEMA', `column "${column.name}": bad date bounds; build columns with parseSchema`);
      bounds = { min: BigInt(min), max: BigInt(max) };
      break;
    }
    case 'datetime': {
      const min = parseIsoInstant(spec.min ?? DEFAULT_DATETIME_MIN);
      const max = parseIsoInstant(spec.max ?? DEFAULT_DATETIME_MAX);
      if (typeof min !== 'number' || typeof max !== 'number')
        throw new ZkaiError(
          'BAD_SCHEMA',
          `column "${column.name}": bad datetime bounds; build columns with parseSchema`,
        );
      bounds = { min: BigInt(min), max: BigInt(max) };
      break;
    }
    case 'boolean':
      bounds = { min: 0n, max: 1n };
      break;
    case 'category':
      bounds = { min: 0n, max: BigInt(spec.values.length - 1) };
      break;
    case 'string':
      bounds = { min: 0n, max: 0n };
      break;
    case 'address':
      bounds = { min: 0n, max: (1n << BigInt(ADDRESS_BITS)) - 1n };
      break;
  }
  boundsCache.set(column, bounds);
  return bounds;
}

const MAX_LISTED_VALUES = 10;

/** What a column accepts, in words: `an integer in [0, 120]`, `one of "a", "b"`... (`, or empty` when nullable). */
export function describeExpected(column: Column): string {
  const spec = column.spec;
  let text: string;
  switch (spec.type) {
    case 'integer':
      text = `an integer in [${spec.min}, ${spec.max}]`;
      break;
    case 'decimal': {
      const { min, max } = boundsOf(column);
      text = `a decimal with at most ${spec.scale} decimal place${spec.scale === 1 ? '' : 's'} in [${formatScaledDecimal(min, spec.scale)}, ${formatScaledDecimal(max, spec.scale)}]`;
      break;
    }
    case 'date':
      text =
        column.format === undefined
          ? `a date YYYY-MM-DD in [${spec.min ?? DEFAULT_DATE_MIN}, ${spec.max ?? DEFAULT_DATE_MAX}]`
          : `a date written ${column.format}, from ${spec.min ?? DEFAULT_DATE_MIN} to ${spec.max ?? DEFAULT_DATE_MAX}`;
      break;
    case 'datetime':
      text = `a date and time written ${column.format ?? DEFAULT_DATETIME_FORMAT}${column.timezone === undefined ? '' : ` (zone ${column.timezone})`}, from ${spec.min ?? DEFAULT_DATETIME_MIN} to ${spec.max ?? DEFAULT_DATETIME_MAX}`;
      break;
    case 'boolean':
      text = 'true, false, "true", "false", "1" or "0"';
      break;
    case 'category': {
      const listed = spec.values
        .slice(0, MAX_LISTED_VALUES)
        .map((value) => JSON.stringify(value))
        .join(', ');
      const more = spec.values.length - MAX_LISTED_VALUES;
      text = `one of ${listed}${more > 0 ? ` and ${more} more` : ''}`;
      break;
    }
    case 'string':
      text = `text of at most ${spec.maxBytes ?? DEFAULT_STRING_MAX_BYTES} UTF-8 bytes`;
      break;
    case 'address':
      text = 'an account address 0x + 40 hex digits';
      break;
  }
  return column.nullable ? `${text}, or empty` : text;
}

const MAX_SHOWN_CHARS = 40;

/** A raw value as shown in messages: strings quoted (and cut when long), other values as written in JSON. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value);
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const SURROUNDING_SPACE = /^\s|\s$/;
const INTEGER_TEXT = /^-?\d+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Thrown inside {@link encodeCell} and turned into a {@link DataError} with the location. */
class CellProblem {
  constructor(readonly problem: string) {}
}

function problem(text: string): never {
  throw new CellProblem(text);
}

function kindOf(raw: unknown): string | undefined {
  if (Array.isArray(raw)) return 'an array';
  if (typeof raw === 'object' && raw !== null) return 'an object';
  if (typeof raw === 'boolean') return `${raw}, a boolean`;
  if (typeof raw === 'number') return `${raw}, a number`;
  if (typeof raw !== 'string') return `${typeof raw}`;
  return undefined;
}

/** Reject text with leading/trailing whitespace for types where it cannot be meant: never trimmed silently. */
function noSurroundingSpace(text: string): void {
  if (SURROUNDING_SPACE.test(text)) problem(`${show(text)} has surrounding spaces`);
}

function inRange(value: bigint, bounds: Bounds, shown: string): bigint {
  if (value < bounds.min || value > bounds.max) problem(`${shown} is out of range`);
  return value - bounds.min;
}

function encodeInteger(column: Column, raw: unknown): bigint {
  const bounds = boundsOf(column);
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || !Number.isInteger(raw)) problem(`${show(raw)} is not an integer`);
    if (!Number.isSafeInteger(raw))
      problem(`${show(raw)} is beyond 2^53, where JSON numbers are not exact; write it as a string of digits`);
    return inRange(BigInt(raw), bounds, show(raw));
  }
  if (typeof raw !== 'string') return problem(`${kindOf(raw)} is not an integer`);
  noSurroundingSpace(raw);
  if (!INTEGER_TEXT.test(raw)) problem(`${show(raw)} is not an integer`);
  return inRange(BigInt(raw), bounds, show(raw));
}

function encodeDecimal(column: Column, raw: unknown, scale: number): bigint {
  let text: string;
  if (typeof raw === 'number') {
    // The JS string form is the shortest text that reads back as this number; exponent forms (1e21, 1e-7) are refused.
    text = String(raw);
  } else if (typeof raw === 'string') {
    noSurroundingSpace(raw);
    text = raw;
  } else {
    return problem(`${kindOf(raw)} is not a decimal`);
  }
  const parsed = parseScaledDecimal(text, scale);
  if (parsed === 'format')
    problem(`${show(raw)} is not an exact decimal (write digits with an optional "." part, e.g. "12.5")`);
  if (typeof parsed === 'object') {
    problem(
      `${show(raw)} has ${parsed.places} decimal places but the column allows ${scale} (values are never rounded)`,
    );
  }
  return inRange(parsed, boundsOf(column), show(raw));
}

const compiledFormats = new Map<string, DateFormat>();

/** A column's compiled format (`kind` says which tokens it may use); formats are checked by parseSchema. */
function formatOf(column: Column, kind: 'date' | 'datetime'): DateFormat {
  const text = column.format ?? (kind === 'date' ? 'YYYY-MM-DD' : DEFAULT_DATETIME_FORMAT);
  let format = compiledFormats.get(`${kind} ${text}`);
  if (!format) {
    const compiled = compileDateFormat(text, kind);
    if ('problem' in compiled)
      throw new ZkaiError('BAD_SCHEMA', `column "${column.name}": bad ${kind} format; build columns with parseSchema`);
    compiledFormats.set(`${kind} ${text}`, (format = compiled));
  }
  return format;
}

/** The days of a date cell written in the column's format (`YYYY-MM-DD` without one). */
function daysOfDate(column: Column, text: string): number | 'format' | 'calendar' {
  return column.format === undefined ? parseDateDays(text) : readDateDays(formatOf(column, 'date'), text);
}

function encodeDate(column: Column, raw: unknown): bigint {
  const form = column.format ?? 'YYYY-MM-DD';
  if (typeof raw !== 'string') return problem(`${kindOf(raw)} is not a date (dates are written as text ${form})`);
  noSurroundingSpace(raw);
  const days = daysOfDate(column, raw);
  if (days === 'format') problem(`${show(raw)} is not a date in ${form} form`);
  if (days === 'calendar') problem(`${show(raw)} is not a calendar date`);
  return inRange(BigInt(days), boundsOf(column), show(raw));
}

function encodeDatetime(column: Column, raw: unknown): bigint {
  const form = column.format ?? DEFAULT_DATETIME_FORMAT;
  if (typeof raw !== 'string') return problem(`${kindOf(raw)} is not a date and time (written as text ${form})`);
  noSurroundingSpace(raw);
  const zone = column.timezone === undefined ? undefined : parseOffset(column.timezone);
  const seconds = readInstant(formatOf(column, 'datetime'), raw, zone);
  if (seconds === 'format') problem(`${show(raw)} is not a date and time in ${form} form`);
  if (seconds === 'calendar') problem(`${show(raw)} is not a real date and time`);
  return inRange(BigInt(seconds as number), boundsOf(column), show(raw));
}

function encodeBoolean(raw: unknown): bigint {
  if (raw === true || raw === 'true' || raw === '1') return 1n;
  if (raw === false || raw === 'false' || raw === '0') return 0n;
  if (typeof raw === 'string') {
    noSurroundingSpace(raw);
    return problem(`${show(raw)} is not a boolean`);
  }
  return problem(`${kindOf(raw)} is not a boolean`);
}

function encodeCategory(values: readonly string[], raw: unknown): bigint {
  if (typeof raw !== 'string') return problem(`${kindOf(raw)} is not a category value (category values are text)`);
  const index = values.indexOf(raw);
  if (index >= 0) return BigInt(index);
  noSurroundingSpace(raw);
  return problem(`${show(raw)} is not an allowed value`);
}

const ADDRESS_HEX_DIGITS = 40;
const HEX_DIGIT = /^[0-9a-fA-F]$/;
const LOWER_HEX = /^[0-9a-f]*$/;
const UPPER_HEX = /^[0-9A-F]*$/;
/** An address as shown in messages: whole up to 64 characters (the usual cut at 40 would hide its last digits). */
function showAddress(text: string): string {
  return text.length <= 64 ? JSON.stringify(text) : show(text);
}

/**
 * Parse an Ethereum account address written as text: `0x` and exactly 40 hex digits, no surrounding space. All
 * lowercase or all uppercase digits are taken as they are; mixed case must be the EIP-55 checksum (ethers'
 * `getAddress`), so a mistyped digit in a checksummed address is caught. Returns the account as an unsigned 160-bit
 * integer, or what is wrong with the text (naming it). Shared by the encoder and policy constants.
 */
export function parseAddress(text: string): bigint | { problem: string } {
  const shown = showAddress(text);
  if (SURROUNDING_SPACE.test(text)) return { problem: `${shown} has surrounding spaces` };
  if (!text.startsWith('0x')) return { problem: `${shown} does not start with 0x` };
  const digits = text.slice(2);
  const bad = [...digits].find((char) => !HEX_DIGIT.test(char));
  if (bad !== undefined) return { problem: `${shown} has ${JSON.stringify(bad)}, which is not a hex digit` };
  if (digits.length !== ADDRESS_HEX_DIGITS)
    return { problem: `${shown} has ${digits.length} hex digits after 0x, not ${ADDRESS_HEX_DIGITS}` };
  if (!LOWER_HEX.test(digits) && !UPPER_HEX.test(digits)) {
    const checksummed = getAddress(text.toLowerCase());
    if (checksummed !== text)
      return {
        problem: `${shown} has mixed-case digits with a bad EIP-55 checksum: expected ${checksummed} (a digit may be mistyped)`,
      };
  }
  return BigInt(text);
}

/** The EIP-55 checksummed text of an encoded address (a 160-bit integer). */
export function formatAddress(value: bigint): string {
  if (value < 0n || value >= 1n << BigInt(ADDRESS_BITS))
    throw new ZkaiError('BAD_DATA', `${value} is not an encoded address (not in [0, 2^${ADDRESS_BITS}))`);
  return getAddress(`0x${value.toString(16).padStart(ADDRESS_HEX_DIGITS, '0')}`);
}

function encodeAddress(raw: unknown): bigint {
  if (typeof raw !== 'string')
    return problem(`${kindOf(raw)} is not an account address (write it as text: 0x + 40 hex digits)`);
  const parsed = parseAddress(raw);
  return typeof parsed === 'bigint' ? parsed : problem(parsed.problem);
}

/**
 * Hashes of the string cells of one read (`readDataset` makes one per file, so no plaintext outlives the read): data
 * sets repeat their strings (a country, an airport, a category written as text), and each hash is a Poseidon call.
 * Only strings of at most {@link REMEMBERED_STRING_BYTES} bytes, at most {@link REMEMBERED_STRINGS} of them (about 6
 * MB), the oldest dropped first.
 */
export type StringHashes = Map<string, bigint>;
const REMEMBERED_STRINGS = 20_000;
const REMEMBERED_STRING_BYTES = 256;

function encodeString(raw: unknown, maxBytes: number, remembered: StringHashes | undefined): bigint {
  if (typeof raw !== 'string') return problem(`${kindOf(raw)} is not text (write string values in quotes)`);
  if (LONE_SURROGATE.test(raw))
    problem(`${show(raw)} contains an unpaired UTF-16 surrogate, which is not valid Unicode text`);
  const length = Buffer.byteLength(raw, 'utf8'); // every column checks its own limit, remembered or not
  if (length > maxBytes) problem(`${show(raw)} is ${length} UTF-8 bytes long, more than ${maxBytes}`);
  const known = remembered?.get(raw);
  if (known !== undefined) return known;
  const hash = poseidonText(raw);
  if (remembered && length <= REMEMBERED_STRING_BYTES) {
    remembered.set(raw, hash);
    if (remembered.size > REMEMBERED_STRINGS) remembered.delete(remembered.keys().next().value as string);
  }
  return hash;
}

/**
 * Encode one cell by the rules of `src/data/types.ts`:
 * - empty string, `null` or `undefined` is a null: `{ value: 0n, isNull: true }`, allowed only when the column is
 *   nullable (else: "the value is empty but the column is not nullable");
 * - integer: a JSON integer within ±(2^53-1) or a string matching `^-?\d+$`, in [min, max]; encoded `value - min`;
 * - decimal: text matching `^-?\d+(\.\d+)?$` with at most `scale` decimal places (more is an error, never rounded), or
 *   a JSON number whose JS string form matches that (so `1e21` and `1e-7` are refused); encoded
 *   `value * 10^scale - min * 10^scale`;
 * - date: text `YYYY-MM-DD` naming a real (proleptic Gregorian) day; encoded `days since 1970-01-01 - minDays`;
 * - boolean: JSON `true`/`false` or exactly the text `true`, `false`, `1`, `0` (not `TRUE`, `yes`, or numbers); 1 or 0;
 * - category: exact (case- and space-sensitive) match of one of `values`; encoded as its index;
 * - string: any text of at most `maxBytes` UTF-8 bytes (default 256); encoded {@link poseidonText} of it;
 * - address: text `0x` + 40 hex digits, all lowercase, all uppercase or mixed case with a valid EIP-55 checksum (see
 *   {@link parseAddress}); encoded as the account, an unsigned 160-bit integer.
 * Text is never trimmed: a value with leading or trailing whitespace is an error for every type but string (where
 * whitespace is data). Values of the wrong JSON type (a number for a string column, ...) are errors, never converted.
 *
 * @param row the row number put in error messages
 * @param where how the location is written in messages, instead of `row <row>` (JSON uses `index <i>`)
 * @param strings the string hashes of this read so far (see {@link StringHashes}), when hashes may be reused
 * @throws DataError (code `BAD_DATA`) with `row`, `column`, `value` and `expected`
 */
export function encodeCell(
  column: Column,
  raw: CellValue,
  row: number,
  where?: string,
  strings?: StringHashes,
): { value: bigint; isNull: boolean } {
  if (raw === null || raw === undefined || raw === '') {
    if (column.nullable) return { value: 0n, isNull: true };
    throw new DataError({
      row,
      where,
      column: fileColumn(column),
      value: raw,
      expected: describeExpected(column),
      problem: 'the value is empty but the column is not nullable',
    });
  }
  try {
    const spec = column.spec;
    let value: bigint;
    switch (spec.type) {
      case 'integer':
        value = encodeInteger(column, raw);
        break;
      case 'decimal':
        value = encodeDecimal(column, raw, spec.scale);
        break;
      case 'date':
        value = encodeDate(column, raw);
        break;
      case 'datetime':
        value = encodeDatetime(column, raw);
        break;
      case 'boolean':
        value = encodeBoolean(raw);
        break;
      case 'category':
        value = encodeCategory(spec.values, raw);
        break;
      case 'string':
        value = encodeString(raw, spec.maxBytes ?? DEFAULT_STRING_MAX_BYTES, strings);
        break;
      case 'address':
        value = encodeAddress(raw);
        break;
    }
    return { value, isNull: false };
  } catch (error) {
    if (!(error instanceof CellProblem)) throw error;
    throw new DataError({
      row,
      where,
      column: fileColumn(column),
      value: raw,
      expected: describeExpected(column),
      problem: error.problem,
    });
  }
}

/**
 * Encode a row given as one raw value per schema column (in schema order), collecting every problem instead of
 * stopping at the first. A row whose cells are all empty, in a schema with non-nullable columns, gives one error
 * naming those columns rather than one per column. Returns the record only when there were no problems.
 */
export function encodeRow(
  schema: Schema,
  raws: readonly unknown[],
  row: number,
  where?: string,
  strings?: StringHashes,
): { record: EncodedRecord | undefined; errors: DataError[] } {
  const errors: DataError[] = [];
  if (raws.every((raw) => raw === '' || raw === null || raw === undefined)) {
    const required = schema.columns.filter((column) => !column.nullable).map((column) => `"${fileColumn(column)}"`);
    if (required.length > 0) {
      errors.push(
        new DataError({
          row,
          where,
          problem: `every cell is empty: an empty row is a record of nulls, but ${required.length === 1 ? 'column' : 'columns'} ${required.join(', ')} ${required.length === 1 ? 'is' : 'are'} not nullable`,
        }),
      );
      return { record: undefined, errors };
    }
  }
  const values: bigint[] = [];
  const nulls: boolean[] = [];
  schema.columns.forEach((column, index) => {
    try {
      const cell = encodeCell(column, raws[index] as CellValue, row, where, strings);
      values.push(cell.value);
      nulls.push(cell.isNull);
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      errors.push(error);
    }
  });
  return { record: errors.length === 0 ? { row, values, nulls } : undefined, errors };
}

/**
 * Check a record given as an object keyed by column name and encode it. Keys not in the schema and schema columns
 * missing from the object are errors naming them (a missing key is not a null: write `null` or `""` for that).
 * Returns the problems instead of throwing; see {@link encodeRecord} for the throwing form.
 */
export function checkRecord(
  schema: Schema,
  cells: Record<string, unknown>,
  row: number,
  where?: string,
  strings?: StringHashes,
): { record: EncodedRecord | undefined; errors: DataError[]; ignored: string[] } {
  const errors: DataError[] = [];
  const ignored: string[] = [];
  const known = new Set(schema.columns.map(fileColumn));
  for (const key of Object.keys(cells)) {
    if (known.has(key)) continue;
    if (schema.otherColumns === 'ignore') ignored.push(key);
    else
      errors.push(
        new DataError(
          { row, where, column: key, problem: 'is not a column of the schema' },
          {
            hint: 'list it in the schema, or let the schema skip the columns it does not list: "otherColumns": "ignore"',
          },
        ),
      );
  }
  for (const column of schema.columns) {
    if (!Object.hasOwn(cells, fileColumn(column)))
      errors.push(
        new DataError({
          row,
          where,
          column: fileColumn(column),
          problem: 'is missing (write null or "" for an empty value)',
        }),
      );
  }
  if (errors.length > 0) return { record: undefined, errors, ignored };
  return {
    ...encodeRow(
      schema,
      schema.columns.map((column) => cells[fileColumn(column)]),
      row,
      where,
      strings,
    ),
    ignored,
  };
}

/** A column's header (CSV) or key (JSON) in data files: its `source`, else its name. Data errors name it. */
export function fileColumn(column: Pick<Column, 'name' | 'source'>): string {
  return column.source ?? column.name;
}

/**
 * Encode one record given as an object keyed by column name (see {@link encodeCell} for the rules).
 * @throws DataError for a single problem, {@link DatasetErrors} (a DataError) listing all of them when there are several
 */
export function encodeRecord(
  schema: Schema,
  cells: Record<string, unknown>,
  row: number,
  where?: string,
): EncodedRecord {
  const { record, errors, ignored } = checkRecord(schema, cells, row, where);
  if (record) {
    if (ignored.length > 0) warnIgnoredColumns(`record ${where ?? `row ${row}`}`, ignored);
    return record;
  }
  if (errors.length === 1) throw errors[0]!;
  throw new DatasetErrors(errors);
}

/**
 * The process warning that names skipped columns (`ZKAI_IGNORED_COLUMNS`) when no listener was given: the first 20,
 * and how many more. Node prints it unless warnings are turned off (`--no-warnings`): callers that must not miss it
 * pass a listener (`readDataset`'s `onIgnoredColumns`).
 */
export function warnIgnoredColumns(where: string, columns: readonly string[]): void {
  process.emitWarning(
    `${where}: skipped the column${columns.length === 1 ? '' : 's'} the schema does not list ("otherColumns": "ignore"): ${listColumns(columns)}`,
    { code: 'ZKAI_IGNORED_COLUMNS' },
  );
}

/** Column names for a message: the first 20 quoted, then how many more. */
export function listColumns(columns: readonly string[]): string {
  const shown = columns.slice(0, 20).map((column) => JSON.stringify(column));
  return columns.length > 20 ? `${shown.join(', ')} and ${columns.length - 20} more` : shown.join(', ');
}
